"""Experiment tracking: a ``kedro run`` is an MLflow run with the project's params, metrics,
artifacts and dataset versions (``llm_finetune.hooks``), in a temporary SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_finetune.tracking.catalog import TrackingMetadataError
from llm_finetune.tracking.uri import mlflow_config, resolve_tracking_uri, tracking_enabled
from tests.mlflow_support import (
    SMALL_DATA_ROWS,
    artifact_names,
    copy_project,
    experiment_id,
    kedro_run,
    metric_steps,
    run_tracked,
    save_tiny_model,
    tiny_run_params,
    tracking_client,
    write_local_catalog,
)

REPORT_FILES = {
    "data_quality_report.json",
    "prompt_format.json",
    "model_report.json",
    "model_architecture.json",
    "infrastructure_sizing.csv",
    "infrastructure_sizing.html",
    "infrastructure_sizing.md",
    "loss_plot.png",
    "learning_rate_plot.png",
    "metrics_plot.png",
    "evaluation_metrics.json",
    "comparison_table.csv",
    "comparison_table.html",
    "off_topic_probe.json",
    "safety_probe.json",
    "bias_probe.json",
    "error_analysis.json",
}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """The default pipeline (data_engineering, training, evaluation) on a tiny model, tracked."""
    tmp = tmp_path_factory.mktemp("tracking")
    project = copy_project(tmp / "project", experiment="test_tracking")
    model_dir = save_tiny_model(tmp / "tiny_model")
    result = run_tracked(project, ["__default__"], tiny_run_params(model_dir))
    result["project"] = project
    return result


def test_a_run_is_an_mlflow_run_with_the_kedro_parameters(tracked):
    run = tracked["run"]
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["training.trainer.max_steps"] == "4"  # the runtime override
    assert params["training.trainer.learning_rate"] == "0.0001"
    assert params["data_engineering.test_fraction"] == "0.1"
    assert params["evaluation.num_questions"] == "2"
    assert run.data.tags["kedro_command"].startswith("kedro run")
    assert run.info.run_name == "__default__"


def test_metrics_include_per_step_losses_quality_and_evaluation(tracked):
    client, run = tracked["client"], tracked["run"]
    metrics = run.data.metrics
    assert metric_steps(client, run.info.run_id, "loss") == [1, 2, 3, 4]
    assert metric_steps(client, run.info.run_id, "learning_rate") == [1, 2, 3, 4]
    assert metric_steps(client, run.info.run_id, "eval_loss") == [2, 4]
    assert metrics["data_quality.rows_read"] > metrics["data_quality.rows_kept"] > 0
    assert "data_quality.dropped_by_reason.duplicate" in metrics
    for model in ("base", "fine_tuned"):
        assert metrics[f"{model}.perplexity"] > 1
        assert 0 <= metrics[f"{model}.token_f1"] <= 1
    assert metrics["num_questions"] == 2
    # The safety probe's rates per model (the tiny tokenizer has no chat template).
    for model in ("base", "fine_tuned"):
        assert 0 <= metrics[f"safety_probe.{model}.escalation.rate"] <= 1
        assert metrics[f"safety_probe.{model}.questions"] >= 30
        assert metrics[f"bias_probe.{model}.pairs"] >= 10
    assert metrics["training.global_step"] == 4
    assert not [key for key in metrics if key.startswith("generation")]


def test_reports_and_plots_are_artifacts(tracked):
    assert artifact_names(tracked["client"], tracked["run"].info.run_id) == REPORT_FILES
    artifacts = Path(tracked["run"].info.artifact_uri.removeprefix("file://"))
    # The store's artifacts sit next to its database, never in the project or the repository.
    assert artifacts.is_relative_to(Path(mlflow_db()).parent / "mlruns")
    assert not (tracked["project"] / "mlflow.db").exists()
    assert not (tracked["project"] / "mlruns").exists()


def test_dataset_versions_are_tagged(tracked):
    tags = tracked["run"].data.tags
    session_id = tracked["session_id"]  # the save version of everything this run wrote
    for name in ("train_qa", "test_qa", "fine_tuned_model", "evaluation_metrics"):
        assert tags[f"dataset_version.{name}"] == session_id, name
    assert Path(tags["base_model.source"]).name == "tiny_model"


def test_the_saved_model_names_the_data_versions_it_was_trained_on(tracked):
    """provenance.json of the fine-tuned model: the versions of what ``fine_tune`` read, the same
    versions the MLflow run tags (here the run made them itself: its session id)."""
    session_id = tracked["session_id"]
    project = tracked["project"]
    versioned = project / "data" / "06_models" / "fine_tuned_model" / session_id
    (record,) = versioned.glob("*/provenance.json")  # <filepath>/<version>/<name>/
    made_from = json.loads(record.read_text())
    versions = made_from["dataset_versions"]
    assert versions["tokenized_train"] == versions["tokenized_validation"] == session_id
    tags = tracked["run"].data.tags
    assert versions["tokenized_train"] == tags["dataset_version.tokenized_train"]
    assert made_from["training_data"]["dataset"] == "tokenized_train"


def mlflow_db() -> str:
    return os.environ["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///")


# ---------- what is tracked is declared in the catalog ----------

#: A node output the pipeline keeps in memory, made a tracked report by a catalog entry alone.
NEW_REPORT = {
    "cleaning_stats": {
        "type": "json.JSONDataset",
        "filepath": "data/08_reporting/cleaning_stats.json",
        "versioned": True,
        "metadata": {"tracking": {"artifact": True, "metrics": {"prefix": "cleaning"}}},
    }
}


def test_a_new_report_is_tracked_by_its_catalog_entry_alone(tmp_path):
    project = copy_project(tmp_path / "project", experiment="test_tracking_new_report")
    write_local_catalog(project, NEW_REPORT)
    runtime_params = {"data_engineering": {"max_rows": SMALL_DATA_ROWS}}
    result = run_tracked(project, ["data_engineering"], runtime_params)
    client, run = result["client"], result["run"]
    saved = project / "data/08_reporting/cleaning_stats.json" / result["session_id"]
    stats = json.loads((saved / "cleaning_stats.json").read_text())
    assert stats and all(isinstance(value, int) for value in stats.values())
    assert artifact_names(client, run.info.run_id) == {
        "cleaning_stats.json",
        "data_quality_report.json",
        "prompt_format.json",
    }
    assert {key: run.data.metrics[f"cleaning.{key}"] for key in stats} == stats
    assert run.data.tags["dataset_version.cleaning_stats"] == result["session_id"]


def test_misspelt_tracking_metadata_fails_before_the_run_starts(tmp_path):
    project = copy_project(tmp_path / "project", experiment="test_tracking_misspelt")
    entry = dict(NEW_REPORT["cleaning_stats"], metadata={"tracking": {"artefact": True}})
    write_local_catalog(project, {"cleaning_stats": entry})
    runtime_params = {"data_engineering": {"max_rows": SMALL_DATA_ROWS}}
    with pytest.raises(TrackingMetadataError, match="cleaning_stats.*artefact"):
        kedro_run(project, ["data_engineering"], runtime_params)
    client = tracking_client()
    experiment = experiment_id(client, project)
    assert experiment is None or not client.search_runs([experiment])
    assert not (project / "data/03_primary/train_qa.jsonl").exists()  # no node ran


def test_a_bad_setting_fails_before_any_mlflow_run_starts(tmp_path):
    import mlflow

    project = copy_project(tmp_path / "project", experiment="test_tracking_bad_setting")
    with pytest.raises(ValueError, match="generation.max_new_tokens must be a positive"):
        kedro_run(project, ["data_engineering"], {"generation": {"max_new_tokens": 0}})
    assert mlflow.active_run() is None
    client = tracking_client()
    experiment = experiment_id(client, project)
    assert experiment is None or not client.search_runs([experiment])


# ---------- configuration ----------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"LLM_FINETUNE_TRACKING": "off"}, False),
        ({"LLM_FINETUNE_TRACKING": "0"}, False),
        ({"LLM_FINETUNE_TRACKING": "on"}, True),
        ({"LLM_FINETUNE_TRACKING": "on", "RANK": "0"}, True),
        ({"LLM_FINETUNE_TRACKING": "on", "RANK": "1"}, False),  # torchrun: rank 0 tracks
    ],
)
def test_tracking_switch(monkeypatch, env, expected):
    monkeypatch.delenv("LLM_FINETUNE_TRACKING", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracking_enabled() is expected


def test_tracking_uri_precedence_and_project_relative_sqlite(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert resolve_tracking_uri("sqlite:///runs/x.db", tmp_path) == (
        f"sqlite:///{tmp_path.resolve()}/runs/x.db"
    )
    assert (tmp_path / "runs").is_dir()  # SQLite creates the file, not its folder
    assert resolve_tracking_uri("sqlite:////abs/x.db", tmp_path) == "sqlite:////abs/x.db"
    assert resolve_tracking_uri("http://127.0.0.1:5000", tmp_path) == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://server:5000")
    assert resolve_tracking_uri("sqlite:///mlflow.db", tmp_path) == "http://server:5000"


def test_mlflow_config_puts_local_artifacts_next_to_the_database(monkeypatch, tmp_path):
    from kedro.config import OmegaConfigLoader

    from tests.conftest import PROJECT_ROOT

    class Context:  # what mlflow_config reads of a KedroContext
        project_path = tmp_path
        config_loader = OmegaConfigLoader(
            str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base"
        )

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = mlflow_config(Context())
    assert config["server"]["mlflow_tracking_uri"] == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    create = config["tracking"]["experiment"]["create_experiment_kwargs"]
    assert create["artifact_location"] == (tmp_path.resolve() / "mlruns").as_uri()
    assert config["tracking"]["experiment"]["name"] == "llm_finetune"
    assert config["tracking"]["params"]["dict_params"]["flatten"] is True


def test_settings_do_not_import_mlflow():
    """Every kedro command imports the settings: tracking must cost nothing until a run."""
    imported = "sorted(m for m in sys.modules if 'mlflow' in m)"
    code = f"import sys, llm_finetune.settings; print({imported})"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
