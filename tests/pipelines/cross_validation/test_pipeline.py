"""``kedro run --pipelines data_engineering,cross_validation`` on a tiny model: two folds of each
setting in their own namespaces, the results, answers and report, and their MLflow records; and
the pipeline's wiring (the test split is never an input)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from llm_finetune.pipeline_registry import register_pipelines
from llm_finetune.pipelines import cross_validation
from llm_finetune.pipelines.cross_validation.nodes import reported_metrics
from tests.mlflow_support import (
    SMALL_DATA_ROWS,
    artifact_names,
    copy_project,
    run_tracked,
    save_tiny_model,
)

K = 2
REPORTING = "data/08_reporting/cross_validation"


@pytest.mark.parametrize("k", [2, 3, 5])
def test_the_test_split_is_never_an_input(k):
    pipe = cross_validation.create_pipeline(k=k)
    datasets = pipe.datasets()
    assert "test_qa" not in datasets and not any("test" in name for name in pipe.inputs())
    assert {"train_qa", "validation_qa", "base_model", "base_tokenizer"} <= pipe.inputs()
    namespaces = {node.namespace for node in pipe.nodes}
    expected = {
        f"cross_validation.{setting}.fold_{index}"
        for setting in ("baseline", "candidate")
        for index in range(k)
    }
    assert expected | {"cross_validation"} == namespaces
    assert len([n for n in pipe.nodes if n.name.endswith(".fine_tune")]) == 2 * k


def test_the_registered_pipeline_is_not_in_the_default_run():
    pipelines = register_pipelines()
    assert "cross_validation" in pipelines
    default_nodes = {node.name for node in pipelines["__default__"].nodes}
    assert not any(name.startswith("cross_validation.") for name in default_nodes)


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cross_validation")
    project = copy_project(tmp / "project", experiment="test_cross_validation")
    model_dir = save_tiny_model(tmp / "tiny_model")
    runtime_params = {
        "model": {"base": str(model_dir)},
        "data_engineering": {"max_rows": SMALL_DATA_ROWS},
        "cross_validation": {
            "k": K,
            "max_steps": 2,
            "max_questions": 2,
            "training": {"trainer": {"eval_steps": 2, "save_steps": 2}},
            "generation": {"max_new_tokens": 4},
            "candidate": {"training.trainer.learning_rate": 1.0e-2},
        },
    }
    result = run_tracked(project, ["data_engineering", "cross_validation"], runtime_params)
    result["project"] = project
    return result


def _saved(validated, name: str):
    project, session_id = validated["project"], validated["session_id"]
    return project / REPORTING / name / session_id / name


def test_every_fold_of_both_settings_is_trained_and_scored(validated):
    results = json.loads(_saved(validated, "cross_validation_results.json").read_text())
    folds = results["folds"]
    assert results["k"] == K and len(folds["folds"]) == K
    assert folds["splits_read"] == ["train_qa", "validation_qa"]
    assert sum(fold["rows"] for fold in folds["folds"]) == folds["pooled_rows"]
    assert all(fold["scored_questions"] == 2 for fold in folds["folds"])
    per_fold = results["per_fold"]
    assert [(row["setting"], row["fold"]) for row in per_fold] == [
        ("baseline", 0),
        ("baseline", 1),
        ("candidate", 0),
        ("candidate", 1),
    ]
    for row in per_fold:
        assert row["global_step"] == 2
        assert 0 <= row["token_f1"] <= 1 and 0 <= row["rouge_l"] <= 1
        assert row["perplexity"] > 1
    names = [metric["name"] for metric in results["metrics"]]
    assert names == [name for name, _ in reported_metrics()]
    assert names[:3] == ["token_f1", "rouge_l", "perplexity"] and "boilerplate_only_rate" in names
    for setting in ("baseline", "candidate"):
        token_f1 = results["per_setting"][setting]["token_f1"]
        values = [row["token_f1"] for row in per_fold if row["setting"] == setting]
        assert token_f1["per_fold"] == values
        assert token_f1["mean"] == pytest.approx(sum(values) / K)
    perplexity = results["paired"]["perplexity"]
    baseline = [row["perplexity"] for row in per_fold if row["setting"] == "baseline"]
    candidate = [row["perplexity"] for row in per_fold if row["setting"] == "candidate"]
    differences = [c - b for b, c in zip(baseline, candidate, strict=True)]
    assert perplexity["per_fold"] == pytest.approx(differences)
    votes = ("candidate_better", "baseline_better", "ties")
    assert sum(perplexity[vote] for vote in votes) == K
    assert perplexity["mean"] != 0, "the two learning rates train different models"
    assert results["settings"]["candidate"]["training"] == {"trainer.learning_rate": 0.01}


def test_the_answers_and_the_report_are_saved(validated):
    answers = pd.read_csv(_saved(validated, "cross_validation_answers.csv"), keep_default_na=False)
    results = json.loads(_saved(validated, "cross_validation_results.json").read_text())
    scored = sum(fold["scored_rows"] for fold in results["folds"]["folds"])
    assert len(answers) == 2 * scored
    assert {"setting", "fold", "question", "answer", "token_f1", "rouge_l", "errors"} <= set(
        answers.columns
    )
    report = _saved(validated, "cross_validation_report.md").read_text()
    assert "# Cross-validation: baseline vs candidate" in report
    assert "candidate minus baseline, fold by fold" in report
    assert "| token_f1 |" in report


def test_the_results_are_tracked_in_mlflow(validated):
    client, run = validated["client"], validated["run"]
    assert {
        "cross_validation_results.json",
        "cross_validation_answers.csv",
        "cross_validation_report.md",
    } <= artifact_names(client, run.info.run_id)
    metrics = run.data.metrics
    assert "cross_validation.baseline.token_f1.mean" in metrics
    assert "cross_validation.candidate.perplexity.mean" in metrics
    assert "cross_validation.difference.perplexity.mean" in metrics
    assert run.data.params["cross_validation.k"] == str(K)
    project = validated["project"]
    assert not (project / "data/06_models/fine_tuned_model").exists(), "fold models stay in memory"
