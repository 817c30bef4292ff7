"""Matplotlib figures of the evaluation pipeline (helpers in ``llm_finetune.plotting``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llm_finetune.pipelines.evaluation import registry
from llm_finetune.pipelines.evaluation.registry import RATES
from llm_finetune.plotting import bar_height, draw_loss_curves, new_figure

COLORS = {"base": "#8c8c8c", "base_chat": "#d9a441", "fine_tuned": "#1f77b4"}
LABELS = {"base": "base", "base_chat": "base (chat format)", "fine_tuned": "fine-tuned"}


def plot_metrics(evaluation_metrics: Mapping[str, Any], training_metrics: Mapping[str, Any]) -> Any:
    """Grouped bars, base vs fine-tuned (the registry's [0, 1] scores in one panel, each other
    plotted metric, e.g. BLEU and perplexity, in its own), the paired differences of the [0, 1]
    scores with their 95% intervals, and the fine-tuning loss curves."""
    rates = [m for m in registry.shown("plot") if m.plot == RATES]
    own = [m for m in registry.shown("plot") if m.plot != RATES]
    fig = new_figure((22, 4.2))
    ratios = [len(rates), *(1.3 for _ in own), 3.2, 4]
    axes = fig.subplots(1, len(ratios), gridspec_kw={"width_ratios": ratios})
    draw_bars(axes[0], evaluation_metrics, [m.summary for m in rates])
    axes[0].set_ylim(0, 1.12)
    lower = ", ".join(str(m.summary) for m in rates if m.higher_is_better is False)
    axes[0].set_title(f"Answer scores (higher is better{', except ' + lower if lower else ''})")
    axes[0].legend(loc="upper left")
    for ax, metric in zip(axes[1 : 1 + len(own)], own, strict=True):
        draw_bars(ax, evaluation_metrics, [metric.summary])
        ax.set_title(str(metric.plot))
    names = [m.difference for m in rates if m.difference]
    draw_differences(axes[-2], evaluation_metrics.get("differences") or {}, names)
    draw_loss_curves(axes[-1], training_metrics)
    fig.suptitle(
        f"Base vs fine-tuned on {evaluation_metrics.get('num_questions', '?')} questions "
        "(differences: against the base model in the run's prompt format)"
    )
    fig.tight_layout()
    return fig


def draw_bars(ax: Any, evaluation_metrics: Mapping[str, Any], names: list[Any]) -> None:
    """Every model's values of the ``evaluation_metrics`` keys ``names``, side by side."""
    models = [model for model in LABELS if model in evaluation_metrics]
    width = 0.76 / len(models)
    for index, model in enumerate(models):
        offset = (index - (len(models) - 1) / 2) * width
        values = [bar_height(evaluation_metrics[model].get(name)) for name in names]
        bars = ax.bar(
            [i + offset for i in range(len(names))],
            values,
            width,
            label=LABELS[model],
            color=COLORS[model],
        )
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=20 if len(names) > 1 else 0)
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.15)


def draw_differences(ax: Any, differences: Mapping[str, Any], keys: list[Any]) -> None:
    """Fine-tuned minus base per ``differences`` key of ``keys``, with the paired bootstrap 95%
    interval as error bars (an interval crossing 0: the test set cannot tell the models apart on
    that metric)."""
    names = [name for name in keys if name in differences]
    values = [bar_height(differences[name].get("difference")) for name in names]
    lows = [bar_height(differences[name].get("ci_low")) for name in names]
    highs = [bar_height(differences[name].get("ci_high")) for name in names]
    errors = [
        [max(value - low, 0.0) for value, low in zip(values, lows, strict=True)],
        [max(high - value, 0.0) for value, high in zip(values, highs, strict=True)],
    ]
    ax.bar(range(len(names)), values, 0.6, color=COLORS["fine_tuned"], yerr=errors, capsize=4)
    ax.axhline(0, color="#444", linewidth=0.8)
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Fine-tuned minus base (95% interval)")
