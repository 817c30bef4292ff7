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
COLORS = {"base": "#8c8c8c", "fine_tuned": "#1f77b4"}
LABELS = {"base": "base", "fine_tuned": "fine-tuned"}


def plot_metrics(evaluation_metrics: Mapping[str, Any], training_metrics: Mapping[str, Any]) -> Any:
    """Grouped bars, base vs fine-tuned (the [0, 1] scores, BLEU, answer-token perplexity), with
    the fine-tuning loss curves next to them."""
    fig = new_figure((18, 4.2))
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [len(RATE_METRICS), 1.3, 1.3, 4]})
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
    draw_loss_curves(axes[3], training_metrics)
    fig.suptitle(f"Base vs fine-tuned on {evaluation_metrics.get('num_questions', '?')} questions")
    fig.tight_layout()
    return fig
