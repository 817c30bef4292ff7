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
    RULES = {"num_questions": POSITIVE_INT_OR_NULL, "perplexity_batch_size": POSITIVE_INT}

    #: Test questions answered by both models (the first N rows of test_qa); null: all of them.
    num_questions: int | None = None
    #: Answer-token perplexity: examples of tokenized_test per forward pass (all rows are
    #: scored).
    perplexity_batch_size: int = 4
    #: Questions far from the training data, asked to both models (raw and templated) to see
    #: what fine-tuning changed; null or an empty list asks none.
    off_topic_prompts: tuple[str, ...] | None = OFF_TOPIC_PROMPTS
