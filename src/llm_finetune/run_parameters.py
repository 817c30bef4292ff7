"""The parameters of the run being set up, for pipelines whose shape depends on them (the sweep).

``KedroSession.run`` creates the context, then builds the pipelines, then the catalog. A hook that
records ``context.params`` when the context is created lets ``register_pipelines`` see exactly the
run's parameters, ``--env`` and ``--params`` included. The record is dropped as soon as the
catalog exists (the pipelines are built by then), so a later session, or ``register_pipelines``
called on its own, never sees another run's parameters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

_recorded: Mapping[str, Any] | None = None
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def current() -> Mapping[str, Any] | None:
    """The parameters of the run being set up, or None outside the set-up of a run."""
    return _recorded


def parameter_block(
    name: str, project_path: str | Path | None = None, env: str | None = None
) -> Any:
    """The parameters block ``name`` that decides a pipeline's shape: the run's own
    (:func:`current`; ``--env`` and ``--params`` choose it) when neither ``project_path`` nor
    ``env`` is given, else, and without a run (``kedro registry``, tests building pipelines), the
    configuration files of ``project_path`` or the project found from the working directory
    (else this package's), environment ``env`` or ``$KEDRO_ENV`` (else ``local``), merged over
    ``base``. Raises ``ValueError`` naming the configuration folder when the block is missing."""
    from kedro.framework.project import settings
    from kedro.utils import find_kedro_project

    project = Path(project_path) if project_path else find_kedro_project(Path.cwd())
    project = Path(project or _PROJECT_ROOT)
    parameters = current() if project_path is None and env is None else None
    if parameters is None:
        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(project / settings.CONF_SOURCE),
            env=env or os.environ.get("KEDRO_ENV") or None,
            **settings.CONFIG_LOADER_ARGS,
        )
        parameters = loader["parameters"]
    block = parameters.get(name)
    if not isinstance(block, Mapping):
        raise ValueError(f"no {name} parameters under {project / settings.CONF_SOURCE}")
    return block


class RunParameters:
    """Records the run's parameters from context creation until its catalog exists."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        global _recorded
        # The loader's parameters (runtime ones included), not ``context.params``: that property
        # validates against every pipeline, so it would build them before the record exists.
        _recorded = context.config_loader["parameters"]

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        global _recorded
        _recorded = None
