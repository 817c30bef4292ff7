"""Safety data in the training mix (issue 20, item 3): the hand-written red-flag training examples
(``data/01_raw/safety/red_flag_training.yml``), read and checked, kept apart from the red-flag
probe and holdout sets, and mixed into the training dialogues.

* :func:`safety_training_examples` reads the set: every example has an ``id``, a ``topic``, an
  ``expected_action`` (:data:`~llm_finetune.pipelines.evaluation.probe_sets.EXPECTED_ACTIONS`), a
  ``question`` and an ``answer`` that escalates
  (:func:`~llm_finetune.safety.answer_rules.escalates`) and names no dose amount
  (:func:`~llm_finetune.safety.answer_rules.dose_amounts`).
* :func:`check_disjoint` refuses a training question equal or nearly equal to a question of a
  red-flag probe or holdout set, so the probe still measures generalisation, and returns the
  closest overlap for the data-quality report.
* :func:`mix_safety_examples` appends ``round(ratio * train.height)`` safety rows to the training
  split, seeded and deterministic.

Pure functions: no I/O. Problems raise :class:`ValueError` naming the set, the item (1-based number
and id) and what is wrong, as :mod:`~llm_finetune.pipelines.evaluation.probe_sets` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from llm_finetune.datasets.raw_dialogues import LINE_NUMBER
from llm_finetune.pipelines.evaluation.probe_sets import (
    EXPECTED_ACTIONS,
    _check_id,
    _check_new_text,
    _text,
    _version_and_items,
    _where,
    red_flag_questions,
)
from llm_finetune.safety.answer_rules import dose_amounts, escalates

QUESTION = "question"
ANSWER = "answer"
#: The fields every training example has, in this order.
FIELDS = ("id", "topic", "expected_action", "question", "answer")
#: Word-set Jaccard similarity from which a training question counts as a near copy of a probe
#: question (:func:`check_disjoint`).
NEAR_COPY_JACCARD = 0.8
#: The parameter that sets the share of safety rows (:func:`mix_safety_examples`).
RATIO_PARAMETER = "data_engineering.safety_mix_ratio"


def safety_training_examples(
    raw: Mapping[str, Any], source: str = "red_flag_training"
) -> tuple[int, list[dict[str, str]]]:
    """The version and examples of the red-flag training set.

    Args:
        raw: The loaded YAML: ``version`` and ``examples``, a list of mappings with ``id``,
            ``topic``, ``expected_action``, ``question`` and ``answer``.
        source: Name of the set in error messages.

    Returns:
        ``(version, examples)``: the examples in file order, each a dict of :data:`FIELDS`
        (strings, stripped).

    Raises:
        ValueError: The set is not a mapping, lacks ``version`` or ``examples``, has no examples,
            or an example lacks a field, has an unknown ``expected_action``, a non-kebab-case or
            repeated id, repeats another example's question (whitespace and case aside), has an
            answer that names a dose amount (any amount with a dose unit: "5 mg", "two tablets")
            or an answer that does not escalate (no instruction to get emergency or same-day
            care that :func:`~llm_finetune.safety.answer_rules.escalates` recognises).
    """
    version, items = _version_and_items(raw, source, "examples")
    examples: list[dict[str, str]] = []
    ids: dict[str, int] = {}
    texts: dict[str, tuple[int, str]] = {}
    for number, item in enumerate(items, start=1):
        where = _where(source, "example", number, item)
        fields = {name: _text(item, name, where) for name in FIELDS}
        _check_id(fields["id"], number, where, ids, "example")
        action = fields["expected_action"]
        if action not in EXPECTED_ACTIONS:
            raise ValueError(
                f"{where} has the unknown expected_action {action!r}; "
                f"allowed: {', '.join(EXPECTED_ACTIONS)}"
            )
        _check_new_text(fields["question"], number, fields["id"], where, texts, "example")
        doses = dose_amounts(fields["answer"])
        if doses:
            raise ValueError(
                f"{where} answer names a dose ({', '.join(dict.fromkeys(doses))}); training "
                "answers must send the person to care, not give amounts of medicine"
            )
        if not escalates(fields["answer"]):
            raise ValueError(
                f"{where} is {action!r} but its answer does not escalate: it must tell the person "
                + (
                    "to call emergency services or go to the emergency department now"
                    if action == "emergency"
                    else "to be seen by a doctor today"
                )
                + ", unconditionally (answer_rules.escalates finds no such instruction)"
            )
        examples.append(fields)
    return version, examples


def check_disjoint(
    examples: Sequence[Mapping[str, str]],
    *probe_sets: tuple[str, Mapping[str, Any]],
    near_copy_jaccard: float = NEAR_COPY_JACCARD,
) -> dict[str, Any]:
    """Refuse training questions that equal or nearly equal a red-flag probe or holdout question.

    Questions are compared in a normal form (case folded, punctuation dropped, whitespace
    collapsed): equal normal forms are a copy; a word-set Jaccard similarity of at least
    ``near_copy_jaccard`` is a near copy.

    Args:
        examples: The training examples (:func:`safety_training_examples`), with ``id`` and
            ``question``.
        *probe_sets: ``(name, raw)`` per red-flag set, ``raw`` the loaded YAML that
            :func:`~llm_finetune.pipelines.evaluation.probe_sets.red_flag_questions` reads.
        near_copy_jaccard: The similarity from which two questions count as a near copy.

    Returns:
        For the data-quality report: ``near_copy_jaccard``, the ``training_questions`` checked,
        per set its ``questions`` and its ``closest`` overlap (``jaccard``, ``training_id``,
        ``probe_id``; None for an empty comparison), and the ``max_jaccard`` over all sets.

    Raises:
        ValueError: A training question is a copy or near copy of a question of a set, naming the
            set and both ids; or a set is not a valid red-flag set.
    """
    training = [(example["id"], _words(example["question"])) for example in examples]
    normal = {_normal_form(example["question"]): example["id"] for example in examples}
    sets: dict[str, dict[str, Any]] = {}
    overall = 0.0
    for name, raw in probe_sets:
        _, questions = red_flag_questions(raw, name)
        closest: dict[str, Any] | None = None
        for probe in questions:
            copied = normal.get(_normal_form(probe.question))
            if copied is not None:
                raise ValueError(
                    f"red-flag training example {copied!r} asks the same question as {name} "
                    f"question {probe.id!r} (case, punctuation and whitespace aside); training "
                    "questions must be written apart from the probe sets"
                )
            probe_words = _words(probe.question)
            for example_id, words in training:
                similarity = _jaccard(words, probe_words)
                if similarity >= near_copy_jaccard:
                    raise ValueError(
                        f"red-flag training example {example_id!r} nearly copies {name} question "
                        f"{probe.id!r}: word-set Jaccard {similarity:.2f} >= {near_copy_jaccard}; "
                        "rewrite the training question"
                    )
                if closest is None or similarity > closest["jaccard"]:
                    closest = {
                        "jaccard": round(similarity, 3),
                        "training_id": example_id,
                        "probe_id": probe.id,
                    }
        sets[name] = {"questions": len(questions), "closest": closest}
        if closest is not None:
            overall = max(overall, closest["jaccard"])
    return {
        "near_copy_jaccard": near_copy_jaccard,
        "training_questions": len(training),
        "sets": sets,
        "max_jaccard": overall,
    }


def mix_safety_examples(
    train: pl.DataFrame, examples: Sequence[Mapping[str, str]], ratio: float, seed: int
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Append safety rows to the training dialogues.

    ``round(ratio * train.height)`` rows are added after the training rows: the examples in a
    seeded random order, each once, then, when more rows are asked for than there are examples,
    a fresh seeded order again (so no example is used ``k + 1`` times before all are used ``k``
    times). A safety row's ``line_number`` is ``-n`` for the ``n``-th example (1-based), so it
    never clashes with a source line; the column becomes ``Int64`` where it was unsigned. Other
    columns of ``train`` are null in the safety rows.

    Args:
        train: The training split: ``line_number``, ``question``, ``answer`` (and any others).
        examples: The training examples (:func:`safety_training_examples`).
        ratio: Safety rows per training row (``data_engineering.safety_mix_ratio``); 0 adds none.
        seed: Seed of the order.

    Returns:
        The mixed frame (``train`` itself for ratio 0) and ``safety_rows_added``,
        ``safety_examples_available`` and ``ratio``.

    Raises:
        ValueError: ``ratio`` is not a finite number >= 0, ``train`` lacks ``line_number``,
            ``question`` or ``answer``, or rows are asked for and there are no examples.
    """
    if (
        isinstance(ratio, bool)
        or not isinstance(ratio, int | float)
        or not math.isfinite(ratio)
        or ratio < 0
    ):
        raise ValueError(f"{RATIO_PARAMETER} must be a number >= 0, not {ratio!r}")
    missing = [name for name in (LINE_NUMBER, QUESTION, ANSWER) if name not in train.columns]
    if missing:
        raise ValueError(
            f"the training dialogues lack {', '.join(missing)}; they have {train.columns}"
        )
    count = round(ratio * train.height)
    stats = {
        "safety_rows_added": count,
        "safety_examples_available": len(examples),
        "ratio": ratio,
    }
    if count == 0:
        return train, stats
    if not examples:
        raise ValueError(
            f"{RATIO_PARAMETER}={ratio} asks for {count} safety rows but there are no red-flag "
            "training examples"
        )
    rng = np.random.default_rng(seed)
    order: list[int] = []
    while len(order) < count:
        order.extend(int(index) for index in rng.permutation(len(examples)))
    order = order[:count]
    line_dtype = train.schema[LINE_NUMBER]
    if not line_dtype.is_signed_integer():
        line_dtype = pl.Int64
    columns = {
        LINE_NUMBER: pl.Series(LINE_NUMBER, [-(index + 1) for index in order], dtype=line_dtype),
        QUESTION: pl.Series(QUESTION, [examples[index]["question"] for index in order]),
        ANSWER: pl.Series(ANSWER, [examples[index]["answer"] for index in order]),
    }
    safety = pl.DataFrame(
        [
            columns.get(name, pl.Series(name, [None] * count, dtype=dtype))
            for name, dtype in train.schema.items()
        ]
    )
    base = train.with_columns(pl.col(LINE_NUMBER).cast(line_dtype))
    safety = safety.with_columns(pl.col(name).cast(dtype) for name, dtype in base.schema.items())
    return pl.concat([base, safety], how="vertical"), stats


_PUNCTUATION = re.compile(r"[^\w\s]+")


def _normal_form(text: str) -> str:
    """``text`` case folded, punctuation dropped, runs of whitespace as one space."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())


def _words(text: str) -> frozenset[str]:
    """The set of words of ``text``'s normal form."""
    return frozenset(_normal_form(text).split())


def _jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    """Size of the intersection over size of the union (0 for two empty sets)."""
    union = first | second
    return len(first & second) / len(union) if union else 0.0
