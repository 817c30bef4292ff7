"""Statistics over folds: each setting's mean, spread and t interval, and the paired comparison of
two settings fold by fold (pure Python and math; the t quantile is computed here, no scipy).

The folds' training sets overlap, so their scores are not independent: the plain t interval over
folds is too narrow (Nadeau & Bengio, 2003, "Inference for the generalization error"). The paired
difference also reports their corrected interval, whose variance is ``(1/k + n_test/n_train)
s^2`` instead of ``s^2 / k``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

CONFIDENCE = 0.95


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student's t distribution function with ``df`` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t with ``df`` degrees of freedom (bisection on
    :func:`t_cdf`, to 1e-12)."""
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if probability < 0.5:
        return -t_quantile(1 - probability, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < probability:
        high *= 2
    while high - low > 1e-12 * max(1.0, high):
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < probability else (low, middle)
    return (low + high) / 2


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _std(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1); None for fewer than two values."""
    if len(values) < 2:
        return None
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _interval(mean: float, scale: float | None, df: int) -> tuple[float | None, float | None]:
    if scale is None or df < 1:
        return None, None
    half = t_quantile(1 - (1 - CONFIDENCE) / 2, df) * scale
    return mean - half, mean + half


def fold_summary(values: Sequence[float | None]) -> dict[str, Any]:
    """One setting's scores over folds: ``per_fold``, ``mean``, ``std`` (n - 1) and the t
    interval of the mean over folds (``ci_low``, ``ci_high``; df = folds - 1). Folds without a
    value (None) are left out of the statistics and counted in ``missing``."""
    present = [float(v) for v in values if v is not None and math.isfinite(v)]
    summary: dict[str, Any] = {
        "per_fold": [None if v is None else float(v) for v in values],
        "folds": len(present),
        "missing": len(values) - len(present),
        "mean": None,
        "std": None,
        "ci_low": None,
        "ci_high": None,
    }
    if not present:
        return summary
    mean, std = _mean(present), _std(present)
    low, high = _interval(
        mean, None if std is None else std / math.sqrt(len(present)), len(present) - 1
    )
    summary.update(mean=mean, std=std, ci_low=low, ci_high=high)
    return summary


def paired_comparison(
    baseline: Sequence[float | None],
    candidate: Sequence[float | None],
    higher_is_better: bool | None = True,
    test_to_train: float | None = None,
) -> dict[str, Any]:
    """Candidate minus baseline, fold by fold.

    Returns ``per_fold`` differences, their ``mean``, ``std`` and t interval (``ci_low``,
    ``ci_high``; df = folds - 1), the Nadeau-Bengio corrected interval when ``test_to_train``
    (held-out rows / training rows of a fold) is given (``corrected_ci_low``,
    ``corrected_ci_high``), and how many folds favour each setting (``candidate_better``,
    ``baseline_better``, ``ties``; by ``higher_is_better``, not counted when None). A fold where
    either setting has no value is left out (``missing``).
    """
    if len(baseline) != len(candidate):
        raise ValueError(
            f"a paired comparison needs one value per fold for both settings, got "
            f"{len(baseline)} and {len(candidate)}"
        )
    per_fold = [
        None if b is None or c is None or not math.isfinite(b) or not math.isfinite(c) else c - b
        for b, c in zip(baseline, candidate, strict=True)
    ]
    present = [d for d in per_fold if d is not None]
    result: dict[str, Any] = {
        "per_fold": per_fold,
        "folds": len(present),
        "missing": len(per_fold) - len(present),
        "mean": None,
        "std": None,
        "ci_low": None,
        "ci_high": None,
        "corrected_ci_low": None,
        "corrected_ci_high": None,
    }
    if higher_is_better is not None:
        sign = 1 if higher_is_better else -1
        result["candidate_better"] = sum(sign * d > 0 for d in present)
        result["baseline_better"] = sum(sign * d < 0 for d in present)
        result["ties"] = sum(d == 0 for d in present)
    if not present:
        return result
    mean, std = _mean(present), _std(present)
    n = len(present)
    result.update(mean=mean, std=std)
    if std is not None:
        result["ci_low"], result["ci_high"] = _interval(mean, std / math.sqrt(n), n - 1)
        if test_to_train is not None:
            corrected = std * math.sqrt(1 / n + test_to_train)
            result["corrected_ci_low"], result["corrected_ci_high"] = _interval(
                mean, corrected, n - 1
            )
    return result
