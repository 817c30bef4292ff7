"""What the catalog declares for tracking: the ``metadata: {tracking: ...}`` vocabulary of its
entries, read for each dataset of a pipeline.

An entry's ``metadata.tracking`` says what of the data saved to it a tracked run records (in the
run of the pipeline, or in the nested run of the sweep configuration of a
``sweep.<configuration>.*`` entry). Any of:

- ``artifact: true``: the file just saved (this run's version) is an artifact of the run;
- ``metrics: true`` or ``{prefix, key, exclude, depth}``: the finite numbers of the saved mapping
  (``data[key]`` with ``key``; without its top-level keys in ``exclude``; at most ``depth``
  levels deep) are metrics at step 0, named by their dotted path (``<prefix>.<path>``);
- ``history: true`` or ``{key, step}``: per-step metrics: every number of each record of the saved
  list (``data[key]`` with ``key``), at the record's step (field ``step``, default ``step``).

``tracking: artifact`` or ``tracking: [artifact, metrics]`` is short for those keys set to true.
The vocabulary is checked before a tracked run starts (:class:`TrackingMetadataError`).
Entries are read through Kedro's public ``DataCatalog.config_resolver``; nothing is instantiated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TRACKING_KEY = "tracking"
#: The dataset whose entry's ``source`` (hub id, model directory or GGUF file) is tagged
#: ``base_model.source``.
BASE_MODEL = "base_model"


class TrackingMetadataError(ValueError):
    """A catalog entry's ``metadata.tracking`` outside the vocabulary."""


@dataclass(frozen=True)
class Metrics:
    """``metrics``: the numbers of a mapping, at step 0."""

    prefix: str = ""
    key: str | None = None
    exclude: frozenset[str] = frozenset()
    depth: int | None = None


@dataclass(frozen=True)
class History:
    """``history``: the numbers of a list of records, each at its step."""

    key: str | None = None
    step: str = "step"


@dataclass(frozen=True)
class Tracking:
    """What a run records of the data saved to one catalog entry."""

    artifact: bool = False
    metrics: Metrics | None = None
    history: History | None = None


@dataclass(frozen=True)
class TrackedEntry:
    """A tracked dataset: its :class:`Tracking` and its entry's ``filepath`` (None: none)."""

    tracking: Tracking
    filepath: str | None = None


_KINDS = {"artifact": None, "metrics": Metrics, "history": History}
_OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "prefix": str,
    "key": str,
    "step": str,
    "depth": int,
    "exclude": (list, tuple),
}


def parse_tracking(value: Any, entry: str) -> Tracking | None:
    """The :class:`Tracking` of an entry's ``metadata.tracking`` (None when absent)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        if not all(isinstance(kind, str) for kind in value):
            raise TrackingMetadataError(f"{entry}: tracking lists kind names, got {value!r}")
        value = dict.fromkeys(value, True)
    if not isinstance(value, Mapping):
        raise TrackingMetadataError(
            f"{entry}: tracking is a kind, a list of kinds or a mapping, got {value!r}"
        )
    unknown = sorted(set(value) - set(_KINDS))
    if unknown:
        raise TrackingMetadataError(
            f"{entry}: unknown tracking {unknown}; known: {sorted(_KINDS)} (conf/base/catalog.yml)"
        )
    artifact = value.get("artifact", False)
    if not isinstance(artifact, bool):
        raise TrackingMetadataError(f"{entry}: tracking.artifact is true or false: {artifact!r}")
    return Tracking(
        artifact=artifact,
        metrics=_options(Metrics, value.get("metrics"), f"{entry}: tracking.metrics"),
        history=_options(History, value.get("history"), f"{entry}: tracking.history"),
    )


def _options(kind: type, value: Any, where: str) -> Any:
    """``kind`` from ``true`` (its defaults) or a mapping of options; None for ``false``/absent."""
    if value is None or value is False:
        return None
    if value is True:
        return kind()
    if not isinstance(value, Mapping):
        raise TrackingMetadataError(f"{where} is true, false or a mapping of options: {value!r}")
    known = {field.name for field in dataclasses.fields(kind)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise TrackingMetadataError(f"{where}: unknown options {unknown}; known: {sorted(known)}")
    options = {name: option for name, option in value.items() if option is not None}
    for name, option in options.items():
        expected = _OPTION_TYPES[name]
        if not isinstance(option, expected) or isinstance(option, bool):
            raise TrackingMetadataError(f"{where}.{name}: {option!r} is not of the expected type")
    if options.get("depth", 1) < 1:
        raise TrackingMetadataError(f"{where}.depth is at least 1, not {options['depth']!r}")
    if "exclude" in options:
        options["exclude"] = frozenset(str(key) for key in options["exclude"])
    return kind(**options)


def tracked_entries(catalog: Any, dataset_names: Iterable[str]) -> dict[str, TrackedEntry]:
    """The datasets among ``dataset_names`` whose catalog entry (its own, or a dataset factory's)
    has tracking metadata; raises :class:`TrackingMetadataError` for a bad one."""
    found: dict[str, TrackedEntry] = {}
    for name in sorted(dataset_names):
        config = _entry(catalog, name)
        metadata = config.get("metadata")
        if not isinstance(metadata, Mapping):
            continue
        tracking = parse_tracking(metadata.get(TRACKING_KEY), name)
        if tracking is not None:
            filepath = config.get("filepath")
            found[name] = TrackedEntry(tracking, None if filepath is None else str(filepath))
    return found


def configured_setting(catalog: Any, dataset_name: str, setting: str) -> Any:
    """A setting of a dataset's catalog entry (e.g. ``base_model``'s ``source``), or None."""
    return _entry(catalog, dataset_name).get(setting)


def _entry(catalog: Any, dataset_name: str) -> Mapping[str, Any]:
    """The resolved catalog entry of a dataset ({} for datasets the catalog does not declare)."""
    resolver = catalog.config_resolver
    if dataset_name in resolver.config or resolver.match_dataset_pattern(dataset_name):
        return resolver.resolve_pattern(dataset_name)
    return {}
