"""``kedro run --pipelines sweep`` on a tiny model: two configurations, their results table and
plot, and one nested MLflow run per configuration under the sweep's run."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tests.mlflow_support import (
    SMALL_DATA_ROWS,
    artifact_names,
    copy_project,
    metric_steps,
    run_tracked,
    save_tiny_model,
)

CONFIGURATIONS = [
    {"name": "full_lr_high", "lora.enabled": False, "trainer.learning_rate": 1.0e-3},
    {"name": "lora_r4", "lora.r": 4},
]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    project = copy_project(tmp / "project", experiment="test_sweep")
    # Which configurations exist comes from the configuration files (conf/local here).
    sweep_conf = {"sweep": {"configurations": CONFIGURATIONS, "grid": None}}
    (project / "conf" / "local" / "parameters_sweep.yml").write_text(yaml.safe_dump(sweep_conf))
    model_dir = save_tiny_model(tmp / "tiny_model")
    runtime_params = {
        "model": {"base": str(model_dir)},
        "data_engineering": {"max_rows": SMALL_DATA_ROWS},
        "sweep": {
            "training": {"trainer": {"max_steps": 2, "eval_steps": 1, "save_steps": 2}},
            "evaluation": {"num_questions": 2},
        },
        "generation": {"max_new_tokens": 4},
    }
    result = run_tracked(project, ["data_engineering", "sweep"], runtime_params)
    result["project"] = project
    return result


def test_sweep_results_has_one_row_per_configuration(swept):
    project, session_id = swept["project"], swept["session_id"]
    path = project / "data/08_reporting/sweep_results.csv" / session_id / "sweep_results.csv"
    results = pd.read_csv(path)
    assert results["configuration"].tolist() == ["full_lr_high", "lora_r4"]
    assert results["global_step"].tolist() == [2, 2]
    assert (results["final_eval_loss"] > 0).all() and (results["answer_perplexity"] > 1).all()
    assert results["base_answer_perplexity"].nunique() == 1, "one base evaluation, shared"
    assert results["answer_perplexity"].nunique() == 2
    assert results["trainable_parameters"][1] < results["trainable_parameters"][0]  # LoRA
    assert results["lora.r"].tolist()[1] == 4
    assert (project / "data/08_reporting/sweep_plot.png" / session_id / "sweep_plot.png").is_file()
    for name in ("full_lr_high", "lora_r4"):
        report = project / "data/08_reporting/sweep" / name / "evaluation_metrics.json"
        assert (report / session_id / "evaluation_metrics.json").is_file()
    assert not (project / "data/06_models/fine_tuned_model").exists(), "sweep models stay in memory"
    assert (project / "data/06_models/sweep_checkpoints").is_dir()
    assert not (project / "data/06_models/checkpoints").exists()


def test_each_configuration_is_a_nested_mlflow_run(swept):
    client, parent = swept["client"], swept["run"]
    assert parent.info.run_name == "data_engineering+sweep"
    assert artifact_names(client, parent.info.run_id) >= {
        "sweep_results.csv",
        "sweep_plot.png",
        "data_quality_report.json",
    }
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    by_name = {run.info.run_name: run for run in children}
    assert sorted(by_name) == ["full_lr_high", "lora_r4"]
    full, lora = by_name["full_lr_high"], by_name["lora_r4"]
    assert full.data.params["training.trainer.learning_rate"] == "0.001"
    assert full.data.params["training.lora.enabled"] == "False"
    assert lora.data.params["training.lora.enabled"] == "True"
    assert lora.data.params["training.lora.r"] == "4"
    assert lora.data.params["training.trainer.max_steps"] == "2"
    for run in (full, lora):
        assert run.info.status == "FINISHED"
        assert metric_steps(client, run.info.run_id, "loss") == [1, 2]
        assert metric_steps(client, run.info.run_id, "eval_loss") == [1, 2]
        assert run.data.metrics["fine_tuned.perplexity"] > 1
        assert run.data.metrics["base.perplexity"] == full.data.metrics["base.perplexity"]
        assert run.data.tags["dataset_version.train_qa"] == swept["session_id"]
        assert artifact_names(client, run.info.run_id) >= {
            "evaluation_metrics.json",
            "model_report.json",
            "loss_plot.png",
            "comparison_table.csv",
        }
    assert parent.data.tags["sweep.best_by_final_eval_loss"] in by_name
    # The sweep's own settings are the parent run's parameters.
    assert parent.data.params["sweep.training.trainer.max_steps"] == "2"
    assert "training.lora.r" in parent.data.params
