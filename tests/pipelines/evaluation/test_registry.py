"""The metric registry: a metric declared once is in every report and in MLflow; a declaration
that cannot be shown as declared is refused."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from llm_finetune.pipelines.evaluation import registry
from llm_finetune.pipelines.evaluation.registry import RATES, Level, Metric
from llm_finetune.tracking.catalog import tracked_entries
from llm_finetune.tracking.records import metrics_of
from llm_finetune.tracking.runs import Runs
from tests.pipelines.evaluation.test_golden_outputs import BASE, REFERENCES, write_reports
from tests.test_tracking_records import _project_catalog

#: The one declaration the test adds: answer length over reference length, in characters.
LENGTH_RATIO = Metric(
    "length_ratio",
    Level.ANSWER,
    lambda answer: len(answer.text) / len(answer.reference),
    column="length_ratio",
    summary="length_ratio",
    difference="length_ratio",
    html=True,
    plot=RATES,
    sweep="length_ratio",
)


@pytest.fixture
def length_ratio(monkeypatch):
    """The registry with :data:`LENGTH_RATIO` added (removed again after the test)."""
    monkeypatch.setattr(registry, "METRICS", (*registry.METRICS, LENGTH_RATIO))


def test_a_metric_declared_once_is_in_every_report(length_ratio, tmp_path):
    write_reports(tmp_path)
    texts = [text for text, _, _ in BASE]
    ratios = [len(text) / len(ref) for text, ref in zip(texts, REFERENCES, strict=True)]
    table = pd.read_csv(tmp_path / "comparison_table.csv", keep_default_na=False)
    # The metric columns, then each model's error categories.
    assert list(table.columns[-4:]) == [
        "fine_tuned_loop",
        "fine_tuned_length_ratio",
        "base_errors",
        "fine_tuned_errors",
    ]
    assert table["base_length_ratio"].tolist() == pytest.approx(ratios)
    metrics = json.loads((tmp_path / "evaluation_metrics.json").read_text())
    assert list(metrics["base"])[-1] == "length_ratio"
    assert metrics["base"]["length_ratio"] == pytest.approx(sum(ratios) / len(ratios))
    difference = metrics["differences"]["length_ratio"]
    assert difference["ci_low"] <= difference["difference"] <= difference["ci_high"]
    assert difference["higher_is_better"] is None and "wins" not in difference  # not judged
    page = (tmp_path / "comparison_table.html").read_text()
    assert f'<tr><th>length_ratio</th><td class="num">{sum(ratios) / len(ratios):.3f}' in page
    sweep = pd.read_csv(tmp_path / "sweep_results.csv")
    assert sweep["base_length_ratio"].tolist() == pytest.approx([sum(ratios) / len(ratios)])


def test_a_metric_declared_once_is_recorded_in_mlflow(length_ratio, tmp_path):
    """What a tracked run records of ``evaluation_metrics`` (its real catalog entry's tracking
    metadata, the project's MLflow writer) into a SQLite store."""
    from mlflow import MlflowClient

    write_reports(tmp_path)
    metrics = json.loads((tmp_path / "evaluation_metrics.json").read_text())
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = client.create_run(client.create_experiment("registry")).info.run_id
    entry = tracked_entries(_project_catalog(), ["evaluation_metrics"])["evaluation_metrics"]
    Runs(client, run_id).log_metrics(run_id, metrics_of(metrics, entry.tracking))
    logged = client.get_run(run_id).data.metrics
    for model in ("base", "fine_tuned"):
        assert logged[f"{model}.length_ratio"] == pytest.approx(metrics[model]["length_ratio"])
    difference = metrics["differences"]["length_ratio"]["difference"]
    assert logged["differences.length_ratio.difference"] == pytest.approx(difference)


def test_the_metric_plot_draws_a_declared_rate_and_its_difference(length_ratio, tmp_path):
    from llm_finetune.pipelines.evaluation import plots

    write_reports(tmp_path)
    metrics = json.loads((tmp_path / "evaluation_metrics.json").read_text())
    figure = plots.plot_metrics(metrics, {"log_history": []})
    assert figure.axes[0].get_xticklabels()[-1].get_text() == "length_ratio"
    assert figure.axes[-2].get_xticklabels()[-1].get_text() == "length_ratio"


def test_without_the_declaration_no_report_has_it(tmp_path):
    write_reports(tmp_path)
    for name in ("comparison_table.csv", "evaluation_metrics.json", "comparison_table.html"):
        assert "length_ratio" not in (tmp_path / name).read_text(), name


def test_one_internal_name_per_metric_with_the_output_names_of_today():
    loop = registry.get("repetition_loop")
    assert (loop.column, loop.summary, loop.difference) == (
        "loop",
        "repetition_loop_rate",
        "loop_rate",
    )
    sentence, corpus = registry.get("sentence_bleu"), registry.get("corpus_bleu")
    assert (sentence.level, sentence.column, sentence.summary) == (Level.ANSWER, "bleu", None)
    assert (corpus.level, corpus.column, corpus.summary) == (Level.ANSWER_SET, None, "bleu")
    assert [m.difference for m in registry.paired_metrics()][-2:] == ["corpus_bleu", "perplexity"]
    with pytest.raises(KeyError, match="no metric 'bleu'"):
        registry.get("bleu")


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ({"name": "two words"}, "identifier"),
        ({"level": Level.ANSWER_SET, "column": "x"}, "only a per-answer"),
        ({"column": None, "difference": "x"}, "declare column"),
        ({"level": Level.TEST_SPLIT, "column": None, "difference": "x"}, "needs compare"),
        ({"html": True}, "declare summary"),
    ],
)
def test_an_inconsistent_declaration_is_refused(declaration, message):
    fields = {"name": "ratio", "level": Level.ANSWER, "value": len, "column": "ratio"}
    with pytest.raises(ValueError, match=message):
        Metric(**(fields | declaration))


def test_an_output_name_used_twice_is_refused(monkeypatch):
    twin = Metric("loop_again", Level.ANSWER, len, column="loop")
    monkeypatch.setattr(registry, "METRICS", (*registry.METRICS, twin))
    with pytest.raises(ValueError, match=r"column names used twice in the registry: \['loop'\]"):
        registry.table_metrics()
    with pytest.raises(ValueError, match="not 'answer'"):
        registry.check([Metric("answer_text", Level.ANSWER, len, column="answer")])
