"""Paired comparison of two models on the same questions: the difference, its bootstrap interval
and per-question wins, ties and losses.

A handful of test questions cannot prove much; these numbers say how much they do. Resampling is
over questions (every row of a question moves together, so repeated questions do not shrink the
interval), and the same resample is applied to both models (paired).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

#: Resamples of the bootstrap (the interval's Monte-Carlo error is well below its width).
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def question_groups(questions: Sequence[str]) -> np.ndarray:
    """One integer per row: rows asking the same question share it."""
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(question, len(ids)) for question in questions], dtype=int)


def paired_bootstrap(
    base: Sequence[Any],
    fine_tuned: Sequence[Any],
    groups: Sequence[int] | np.ndarray,
    statistic: Callable[[Sequence[Any]], float] | None = None,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> dict[str, float | None]:
    """Fine-tuned minus base of ``statistic`` (default: the mean) with a percentile interval.

    ``base`` and ``fine_tuned`` are per-row values (or per-row records that ``statistic`` turns
    into one number, e.g. a corpus BLEU); ``groups`` says which rows belong to one question.
    Returns ``difference``, ``ci_low``, ``ci_high`` (None when not computable, e.g. no rows).
    """
    if not len(base) == len(fine_tuned) == len(groups):
        raise ValueError(
            f"paired values need equal lengths, got {len(base)}, {len(fine_tuned)} and "
            f"{len(groups)} groups"
        )
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not len(base):
        return {"difference": None, "ci_low": None, "ci_high": None}
    statistic = statistic or _mean
    groups = np.asarray(groups)
    members = [np.flatnonzero(groups == group) for group in np.unique(groups)]
    rng = np.random.default_rng(seed)
    differences = np.empty(resamples)
    for index in range(resamples):
        chosen = rng.integers(0, len(members), size=len(members))
        rows = np.concatenate([members[group] for group in chosen])
        differences[index] = statistic([fine_tuned[i] for i in rows]) - statistic(
            [base[i] for i in rows]
        )
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.nanpercentile(differences, [tail, 100 - tail])
    return {
        "difference": _finite(statistic(list(fine_tuned)) - statistic(list(base))),
        "ci_low": _finite(low),
        "ci_high": _finite(high),
    }


def wins_ties_losses(
    base: Sequence[float], fine_tuned: Sequence[float], higher_is_better: bool = True
) -> dict[str, int]:
    """Per row: does the fine-tuned model score better (win), the same (tie) or worse (loss)?"""
    sign = 1 if higher_is_better else -1
    deltas = [sign * (tuned - original) for original, tuned in zip(base, fine_tuned, strict=True)]
    return {
        "wins": sum(delta > 0 for delta in deltas),
        "ties": sum(delta == 0 for delta in deltas),
        "losses": sum(delta < 0 for delta in deltas),
    }


def perplexity_difference(
    tokenized_test: Any, base: Mapping[str, Any], fine_tuned: Mapping[str, Any]
) -> dict[str, Any]:
    """Fine-tuned minus base answer-token perplexity, token-weighted on every resample of the
    test split's questions (``tokenized_test``, a polars frame); wins are questions whose own
    answer perplexity went down. ``base`` / ``fine_tuned``: ``answer_perplexity`` results."""
    records = {
        model: list(zip(result["row_nll"], result["row_tokens"], strict=True))
        for model, result in (("base", base), ("fine_tuned", fine_tuned))
    }
    scored = [i for i, (_, tokens) in enumerate(records["base"]) if tokens]
    if "plain_question" in tokenized_test.columns:
        questions = tokenized_test["plain_question"].to_list()
    else:
        questions = [str(i) for i in range(tokenized_test.height)]
    groups = question_groups([questions[i] for i in scored])
    base_rows = [records["base"][i] for i in scored]
    tuned_rows = [records["fine_tuned"][i] for i in scored]
    row: dict[str, Any] = paired_bootstrap(base_rows, tuned_rows, groups, _pooled_perplexity)
    row.update(
        wins_ties_losses(
            [_pooled_perplexity([r]) for r in base_rows],
            [_pooled_perplexity([r]) for r in tuned_rows],
            higher_is_better=False,
        )
    )
    return row


def _pooled_perplexity(records: Sequence[tuple[float, int]]) -> float:
    tokens = sum(count for _, count in records)
    return math.exp(sum(nll for nll, _ in records) / tokens) if tokens else math.nan


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(np.asarray(values, dtype=float)))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def wilson_interval(successes: int, total: int) -> dict[str, float | None]:
    """The rate ``successes / total`` with its Wilson score interval (sound for small samples and
    rates at 0 or 1, where the normal approximation collapses to a point)."""
    if total < 1:
        return {"rate": None, "ci_low": None, "ci_high": None}
    if not 0 <= successes <= total:
        raise ValueError(f"successes must be within 0..{total}, got {successes}")
    z = 1.959963984540054  # the normal quantile of CONFIDENCE (0.95)
    rate = successes / total
    centre = (rate + z * z / (2 * total)) / (1 + z * z / total)
    half = (
        z * math.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    )
    return {"rate": rate, "ci_low": max(0.0, centre - half), "ci_high": min(1.0, centre + half)}
