"""Nodes of the sweep: per-configuration settings, one summary row per configuration, the table and
the plot. ``pandas`` is the only heavy import; matplotlib is imported inside the plot function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from llm_finetune.config import TrainingSettings
from llm_finetune.pipelines.evaluation import registry
from llm_finetune.pipelines.sweep.grid import (
    OPEN_SECTIONS,
    Configuration,
    apply_overrides,
    expand,
    flatten,
    training_for,
)
from llm_finetune.plotting import bar_height, new_figure

SUMMARY_FIELDS = ("train_loss", "global_step", "wall_time_s", "tokens_per_second")


def expand_sweep(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """Every configuration of the run's ``sweep`` parameters, in sweep order, as
    ``{"name", "overrides"}``: one output dataset per configuration namespace.

    The pipeline was built from the same parameters (``llm_finetune.run_parameters``), so the
    outputs line up with the namespaces; an invalid sweep fails here, in the sweep's run only.
    """
    return [
        {"name": configuration.name, "overrides": dict(configuration.overrides)}
        for configuration in expand(sweep)
    ]


def configure_training(
    training: dict[str, Any], sweep: dict[str, Any], configuration: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``training`` with ``sweep.training`` and the configuration's overrides applied.

    Returns the configuration's ``training`` block and that block's ``tokenization`` section (the
    training pipeline takes both).
    """
    settings = training_for(
        Configuration(configuration["name"], dict(configuration["overrides"])),
        training,
        sweep.get("training") or {},
    )
    # Types and values as a normal run checks them, naming this configuration's key.
    TrainingSettings.from_params(settings, where=f"sweep.{configuration['name']}.training")
    return settings, settings["tokenization"]


def configure_evaluation(
    evaluation: dict[str, Any], sweep_evaluation: dict[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """``evaluation`` with the ``sweep.evaluation`` overrides, shared by every configuration.

    Returns the settings and, separately, the entry the evaluation pipeline takes on its own:
    ``off_topic_prompts``.
    """
    settings = apply_overrides(
        evaluation, flatten(sweep_evaluation or {}), where="sweep.evaluation"
    )
    return settings, list(settings["off_topic_prompts"] or [])


def configure_tokenization(
    training: dict[str, Any], sweep_training: dict[str, Any] | None
) -> dict[str, Any]:
    """The tokenization of the shared validation split (both models' perplexity is measured on it):
    ``training.tokenization`` with the ``sweep.training`` overrides, without any configuration's."""
    settings = apply_overrides(
        training, flatten(sweep_training or {}), where="sweep.training", open_sections=OPEN_SECTIONS
    )
    return settings["tokenization"]


def summarize_configuration(
    configuration: Mapping[str, Any],
    training_metrics: Mapping[str, Any],
    evaluation_metrics: Mapping[str, Any],
) -> dict[str, Any]:
    """One configuration's row of ``sweep_results`` (plus its eval-loss curve for the plot)."""
    history = training_metrics.get("log_history") or []
    curve = [(e["step"], e["eval_loss"]) for e in history if "eval_loss" in e and "step" in e]
    summary = training_metrics.get("summary") or {}
    row: dict[str, Any] = {"configuration": configuration["name"]}
    row.update(configuration.get("overrides") or {})
    row["final_eval_loss"] = curve[-1][1] if curve else None
    row["best_eval_loss"] = min(loss for _, loss in curve) if curve else None
    row["best_eval_step"] = min(curve, key=lambda point: point[1])[0] if curve else None
    for name in SUMMARY_FIELDS:
        row[name] = summary.get(name)
    row["trainable_parameters"] = summary.get("trainable_parameters")
    for metric in registry.shown("sweep"):  # the fine-tuned model's, then the base model's
        row[metric.sweep] = evaluation_metrics["fine_tuned"].get(metric.summary)
        row[f"base_{metric.sweep}"] = evaluation_metrics["base"].get(metric.summary)
    row["num_questions"] = evaluation_metrics.get("num_questions")
    row["eval_loss_curve"] = {
        "steps": [step for step, _ in curve],
        "eval_loss": [loss for _, loss in curve],
    }
    return row


def build_sweep_results(*summaries: Mapping[str, Any]) -> pd.DataFrame:
    """``sweep_results``: one row per configuration, in sweep order (overrides, losses, scores)."""
    rows = [{k: v for k, v in s.items() if k != "eval_loss_curve"} for s in summaries]
    return pd.DataFrame(rows)


def plot_sweep(*summaries: Mapping[str, Any]) -> Any:
    """Eval loss per step for every configuration, and each one's held-out answer perplexity
    (the base model's as a dashed line)."""
    figure = new_figure((13, 4.5))
    curves, bars = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    names = [summary["configuration"] for summary in summaries]
    for summary in summaries:
        curve = summary["eval_loss_curve"]
        if curve["steps"]:
            curves.plot(curve["steps"], curve["eval_loss"], "o-", label=summary["configuration"])
    curves.set_xlabel("optimizer step")
    curves.set_ylabel("eval loss (cross-entropy)")
    curves.set_title("Eval loss per configuration")
    curves.grid(alpha=0.3)
    if any(summary["eval_loss_curve"]["steps"] for summary in summaries):
        curves.legend(fontsize=8)
    perplexities = [bar_height(summary.get("answer_perplexity")) for summary in summaries]
    drawn = bars.bar(range(len(names)), perplexities, color="#1f77b4")
    bars.bar_label(drawn, fmt="%.2f", fontsize=8, padding=2)
    base = [bar_height(s.get("base_answer_perplexity")) for s in summaries]
    if base and base[0]:
        bars.axhline(base[0], color="#8c8c8c", linestyle="--", label=f"base {base[0]:.2f}")
        bars.legend(fontsize=8)
    bars.set_xticks(range(len(names)), names, rotation=25, ha="right", fontsize=8)
    bars.set_ylabel("answer perplexity (lower is better)")
    bars.set_title("Held-out answer perplexity")
    bars.grid(axis="y", alpha=0.3)
    figure.suptitle(f"Hyperparameter sweep: {len(names)} configurations")
    figure.tight_layout()
    return figure
