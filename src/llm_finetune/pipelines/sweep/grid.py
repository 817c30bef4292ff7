"""The sweep's configurations: ``sweep.configurations`` and ``sweep.grid``, as named overrides of
``training``.

Pure Python (no torch, no mlflow): read by ``register_pipelines`` to build one namespace per
configuration, by the sweep's nodes to build each configuration's ``training`` block, and by the
tracking hook to recognise a configuration's datasets.

Keys are paths inside ``training``, dotted or nested, so any training setting can be swept:

- ``sweep.configurations``: a list of configurations, each a mapping of overrides with an
  optional ``name``, e.g. ``[{name: lora_r8, lora.r: 8}, {name: full, lora.enabled: false}]``;
- ``sweep.grid``: a mapping of value lists, whose product is added after them, e.g.
  ``{lora.r: [8, 16], lora.learning_rate: [1e-5, 1e-4]}`` gives 4 configurations. A key set to
  null is not swept (parameters merge softly, so conf/local can drop a key of conf/base that way,
  or the whole grid with ``grid: null``).

Configuration names become Kedro namespaces (``sweep.<name>``), so they use ``[A-Za-z0-9_-]``;
unnamed configurations are named after their overrides (``learning_rate_1e-05__r_8``).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_finetune.config.sweep import SweepSettings

SWEEP_NAMESPACE = "sweep"
#: ``training`` sections where a swept key need not exist yet (any ``TrainingArguments`` field).
OPEN_SECTIONS = (("trainer",),)
_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Configuration:
    """One point of the sweep: its name and its ``training`` overrides (dotted key -> value)."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return f"{SWEEP_NAMESPACE}.{self.name}"


def expand(sweep: Mapping[str, Any]) -> list[Configuration]:
    """The configurations of the ``sweep`` parameters: the listed ones, then the grid's product.

    Names are unique; at least one configuration is required. The block's keys and their types
    are :class:`llm_finetune.config.SweepSettings`' (unknown keys fail, naming the key).
    """
    SweepSettings.from_params(sweep)
    listed = sweep.get("configurations") or []
    grid = sweep.get("grid") or {}
    configurations = [_listed(item, index) for index, item in enumerate(listed)]
    configurations += _product(grid)
    if not configurations:
        raise ValueError(
            "the sweep has no configuration: sweep.configurations and sweep.grid are empty"
        )
    names = [c.name for c in configurations]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"sweep: configuration names must be unique, repeated: {duplicates}")
    return configurations


def _product(grid: Mapping[str, Any]) -> list[Configuration]:
    axes = {key: values for key, values in flatten(grid).items() if values is not None}
    if not axes:
        return []
    for key, values in axes.items():
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(
                f"sweep.grid.{key}: expected a non-empty list of values to sweep, got {values!r} "
                "(a value for every configuration belongs in sweep.training)"
            )
    labels = _labels(list(axes))
    configurations = []
    for combination in itertools.product(*axes.values()):
        overrides = dict(zip(axes, combination, strict=True))
        configurations.append(Configuration(_auto_name(overrides, labels), overrides))
    return configurations


def _listed(item: Any, index: int) -> Configuration:
    where = f"sweep.configurations[{index}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping of overrides, got {item!r}")
    overrides = flatten({key: value for key, value in item.items() if key != "name"})
    name = item.get("name")
    if name is None:
        name = _auto_name(overrides, _labels(list(overrides))) if overrides else f"config_{index}"
    name = str(name)
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{where}: configuration name {name!r} may only use letters, digits, '_' and '-' "
            "(it becomes a Kedro namespace)"
        )
    return Configuration(name, overrides)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys: ``{"lora": {"r": 8}}`` -> ``{"lora.r": 8}``."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _labels(keys: list[str]) -> dict[str, str]:
    """Short labels for names: the last key part, or the whole key where last parts clash."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: (short if last.count(short) == 1 else key.replace(".", "_"))
        for key, short in zip(keys, last, strict=True)
    }


def _auto_name(overrides: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    return "__".join(f"{labels[key]}_{_slug(value)}" for key, value in overrides.items())


def _slug(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, list | tuple):
        text = "-".join(_slug(v) for v in value) or "empty"
    else:
        text = str(value)
    text = text.replace(".", "p")
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def apply_overrides(
    block: Mapping[str, Any], overrides: Mapping[str, Any], *, where: str, open_sections=()
) -> dict[str, Any]:
    """A deep copy of ``block`` with each dotted-key override set.

    Every section on a key's path must exist, and so must the key itself, except directly inside
    one of ``open_sections`` (tuples of key parts); a typo fails instead of being ignored.
    """
    result = copy.deepcopy(dict(block))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        section = result
        for depth, part in enumerate(parts[:-1]):
            child = section.get(part)
            if not isinstance(child, dict):
                path = ".".join(parts[: depth + 1])
                raise ValueError(f"{where}: {path!r} is not a section of the settings ({dotted})")
            section = child
        if parts[-1] not in section and tuple(parts[:-1]) not in open_sections:
            raise ValueError(f"{where}: unknown key {dotted!r}")
        section[parts[-1]] = copy.deepcopy(value)
    return result


def training_for(
    configuration: Configuration, training: Mapping[str, Any], sweep_training: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``training`` block of one configuration: ``training``, then ``sweep.training``, then
    the configuration's overrides."""
    cheaper = apply_overrides(
        training, flatten(sweep_training or {}), where="sweep.training", open_sections=OPEN_SECTIONS
    )
    return apply_overrides(
        cheaper,
        configuration.overrides,
        where=f"sweep configuration {configuration.name!r}",
        open_sections=OPEN_SECTIONS,
    )


def namespace_of(dataset_name: str) -> str | None:
    """``sweep.<configuration>`` for a configuration's dataset (``sweep.<config>.<name>``)."""
    parts = dataset_name.split(".")
    if len(parts) >= 3 and parts[0] == SWEEP_NAMESPACE:
        return ".".join(parts[:2])
    return None


def configured_sweep(project_path: str | Path | None = None, env: str | None = None) -> Any:
    """The ``sweep`` parameters that decide which configurations the pipelines hold.

    In a run, the run's own parameters (recorded by ``llm_finetune.run_parameters`` when the
    context is created, before the pipelines are built): ``--env`` and ``--params`` choose the
    configurations. Without a run (``kedro registry``, tests building pipelines directly), the
    configuration files: the project found from the working directory (else this package's
    project), environment ``env`` or ``$KEDRO_ENV`` (else ``local``), merged over ``base``.
    """
    from llm_finetune import run_parameters

    return run_parameters.parameter_block(SWEEP_NAMESPACE, project_path, env)
