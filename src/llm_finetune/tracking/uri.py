"""Where runs are tracked: the on/off switch, the tracking store's URI and kedro-mlflow's config.

Tracking store: ``$MLFLOW_TRACKING_URI`` if set, else ``server.mlflow_tracking_uri`` of mlflow.yml
(default ``sqlite:///mlflow.db``). A relative SQLite path is taken from the project root, and a
local SQLite store keeps its artifacts in ``mlruns/`` next to the database file.
``LLM_FINETUNE_TRACKING=off`` switches tracking off; under ``torchrun`` only rank 0 tracks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TRACKING_ENV = "LLM_FINETUNE_TRACKING"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MLFLOW_CONFIG_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]
_OFF = {"off", "0", "false", "no"}
_SQLITE = "sqlite:///"


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


def configure_kedro_mlflow(context: Any) -> None:
    """Has kedro-mlflow use the resolved configuration (:func:`mlflow_config`).

    kedro-mlflow's ``MlflowHook.after_context_created`` reads its settings from the context's
    config loader (``config_loader["mlflow"]``), its one public input, so the resolved settings
    are put there.
    """
    context.config_loader["mlflow"] = mlflow_config(context)
