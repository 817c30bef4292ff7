"""Pure functions of the data_engineering pipeline (polars in, polars out; no I/O).

Every node that removes rows returns how many and why, so the data-quality report can prove that
kept + dropped == read for every run. The nodes take single ``params:data_engineering.*`` values
and check them with :class:`llm_finetune.config.DataEngineeringSettings` first thing, so a bad
value fails naming its key (``data_engineering.max_rows must be a positive integer or null``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import polars as pl

from llm_finetune.config import DataEngineeringSettings
from llm_finetune.conversations import (
    DROP_REASONS,
    check_messages,
    history_text,
    parse_history,
)
from llm_finetune.datasets.raw_dialogues import LINE_NUMBER, NON_STRING_FIELDS
from llm_finetune.modeling.prompt_format import (
    PromptFormat,
    as_prompt_format,
    prompt_format_for,
    split_prompt_prefix,
)
from llm_finetune.pipelines.data_engineering.answer_cleaning import (
    clean_answer_texts,
    pair_columns,
)
from llm_finetune.pipelines.data_engineering.safety_mix import (
    check_disjoint,
    mix_safety_examples,
    safety_training_examples,
)
from llm_finetune.schemas import CONTEXT, HISTORY, MESSAGES, detect_schema

QUESTION = "question"
ANSWER = "answer"
TEXT = "text"


def normalise_schema(
    raw: pl.DataFrame, include_context: bool = False, context_separator: str = "\n"
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Map any accepted raw schema to ``line_number``/``question``/``answer``.

    Rows whose question or answer is null, or held a non-string value, are dropped and counted.
    ``include_context`` folds the hub's ``Patient`` text into the question
    (``data_engineering.include_patient_text``, separated by ``patient_text_separator``).
    """
    settings = DataEngineeringSettings(
        include_patient_text=include_context, patient_text_separator=context_separator
    )
    schema = detect_schema(raw.columns)
    if schema.is_conversation:
        return normalise_conversations(raw)
    question = pl.col(schema.question)
    folds = settings.include_patient_text and bool(schema.context)
    if folds and schema.context in raw.columns:
        question = pl.concat_str(
            [question, pl.col(schema.context)],
            separator=settings.patient_text_separator,
            ignore_nulls=True,
        )
    required_bad = pl.col(NON_STRING_FIELDS).is_not_null()
    if folds:
        non_string = required_bad
    else:  # a bad value in an unused column does not spoil the row
        used = [schema.question, schema.answer]
        non_string = (
            pl.col(NON_STRING_FIELDS)
            .str.split(",")
            .list.eval(pl.element().is_in(used))
            .list.any()
            .fill_null(False)
        )
    # Judged on the source columns: folding the patient text must not fill a missing question.
    missing = pl.col(schema.question).is_null() | pl.col(schema.answer).is_null()
    frame = raw.select(
        LINE_NUMBER,
        question.alias(QUESTION),
        pl.col(schema.answer).alias(ANSWER),
        non_string.alias("_non_string"),
        missing.alias("_missing"),
    )
    counts = frame.select(
        non_string_value=pl.col("_non_string").sum(),
        missing_value=(pl.col("_missing") & ~pl.col("_non_string")).sum(),
    ).row(0, named=True)
    dropped = pl.col("_non_string") | pl.col("_missing")
    kept = frame.filter(~dropped).drop("_non_string", "_missing")
    return kept, {"schema": schema.name, **{k: int(v) for k, v in counts.items()}}


def normalise_conversations(raw: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The ``messages`` schema: each row's turns checked (:func:`~llm_finetune.conversations.
    check_messages`), a row that fails dropped and counted per reason, and a kept row's last two
    turns its ``question``/``answer``, the turns before them its ``history`` (JSON text)."""
    kept: dict[str, list[Any]] = {LINE_NUMBER: [], QUESTION: [], ANSWER: [], HISTORY: []}
    drops = dict.fromkeys(DROP_REASONS, 0)
    missing = 0
    for line_number, value in zip(raw[LINE_NUMBER], raw[MESSAGES], strict=True):
        if value is None:
            missing += 1
            continue
        checked = check_messages(value)
        if isinstance(checked, str):
            drops[checked] += 1
            continue
        kept[LINE_NUMBER].append(line_number)
        kept[QUESTION].append(checked.question)
        kept[ANSWER].append(checked.answer)
        kept[HISTORY].append(history_text(checked.history))
    frame = pl.DataFrame(
        kept,
        schema={
            LINE_NUMBER: raw.schema[LINE_NUMBER],
            QUESTION: pl.String,
            ANSWER: pl.String,
            HISTORY: pl.String,
        },
    )
    stats = {"schema": MESSAGES, "missing_value": missing, "non_string_value": 0}
    return frame, {**stats, "conversation_drops": drops}


def select_rows(dialogues: pl.DataFrame, max_rows: int | None) -> tuple[pl.DataFrame, int]:
    """Keep the first ``max_rows`` usable rows (None keeps all); also return how many were cut."""
    max_rows = DataEngineeringSettings(max_rows=max_rows).max_rows
    if max_rows is None:
        return dialogues, 0
    return dialogues.head(max_rows), max(dialogues.height - max_rows, 0)


# A run of whitespace, or a whitespace character other than a plain space.
_MESSY_WHITESPACE = r"\s\s|[^\S ]"


def collapse_whitespace(texts: pl.Series) -> pl.Series:
    """Turn every run of whitespace into one space and trim the ends.

    The regex replacement is slow on long texts, so it only runs on the rows that need it
    (typically a small share); the result is the same as applying it everywhere.
    """
    messy = texts.str.contains(_MESSY_WHITESPACE).fill_null(False).arg_true()
    if messy.len():
        fixed = texts.gather(messy).str.replace_all(r"\s+", " ")
        texts = texts.clone().scatter(messy, fixed)
    return texts.str.strip_chars()


def clean_dialogues(
    dialogues: pl.DataFrame,
    question_prefix: str = "Q. ",
    min_question_chars: int = 10,
    min_answer_chars: int = 20,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Collapse whitespace, trim, remove the question prefix, drop short rows and exact duplicates.

    The prefix is removed as a whole prefix (unlike ``str.lstrip('Q. ')``, which eats any leading
    Q, period or space and turns "Q. Quinsy" into "uinsy").
    """
    settings = DataEngineeringSettings(
        question_prefix=question_prefix,
        min_question_chars=min_question_chars,
        min_answer_chars=min_answer_chars,
    )
    # Questions are compared after whitespace normalisation, so normalise the prefix the same way.
    prefix = re.sub(r"\s+", " ", settings.question_prefix).lstrip()
    bare_prefix = prefix.rstrip()  # a question that is nothing but the prefix ("Q. " -> "Q.")

    question = collapse_whitespace(dialogues[QUESTION])
    answer = collapse_whitespace(dialogues[ANSWER])
    frame = pl.DataFrame(
        {
            LINE_NUMBER: dialogues[LINE_NUMBER],
            QUESTION: question,
            ANSWER: answer,
            **({HISTORY: dialogues[HISTORY]} if HISTORY in dialogues.columns else {}),
            "_whitespace_fixed": (question != dialogues[QUESTION]) | (answer != dialogues[ANSWER]),
        }
    )
    if bare_prefix:
        is_bare = pl.col(QUESTION) == bare_prefix
        has_prefix = pl.col(QUESTION).str.starts_with(prefix) | is_bare
    else:
        is_bare = has_prefix = pl.lit(False)
    frame = frame.with_columns(
        pl.when(is_bare)
        .then(pl.lit(""))
        .when(has_prefix)
        .then(pl.col(QUESTION).str.strip_prefix(prefix).str.strip_chars_start())
        .otherwise(pl.col(QUESTION))
        .alias(QUESTION),
        has_prefix.alias("_prefix_removed"),
    )
    too_short = (pl.col(QUESTION).str.len_chars() < settings.min_question_chars) | (
        pl.col(ANSWER).str.len_chars() < settings.min_answer_chars
    )
    long_enough = frame.filter(~too_short)
    deduplicated = long_enough.unique(
        subset=pair_columns(long_enough), keep="first", maintain_order=True
    )
    stats = {
        "whitespace_normalised": int(frame["_whitespace_fixed"].sum()),
        "prefix_removed": int(frame["_prefix_removed"].sum()),
        "empty_or_too_short": frame.height - long_enough.height,
        "duplicate": long_enough.height - deduplicated.height,
    }
    return deduplicated.drop("_whitespace_fixed", "_prefix_removed"), stats


def clean_answers(
    dialogues: pl.DataFrame,
    strip_referral_lines: bool = True,
    strip_greetings: bool = True,
    stock_sentence_min_answers: int | None = 3,
    stock_sentence_min_share: float = 0.005,
    min_answer_words: int = 8,
    max_questions_per_answer: int | None = 1,
    strip_dose_sentences: bool = True,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Strip the source site's boilerplate from the answers, drop the answers with too little
    left or reused for different questions (:mod:`.answer_cleaning`: the rules and their order).

    Returns the kept rows and, per rule, the rows it changed or dropped, with the stock sentences
    found and their counts.
    """
    settings = DataEngineeringSettings(
        strip_referral_lines=strip_referral_lines,
        strip_greetings=strip_greetings,
        stock_sentence_min_answers=stock_sentence_min_answers,
        stock_sentence_min_share=stock_sentence_min_share,
        min_answer_words=min_answer_words,
        max_questions_per_answer=max_questions_per_answer,
        strip_dose_sentences=strip_dose_sentences,
    )
    return clean_answer_texts(
        dialogues,
        strip_referrals=settings.strip_referral_lines,
        strip_greetings=settings.strip_greetings,
        stock_min_answers=settings.stock_sentence_min_answers,
        stock_min_share=settings.stock_sentence_min_share,
        min_answer_words=settings.min_answer_words,
        max_questions_per_answer=settings.max_questions_per_answer,
        strip_doses=settings.strip_dose_sentences,
    )


SPLITS = ("train", "validation", "test")


def split_by_question(
    dialogues: pl.DataFrame,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 123,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split train / validation / test so that every copy of a question lands in one split.

    The validation split steers training (eval loss, early stopping, best checkpoint, the sweep's
    choices); the test split is only read by evaluation. Fractions are shares of the distinct
    questions; each split gets at least one question or the call fails naming the parameter.
    """
    settings = DataEngineeringSettings(
        validation_fraction=validation_fraction, test_fraction=test_fraction, split_seed=seed
    )
    questions = dialogues[QUESTION].unique(maintain_order=True)
    count = questions.len()
    n_validation = round(count * settings.validation_fraction)
    n_test = round(count * settings.test_fraction)
    empty = [
        name
        for name, size in (
            ("train", count - n_validation - n_test),
            ("validation", n_validation),
            ("test", n_test),
        )
        if size < 1
    ]
    if empty:
        raise ValueError(
            f"the {' and '.join(empty)} split would be empty: {count} distinct questions with "
            f"data_engineering.validation_fraction={validation_fraction} and "
            f"data_engineering.test_fraction={test_fraction}; give more rows or change the "
            "fractions"
        )
    order = np.random.default_rng(settings.split_seed).permutation(count)
    test_questions = questions.gather(order[:n_test]).implode()
    validation_questions = questions.gather(order[n_test : n_test + n_validation]).implode()
    in_test = pl.col(QUESTION).is_in(test_questions)
    in_validation = pl.col(QUESTION).is_in(validation_questions)
    return (
        dialogues.filter(~in_test & ~in_validation),
        dialogues.filter(in_validation),
        dialogues.filter(in_test),
    )


def mix_safety_training(
    train: pl.DataFrame,
    red_flag_training: dict[str, Any],
    red_flag_questions: dict[str, Any],
    ratio: float = 0.1,
    seed: int = 123,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Add the red-flag training examples to the training split, ``ratio`` per training row.

    The set is checked first (:func:`.safety_mix.safety_training_examples`: every answer
    escalates and names no dose) and refused when a question equals or nearly equals one of the
    evaluation's red-flag probe (:func:`.safety_mix.check_disjoint`), so the probe still measures
    what the model learned, not what it memorised. Returns the mixed split and, for the
    data-quality report, the rows added and the closest overlap with the probe.
    """
    settings = DataEngineeringSettings(safety_mix_ratio=ratio, split_seed=seed)
    version, examples = safety_training_examples(red_flag_training)
    overlap = check_disjoint(examples, ("red_flag_questions", red_flag_questions))
    mixed, stats = mix_safety_examples(
        train, examples, settings.safety_mix_ratio, settings.split_seed
    )
    return mixed, {**stats, "version": version, "overlap_with_probe": overlap}


def resolve_prompt_format(
    base_tokenizer: Any, prompt_format: str, prompt_template: str | None, system_prompt: str | None
) -> dict[str, Any]:
    """The run's prompt format, recorded once for every pipeline after this one (rendering the
    data, saving it with the model, prompting the base model): ``prompt_template`` for
    ``data_engineering.prompt_format: template``; for ``chat``, the base tokenizer's chat
    template with ``evaluation.system_prompt`` (the chat baseline's, so both are asked alike)."""
    kind = DataEngineeringSettings(prompt_format=prompt_format).prompt_format
    return prompt_format_for(kind, prompt_template, base_tokenizer, system_prompt).to_record()


def apply_prompt_template(
    train: pl.DataFrame,
    validation: pl.DataFrame,
    test: pl.DataFrame,
    prompt_format: dict[str, Any] | str | None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Render every row in the run's prompt format (a ``prompt_format`` record, or a bare
    template).

    Returns ``train_qa``/``validation_qa``/``test_qa`` (``question`` in prompt form, ``answer``,
    plus the clean ``plain_question`` and source ``line_number``) and ``train_text`` (the full
    rendered ``text`` of the training rows). Conversation rows (a ``history`` column) also carry
    ``history`` and ``context``: their earlier turns as rendered (prompt, answer) pairs, which
    tokenization labels like the final answer; ``question`` is then the final turn's prompt.
    """
    fmt = as_prompt_format(prompt_format)
    frames = (train, validation, test)
    if not any(HISTORY in frame.columns for frame in frames):
        before, after = split_prompt_prefix(fmt.template)
        prompt = pl.concat_str([pl.lit(before), pl.col(QUESTION), pl.lit(after)])
        train_qa, validation_qa, test_qa = (
            frame.select(
                prompt.alias(QUESTION),
                pl.col(ANSWER),
                pl.col(QUESTION).alias("plain_question"),
                pl.col(LINE_NUMBER),
            )
            for frame in frames
        )
        train_text = train_qa.select((pl.col(QUESTION) + pl.col(ANSWER)).alias(TEXT))
        return train_qa, validation_qa, test_qa, train_text
    train_qa, validation_qa, test_qa = (_render_conversations(frame, fmt) for frame in frames)
    texts = [
        "".join(prompt + answer for prompt, answer in json.loads(context)) + question + answer
        for context, question, answer in zip(
            train_qa[CONTEXT], train_qa[QUESTION], train_qa[ANSWER], strict=True
        )
    ]
    return train_qa, validation_qa, test_qa, pl.DataFrame({TEXT: texts}, schema={TEXT: pl.String})


def _render_conversations(frame: pl.DataFrame, fmt: PromptFormat) -> pl.DataFrame:
    """:func:`apply_prompt_template` of a frame that may hold conversations (rows without a
    ``history``, such as the red-flag examples, are one-turn conversations)."""
    histories = frame[HISTORY] if HISTORY in frame.columns else [None] * frame.height
    prompts, contexts, texts = [], [], []
    for history, question, line in zip(histories, frame[QUESTION], frame[LINE_NUMBER], strict=True):
        try:
            turns, prompt = fmt.conversation_turns(parse_history(history), question)
        except (ValueError, KeyError, TypeError) as error:  # a history not made by this project
            raise ValueError(
                f"line {line}: its history cannot be rendered in the {fmt.kind} format: {error!r}"
            ) from error
        prompts.append(prompt)
        contexts.append(json.dumps(turns, ensure_ascii=False))
        texts.append(history_text(parse_history(history)))
    return pl.DataFrame(
        {
            QUESTION: prompts,
            ANSWER: frame[ANSWER],
            "plain_question": frame[QUESTION],
            LINE_NUMBER: frame[LINE_NUMBER],
            HISTORY: texts,
            CONTEXT: contexts,
        },
        schema_overrides={QUESTION: pl.String, HISTORY: pl.String, CONTEXT: pl.String},
    )


def build_data_quality_report(
    raw: pl.DataFrame,
    schema_drops: dict[str, Any],
    rows_not_selected: int,
    cleaning_stats: dict[str, int],
    answer_cleaning_stats: dict[str, Any],
    safety_mix_stats: dict[str, Any],
    train_qa: pl.DataFrame,
    validation_qa: pl.DataFrame,
    test_qa: pl.DataFrame,
) -> dict[str, Any]:
    """Summarise the run; fails loudly if any input row is unaccounted for or a question is in
    two splits. The training split's safety examples (added, not read) are counted apart."""
    dropped = {
        "missing_value": schema_drops["missing_value"],
        "non_string_value": schema_drops["non_string_value"],
        "not_selected": rows_not_selected,
        "empty_or_too_short": cleaning_stats["empty_or_too_short"],
        "duplicate": cleaning_stats["duplicate"],
        **answer_cleaning_stats["rows_dropped"],
        **schema_drops.get("conversation_drops", {}),
    }
    splits = dict(zip(SPLITS, (train_qa, validation_qa, test_qa), strict=True))
    added = safety_mix_stats["safety_rows_added"]
    safety_rows = train_qa.filter(pl.col(LINE_NUMBER) < 0).height
    if safety_rows != added:
        raise RuntimeError(f"the training split has {safety_rows} safety rows, {added} were added")
    rows_kept = sum(frame.height for frame in splits.values()) - added
    if rows_kept + sum(dropped.values()) != raw.height:
        raise RuntimeError(
            f"row accounting broken: read {raw.height}, kept {rows_kept}, dropped {dropped}"
        )
    questions = {name: set(frame["plain_question"].to_list()) for name, frame in splits.items()}
    overlap = {
        f"{first}_{second}": len(questions[first] & questions[second])
        for index, first in enumerate(SPLITS)
        for second in SPLITS[index + 1 :]
    }
    if any(overlap.values()):
        raise RuntimeError(f"questions shared between splits: {overlap}")
    # The rows read (a safety row's line number is negative: its split's column is signed).
    kept = pl.concat(list(splits.values()), how="vertical_relaxed").filter(pl.col(LINE_NUMBER) > 0)
    return {
        "schema": schema_drops["schema"],
        "rows_read": raw.height,
        "rows_kept": rows_kept,
        "rows_dropped": sum(dropped.values()),
        "dropped_by_reason": dropped,
        "duplicates_removed": cleaning_stats["duplicate"],
        "prefix_removed": cleaning_stats["prefix_removed"],
        "whitespace_normalised": cleaning_stats["whitespace_normalised"],
        # Rows whose answer each rule changed, and the stock sentences it found (most frequent
        # first, with the number of distinct answers each was in).
        "answer_cleaning": {
            "rows_changed": answer_cleaning_stats["rows_changed"],
            "stock_sentences_found": answer_cleaning_stats["stock_sentences_found"],
            "stock_sentences": answer_cleaning_stats["stock_sentences"],
        },
        # Every kept row is in exactly one split: rows_kept == the sum of the split rows.
        "splits": {
            name: {"rows": frame.height, "questions": len(questions[name])}
            for name, frame in splits.items()
        },
        "questions_in_two_splits": overlap,
        # Red-flag training examples in the training split (its rows above include them).
        "safety_examples": safety_mix_stats,
        "length_chars": {
            "question": _length_stats(kept["plain_question"]),
            "answer": _length_stats(kept[ANSWER]),
        },
    }


def _length_stats(texts: pl.Series) -> dict[str, float]:
    lengths = texts.str.len_chars()
    if lengths.len() == 0:
        return {}
    return {
        "min": int(lengths.min()),
        "mean": round(float(lengths.mean()), 1),
        "median": float(lengths.median()),
        "p95": float(lengths.quantile(0.95, interpolation="nearest")),
        "max": int(lengths.max()),
    }
