"""Figure helpers shared by the training and evaluation plots.

Figures are built on an Agg canvas without pyplot: no display needed, no global backend switch,
and no figure kept alive by pyplot's registry. The catalog's ``matplotlib.MatplotlibDataset``
saves them. ``matplotlib`` is imported inside functions (every kedro command imports all nodes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def new_figure(figsize: tuple[float, float]) -> Any:
    """An empty Agg-backed figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def bar_height(value: Any) -> float:
    """Missing or non-finite values plot as 0-height bars instead of failing the plot."""
    if value is None:
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0


def logged_series(training_metrics: Mapping[str, Any], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one key in the Trainer's log history."""
    history = training_metrics.get("log_history") or []
    points = [(e["step"], e[key]) for e in history if key in e and "step" in e]
    return [step for step, _ in points], [value for _, value in points]


def draw_loss_curves(ax: Any, training_metrics: Mapping[str, Any]) -> None:
    """Training loss per logged step and evaluation loss on one axis."""
    train = logged_series(training_metrics, "loss")
    evaluation = logged_series(training_metrics, "eval_loss")
    if train[0]:
        ax.plot(*train, label="train loss", color="#1f77b4", linewidth=1)
    if evaluation[0]:
        ax.plot(*evaluation, "o-", label="eval loss", color="#d62728")
    if not train[0] and not evaluation[0]:
        ax.text(0.5, 0.5, "no loss logged", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend()
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (cross-entropy)")
    ax.set_title("Fine-tuning loss")
    ax.grid(alpha=0.3)


def draw_learning_rate(ax: Any, training_metrics: Mapping[str, Any]) -> None:
    """The learning-rate schedule per logged step."""
    ax.plot(*logged_series(training_metrics, "learning_rate"), color="#2ca02c")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("learning rate")
    ax.set_title("Learning rate")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    ax.grid(alpha=0.3)
