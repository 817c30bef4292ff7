"""The parameters of the run being set up, for pipelines whose shape depends on them (the sweep).

``KedroSession.run`` creates the context, then builds the pipelines, then the catalog. A hook that
records ``context.params`` when the context is created lets ``register_pipelines`` see exactly the
run's parameters, ``--env`` and ``--params`` included. The record is dropped as soon as the
catalog exists (the pipelines are built by then), so a later session, or ``register_pipelines``
called on its own, never sees another run's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

_recorded: Mapping[str, Any] | None = None


def current() -> Mapping[str, Any] | None:
    """The parameters of the run being set up, or None outside the set-up of a run."""
    return _recorded


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
