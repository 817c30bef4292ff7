"""Trainer checkpoints of the training pipeline: where a run keeps them (one folder per
parameters, base model and data), resuming an interrupted run, and removing a finished one."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from llm_finetune import distributed

logger = logging.getLogger(__name__)


def run_key(training: dict[str, Any], base_model: Any, tokenized_train: pl.DataFrame) -> str:
    """Identifies a run by its parameters, base model and training data."""
    digest = hashlib.sha256()
    digest.update(json.dumps(training, sort_keys=True, default=str).encode())
    model = base_model.model
    # Identity, not the config dict: training sets runtime flags on the config (use_cache, ...).
    identity = [model.name_or_path, type(model).__name__, model.num_parameters()]
    digest.update(json.dumps(identity).encode())
    digest.update(tokenized_train.hash_rows().to_numpy().tobytes())
    processes = distributed.world_size()
    if processes > 1:  # a distributed run resumes only with as many processes as it started with
        digest.update(f"world_size={processes}".encode())
    return digest.hexdigest()[:16]


def resume_point(run_dir: Path, max_steps: int, remove_finished: bool = True) -> str | None:
    """The last complete checkpoint of an interrupted run, or None to start fresh.

    A checkpoint is complete once ``trainer_state.json`` exists (the Trainer writes it last).
    A run that already reached ``max_steps`` is started again from scratch (its directory is
    removed when ``remove_finished``: by the one process that writes checkpoints).
    """
    complete = sorted(
        (path for path in run_dir.glob("checkpoint-*") if (path / "trainer_state.json").is_file()),
        key=step_of,
    )
    if not complete:
        return None
    last = complete[-1]
    if step_of(str(last)) >= max_steps:
        logger.info("A finished run with these parameters exists in %s; training again", run_dir)
        if remove_finished:
            shutil.rmtree(run_dir)
        return None
    logger.info("Resuming the interrupted run from %s", last)
    return str(last)


def step_of(checkpoint: str | Path | None) -> int:
    return int(str(checkpoint).rsplit("-", 1)[1]) if checkpoint else 0


def remove_finished_run(run_dir: Path) -> None:
    """Delete a finished run's checkpoints (hundreds of MB each): the model is in memory and
    goes to the catalog, and a finished run is never resumed (:func:`resume_point`)."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
        logger.info("Removed the finished run's checkpoints in %s", run_dir)
