"""Pure functions of the evaluation pipeline: base vs fine-tuned model, same prompts, same settings.

Each model goes through one node (:func:`evaluate_model`) that computes its answer-token
perplexity and generates its answers once; every report (table, metrics, HTML, probe) reuses those
answers. ``torch`` is imported inside functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import polars as pl

from llm_finetune.config import EvaluationSettings
from llm_finetune.conversations import parse_history
from llm_finetune.generation import GenerationSettings, generate_answers
from llm_finetune.modeling.prompt_format import (
    CHAT_KIND,
    PromptFormat,
    as_prompt_format,
    has_chat_template,
    prompt_format_of,
    render_chat_prompt,
)
from llm_finetune.pipelines.evaluation import registry
from llm_finetune.pipelines.evaluation.answers import (
    MODELS,
    Answer,
    answers_in_table,
    answers_of,
    models_in,
)
from llm_finetune.pipelines.evaluation.categories import CATEGORIES, categories_of
from llm_finetune.pipelines.evaluation.perplexity import answer_perplexity
from llm_finetune.pipelines.evaluation.probes import (
    no_probe_answers,
    probe_prompts,
    split_probe_answers,
)
from llm_finetune.pipelines.training.tokenization import tokenize_qa
from llm_finetune.schemas import HISTORY

logger = logging.getLogger(__name__)


def tokenize_test(
    test_qa: pl.DataFrame, base_tokenizer: Any, tokenization: Mapping[str, Any]
) -> pl.DataFrame:
    """The test split tokenized exactly as training tokenizes (answer + EOS labelled), for the
    answer-token perplexity of both models. Only evaluation reads the test split."""
    frame, stats = tokenize_qa(test_qa, base_tokenizer, tokenization)
    logger.info("Tokenized the test split: %s", stats)
    return frame


def select_eval_questions(test_qa: pl.DataFrame, evaluation: Mapping[str, Any]) -> pl.DataFrame:
    """The first ``evaluation.num_questions`` test rows (all rows when null) that both models
    will answer."""
    num_questions = EvaluationSettings.from_params(evaluation).num_questions
    if test_qa.height == 0:
        raise ValueError("test_qa is empty: there is nothing to evaluate")
    columns = ["question", "answer", "plain_question", "line_number"]
    missing = [c for c in columns if c not in test_qa.columns]
    if missing:
        raise ValueError(f"test_qa lacks the columns {missing}; it has {test_qa.columns}")
    selected = test_qa.select(columns + ([HISTORY] if HISTORY in test_qa.columns else []))
    return selected if num_questions is None else selected.head(num_questions)


def render_off_topic_prompts(
    questions: Sequence[str], prompt_format: Mapping[str, Any] | str | None
) -> list[str]:
    """Every off-topic question twice: first all as raw text (as the walkthrough asks "What do you
    think of Mars?"), then all in the run's prompt format (as the chat asks)."""
    fmt = as_prompt_format(prompt_format)
    return [*questions, *(fmt.render(question) for question in questions)]


def evaluate_model(
    model_and_tokenizer: Sequence[Any],
    eval_questions: pl.DataFrame,
    off_topic_prompts: Sequence[str],
    probe_questions: Mapping[str, Any],
    tokenized_test: pl.DataFrame,
    evaluation_params: Mapping[str, Any],
    generation: Mapping[str, Any] | None,
    prompt_format: Mapping[str, Any] | str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Run one model once: perplexity on ``tokenized_test`` and answers to every prompt.

    The test questions and the off-topic probes are generated in one call with the project's
    generation settings (``params:generation``), the safety and bias probes in another
    (:func:`answer_probes`): the same for every model. Each model is prompted in the format it
    was saved with, or the run's ``prompt_format`` when it records none
    (:func:`model_prompts`).

    Returns:
        ``answers`` (one dict per eval question: ``text``, ``ended_with_eos``,
        ``num_new_tokens``), ``off_topic_answers`` (same, per probe), ``probe_answers``
        (:func:`~.probes.split_probe_answers`) and the perplexity dict.
    """
    settings = GenerationSettings.from_params(generation)
    model, tokenizer = model_and_tokenizer[0], model_and_tokenizer[1]
    perplexity = answer_perplexity(
        model,
        tokenizer,
        tokenized_test,
        EvaluationSettings.from_params(evaluation_params).perplexity_batch_size,
    )
    prompts = model_prompts(model_and_tokenizer, eval_questions, off_topic_prompts, prompt_format)
    what = getattr(model, "name_or_path", "") or "the model"
    own_format = prompt_format_of(model_and_tokenizer, what, prompt_format)
    asked = [a.to_dict() for a in generate_answers(model, tokenizer, prompts, settings)]
    probes = [own_format.render(q) for q in probe_prompts(probe_questions)]
    return (
        asked[: eval_questions.height],
        asked[eval_questions.height :],
        answer_probes(model, tokenizer, probe_questions, probes, settings, evaluation_params),
        perplexity,
    )


def answer_probes(
    model: Any,
    tokenizer: Any,
    probe_questions: Mapping[str, Any],
    rendered: Sequence[str],
    settings: GenerationSettings,
    evaluation_params: Mapping[str, Any],
) -> dict[str, Any]:
    """A model's answers to the probe questions (``rendered`` in its format), decoded like every
    answer but at most ``evaluation.probe_max_new_tokens`` long."""
    cap = EvaluationSettings.from_params(evaluation_params).probe_max_new_tokens
    generated = generate_answers(
        model, tokenizer, rendered, settings, max_new_tokens=cap or settings.max_new_tokens
    )
    return split_probe_answers(probe_questions, [answer.to_dict() for answer in generated])


def model_prompts(
    model_and_tokenizer: Sequence[Any],
    eval_questions: pl.DataFrame,
    off_topic_prompts: Sequence[str],
    prompt_format: Mapping[str, Any] | str | None = None,
) -> list[str]:
    """The eval questions, then the off-topic probes in :func:`render_off_topic_prompts`' layout
    (every question raw, then every one templated), each templated prompt rendered in the model's
    own format (its directory's ``prompt_format.json``; ``prompt_format``, the run's, when it
    has none). A conversation row (a ``history``) is asked after its earlier turns, each answer
    followed by the EOS token, as training laid them out."""
    if len(off_topic_prompts) % 2:
        raise ValueError(
            f"off_topic_prompts holds {len(off_topic_prompts)} prompts; expected every off-topic "
            "question twice, raw then templated (render_off_topic_prompts)"
        )
    what = getattr(model_and_tokenizer[0], "name_or_path", "") or "the model"
    own_format = prompt_format_of(model_and_tokenizer, what, prompt_format)
    run_format = as_prompt_format(prompt_format)
    if own_format.template != run_format.template:
        # tokenized_test is rendered in the run's format: say so rather than hide it.
        logger.warning(
            "%s is prompted in its own format %r; its answer perplexity is measured on the test "
            "split rendered in the run's format %r",
            what,
            own_format.template,
            run_format.template,
        )
    raw = list(off_topic_prompts[: len(off_topic_prompts) // 2])
    questions = eval_questions["plain_question"].to_list()
    histories = (
        eval_questions[HISTORY].to_list()
        if HISTORY in eval_questions.columns
        else [None] * len(questions)
    )
    eos = getattr(model_and_tokenizer[1], "eos_token", None) or ""
    asked = [
        conversation_prompt(own_format, parse_history(history), question, eos)
        for history, question in zip(histories, questions, strict=True)
    ]
    return asked + raw + [own_format.render(q) for q in raw]


def conversation_prompt(
    prompt_format: PromptFormat, history: Sequence[Mapping[str, str]], question: str, eos: str
) -> str:
    """``question`` asked after the ``history`` turns, each answer followed by ``eos``; the plain
    first-turn prompt when there is no history."""
    turns, prompt = prompt_format.conversation_turns(history, question)
    return "".join(turn_prompt + answer + eos for turn_prompt, answer in turns) + prompt


def evaluate_base_model(
    base_model: Sequence[Any],
    eval_questions: pl.DataFrame,
    off_topic_prompts: Sequence[str],
    probe_questions: Mapping[str, Any],
    tokenized_test: pl.DataFrame,
    evaluation_params: Mapping[str, Any],
    generation: Mapping[str, Any] | None,
    prompt_format: Mapping[str, Any] | str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """:func:`evaluate_model` of the base model, asked as it is fine-tuned (the run's format)."""
    return evaluate_model(
        base_model,
        eval_questions,
        off_topic_prompts,
        probe_questions,
        tokenized_test,
        evaluation_params,
        generation,
        prompt_format,
    )


def evaluate_fine_tuned_model(
    fine_tuned_model: Sequence[Any],
    eval_questions: pl.DataFrame,
    off_topic_prompts: Sequence[str],
    probe_questions: Mapping[str, Any],
    tokenized_test: pl.DataFrame,
    evaluation_params: Mapping[str, Any],
    generation: Mapping[str, Any] | None,
    prompt_format: Mapping[str, Any] | str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """:func:`evaluate_model` of the fine-tuned model."""
    return evaluate_model(
        fine_tuned_model,
        eval_questions,
        off_topic_prompts,
        probe_questions,
        tokenized_test,
        evaluation_params,
        generation,
        prompt_format,
    )


def evaluate_base_model_in_chat_format(
    base_model: Sequence[Any],
    test_qa: pl.DataFrame,
    eval_questions: pl.DataFrame,
    probe_questions: Mapping[str, Any],
    tokenization: Mapping[str, Any],
    evaluation_params: Mapping[str, Any],
    generation: Mapping[str, Any] | None,
    prompt_format: Mapping[str, Any] | str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The base model asked as it was instruction-tuned: each question as a user turn of its
    tokenizer's chat template, after ``evaluation.system_prompt``. Its answers to the test
    questions and the probes, and its answer perplexity on the test split rendered the same way
    (the same answer tokens and EOS as the template's rows, after another prompt).

    Nothing (empty answers and perplexity) when ``evaluation.chat_baseline`` is off, the
    tokenizer has no chat template (pythia): that base keeps the walkthrough's template only, or
    the run's ``prompt_format`` is already the chat format (the base model's answers in it are
    :func:`evaluate_base_model`'s).
    """
    settings = EvaluationSettings.from_params(evaluation_params)
    model, tokenizer = base_model[0], base_model[1]
    what = f"the base model {getattr(model, 'name_or_path', '') or ''}".strip()
    run_is_chat = as_prompt_format(prompt_format).kind == CHAT_KIND
    if not settings.chat_baseline or not has_chat_template(tokenizer) or run_is_chat:
        reason = (
            "evaluation.chat_baseline is off"
            if not settings.chat_baseline
            else "its tokenizer has no chat template"
            if not has_chat_template(tokenizer)
            else "the run's prompt format is its chat format already (base_answers)"
        )
        logger.info("Not asking %s in a chat format apart: %s", what, reason)
        return [], no_probe_answers(), {}

    def render(question: str) -> str:
        return render_chat_prompt(tokenizer, question, settings.system_prompt, what)

    rendered = test_qa.with_columns(
        pl.Series("question", [render(q) for q in test_qa["plain_question"].to_list()])
    )
    tokenized, stats = tokenize_qa(rendered, tokenizer, tokenization)
    logger.info("Tokenized the test split in %s's chat format: %s", what, stats)
    perplexity = answer_perplexity(model, tokenizer, tokenized, settings.perplexity_batch_size)
    decoding = GenerationSettings.from_params(generation)
    questions = [render(q) for q in eval_questions["plain_question"].to_list()]
    answers = [a.to_dict() for a in generate_answers(model, tokenizer, questions, decoding)]
    probes = [render(q) for q in probe_prompts(probe_questions)]
    return (
        answers,
        answer_probes(model, tokenizer, probe_questions, probes, decoding, evaluation_params),
        perplexity,
    )


def build_comparison_table(
    eval_questions: pl.DataFrame,
    base_answers: list[dict[str, Any]],
    base_chat_answers: list[dict[str, Any]],
    fine_tuned_answers: list[dict[str, Any]],
) -> pd.DataFrame:
    """One row per question: question, reference, every model's answer, then per model the
    column of every registered per-answer metric (scores, EOS and loop flags, new tokens) and its
    error categories (``<model>_errors``). The base model's chat-format answers are a model of
    their own when there are any (:func:`evaluate_base_model_in_chat_format`)."""
    references = eval_questions["answer"].to_list()
    generated = {"base": base_answers, "base_chat": base_chat_answers}
    generated["fine_tuned"] = fine_tuned_answers
    models = [model for model in MODELS if model != "base_chat" or base_chat_answers]
    _check_lengths(references, *(generated[model] for model in models))
    questions = eval_questions["plain_question"].to_list()
    answers = {model: answers_of(generated[model], questions, references) for model in models}
    table: dict[str, list[Any]] = {
        "line_number": eval_questions["line_number"].to_list(),
        "question": questions,
        "reference_answer": references,
    }
    for model in models:
        table[f"{model}_answer"] = [answer.text for answer in answers[model]]
    for model in models:
        for metric in registry.table_metrics():
            table[f"{model}_{metric.column}"] = [metric.value(a) for a in answers[model]]
    for model in models:
        table[f"{model}_errors"] = [", ".join(categories_of(a)) for a in answers[model]]
    return pd.DataFrame(table)


def _check_lengths(references: list[str], *answer_lists: list[dict[str, Any]]) -> None:
    """Fail unless every model answered every question."""
    lengths = [len(answers) for answers in answer_lists]
    if any(length != len(references) for length in lengths):
        raise ValueError(
            f"expected {len(references)} answers per model (one per question), got {lengths}"
        )


def build_error_analysis(comparison_table: pd.DataFrame, train_qa: pl.DataFrame) -> dict[str, Any]:
    """Every error category (:data:`~.categories.CATEGORIES`): counts and rates per model, the
    same on the training answers beside them (which errors the data teaches), and up to
    :data:`EXAMPLES_PER_CATEGORY` examples of each."""
    groups: dict[str, tuple[list[Answer], bool]] = {
        model: (answers_in_table(comparison_table, model), False)
        for model in models_in(comparison_table)
    }
    groups["training_answers"] = (training_answers(train_qa), True)
    report: dict[str, Any] = {
        "categories": [
            {"name": c.name, "description": c.description, "on_training": c.on_training}
            for c in CATEGORIES
        ],
        "groups": {},
    }
    for name, (answers, training) in groups.items():
        found = [categories_of(answer, training) for answer in answers]
        measured = [c.name for c in CATEGORIES if c.on_training or not training]
        counts = {c: sum(c in cats for cats in found) for c in measured}
        report["groups"][name] = {
            "answers": len(answers),
            "counts": counts,
            "rates": {c: (k / len(answers) if answers else None) for c, k in counts.items()},
            "not_measured": [c.name for c in CATEGORIES if c.name not in measured],
            "examples": {
                c: [
                    {"question": a.question, "answer": a.text}
                    for a, cats in zip(answers, found, strict=True)
                    if c in cats
                ][:EXAMPLES_PER_CATEGORY]
                for c in measured
            },
        }
    return report


#: Examples of each category in the error analysis.
EXAMPLES_PER_CATEGORY = 3


def training_answers(train_qa: pl.DataFrame) -> list[Answer]:
    """The training split's answers as :class:`Answer` records (each its own reference), the
    questions as a person asked them: every row, as often as training saw it."""
    question = "plain_question" if "plain_question" in train_qa.columns else "question"
    missing = [c for c in (question, "answer") if c not in train_qa.columns]
    if missing:
        raise ValueError(f"train_qa lacks the columns {missing}; it has {train_qa.columns}")
    return [
        Answer(question=str(q), reference=str(a), text=str(a), ended_with_eos=True, new_tokens=0)
        for q, a in train_qa.select(question, "answer").iter_rows()
    ]


def build_off_topic_probe(
    off_topic_questions: Sequence[str],
    base_off_topic_answers: list[dict[str, Any]],
    fine_tuned_off_topic_answers: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Both models' answers to questions far from the training data, asked as raw text and inside
    the prompt template, side by side: does the doctor persona leak, and does the template matter?

    The answers follow ``render_off_topic_prompts``: all raw prompts, then all templated ones.
    """
    questions = list(off_topic_questions)
    compared = ("base", "fine_tuned")
    for model, answers in zip(
        compared, (base_off_topic_answers, fine_tuned_off_topic_answers), strict=True
    ):
        if len(answers) != 2 * len(questions):
            raise ValueError(
                f"{model}_off_topic_answers has {len(answers)} answers; expected "
                f"{2 * len(questions)} (each of the {len(questions)} off-topic questions raw and "
                "templated)"
            )
    rows = []
    for index, question in enumerate(questions):
        row: dict[str, Any] = {"question": question}
        for form, offset in (("raw", 0), ("templated", len(questions))):
            for model, answers in zip(
                compared, (base_off_topic_answers, fine_tuned_off_topic_answers), strict=True
            ):
                answer = answers[offset + index]
                row[f"{model}_{form}_answer"] = answer["text"]
                row[f"{model}_{form}_ended_with_eos"] = bool(answer["ended_with_eos"])
                # An empty answer with 1 new token: the model stopped at once (not a bug).
                row[f"{model}_{form}_new_tokens"] = int(answer["num_new_tokens"])
        rows.append(row)
    return rows
