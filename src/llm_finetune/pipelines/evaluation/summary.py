"""``evaluation_metrics``: both models' scores, and fine-tuned minus base with paired bootstrap
intervals over questions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import polars as pl

from llm_finetune.generation import GenerationSettings
from llm_finetune.pipelines.evaluation import metrics
from llm_finetune.pipelines.evaluation.nodes import MODELS
from llm_finetune.pipelines.evaluation.uncertainty import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    paired_bootstrap,
    question_groups,
    wins_ties_losses,
)

PAIRED_METRICS = {
    "token_f1": True,
    "rouge_l": True,
    "bleu": True,
    "exact_match": True,
    "ended_with_eos": True,
    "loop": False,
    "new_tokens": None,  # neither: reported, not judged
}


def build_evaluation_metrics(
    comparison_table: pd.DataFrame,
    tokenized_test: pl.DataFrame,
    base_perplexity: dict[str, Any],
    fine_tuned_perplexity: dict[str, Any],
    generation: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Summary metrics per model, and fine-tuned minus base for every metric with a 95% paired
    bootstrap interval over questions and per-question wins / ties / losses."""
    texts = ["question", "reference_answer", *(f"{model}_answer" for model in MODELS)]
    # An empty answer read back from CSV is NaN: score it as the empty text it was.
    table = comparison_table.assign(
        **{column: comparison_table[column].fillna("").astype(str) for column in texts}
    )
    references = table["reference_answer"].tolist()
    summary: dict[str, Any] = {}
    for model, perplexity in (("base", base_perplexity), ("fine_tuned", fine_tuned_perplexity)):
        scores = metrics.summarize_generation_metrics(
            table[f"{model}_answer"].tolist(),
            references,
            table[f"{model}_ended_with_eos"].tolist(),
        )
        summary[model] = {
            **scores,
            "mean_new_tokens": float(table[f"{model}_new_tokens"].mean()),
            "perplexity": _json_float(perplexity["perplexity"]),
            "perplexity_tokens": int(perplexity["tokens"]),
        }
    summary["num_questions"] = int(table["question"].nunique())
    summary["num_answers"] = len(table)
    summary["perplexity_rows"] = len(base_perplexity.get("row_nll") or [])
    summary["differences"] = _paired_differences(
        table, tokenized_test, base_perplexity, fine_tuned_perplexity
    )
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


def _paired_differences(
    table: pd.DataFrame,
    tokenized_test: pl.DataFrame,
    base_perplexity: Mapping[str, Any],
    fine_tuned_perplexity: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    groups = question_groups(table["question"].astype(str).tolist())
    differences: dict[str, dict[str, Any]] = {}
    for name, higher_is_better in PAIRED_METRICS.items():
        base = table[f"base_{name}"].astype(float).tolist()
        tuned = table[f"fine_tuned_{name}"].astype(float).tolist()
        row = paired_bootstrap(base, tuned, groups)
        if higher_is_better is not None:
            row.update(wins_ties_losses(base, tuned, higher_is_better))
        differences[_metric_key(name)] = {**row, "higher_is_better": higher_is_better}
    # Corpus BLEU: the statistic itself is recomputed on every resample.
    pairs = list(zip(table["reference_answer"], table["base_answer"], strict=True))
    tuned_pairs = list(zip(table["reference_answer"], table["fine_tuned_answer"], strict=True))
    differences["corpus_bleu"] = {
        **paired_bootstrap(pairs, tuned_pairs, groups, _corpus_bleu, resamples=200),
        "higher_is_better": True,
    }
    differences["perplexity"] = _perplexity_difference(
        tokenized_test, base_perplexity, fine_tuned_perplexity
    )
    return differences


def _metric_key(column_suffix: str) -> str:
    return {"ended_with_eos": "eos_rate", "loop": "loop_rate", "bleu": "sentence_bleu"}.get(
        column_suffix, column_suffix
    )


def _corpus_bleu(pairs: Sequence[tuple[str, str]]) -> float:
    references, answers = zip(*pairs, strict=True)
    return metrics.corpus_bleu(list(answers), list(references))


def _perplexity_difference(
    tokenized_test: pl.DataFrame, base: Mapping[str, Any], fine_tuned: Mapping[str, Any]
) -> dict[str, Any]:
    """Token-weighted answer perplexity per resample; wins are questions whose own answer
    perplexity went down."""
    records = {
        model: [
            (nll, tokens)
            for nll, tokens in zip(result["row_nll"], result["row_tokens"], strict=True)
        ]
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
    row = paired_bootstrap(base_rows, tuned_rows, groups, _pooled_perplexity)
    row.update(
        wins_ties_losses(
            [_pooled_perplexity([r]) for r in base_rows],
            [_pooled_perplexity([r]) for r in tuned_rows],
            higher_is_better=False,
        )
    )
    return {**row, "higher_is_better": False}


def _pooled_perplexity(records: Sequence[tuple[float, int]]) -> float:
    tokens = sum(count for _, count in records)
    return math.exp(sum(nll for nll, _ in records) / tokens) if tokens else math.nan


def _json_float(value: float) -> float | None:
    """NaN/inf are not valid JSON: store them as null."""
    return float(value) if math.isfinite(value) else None
