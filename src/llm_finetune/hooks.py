"""Kedro hooks that make every ``kedro run`` an MLflow run, wired to the run's events.

:class:`ExperimentTracking` drives kedro-mlflow's ``MlflowHook`` through its public hook methods
(the run, the run's tags; configured by ``conf/<env>/mlflow.yml``) and hands the run's events to
:class:`~llm_finetune.tracking.recorder.RunRecorder`, which writes the project's records with the
MLflow client on the run kedro-mlflow started:

- parameters: those every node reads, with kedro-mlflow's settings
  (:mod:`llm_finetune.tracking.params`);
- metrics, per-step histories and artifacts: as each catalog entry's ``metadata: {tracking: ...}``
  says (vocabulary: conf/base/catalog.yml, :mod:`llm_finetune.tracking.catalog`), so a new report
  is tracked by a catalog change alone;
- tags ``dataset_version.<name>`` (every versioned dataset loaded or saved, and, when the run
  starts, the versions pinned for its inputs: :mod:`llm_finetune.run_versions`) and
  ``base_model.source``;
- one nested run per sweep configuration (``sweep.<configuration>.*`` datasets), with that
  configuration's ``training.*`` parameters, metrics and artifacts
  (:mod:`llm_finetune.tracking.runs`, :mod:`llm_finetune.tracking.sweep`).

Tracking store and switch: :mod:`llm_finetune.tracking.uri`. Tracking problems are logged as
warnings, never allowed to stop a (possibly long) run; bad tracking metadata in the catalog fails
the run before it starts. Cheap when off: nothing of MLflow is imported before a pipeline runs with
tracking on (``LLM_FINETUNE_TRACKING=off`` switches it off; under ``torchrun`` only rank 0 tracks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from llm_finetune.run_versions import pinned_inputs
from llm_finetune.tracking.catalog import tracked_entries
from llm_finetune.tracking.params import NodeParameters, ParameterTooLong
from llm_finetune.tracking.recorder import RunRecorder
from llm_finetune.tracking.runs import Runs
from llm_finetune.tracking.uri import configure_kedro_mlflow, tracking_enabled

logger = logging.getLogger(__name__)


class ExperimentTracking:
    """Kedro hooks: kedro-mlflow's run plus the project's records (see the module docstring).
    One instance serves every session of a process."""

    def __init__(self) -> None:
        self._context: Any = None
        self._mlflow_hook: Any = None  # kedro-mlflow's MlflowHook, for the current run only
        self._recorder: RunRecorder | None = None  # set only while this run is tracked

    def _reset(self) -> None:
        self._mlflow_hook = None
        self._recorder = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        # Only remembered: MLflow is set up when a pipeline runs, so that commands which never
        # run one (viz, catalog, the notebook's session) do not pay for it.
        self._context = context

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._reset()
        if self._context is None or not tracking_enabled():
            return
        tracked = tracked_entries(catalog, pipeline.datasets())  # bad metadata: fails here
        hook = _start_kedro_mlflow(self._context, run_params, pipeline, catalog)
        self._mlflow_hook = hook
        if hook.run_id is None:
            return  # tracking disabled for this pipeline in mlflow.yml
        from mlflow import MlflowClient

        server, experiment = hook.mlflow_config.server, hook.mlflow_config.tracking.experiment
        runs = Runs(MlflowClient(tracking_uri=server.mlflow_tracking_uri), hook.run_id)
        self._recorder = RunRecorder(runs, catalog, tracked, NodeParameters(hook))
        _safely(self._recorder.input_versions, pinned_inputs(catalog, pipeline.inputs()))
        logger.info(
            "MLflow run %s in experiment %r at %s",
            hook.run_id,
            experiment.name,
            server.mlflow_tracking_uri,
        )

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool):
        if self._recorder is not None:
            _safely(self._recorder.node_parameters, inputs)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recorder is not None:
            _safely(self._recorder.dataset_version, dataset_name, saved=False)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._recorder is not None:
            _safely(self._recorder.dataset_version, dataset_name, saved=True)
            _safely(self._recorder.dataset_output, dataset_name, data)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if self._mlflow_hook is not None:
            event = {"run_params": run_params, "pipeline": pipeline, "catalog": catalog}
            self._end("FINISHED", self._mlflow_hook.after_pipeline_run, event)

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        if self._mlflow_hook is not None:
            event = {"run_params": run_params, "pipeline": pipeline, "catalog": catalog}
            self._end("FAILED", self._mlflow_hook.on_pipeline_error, {"error": error, **event})

    def _end(self, status: str, forward: Callable[..., None], event: dict[str, Any]) -> None:
        """Ends the nested runs with ``status``, then hands the event on to kedro-mlflow's hook
        (``forward``), which ends the pipeline's run."""
        try:
            if self._recorder is not None:
                _safely(self._recorder.finish, status)
            forward(**event)
        finally:
            self._reset()


def _start_kedro_mlflow(context: Any, run_params: dict[str, Any], pipeline: Any, catalog: Any):
    """kedro-mlflow's ``MlflowHook`` with the run started (``run_id`` None: not tracked here)."""
    from kedro_mlflow.framework.hooks import MlflowHook

    configure_kedro_mlflow(context)
    hook = MlflowHook()
    hook.after_context_created(context)
    if _uses_mlflow_datasets(context):
        # Names kedro-mlflow's metric datasets after their entries; it creates every dataset
        # of the catalog to find them, which costs seconds, so only where there are some.
        hook.after_catalog_created(
            catalog=catalog,
            conf_catalog={},
            conf_creds={},
            parameters={},
            save_version=None,
            load_versions={},
        )
    hook.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
    return hook


def _uses_mlflow_datasets(context: Any) -> bool:
    """Whether the catalog configuration has kedro-mlflow datasets (``Mlflow...Dataset`` types)."""
    entries = context.config_loader["catalog"].values()
    types = (str(entry.get("type", "")) for entry in entries if isinstance(entry, Mapping))
    return any("mlflow" in name.lower() for name in types)


def _safely(record: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Tracking problems are reported, never allowed to stop a (possibly long) run (except a
    parameter too long for MLflow, with ``long_params_strategy: fail``)."""
    try:
        record(*args, **kwargs)
    except ParameterTooLong:
        raise
    except Exception:
        logger.warning("MLflow tracking failed in %s", record.__name__, exc_info=True)
