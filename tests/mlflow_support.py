"""Helpers of the tracking and sweep tests: Kedro runs on tiny models in a temporary project copy,
tracked in the test session's MLflow store (``MLFLOW_TRACKING_URI``, set in ``conftest.py``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import (
    PROJECT_ROOT,
    TINY_CHAT_TEMPLATE,
    build_tiny_model,
    build_tiny_tokenizer,
)

SAMPLE = Path("data") / "01_raw" / "medical_dialogues_sample.jsonl"
#: The hand-written safety and bias probe sets the evaluation asks every model.
PROBE_SETS = Path("data") / "01_raw" / "safety"
SMALL_DATA_ROWS = 40  # of the sample: ~36 training and ~4 test pairs


def copy_project(destination: Path, experiment: str) -> Path:
    """conf/base, pyproject.toml, the sample data and the probe sets; conf/local names the MLflow
    experiment."""
    shutil.copytree(PROJECT_ROOT / "conf" / "base", destination / "conf" / "base")
    (destination / "conf" / "local").mkdir()
    mlflow_yml = {"tracking": {"experiment": {"name": experiment}}}
    (destination / "conf" / "local" / "mlflow.yml").write_text(yaml.safe_dump(mlflow_yml))
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", destination / "pyproject.toml")
    (destination / SAMPLE).parent.mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / SAMPLE, destination / SAMPLE)
    shutil.copytree(PROJECT_ROOT / PROBE_SETS, destination / PROBE_SETS)
    (destination / "src").mkdir()  # bootstrap_project checks that the source folder exists
    return destination


def save_tiny_model(directory: Path) -> Path:
    """A ``save_pretrained`` directory of a tiny random Llama and its tokenizer (``model.base``),
    with a chat template: runs use the default prompt format (chat)."""
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    build_tiny_model(tokenizer).save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory


def tiny_run_params(model_dir: Path) -> dict[str, Any]:
    """Runtime parameters for a run of a few seconds on the tiny model."""
    return {
        "model": {"base": str(model_dir)},
        "data_engineering": {"max_rows": SMALL_DATA_ROWS},
        "training": {
            "trainer": {"max_steps": 4, "eval_steps": 2, "save_steps": 4, "logging_steps": 1},
        },
        "evaluation": {"num_questions": 2},
        "generation": {"max_new_tokens": 4},
    }


def kedro_run(project: Path, pipeline_names: list[str], runtime_params: dict[str, Any]) -> str:
    """``kedro run`` of ``pipeline_names`` in ``project`` with tracking on; returns the session id
    (whatever the run raises is raised)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path and PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        patch.setenv("LLM_FINETUNE_TRACKING", "on")
        patch.chdir(project)  # the sweep's configurations are read from the project's conf/
        bootstrap_project(project)
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            session_id = session.store["session_id"]
            session.run(pipeline_names=pipeline_names)
    return session_id


def run_tracked(
    project: Path, pipeline_names: list[str], runtime_params: dict[str, Any]
) -> dict[str, Any]:
    """``kedro run`` of ``pipeline_names`` in ``project`` with tracking on; returns the MLflow run
    (``mlflow.entities.Run``) of that session and the session id."""
    session_id = kedro_run(project, pipeline_names, runtime_params)
    client = tracking_client()
    runs = client.search_runs(
        [experiment_id(client, project)], filter_string=f"tags.run_id = '{session_id}'"
    )
    assert len(runs) == 1, [run.info.run_name for run in runs]
    return {"run": runs[0], "session_id": session_id, "client": client}


def tracking_client() -> Any:
    """An ``MlflowClient`` of the test session's store."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def experiment_id(client: Any, project: Path) -> str | None:
    """The id of the MLflow experiment of ``project`` (named in its conf/local), None if none."""
    experiment = yaml.safe_load((project / "conf" / "local" / "mlflow.yml").read_text())
    found = client.get_experiment_by_name(experiment["tracking"]["experiment"]["name"])
    return None if found is None else found.experiment_id


def write_local_catalog(project: Path, entries: dict[str, Any]) -> None:
    """Catalog entries in the project's conf/local/catalog.yml (over conf/base's)."""
    (project / "conf" / "local" / "catalog.yml").write_text(yaml.safe_dump(entries))


def artifact_names(client: Any, run_id: str) -> set[str]:
    return {artifact.path for artifact in client.list_artifacts(run_id)}


def metric_steps(client: Any, run_id: str, key: str) -> list[int]:
    return sorted(metric.step for metric in client.get_metric_history(run_id, key))
