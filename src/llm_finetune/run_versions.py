"""A run reads its own versions: the versioned datasets of a ``kedro run`` pinned when it starts.

Left to Kedro, a versioned dataset without a load version reads the *latest* version whenever it
is loaded, so two runs of one project started side by side read each other's outputs: a run's
session id (its save version) is older than that of a run started after it, and once that run has
saved, "latest" is the other run's data (Kedro then warns "Save version ... did not match load
version ..."). :class:`RunVersions` (a hook, ``before_pipeline_run``, run before the others) fixes
every versioned dataset of the run's pipeline once, before any node runs:

- a dataset the pipeline produces is loaded at this run's save version (what this run saved);
- a dataset it only reads (made by an earlier run) at the latest version at this moment;
- a load version given by the user (``kedro run --load-versions name:version``) wins.

The pins are logged; the tracked run tags them (``dataset_version.<name>``, see
:mod:`llm_finetune.tracking.recorder`). Under ``torchrun`` every rank reads the versions rank 0
pinned (:func:`share_input_pins`), so the processes of one job train on the same data.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, Version

from llm_finetune import distributed

logger = logging.getLogger(__name__)

#: Where rank 0 of a ``torchrun`` job leaves the versions it pinned for the other ranks.
PINS_DIR = Path("data") / ".run_versions"
#: When this process started (settings import this module first thing): a pins file older than
#: that, by more than the launcher's spread of process starts, is a previous job's.
_PROCESS_STARTED = time.time()
_LAUNCH_SPREAD_S = 120.0


@dataclass(frozen=True)
class Pin:
    """The version a run loads a dataset at, and why: ``this run`` (its save version, for a
    dataset the run produces), ``latest at start`` or ``given`` (``--load-versions``). ``version``
    is None for an input no run has saved yet."""

    version: str | None
    origin: str


def versioned_dataset(catalog: Any, name: str) -> AbstractVersionedDataset | None:
    """The dataset ``name`` when versioned (made from its entry or a factory), else None."""
    if name == "parameters" or name.startswith("params:") or name not in catalog:
        return None
    dataset = catalog.get(name)
    if isinstance(dataset, AbstractVersionedDataset) and dataset._version is not None:
        return dataset
    return None


def pin_versions(catalog: Any, pipeline: Any) -> dict[str, Pin]:
    """Fixes the load and save version of every versioned dataset of ``pipeline`` in ``catalog``
    (see the module docstring); returns the pins by dataset name."""
    produced = pipeline.all_outputs()
    pins: dict[str, Pin] = {}
    for name in sorted(pipeline.datasets()):
        dataset = versioned_dataset(catalog, name)
        if dataset is not None:
            pins[name] = _pin(dataset, name in produced)
    return pins


def _pin(dataset: AbstractVersionedDataset, produced: bool) -> Pin:
    # The save version is fixed too: a dataset made without one (a catalog without save_version)
    # would otherwise draw a new timestamp at each save.
    save = dataset.resolve_save_version()
    given = dataset._version.load
    if given:
        pin = Pin(given, "given")
    elif produced:
        pin = Pin(save, "this run")
    else:
        existing = dataset.list_versions(full_path=False)  # newest first; complete ones only
        pin = Pin(existing[0] if existing else None, "latest at start")
    set_versions(dataset, pin.version, save)
    return pin


def set_versions(dataset: AbstractVersionedDataset, load: str | None, save: str | None) -> None:
    """Loads of ``dataset`` read ``load`` (None: the latest), saves write ``save``."""
    dataset._version = Version(load, save)
    dataset._clear_version_cache()


def pinned_inputs(catalog: Any, names: Iterable[str]) -> dict[str, str]:
    """The versions pinned for the versioned datasets among ``names`` (those with one)."""
    pinned = {}
    for name in sorted(names):
        dataset = versioned_dataset(catalog, name)
        if dataset is not None and dataset._version.load:
            pinned[name] = dataset._version.load
    return pinned


def describe(pins: dict[str, Pin]) -> str:
    lines = (
        f"  {name}: {pin.version or '(none yet)'} ({pin.origin})" for name, pin in pins.items()
    )
    return "\n".join(lines)


class RunVersions:
    """Kedro hook: pins the versions of the run's versioned datasets before any node runs."""

    def __init__(self) -> None:
        self._project_path: Path | None = None
        self._pins: dict[str, Pin] = {}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._project_path = Path(context.project_path)

    @hook_impl(tryfirst=True)  # before the tracking hook, which tags the pinned versions
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        pins = pin_versions(catalog, pipeline)
        if distributed.world_size() > 1 and self._project_path is not None:
            pins = share_input_pins(catalog, pins, self._project_path / PINS_DIR)
        self._pins = pins
        if pins:
            logger.info(
                "Dataset versions of this run (session %s):\n%s",
                run_params.get("run_id"),
                describe(pins),
            )

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """A saved model's provenance records the versions of the datasets its node read (e.g.
        ``tokenized_train``), so a model names the very data versions it was trained on."""
        provenance = getattr(data, "provenance", None)
        if isinstance(provenance, dict):
            provenance["dataset_versions"] = {
                name: self._pins[name].version
                for name in sorted(node.inputs)
                if name in self._pins and self._pins[name].version
            }


def share_input_pins(catalog: Any, pins: dict[str, Pin], folder: Path) -> dict[str, Pin]:
    """Under ``torchrun``: rank 0 writes the versions it pinned for the datasets the run reads,
    the other ranks read and apply them (their own outputs stay in memory, see
    :class:`~llm_finetune.distributed.RankZeroDataCatalog`). Returns this rank's pins."""
    inputs = {name: pin for name, pin in pins.items() if pin.origin != "this run"}
    path = folder / f"{_job_key()}.json"
    if distributed.is_main_process():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({name: pin.version for name, pin in inputs.items()}))
        partial.replace(path)  # atomic: a reader never sees half of it
        return pins
    distributed.wait_for_local_rank_zero(
        lambda: _written_for_this_job(path), f"pin the dataset versions in {path}"
    )
    versions = json.loads(path.read_text(encoding="utf-8"))
    shared = dict(pins)
    for name, version in versions.items():
        dataset = versioned_dataset(catalog, name)
        if dataset is not None:
            set_versions(dataset, version, dataset.resolve_save_version())
            origin = inputs[name].origin if name in inputs else "latest at start"
            shared[name] = Pin(version, f"{origin}, from rank 0")
    return shared


def _job_key() -> str:
    """One name per launch of a job (and per elastic restart), the same in all its processes."""
    parts = ("TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RESTART_COUNT")
    key = "-".join(os.environ.get(part, "") for part in parts)
    return "".join(c if c.isalnum() or c in "-." else "_" for c in key)


def _written_for_this_job(path: Path) -> bool:
    try:
        return path.stat().st_mtime >= _PROCESS_STARTED - _LAUNCH_SPREAD_S
    except OSError:
        return False
