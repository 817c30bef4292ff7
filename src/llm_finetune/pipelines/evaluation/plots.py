"""Matplotlib figures of the evaluation pipeline (helpers in ``llm_finetune.plotting``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llm_finetune.plotting import bar_height, draw_loss_curves, new_figure

# Scores in [0, 1]; BLEU (0-100) and perplexity get their own panels.
RATE_METRICS = (
    "exact_match",
    "token_f1",
    "rouge_l",
    "eos_rate",
    "repetition_loop_rate",
    "distinct_2",
)
#: Paired differences drawn with their 95% intervals: evaluation_metrics["differences"] keys.
DIFFERENCE_METRICS = ("token_f1", "rouge_l", "exact_match", "eos_rate", "loop_rate")
COLORS = {"base": "#8c8c8c", "fine_tuned": "#1f77b4"}
LABELS = {"base": "base", "fine_tuned": "fine-tuned"}


def plot_metrics(evaluation_metrics: Mapping[str, Any], training_metrics: Mapping[str, Any]) -> Any:
    """Grouped bars, base vs fine-tuned (the [0, 1] scores, BLEU, answer-token perplexity), the
    paired differences with their 95% intervals, and the fine-tuning loss curves."""
    fig = new_figure((22, 4.2))
    axes = fig.subplots(1, 5, gridspec_kw={"width_ratios": [len(RATE_METRICS), 1.3, 1.3, 3.2, 4]})
    panels = ((axes[0], RATE_METRICS), (axes[1], ("bleu",)), (axes[2], ("perplexity",)))
    width = 0.38
    for ax, names in panels:
        for offset, model in ((-width / 2, "base"), (width / 2, "fine_tuned")):
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
    axes[0].set_ylim(0, 1.12)
    axes[0].set_title("Answer scores (higher is better, except loops)")
    axes[1].set_title("Corpus BLEU (0-100)")
    axes[2].set_title("Answer perplexity (lower)")
    axes[0].legend(loc="upper left")
    draw_differences(axes[3], evaluation_metrics.get("differences") or {})
    draw_loss_curves(axes[4], training_metrics)
    fig.suptitle(f"Base vs fine-tuned on {evaluation_metrics.get('num_questions', '?')} questions")
    fig.tight_layout()
    return fig


def draw_differences(ax: Any, differences: Mapping[str, Any]) -> None:
    """Fine-tuned minus base per metric, with the paired bootstrap 95% interval as error bars
    (an interval crossing 0: the test set cannot tell the models apart on that metric)."""
    names = [name for name in DIFFERENCE_METRICS if name in differences]
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
