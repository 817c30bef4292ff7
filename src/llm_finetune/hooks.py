"""Experiment tracking: every ``kedro run`` is an MLflow run.

:class:`ExperimentTracking` drives kedro-mlflow's ``MlflowHook`` (the run, the Kedro parameters,
the run's tags; configured by ``conf/<env>/mlflow.yml``) and adds the project's own records through
the MLflow client, on the run kedro-mlflow started:

- metrics: ``data_quality_report`` (``data_quality.*``), the Trainer's log history per step
  (``loss``, ``learning_rate``, ``grad_norm``, ``eval_loss``, ... with ``step=``), the training
  summary (``training.*``) and ``evaluation_metrics`` (``base.*``, ``fine_tuned.*``);
- artifacts: the saved files of the reports and plots (:data:`ARTIFACT_DATASETS`);
- tags ``dataset_version.<name>``: the catalog version of every versioned dataset the run loaded or
  saved (``train_qa``, ``test_qa``, ``fine_tuned_model``, ...), and ``base_model.source``;
- one nested run per sweep configuration (``sweep.<configuration>.*`` datasets), holding that
  configuration's ``training.*`` parameters, metrics and artifacts.

The parameters every node reads are logged here too, with kedro-mlflow's settings (see
:meth:`ExperimentTracking._log_node_params` for why not by kedro-mlflow's own ``before_node_run``).

Tracking store: ``$MLFLOW_TRACKING_URI`` if set, else ``server.mlflow_tracking_uri`` of mlflow.yml
(default ``sqlite:///mlflow.db``). A relative SQLite path is taken from the project root, and a
local SQLite store keeps its artifacts in ``mlruns/`` next to the database file.

Cheap when off: nothing of MLflow is imported before a pipeline runs with tracking on.
``LLM_FINETUNE_TRACKING=off`` switches tracking off; under ``torchrun`` only rank 0 tracks.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

TRACKING_ENV = "LLM_FINETUNE_TRACKING"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MLFLOW_CONFIG_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]
#: Datasets whose saved file is logged as an artifact (by name, without the namespace).
ARTIFACT_DATASETS = frozenset(
    {
        "data_quality_report",
        "model_report",
        "model_architecture",
        "infrastructure_sizing",
        "infrastructure_sizing_html",
        "infrastructure_sizing_markdown",
        "loss_plot",
        "learning_rate_plot",
        "metrics_plot",
        "evaluation_metrics",
        "comparison_table",
        "comparison_table_html",
        "off_topic_probe",
        "sweep_results",
        "sweep_plot",
    }
)
_OFF = {"off", "0", "false", "no"}
_SQLITE = "sqlite:///"
_BATCH = 500  # MLflow accepts up to 1000 metrics and 100 params per log_batch call


def tracking_enabled() -> bool:
    """Tracking is on unless ``LLM_FINETUNE_TRACKING`` says off; only rank 0 of torchrun tracks."""
    if (os.environ.get("RANK", "").strip() or "0") != "0":
        return False
    return os.environ.get(TRACKING_ENV, "on").strip().lower() not in _OFF


def resolve_tracking_uri(configured: str | None, project_path: str | Path) -> str:
    """``$MLFLOW_TRACKING_URI``, else ``configured``, else ``sqlite:///mlflow.db``; a relative
    SQLite path is made absolute from the project root."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or configured or DEFAULT_TRACKING_URI
    database = _sqlite_path(uri)
    if database is None:
        return uri
    if not database.is_absolute():
        database = Path(project_path) / database
    database.parent.mkdir(parents=True, exist_ok=True)
    return _SQLITE + database.resolve().as_posix()  # sqlite:////abs/file.db (C:/... on Windows)


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores and in-memory SQLite)."""
    if not uri.startswith(_SQLITE):
        return None
    path = uri[len(_SQLITE) :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def mlflow_config(context: Any) -> dict[str, Any]:
    """The project's mlflow.yml with the tracking URI (and a local artifact location) resolved."""
    from kedro.config import MissingConfigException

    loader = context.config_loader
    loader.config_patterns.setdefault("mlflow", MLFLOW_CONFIG_PATTERNS)
    try:
        config = dict(loader["mlflow"])
    except MissingConfigException:
        config = {}
    server = dict(config.get("server") or {})
    server["mlflow_tracking_uri"] = resolve_tracking_uri(
        server.get("mlflow_tracking_uri"), context.project_path
    )
    config["server"] = server
    database = _sqlite_path(server["mlflow_tracking_uri"])
    tracking = dict(config.get("tracking") or {})
    experiment = dict(tracking.get("experiment") or {})
    create = dict(experiment.get("create_experiment_kwargs") or {})
    if database is not None and not create.get("artifact_location"):
        # MLflow would otherwise put artifacts in ./mlruns of whatever the working directory is.
        create["artifact_location"] = (database.parent / "mlruns").as_uri()
    experiment["create_experiment_kwargs"] = create
    tracking["experiment"] = experiment
    config["tracking"] = tracking
    return config


class ParameterTooLong(ValueError):
    """A parameter over MLflow's length limit, with ``params.long_params_strategy: fail``."""


class ExperimentTracking:
    """Kedro hooks: kedro-mlflow's run plus the project's metrics, artifacts, versions and nested
    runs (see the module docstring). One instance serves every session of a process."""

    def __init__(self) -> None:
        self._context: Any = None
        self._reset()

    def _reset(self) -> None:
        self._mlflow_hook: Any = None  # kedro-mlflow's MlflowHook, for the current run only
        self._client: Any = None  # MlflowClient: set only while this run is tracked
        self._run_id: str | None = None
        self._experiment_id: str | None = None
        self._catalog: Any = None
        self._children: dict[str, str] = {}  # sweep.<configuration> -> nested run id
        self._input_versions: dict[str, str] = {}
        self._logged: set[str] = set()  # parameter inputs already logged in this run

    # ---------- Kedro hooks ----------

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
        from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
        from mlflow import MlflowClient

        self._context.config_loader["mlflow"] = mlflow_config(self._context)
        hook = MlflowHook()
        hook.after_context_created(self._context)
        if _uses_mlflow_datasets(self._context):
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
        self._mlflow_hook = hook
        if hook.run_id is None or not hook._is_mlflow_enabled:
            return  # tracking disabled for this pipeline in mlflow.yml
        self._client = MlflowClient(tracking_uri=hook.mlflow_config.server.mlflow_tracking_uri)
        self._run_id = hook.run_id
        self._experiment_id = self._client.get_run(self._run_id).info.experiment_id
        self._catalog = catalog
        logger.info(
            "MLflow run %s in experiment %r at %s",
            self._run_id,
            hook.mlflow_config.tracking.experiment.name,
            hook.mlflow_config.server.mlflow_tracking_uri,
        )

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool):
        if self._client is not None:
            self._safely(self._log_node_params, inputs)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._client is not None:
            self._safely(self._record_version, dataset_name, saved=False)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if self._client is not None:
            self._safely(self._record_version, dataset_name, saved=True)
            self._safely(self._record_output, dataset_name, data)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if self._mlflow_hook is None:
            return
        try:
            self._safely(self._finish_children, "FINISHED")
            self._mlflow_hook.after_pipeline_run(
                run_params=run_params, pipeline=pipeline, catalog=catalog
            )
        finally:
            self._reset()

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        if self._mlflow_hook is None:
            return
        try:
            self._safely(self._finish_children, "FAILED")
            self._mlflow_hook.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            )
        finally:
            self._reset()

    # ---------- what the project logs ----------

    def _log_node_params(self, inputs: dict[str, Any]) -> None:
        """The node's parameters, as kedro-mlflow's ``before_node_run`` logs them (mlflow.yml's
        ``params`` settings: flattening, long values), each once per run, in one batch.

        Not delegated: kedro-mlflow 2.0.3 re-enters the run with ``mlflow.start_run(nested=True)``
        at every node, which MLflow 3 stacks, leaving the run active after ``kedro run`` ends (a
        later session in the same process then logs into it), and it writes parameters one by
        one, again for every node that reads them.
        """
        from kedro_mlflow.framework.hooks.utils import _flatten_dict
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

        hook = self._mlflow_hook
        new = {name: value for name, value in inputs.items() if _is_param(name)}
        new = {name: value for name, value in new.items() if name not in self._logged}
        if not new:
            return
        self._logged.update(new)
        params = {name.removeprefix("params:"): value for name, value in new.items()}
        if hook.flatten:
            params = _flatten_dict(d=params, recursive=hook.recursive, sep=hook.sep)
        batch: dict[str, str] = {}
        for name, value in params.items():
            key, text = hook.sanitize_param_name(name), str(value)
            if len(text) <= MAX_PARAM_VAL_LENGTH:
                batch[key] = text
            elif hook.long_params_strategy == "tag":
                self._client.set_tag(self._run_id, key, text)
            elif hook.long_params_strategy == "truncate":
                batch[key] = text[:MAX_PARAM_VAL_LENGTH]
            else:
                raise ParameterTooLong(
                    f"Parameter {name!r} is {len(text)} characters long, over MLflow's limit of "
                    f"{MAX_PARAM_VAL_LENGTH}; set params.long_params_strategy in mlflow.yml"
                )
        self._log_params(self._run_id, batch)

    def _safely(self, record: Any, *args: Any, **kwargs: Any) -> None:
        """Tracking problems are reported, never allowed to stop a (possibly long) run (except a
        parameter too long for MLflow, with ``long_params_strategy: fail``)."""
        try:
            record(*args, **kwargs)
        except ParameterTooLong:
            raise
        except Exception:
            logger.warning("MLflow tracking failed in %s", record.__name__, exc_info=True)

    def _run_for(self, dataset_name: str) -> str:
        """The nested run of a sweep configuration's dataset, else the pipeline's run."""
        from llm_finetune.pipelines.sweep.grid import namespace_of

        namespace = namespace_of(dataset_name)
        if namespace is None:
            return self._run_id  # type: ignore[return-value]
        if namespace not in self._children:
            configuration = namespace.split(".", 1)[1]
            run = self._client.create_run(
                self._experiment_id,
                run_name=configuration,
                tags={
                    "mlflow.parentRunId": self._run_id,
                    "sweep.configuration": configuration,
                    "kedro.namespace": namespace,
                },
            )
            self._children[namespace] = run.info.run_id
        return self._children[namespace]

    def _record_version(self, dataset_name: str, saved: bool) -> None:
        dataset = self._catalog.get(dataset_name) if self._catalog is not None else None
        if dataset is None:
            return
        if dataset_name == "base_model":
            source = getattr(dataset, "_describe", dict)().get("source")
            if source:
                self._client.set_tag(self._run_id, "base_model.source", str(source))
        version = getattr(dataset, "_version", None)
        if version is None:
            return
        resolved = dataset.resolve_save_version() if saved else dataset.resolve_load_version()
        if not resolved:
            return
        tag = f"dataset_version.{dataset_name}"
        run_id = self._run_for(dataset_name)
        self._client.set_tag(run_id, tag, resolved)
        if run_id == self._run_id:
            self._input_versions[tag] = resolved

    def _record_output(self, dataset_name: str, data: Any) -> None:
        name = dataset_name.rsplit(".", 1)[-1]
        run_id = self._run_for(dataset_name)
        if name == "data_quality_report":
            self._log_metrics(run_id, _numbers(data, "data_quality"))
        elif name == "training_metrics":
            self._log_metrics(run_id, list(_history_metrics(data)))
            self._log_metrics(run_id, _numbers(data.get("summary") or {}, "training", depth=1))
        elif name == "evaluation_metrics":
            scores = {k: v for k, v in data.items() if k != "generation"}
            self._log_metrics(run_id, _numbers(scores, ""))
        elif name == "training_params" and run_id != self._run_id:
            self._log_params(run_id, _flat_params(data, "training"))
        elif name == "sweep_results" and len(data) and data["final_eval_loss"].notna().any():
            best = data.loc[data["final_eval_loss"].idxmin(), "configuration"]
            self._client.set_tag(run_id, "sweep.best_by_final_eval_loss", str(best))
        elif name == "configuration" and run_id != self._run_id:
            overrides = json.dumps(data.get("overrides") or {}, default=str, sort_keys=True)
            self._client.set_tag(run_id, "sweep.overrides", overrides[:5000])
        if name in ARTIFACT_DATASETS:
            path = self._saved_file(dataset_name)
            if path is not None:
                self._client.log_artifact(run_id, str(path))

    def _saved_file(self, dataset_name: str) -> Path | None:
        """The local file a dataset has just written (its current version), if it is one."""
        dataset = self._catalog.get(dataset_name) if self._catalog is not None else None
        filepath = getattr(dataset, "_filepath", None)
        if filepath is None:
            return None
        if getattr(dataset, "_version", None) is not None:
            # _get_save_path() refuses a version that exists, which it now does.
            filepath = dataset._get_versioned_path(dataset.resolve_save_version())
        path = Path(str(filepath))
        return path if path.is_file() else None

    def _log_metrics(self, run_id: str, metrics: list[tuple[str, float, int]]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entities = [Metric(key, value, now, step) for key, value, step in metrics]
        for chunk in _chunks(entities, _BATCH):
            self._client.log_batch(run_id, metrics=chunk)

    def _log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        entities = [Param(key, value) for key, value in params.items()]
        for chunk in _chunks(entities, 100):
            self._client.log_batch(run_id, params=chunk)

    def _finish_children(self, status: str) -> None:
        for run_id in self._children.values():
            for tag, version in self._input_versions.items():
                self._client.set_tag(run_id, tag, version)
            self._client.set_terminated(run_id, status)


def _uses_mlflow_datasets(context: Any) -> bool:
    """Whether the catalog configuration has kedro-mlflow datasets (``Mlflow...Dataset`` types)."""
    entries = context.config_loader["catalog"].values()
    types = (str(entry.get("type", "")) for entry in entries if isinstance(entry, Mapping))
    return any("mlflow" in name.lower() for name in types)


def _numbers(data: Any, prefix: str, depth: int | None = None) -> list[tuple[str, float, int]]:
    """Finite numeric leaves of nested mappings as ``(dotted.key, value, step 0)``; booleans and
    anything deeper than ``depth`` levels are skipped."""
    found: list[tuple[str, float, int]] = []
    if not isinstance(data, Mapping):
        return found
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            if depth is None or depth > 1:
                found += _numbers(value, dotted, None if depth is None else depth - 1)
        elif _is_number(value):
            found.append((dotted, float(value), 0))
    return found


def _history_metrics(training_metrics: Mapping[str, Any]) -> Iterator[tuple[str, float, int]]:
    """Every numeric value of the Trainer's log history, at its optimizer step."""
    for entry in training_metrics.get("log_history") or []:
        step = int(entry.get("step", 0))
        for key, value in entry.items():
            if key != "step" and _is_number(value):
                yield key, float(value), step


def _flat_params(data: Any, prefix: str) -> dict[str, str]:
    if isinstance(data, Mapping):
        flat: dict[str, str] = {}
        for key, value in data.items():
            flat.update(_flat_params(value, f"{prefix}.{key}"))
        return flat
    return {prefix: str(data)[:6000]}


def _is_param(name: str) -> bool:
    return name.startswith("params:") or name == "parameters"


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
