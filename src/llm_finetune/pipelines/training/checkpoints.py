"""Trainer checkpoints of the training pipeline: where a run keeps them (one folder per
parameters, base model and data), resuming an interrupted run, and removing a finished one.

``fine_tune`` calls three functions, in this order: :func:`run_directory`,
:func:`agreed_resume_point` (before the Trainer exists) and :func:`remove_finished_checkpoints`
(once the model is in memory).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from llm_finetune import distributed
from llm_finetune.config import TrainingSettings

logger = logging.getLogger(__name__)


def run_key(
    training: TrainingSettings | Mapping[str, Any], base_model: Any, tokenized_train: pl.DataFrame
) -> str:
    """Identifies a run by its parameters, base model and training data.

    Settings are hashed in the layout of their parameters (``to_dict()``), which is the
    ``params:training`` block itself when every key is given (conf/base gives them all): the same
    key as before the settings were typed, so existing checkpoint folders are still resumed. A
    mapping is hashed as it is.
    """
    parameters = training.to_dict() if isinstance(training, TrainingSettings) else training
    digest = hashlib.sha256()
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    model = base_model.model
    # Identity, not the config dict: training sets runtime flags on the config (use_cache, ...).
    identity = [model.name_or_path, type(model).__name__, model.num_parameters()]
    digest.update(json.dumps(identity).encode())
    digest.update(tokenized_train.hash_rows().to_numpy().tobytes())
    processes = distributed.world_size()
    if processes > 1:  # a distributed run resumes only with as many processes as it started with
        digest.update(f"world_size={processes}".encode())
    return digest.hexdigest()[:16]


def run_directory(
    settings: TrainingSettings, base_model: Any, tokenized_train: pl.DataFrame
) -> Path:
    """Where this run keeps its checkpoints: ``checkpoint_dir/<run key>``.

    Call it once the model to train exists (with LoRA, its adapters are part of the identity).
    """
    return Path(settings.checkpoint_dir) / run_key(settings, base_model, tokenized_train)


def agreed_resume_point(args: Any, run_dir: Path) -> str | None:
    """:func:`resume_point` as every process of a run agrees on it.

    Rank 0 decides first (and may remove a finished run), then the others look: the same decision
    on every rank, never a half-removed directory. ``args``: the run's ``TrainingArguments``.
    """
    with args.main_process_first(local=False, desc="checkpoint lookup"):
        return resume_point(run_dir, args.max_steps, args.process_index == 0)


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


def remove_finished_checkpoints(args: Any, run_dir: Path) -> None:
    """:func:`remove_finished_run`, by the one process that writes checkpoints
    (``args.should_save``); call it once the trained model is in memory."""
    if args.should_save:
        remove_finished_run(run_dir)
