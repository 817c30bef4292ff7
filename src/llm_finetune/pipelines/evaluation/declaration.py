"""How one evaluation metric is declared (:class:`Metric`); the declarations themselves are the
registry, :data:`llm_finetune.pipelines.evaluation.registry.METRICS`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from llm_finetune.pipelines.evaluation.uncertainty import BOOTSTRAP_RESAMPLES


class Level(Enum):
    """What a metric is computed from, which decides how it is aggregated and compared."""

    #: One value per answer (a table column); the model's value is ``aggregate`` of them; the
    #: paired difference resamples questions, with wins / ties / losses when it is judged.
    ANSWER = "answer"
    #: One value of a model's whole answer set (e.g. corpus BLEU), recomputed on every resample.
    ANSWER_SET = "answer_set"
    #: Of the model's answer-token perplexity result over the test split (``*_perplexity``).
    TEST_SPLIT = "test_split"


#: ``Metric.plot``: a bar in the shared panel of [0, 1] scores (any other text: an own panel
#: with that title).
RATES = "rates"


def mean(values: Sequence[float]) -> float:
    """The mean, summed in row order (as the reports always summed)."""
    return sum(values) / len(values)


@dataclass(frozen=True)
class Metric:
    """One evaluation metric.

    Attributes:
        name: The one internal name (unique).
        level: What ``value`` reads (:class:`Level`).
        value: ``ANSWER``: an :class:`Answer` -> number; ``ANSWER_SET``: a model's answers ->
            number; ``TEST_SPLIT``: the perplexity result -> number.
        higher_is_better: True / False; None: reported, not judged (no wins / ties / losses).
        aggregate: ``ANSWER`` only: the per-answer values -> the model's value.
        column: The comparison table's ``<model>_<column>`` (``ANSWER`` only); None: not there.
        summary: The ``evaluation_metrics[<model>]`` key; None: not there.
        difference: The ``evaluation_metrics["differences"]`` key of fine-tuned minus base with
            its paired bootstrap interval; None: no paired difference.
        html: A row of the HTML page's summary (by its ``summary`` name).
        plot: :data:`RATES`, the title of an own panel of the metrics plot, or None.
        sweep: The ``sweep_results`` column (fine-tuned; ``base_<sweep>`` the base model's).
        resamples: Bootstrap resamples of an ``ANSWER_SET`` difference (each recomputes it).
        compare: ``TEST_SPLIT`` with a difference: (tokenized_test, base result, fine-tuned
            result) -> the difference's fields.
        column_position, summary_position: Its place among the table's per-model columns / the
            ``evaluation_metrics[<model>]`` keys, as those files have had it (they are compared
            byte for byte between versions); None places it after them, in :data:`METRICS` order.
    """

    name: str
    level: Level
    value: Callable[[Any], Any]
    higher_is_better: bool | None = None
    aggregate: Callable[[Sequence[Any]], float] = mean
    column: str | None = None
    summary: str | None = None
    difference: str | None = None
    html: bool = False
    plot: str | None = None
    sweep: str | None = None
    resamples: int = BOOTSTRAP_RESAMPLES
    compare: Callable[[Any, Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None
    column_position: int | None = None
    summary_position: int | None = None

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise ValueError(f"metric {self.name!r}: {problem}")


def _problem(metric: Metric) -> str | None:
    """What is inconsistent in one declaration, or None."""
    if not metric.name.isidentifier():
        return "the name is a Python identifier"
    if metric.column is not None and metric.level is not Level.ANSWER:
        return "only a per-answer (Level.ANSWER) metric has a comparison table column"
    if metric.difference is not None and metric.level is Level.ANSWER and metric.column is None:
        return "a per-answer difference pairs the table's column: declare column"
    if metric.difference is not None and metric.level is Level.TEST_SPLIT and not metric.compare:
        return "a test-split difference needs compare"
    if (metric.html or metric.plot or metric.sweep) and metric.summary is None:
        return "the HTML, the plot and the sweep show evaluation_metrics: declare summary"
    return None
