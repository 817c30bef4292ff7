"""The MLflow runs of one ``kedro run``, written with the MLflow client: the run kedro-mlflow
started, and one nested run per sweep configuration (``sweep.<configuration>.*`` datasets), which
also gets the catalog versions of the run's inputs when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llm_finetune.tracking.records import Metric

_METRICS_BATCH = 500  # MLflow accepts up to 1000 metrics and 100 params per log_batch call
_PARAMS_BATCH = 100


class Runs:
    """The pipeline's MLflow run (``run_id``) and the nested runs of the sweep's configurations."""

    def __init__(self, client: Any, run_id: str) -> None:
        self.client = client  # mlflow.MlflowClient
        self.run_id = run_id
        self._experiment_id = client.get_run(run_id).info.experiment_id
        self._children: dict[str, str] = {}  # sweep.<configuration> -> nested run id
        self._input_versions: dict[str, str] = {}  # dataset_version.<name> tags of run_id

    def run_for(self, dataset_name: str) -> str:
        """The nested run of a sweep configuration's dataset (opened on first use), else the
        pipeline's run."""
        from llm_finetune.pipelines.sweep.grid import namespace_of  # imports the pipelines

        namespace = namespace_of(dataset_name)
        if namespace is None:
            return self.run_id
        if namespace not in self._children:
            configuration = namespace.split(".", 1)[1]
            run = self.client.create_run(
                self._experiment_id,
                run_name=configuration,
                tags={
                    "mlflow.parentRunId": self.run_id,
                    "sweep.configuration": configuration,
                    "kedro.namespace": namespace,
                },
            )
            self._children[namespace] = run.info.run_id
        return self._children[namespace]

    def tag_version(self, dataset_name: str, version: str) -> None:
        """``dataset_version.<name>`` on the dataset's run (on the nested runs too, at the end,
        for a dataset of the pipeline's run)."""
        tag = f"dataset_version.{dataset_name}"
        run_id = self.run_for(dataset_name)
        self.client.set_tag(run_id, tag, version)
        if run_id == self.run_id:
            self._input_versions[tag] = version

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.client.set_tag(run_id, key, value)

    def log_metrics(self, run_id: str, metrics: list[Metric]) -> None:
        from mlflow.entities import Metric as MlflowMetric

        now = int(time.time() * 1000)
        entities = [MlflowMetric(key, value, now, step) for key, value, step in metrics]
        for chunk in _chunks(entities, _METRICS_BATCH):
            self.client.log_batch(run_id, metrics=chunk)

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        entities = [Param(key, value) for key, value in params.items()]
        for chunk in _chunks(entities, _PARAMS_BATCH):
            self.client.log_batch(run_id, params=chunk)

    def log_artifact(self, run_id: str, path: Path) -> None:
        self.client.log_artifact(run_id, str(path))

    def finish_children(self, status: str) -> None:
        """Ends the nested runs with ``status``, tagged with the pipeline run's input versions."""
        for run_id in self._children.values():
            for tag, version in self._input_versions.items():
                self.client.set_tag(run_id, tag, version)
            self.client.set_terminated(run_id, status)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
