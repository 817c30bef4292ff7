"""``evaluation_metrics``: both models' scores, and fine-tuned minus base with paired bootstrap
intervals over questions, for every metric of the registry (:mod:`.registry`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import polars as pl

from llm_finetune.generation import GenerationSettings
from llm_finetune.pipelines.evaluation import registry
from llm_finetune.pipelines.evaluation.answers import (
    BASELINES,
    Answer,
    answers_in_table,
    models_in,
)
from llm_finetune.pipelines.evaluation.registry import Level
from llm_finetune.pipelines.evaluation.uncertainty import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    paired_bootstrap,
    question_groups,
    wins_ties_losses,
)


def build_evaluation_metrics(
    comparison_table: pd.DataFrame,
    tokenized_test: pl.DataFrame,
    base_perplexity: dict[str, Any],
    base_chat_perplexity: dict[str, Any],
    fine_tuned_perplexity: dict[str, Any],
    generation: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Summary metrics per model, and fine-tuned minus each baseline for every metric with a 95%
    paired bootstrap interval over questions and per-question wins / ties / losses:
    ``differences`` against the base model in the run's prompt format, and
    ``differences_vs_base_chat`` against the base model in its own chat format when it was asked
    so. ``baselines`` names the stronger baseline by token F1."""
    models = models_in(comparison_table)
    texts = ["question", "reference_answer", *(f"{model}_answer" for model in models)]
    # An empty answer read back from CSV is NaN: score it as the empty text it was.
    table = comparison_table.assign(
        **{column: comparison_table[column].fillna("").astype(str) for column in texts}
    )
    answers = {model: answers_in_table(table, model) for model in models}
    perplexities = {
        "base": base_perplexity,
        "base_chat": base_chat_perplexity,
        "fine_tuned": fine_tuned_perplexity,
    }
    summary: dict[str, Any] = {
        model: summarize_model(answers[model], perplexities[model]) for model in models
    }
    summary["num_questions"] = int(table["question"].nunique())
    summary["num_answers"] = len(table)
    summary["perplexity_rows"] = len(base_perplexity.get("row_nll") or [])
    for baseline in (m for m in BASELINES if m in models):
        key = "differences" if baseline == "base" else f"differences_vs_{baseline}"
        summary[key] = paired_differences(table, answers, tokenized_test, perplexities, baseline)
    summary["baselines"] = stronger_baseline(summary, [m for m in BASELINES if m in models])
    summary["uncertainty"] = {
        "method": (
            f"fine-tuned minus base; {CONFIDENCE:.0%} percentile interval of a paired bootstrap "
            f"over questions ({BOOTSTRAP_RESAMPLES} resamples, rows of one question move "
            "together); wins / ties / losses count questions where the fine-tuned model is "
            "better / equal / worse"
        ),
        "caveat": (
            f"{summary['num_questions']} questions: an interval that contains 0 means this test "
            "set cannot tell the models apart on that metric"
        ),
    }
    summary["generation"] = GenerationSettings.from_params(generation).to_dict()
    return summary


#: The metric that decides which baseline is the stronger one.
BASELINE_METRIC = "token_f1"


def stronger_baseline(summary: Mapping[str, Any], baselines: Sequence[str]) -> dict[str, Any]:
    """The baseline with the higher :data:`BASELINE_METRIC` (the walkthrough's template on a
    tie), and the differences key comparing the fine-tuned model with it."""
    scores = {model: summary[model].get(BASELINE_METRIC) for model in baselines}
    stronger = max(baselines, key=lambda model: (scores[model] or 0.0, model == "base"))
    return {
        "compared": list(baselines),
        "by": BASELINE_METRIC,
        "scores": scores,
        "stronger": stronger,
        "differences_key": "differences" if stronger == "base" else f"differences_vs_{stronger}",
    }


def summarize_model(answers: Sequence[Answer], perplexity: Mapping[str, Any]) -> dict[str, Any]:
    """``evaluation_metrics[<model>]``: every registered metric with a ``summary`` name, of one
    model's answers and its answer-perplexity result."""
    if not answers:
        raise ValueError("a model's summary needs at least one answer")
    summary: dict[str, Any] = {}
    for metric in registry.summary_metrics():
        if metric.level is Level.ANSWER:
            value = metric.aggregate([metric.value(answer) for answer in answers])
        elif metric.level is Level.ANSWER_SET:
            value = metric.value(answers)
        else:
            value = metric.value(perplexity)
        summary[metric.summary] = value
    return summary


def paired_differences(
    comparison_table: pd.DataFrame,
    answers: Mapping[str, Sequence[Answer]],
    tokenized_test: pl.DataFrame,
    perplexities: Mapping[str, Mapping[str, Any]],
    baseline: str = "base",
) -> dict[str, dict[str, Any]]:
    """Fine-tuned minus ``baseline`` of every metric with a ``difference`` name, with its
    interval.

    Per-answer metrics pair the comparison table's two columns, row by row; answer-set metrics
    are recomputed on every resample of questions; test-split ones compare as they declare
    (skipped, with the reason, when the baseline's perplexity rows do not pair with the
    fine-tuned model's)."""
    groups = question_groups(comparison_table["question"].astype(str).tolist())
    differences: dict[str, dict[str, Any]] = {}
    for metric in registry.paired_metrics():
        if metric.level is Level.ANSWER:
            base = comparison_table[f"{baseline}_{metric.column}"].astype(float).tolist()
            tuned = comparison_table[f"fine_tuned_{metric.column}"].astype(float).tolist()
            row = paired_bootstrap(base, tuned, groups)
            if metric.higher_is_better is not None:
                row.update(wins_ties_losses(base, tuned, metric.higher_is_better))
        elif metric.level is Level.ANSWER_SET:
            row = paired_bootstrap(
                list(answers[baseline]),
                list(answers["fine_tuned"]),
                groups,
                metric.value,
                resamples=metric.resamples,
            )
        else:
            paired = len(perplexities[baseline].get("row_nll") or []) == len(
                perplexities["fine_tuned"].get("row_nll") or []
            )
            if not paired:
                differences[metric.difference] = {
                    "difference": None,
                    "note": f"{baseline}'s perplexity rows do not pair with the fine-tuned model's",
                    "higher_is_better": metric.higher_is_better,
                }
                continue
            row = metric.compare(tokenized_test, perplexities[baseline], perplexities["fine_tuned"])
        differences[metric.difference] = {**row, "higher_is_better": metric.higher_is_better}
    return differences
