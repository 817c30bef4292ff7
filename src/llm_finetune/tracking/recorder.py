"""What one tracked ``kedro run`` records, dataset by dataset: the parameters each node reads, the
catalog version of every versioned dataset loaded or saved, what the catalog's tracking metadata
asks of each saved output, and the sweep's own records.

Tags:

- ``dataset_version.<name>``: the catalog version of a versioned dataset (``train_qa``,
  ``fine_tuned_model``, ...): the versions the run pinned for its inputs when it started
  (:mod:`llm_finetune.run_versions`), then each version loaded or saved, read with the public
  ``AbstractVersionedDataset.resolve_load_version`` / ``resolve_save_version``;
- ``base_model.source``: the ``source`` of ``base_model``'s catalog entry (hub id, model directory
  or GGUF file).
"""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractVersionedDataset

from llm_finetune.tracking.catalog import BASE_MODEL, TrackedEntry, configured_setting
from llm_finetune.tracking.params import NodeParameters
from llm_finetune.tracking.records import metrics_of, saved_file
from llm_finetune.tracking.runs import Runs
from llm_finetune.tracking.sweep import record_sweep_output


class RunRecorder:
    """Records one tracked run: into ``runs``, for the datasets of ``catalog``; ``tracked`` are
    the run's datasets whose catalog entry has tracking metadata
    (:func:`llm_finetune.tracking.catalog.tracked_entries`)."""

    def __init__(
        self,
        runs: Runs,
        catalog: Any,
        tracked: dict[str, TrackedEntry],
        parameters: NodeParameters,
    ) -> None:
        self.runs = runs
        self._catalog = catalog
        self._tracked = tracked
        self._parameters = parameters

    def node_parameters(self, inputs: dict[str, Any]) -> None:
        """The parameters among a node's inputs, on the pipeline's run (each once)."""
        new = self._parameters.new(inputs)
        for key, text in new.tags.items():
            self.runs.set_tag(self.runs.run_id, key, text)
        self.runs.log_params(self.runs.run_id, new.params)

    def input_versions(self, versions: dict[str, str]) -> None:
        """The versions pinned for the run's inputs when it started (dataset name -> version)."""
        for dataset_name, version in versions.items():
            self.runs.tag_version(dataset_name, version)

    def dataset_version(self, dataset_name: str, saved: bool) -> None:
        """The version of a dataset just loaded or saved (and the base model's source)."""
        dataset = self._catalog.get(dataset_name)
        if dataset is None:
            return
        if dataset_name == BASE_MODEL:
            source = configured_setting(self._catalog, BASE_MODEL, "source")
            if source:
                self.runs.set_tag(self.runs.run_id, "base_model.source", str(source).strip())
        if not isinstance(dataset, AbstractVersionedDataset):
            return
        version = dataset.resolve_save_version() if saved else dataset.resolve_load_version()
        if version:  # None for an entry without versioned: true
            self.runs.tag_version(dataset_name, version)

    def dataset_output(self, dataset_name: str, data: Any) -> None:
        """What the catalog entry's tracking metadata asks of a saved dataset, and the sweep's
        records; a sweep configuration's dataset goes to its nested run (opened here)."""
        run_id = self.runs.run_for(dataset_name)
        entry = self._tracked.get(dataset_name)
        if entry is not None:
            self.runs.log_metrics(run_id, metrics_of(data, entry.tracking))
            if entry.tracking.artifact:
                path = saved_file(self._catalog.get(dataset_name), entry.filepath)
                if path is not None:
                    self.runs.log_artifact(run_id, path)
        record_sweep_output(self.runs, dataset_name, data)

    def finish(self, status: str) -> None:
        """Ends the nested runs (the pipeline's run is kedro-mlflow's to end)."""
        self.runs.finish_children(status)
