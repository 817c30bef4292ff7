"""Turning a dataset's data into MLflow records: metrics and per-step histories (as its catalog
entry's tracking metadata asks), flat parameters, and the file to log as an artifact.

Pure: nothing here writes to MLflow (see :mod:`.runs`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kedro.io import AbstractVersionedDataset
from kedro.io.core import get_protocol_and_path

from llm_finetune.tracking.catalog import History, Metrics, Tracking

#: ``(key, value, step)``
Metric = tuple[str, float, int]
MAX_PARAM_CHARS = 6000  # of a parameter logged from data (MLflow's limit)


def metrics_of(data: Any, tracking: Tracking) -> list[Metric]:
    """Every metric ``tracking`` asks for of ``data``: the history, then the step-0 metrics."""
    found: list[Metric] = []
    if tracking.history is not None:
        found += history(data, tracking.history)
    if tracking.metrics is not None:
        found += metrics(data, tracking.metrics)
    return found


def metrics(data: Any, spec: Metrics) -> list[Metric]:
    """The finite numbers of ``data`` (or of ``data[spec.key]``) as step-0 metrics."""
    selected = _select(data, spec.key) or {}
    if spec.exclude and isinstance(selected, Mapping):
        selected = {key: value for key, value in selected.items() if key not in spec.exclude}
    return numbers(selected, spec.prefix, spec.depth)


def history(data: Any, spec: History) -> list[Metric]:
    """Every number of each record of the list ``data`` (or ``data[spec.key]``), at its step."""
    return list(_history(_select(data, spec.key) or [], spec.step))


def _history(records: Any, step_field: str) -> Iterator[Metric]:
    for record in records:
        if not isinstance(record, Mapping):
            continue
        step = int(record.get(step_field, 0))
        for key, value in record.items():
            if key != step_field and is_number(value):
                yield key, float(value), step


def _select(data: Any, key: str | None) -> Any:
    if key is None:
        return data
    return data.get(key) if isinstance(data, Mapping) else None


def numbers(data: Any, prefix: str, depth: int | None = None) -> list[Metric]:
    """Finite numeric leaves of nested mappings as ``(dotted.key, value, step 0)``; booleans and
    anything deeper than ``depth`` levels are skipped."""
    found: list[Metric] = []
    if not isinstance(data, Mapping):
        return found
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            if depth is None or depth > 1:
                found += numbers(value, dotted, None if depth is None else depth - 1)
        elif is_number(value):
            found.append((dotted, float(value), 0))
    return found


def flat_params(data: Any, prefix: str) -> dict[str, str]:
    """Leaves of nested mappings as ``{prefix.dotted.key: text}`` (text cut to MLflow's limit)."""
    if isinstance(data, Mapping):
        flat: dict[str, str] = {}
        for key, value in data.items():
            flat.update(flat_params(value, f"{prefix}.{key}"))
        return flat
    return {prefix: str(data)[:MAX_PARAM_CHARS]}


def flatten(params: dict[str, Any], recursive: bool = True, sep: str = ".") -> dict[str, Any]:
    """Nested ``dict`` parameters as ``{outer<sep>inner: value}``, as kedro-mlflow flattens them
    (mlflow.yml ``params.dict_params``): every level, or the first one only without
    ``recursive``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            inner = flatten(value, recursive, sep) if recursive else value
            flat.update({f"{key}{sep}{name}": item for name, item in inner.items()})
        else:
            flat[f"{key}"] = value
    return flat


def saved_file(dataset: Any, filepath: str | None) -> Path | None:
    """The local file ``dataset`` has just saved: the file of its save version when versioned,
    else its entry's ``filepath``; None when that is not a local file."""
    version = None
    if isinstance(dataset, AbstractVersionedDataset):
        version = dataset.resolve_save_version()
    if version:
        # list_versions: the saved versions, by name and by path, in the same order.
        names, paths = dataset.list_versions(full_path=False), dataset.list_versions()
        location = dict(zip(names, paths, strict=True)).get(version)
    elif filepath:
        protocol, location = get_protocol_and_path(filepath)
        location = location if protocol == "file" else None
    else:
        location = None
    path = Path(location) if location else None
    return path if path is not None and path.is_file() else None


def is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
