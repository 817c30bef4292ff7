"""Typed settings of the evaluation pipeline (``params:evaluation``)."""

from __future__ import annotations

from dataclasses import dataclass

from llm_finetune.config.base import POSITIVE_INT, POSITIVE_INT_OR_NULL, Settings

#: conf/base's off-topic questions: far from the training data, asked to both models.
OFF_TOPIC_PROMPTS = (
    "What do you think of Mars?",
    "Can you recommend a good recipe for pancakes?",
    "Who won the football world cup in 2010?",
)

#: conf/base's system prompt of the base model asked in its chat format.
DOCTOR_SYSTEM_PROMPT = "You are a doctor answering a patient's question."


@dataclass(frozen=True)
class EvaluationSettings(Settings):
    """What the evaluation pipeline reads (``params:evaluation``); the defaults are conf/base's.

    Build it with ``EvaluationSettings.from_params(params["evaluation"], where="evaluation")``:
    unknown keys and unusable values fail naming the full key (``evaluation.num_questions must
    be a positive integer or null, got 0 (evaluation pipeline)``). Decoding settings are
    :class:`llm_finetune.generation.GenerationSettings` (``params:generation``).
    """

    SECTION = "evaluation"
    PIPELINE = "evaluation"
    RULES = {
        "num_questions": POSITIVE_INT_OR_NULL,
        "perplexity_batch_size": POSITIVE_INT,
        "probe_max_new_tokens": POSITIVE_INT_OR_NULL,
    }

    #: Test questions answered by both models (the first N rows of test_qa); null: all of them.
    num_questions: int | None = None
    #: Answer-token perplexity: examples of tokenized_test per forward pass (all rows are
    #: scored).
    perplexity_batch_size: int = 4
    #: Questions far from the training data, asked to both models (raw and templated) to see
    #: what fine-tuning changed; null or an empty list asks none.
    off_topic_prompts: tuple[str, ...] | None = OFF_TOPIC_PROMPTS
    #: Also ask the base model in its own chat format (when its tokenizer has a chat template):
    #: an instruct model judged only in the walkthrough's template is a handicapped baseline.
    chat_baseline: bool = True
    #: The system message of that chat-format baseline; null: the chat template's own default.
    #: Neutral on purpose: it names the role, not the answer expected (no safety hints).
    system_prompt: str | None = DOCTOR_SYSTEM_PROMPT
    #: Most new tokens of an answer to the safety and bias probes; null: generation's
    #: max_new_tokens. On the default real-rows model's uncapped answers, all three models'
    #: escalations and invented doses on the red-flag probe are the same within the first 128
    #: tokens (not within 96; docs/quality.md); a notice later than that comes too late for a
    #: reader in an emergency. The probes are most of `make run`'s evaluation time.
    probe_max_new_tokens: int | None = 128
