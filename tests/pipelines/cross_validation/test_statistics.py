"""Statistics over folds on known numbers: mean, sample std, the t interval, and the paired
comparison of two settings fold by fold."""

from __future__ import annotations

import math

import pytest

from llm_finetune.pipelines.cross_validation.statistics import (
    fold_summary,
    paired_comparison,
    t_cdf,
    t_quantile,
)

# Student's t 0.975 quantiles from a printed table (df: value).
T_TABLE = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 9: 2.2622, 30: 2.0423}


@pytest.mark.parametrize(("df", "expected"), sorted(T_TABLE.items()))
def test_t_quantile_matches_the_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-4)
    assert t_cdf(t_quantile(0.975, df), df) == pytest.approx(0.975, abs=1e-10)


def test_t_quantile_agrees_with_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 5, 7, 19, 100):
        for probability in (0.6, 0.9, 0.975, 0.995):
            assert t_quantile(probability, df) == pytest.approx(
                stats.t.ppf(probability, df), rel=1e-9
            )


def test_fold_summary_of_known_numbers():
    summary = fold_summary([0.1, 0.2, 0.3])
    assert summary["per_fold"] == [0.1, 0.2, 0.3]
    assert summary["mean"] == pytest.approx(0.2)
    assert summary["std"] == pytest.approx(0.1)  # sqrt(((-0.1)^2 + 0 + 0.1^2) / 2)
    half = 4.302652729749 * 0.1 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(k)
    assert summary["ci_low"] == pytest.approx(0.2 - half)
    assert summary["ci_high"] == pytest.approx(0.2 + half)
    assert summary["folds"] == 3 and summary["missing"] == 0


def test_fold_summary_leaves_out_missing_folds():
    summary = fold_summary([0.5, None, 0.7])
    assert summary["folds"] == 2 and summary["missing"] == 1
    assert summary["mean"] == pytest.approx(0.6)
    single = fold_summary([0.5, None])
    assert single["mean"] == 0.5 and single["std"] is None and single["ci_low"] is None
    assert fold_summary([None, None])["mean"] is None


def test_paired_comparison_of_known_numbers():
    baseline = [0.10, 0.20, 0.30, 0.40]
    candidate = [0.15, 0.22, 0.28, 0.45]
    result = paired_comparison(baseline, candidate, higher_is_better=True, test_to_train=1 / 3)
    differences = [0.05, 0.02, -0.02, 0.05]
    assert result["per_fold"] == pytest.approx(differences)
    assert result["mean"] == pytest.approx(0.025)
    std = math.sqrt(sum((d - 0.025) ** 2 for d in differences) / 3)
    assert result["std"] == pytest.approx(std)
    t = 3.182446305284  # t(0.975, 3)
    assert result["ci_low"] == pytest.approx(0.025 - t * std / 2)
    assert result["ci_high"] == pytest.approx(0.025 + t * std / 2)
    corrected = t * std * math.sqrt(1 / 4 + 1 / 3)  # Nadeau-Bengio: (1/k + n_test/n_train) s^2
    assert result["corrected_ci_low"] == pytest.approx(0.025 - corrected)
    assert result["corrected_ci_high"] == pytest.approx(0.025 + corrected)
    assert (result["candidate_better"], result["baseline_better"], result["ties"]) == (3, 1, 0)


def test_paired_comparison_counts_folds_by_direction():
    lower_better = paired_comparison([2.0, 2.0, 2.0], [1.5, 2.0, 2.5], higher_is_better=False)
    assert lower_better["candidate_better"] == 1
    assert lower_better["baseline_better"] == 1
    assert lower_better["ties"] == 1
    assert lower_better["mean"] == pytest.approx(0.0)
    unjudged = paired_comparison([1.0, 2.0], [2.0, 3.0], higher_is_better=None)
    assert "candidate_better" not in unjudged
    assert unjudged["std"] == 0.0 and unjudged["ci_low"] == unjudged["ci_high"] == 1.0


def test_paired_comparison_leaves_out_a_fold_missing_either_value():
    result = paired_comparison([1.0, None, 3.0], [2.0, 5.0, 3.5])
    assert result["per_fold"] == [1.0, None, 0.5]
    assert result["folds"] == 2 and result["missing"] == 1
    with pytest.raises(ValueError, match="one value per fold"):
        paired_comparison([1.0], [1.0, 2.0])
