"""The evaluation metrics, each declared once: how it is computed, whether higher is better,
whether fine-tuned minus base gets a paired interval, and where it is shown under which name.

The comparison table, ``evaluation_metrics`` (hence MLflow, which records its numbers), the
differences with their intervals, the HTML page, the plot and the sweep results all read
:data:`METRICS`; adding a metric is adding one :class:`Metric` (:mod:`.declaration`) to it::

    Metric("length_ratio", Level.ANSWER,
           lambda answer: len(answer.text) / len(answer.reference),
           column="length_ratio", summary="length_ratio", difference="length_ratio",
           html=True, plot=RATES, sweep="length_ratio")

Output names are the names the reports have always had (``repetition_loop`` is ``loop`` in the
table, ``repetition_loop_rate`` in ``evaluation_metrics`` and ``loop_rate`` among the differences).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from llm_finetune.pipelines.evaluation import metrics
from llm_finetune.pipelines.evaluation.answers import Answer
from llm_finetune.pipelines.evaluation.declaration import RATES, Level, Metric
from llm_finetune.pipelines.evaluation.uncertainty import perplexity_difference


def _json_float(value: float) -> float | None:
    """NaN/inf are not valid JSON: store them as null."""
    return float(value) if math.isfinite(value) else None


def _corpus_bleu(answers: Sequence[Answer]) -> float:
    return metrics.corpus_bleu([a.text for a in answers], [a.reference for a in answers])


def _distinct_2(answers: Sequence[Answer]) -> float:
    return metrics.distinct_n([a.text for a in answers], n=2)


#: Every metric, in the order of the HTML summary, the sweep results, the differences (per-answer
#: ones, then answer-set ones, then test-split ones) and the plot.
METRICS: tuple[Metric, ...] = (
    Metric(
        "perplexity",
        Level.TEST_SPLIT,
        lambda result: _json_float(result["perplexity"]),
        higher_is_better=False,
        summary="perplexity",
        difference="perplexity",
        html=True,
        plot="Answer perplexity (lower)",
        sweep="answer_perplexity",
        compare=perplexity_difference,
        summary_position=10,
    ),
    Metric(
        "perplexity_tokens",
        Level.TEST_SPLIT,
        lambda result: int(result["tokens"]),
        summary="perplexity_tokens",
        summary_position=11,
    ),
    Metric(
        "token_f1",
        Level.ANSWER,
        lambda a: metrics.token_f1(a.text, a.reference),
        higher_is_better=True,
        column="token_f1",
        summary="token_f1",
        difference="token_f1",
        sweep="token_f1",
        html=True,
        plot=RATES,
        column_position=2,
        summary_position=2,
    ),
    Metric(
        "rouge_l",
        Level.ANSWER,
        lambda a: metrics.rouge_l(a.text, a.reference),
        higher_is_better=True,
        column="rouge_l",
        summary="rouge_l",
        difference="rouge_l",
        sweep="rouge_l",
        html=True,
        plot=RATES,
        column_position=4,
        summary_position=4,
    ),
    Metric(
        "sentence_bleu",
        Level.ANSWER,
        lambda a: metrics.sentence_bleu(a.text, a.reference),
        higher_is_better=True,
        column="bleu",
        difference="sentence_bleu",
        column_position=3,
    ),
    Metric(
        "corpus_bleu",
        Level.ANSWER_SET,
        _corpus_bleu,
        higher_is_better=True,
        summary="bleu",
        difference="corpus_bleu",
        html=True,
        plot="Corpus BLEU (0-100)",
        sweep="bleu",
        resamples=200,
        summary_position=3,
    ),
    Metric(
        "exact_match",
        Level.ANSWER,
        lambda a: metrics.exact_match(a.text, a.reference),
        higher_is_better=True,
        column="exact_match",
        summary="exact_match",
        difference="exact_match",
        sweep="exact_match",
        html=True,
        plot=RATES,
        column_position=1,
        summary_position=1,
    ),
    Metric(
        "ended_with_eos",
        Level.ANSWER,
        lambda a: a.ended_with_eos,
        higher_is_better=True,
        column="ended_with_eos",
        summary="eos_rate",
        difference="eos_rate",
        sweep="eos_rate",
        html=True,
        plot=RATES,
        column_position=5,
        summary_position=5,
    ),
    Metric(
        "repetition_loop",
        Level.ANSWER,
        lambda a: metrics.has_repetition_loop(a.text),
        higher_is_better=False,
        column="loop",
        summary="repetition_loop_rate",
        difference="loop_rate",
        html=True,
        plot=RATES,
        sweep="repetition_loop_rate",
        column_position=7,
        summary_position=6,
    ),
    Metric(
        "distinct_2",
        Level.ANSWER_SET,
        _distinct_2,
        higher_is_better=True,
        summary="distinct_2",
        html=True,
        plot=RATES,
        summary_position=7,
    ),
    Metric(
        "new_tokens",
        Level.ANSWER,
        lambda a: a.new_tokens,
        column="new_tokens",
        summary="mean_new_tokens",
        difference="new_tokens",
        html=True,
        sweep="mean_new_tokens",
        column_position=6,
        summary_position=9,
    ),
    Metric(
        "answers",
        Level.ANSWER_SET,
        lambda answers: float(len(answers)),
        summary="n",
        summary_position=8,
    ),
)


def get(name: str) -> Metric:
    """The metric called ``name``."""
    for metric in registered():
        if metric.name == name:
            return metric
    raise KeyError(f"no metric {name!r}; registered: {[m.name for m in METRICS]}")


def check(registered: Iterable[Metric]) -> None:
    """Fail unless every name, and every output name within one output, is used once (a column
    is not ``answer``: the table's ``<model>_answer`` holds the answer itself)."""
    registered = list(registered)
    for field in ("name", "column", "summary", "difference", "sweep"):
        names = [getattr(m, field) for m in registered if getattr(m, field) is not None]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"metric {field} names used twice in the registry: {repeated}")
    if any(m.column == "answer" for m in registered):
        raise ValueError("a metric's column is not 'answer': <model>_answer is the answer text")


def registered() -> tuple[Metric, ...]:
    """:data:`METRICS`, checked (every report reads the registry through here)."""
    check(METRICS)
    return METRICS


def table_metrics() -> list[Metric]:
    """The metrics with a comparison table column, in the table's column order."""
    return _placed([m for m in registered() if m.column], "column_position")


def summary_metrics() -> list[Metric]:
    """The metrics of ``evaluation_metrics[<model>]``, in its key order."""
    return _placed([m for m in registered() if m.summary], "summary_position")


def paired_metrics() -> list[Metric]:
    """The metrics with a paired difference: per-answer, then answer-set, then test-split ones."""
    levels = list(Level)
    paired = [m for m in registered() if m.difference]
    return sorted(paired, key=lambda m: levels.index(m.level))


def shown(where: str) -> list[Metric]:
    """The metrics shown ``where`` (``html``, ``plot`` or ``sweep``), in registry order."""
    if where not in ("html", "plot", "sweep"):
        raise ValueError(f"metrics are shown in 'html', 'plot' or 'sweep', not {where!r}")
    return [m for m in registered() if getattr(m, where)]


def _placed(selected: list[Metric], position: str) -> list[Metric]:
    """Positioned metrics by position, then the others in registry order (the sort is stable)."""
    return sorted(
        selected,
        key=lambda m: (getattr(m, position) is None, getattr(m, position) or 0),
    )


check(METRICS)
