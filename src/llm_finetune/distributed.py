"""Running the project under ``torchrun`` / ``accelerate launch``: one Kedro run per process.

The launchers start one process per device and tell each its place through the environment
(``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``). Every process runs the whole pipeline: it loads the
inputs, runs every node (the Trainer inside ``fine_tune`` joins the others for DDP or FSDP), and
passes node outputs on to the next node. Only rank 0 writes catalog outputs:
:class:`RankZeroDataCatalog` (``DATA_CATALOG_CLASS`` in ``settings.py``) keeps what the other
ranks would save in memory instead, so a versioned dataset gets one version per run, not one per
process, and no two processes write the same file.

Before the Trainer starts, the processes of one machine share what local rank 0 prepares (the
base model's cache): :func:`wait_for_local_rank_zero` makes the others wait for it.

The environment is read, not ``torch.distributed``: the catalog exists before the Trainer sets
up the process group, and this module must not import torch (every ``kedro`` command imports it).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from kedro.framework.context import CatalogCommandsMixin
from kedro.io import DataCatalog, MemoryDataset

logger = logging.getLogger(__name__)

#: How long the other processes of a job wait for local rank 0 to write a cache they all read.
CACHE_WAIT_SECONDS = 3600


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def rank() -> int:
    """This process's global rank (0 when not launched by torchrun/accelerate)."""
    return _env_int("RANK", 0)


def local_rank() -> int:
    """This process's rank on its machine (0 when not launched by torchrun/accelerate)."""
    return _env_int("LOCAL_RANK", 0)


def world_size() -> int:
    """How many processes train together (1 when not launched by torchrun/accelerate)."""
    return _env_int("WORLD_SIZE", 1)


def is_main_process() -> bool:
    """True in the process that writes outputs: rank 0, or the only process."""
    return rank() == 0


def is_local_main_process() -> bool:
    """True in the process that prepares what its machine shares: local rank 0, or the only one."""
    return world_size() <= 1 or local_rank() == 0


def wait_for_local_rank_zero(
    ready: Callable[[], bool],
    what: str,
    timeout_s: float = CACHE_WAIT_SECONDS,
    poll_s: float = 1.0,
) -> None:
    """Return once ``ready()`` is true: local rank 0 has done ``what`` (e.g. "cache X in Y").

    Asks every ``poll_s`` seconds; raises ``TimeoutError`` ("local rank 0 did not <what> within
    <timeout_s> s") when it is still false after ``timeout_s``.
    """
    logger.info("Local rank %d: waiting for local rank 0 to %s", local_rank(), what)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(poll_s)
    raise TimeoutError(f"local rank 0 did not {what} within {timeout_s:g} s")


class RankZeroDataCatalog(DataCatalog, CatalogCommandsMixin):
    """A ``DataCatalog`` whose saves happen on rank 0 only.

    On any other rank, saving a dataset that persists (anything but a ``MemoryDataset``) keeps the
    data in memory instead, and later loads of that dataset in the same run return it, so the
    downstream nodes of every rank get the node's outputs. ``MemoryDataset`` entries (runner
    intermediates, parameters) are process-local and are saved as usual. A single process (no
    ``RANK`` in the environment) behaves exactly like ``DataCatalog``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Outputs this (non-zero) rank did not write: name -> in-memory copy of the data.
        self._kept_in_memory: dict[str, MemoryDataset] = {}

    def save(self, ds_name: str, data: Any) -> None:
        current = rank()
        if current == 0 or isinstance(self[ds_name], MemoryDataset):
            super().save(ds_name, data)
            return
        logger.debug(
            "Rank %d of %d: not saving %s (only rank 0 writes catalog outputs); kept in memory",
            current,
            world_size(),
            ds_name,
        )
        # "assign": no copy of a (possibly huge) model; the runner releases it when done.
        self._kept_in_memory[ds_name] = MemoryDataset(data, copy_mode="assign")

    def load(self, ds_name: str, version: str | None = None) -> Any:
        kept = self._kept_in_memory.get(ds_name)
        if kept is not None and version is None:
            return kept.load()
        return super().load(ds_name, version)

    def exists(self, ds_name: str) -> bool:
        return ds_name in self._kept_in_memory or super().exists(ds_name)

    def release(self, ds_name: str) -> None:
        self._kept_in_memory.pop(ds_name, None)
        super().release(ds_name)


def launcher_trainer_args(trainer_args: dict[str, Any], device_type: str) -> dict[str, Any]:
    """``TrainingArguments`` overrides that make the Trainer join the launcher's processes.

    CUDA needs no backend setting (accelerate picks NCCL). Without CUDA, accelerate only sets up
    DDP when told to train on the CPU (``use_cpu``); otherwise each process would silently train
    a model of its own. The backend is then gloo unless ``ddp_backend`` says otherwise.
    Every parameter of a causal LM takes part in the loss, so DDP need not search for unused
    ones (``ddp_find_unused_parameters``, transformers' default True, costs a graph traversal
    per step) unless set.
    """
    if world_size() <= 1:
        return trainer_args
    args = dict(trainer_args)
    if args.get("ddp_find_unused_parameters") is None:
        args["ddp_find_unused_parameters"] = False
    if device_type != "cuda":
        args["use_cpu"] = True
        if args.get("ddp_backend") is None:
            args["ddp_backend"] = "gloo"
    return args


def check_joined(args: Any) -> None:
    """Fail when launched as several processes but the Trainer trains alone in this one."""
    launched = world_size()
    if launched > 1 and args.world_size != launched:
        raise RuntimeError(
            f"launched as {launched} processes (WORLD_SIZE), but the Trainer set up "
            f"world_size={args.world_size} ({args.parallel_mode}); every process would train a "
            "model of its own. Check ddp_backend and the launcher's environment."
        )
