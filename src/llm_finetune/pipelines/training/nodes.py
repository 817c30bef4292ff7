"""Node functions of the training pipeline: tokenize, fine-tune, plot.

Each node takes its parameters as Kedro passes them (dicts) and first builds its typed settings
(``llm_finetune.config``), so a bad key fails before any work. ``fine_tune`` reads top to bottom in
nanoGPT's order (model, data, trainer, train, save, summary) through the small helpers below it.
Elsewhere: checkpoint housekeeping in ``checkpoints.py``, LoRA adapters in ``lora.py``, the Trainer
and its arguments in ``trainer.py``, what a run trained on and cost (the summary) in
``accounting.py``.

torch/transformers/peft are imported inside the functions: every kedro command imports every
pipeline module, and those imports cost seconds.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import polars as pl

from llm_finetune import distributed
from llm_finetune.config import (
    LoraSettings,
    PackingSettings,
    TokenizationSettings,
    TrainingSettings,
)
from llm_finetune.config.trainer_arguments import training_arguments
from llm_finetune.datasets.model_dirs import ModelAndTokenizer
from llm_finetune.generation import GenerationSettings
from llm_finetune.hardware import select_device
from llm_finetune.modeling.prompt_format import as_prompt_format
from llm_finetune.pipelines.training import checkpoints
from llm_finetune.pipelines.training.accounting import (
    sum_over_processes,
    training_summary,
)
from llm_finetune.pipelines.training.finished_model import finished_model, training_provenance
from llm_finetune.pipelines.training.lora import add_adapters
from llm_finetune.pipelines.training.packing import (
    RowCollator,
    as_rows,
    isolate_packed_examples,
    pack_rows,
)
from llm_finetune.pipelines.training.tokenization import tokenize_qa
from llm_finetune.pipelines.training.trainer import make_trainer_class
from llm_finetune.plotting import draw_learning_rate, draw_loss_curves, new_figure

logger = logging.getLogger(__name__)


def tokenize_datasets(
    train_qa: pl.DataFrame,
    validation_qa: pl.DataFrame,
    base_tokenizer: Any,
    tokenization: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Tokenize the train and validation pairs with answer-only labels and a learned EOS.

    ``base_tokenizer``: the base model's tokenizer (``base_tokenizer``: no weights are read).
    ``tokenization``: ``params:training.tokenization`` (see :class:`TokenizationSettings`).
    Returns the two tokenized frames (``input_ids``, ``labels``, ``attention_mask``) and counts of
    truncated and dropped (prompt longer than ``max_length``) examples per split. The test split
    is not read here: only evaluation reads it.
    """
    settings = TokenizationSettings.from_params(tokenization)
    stats: dict[str, Any] = {"max_length": settings.max_length}
    frames = []
    for split, qa in (("train", train_qa), ("validation", validation_qa)):
        frame, stats[split] = tokenize_qa(qa, base_tokenizer, settings.to_dict())
        if frame.height == 0:
            raise ValueError(
                f"no {split} example fits max_length={settings.max_length} tokens; raise "
                "training.tokenization.max_length"
            )
        frames.append(frame)
    logger.info("Tokenized: %s", json.dumps(stats))
    return frames[0], frames[1], stats


def fine_tune(
    base_model: Any,
    tokenized_train: pl.DataFrame,
    tokenized_validation: pl.DataFrame,
    training: dict[str, Any],
    generation: dict[str, Any] | None,
    prompt_format: dict[str, Any] | str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune with the HF Trainer (full or LoRA), resuming from the last complete checkpoint.

    ``training``: ``params:training`` (:class:`TrainingSettings`). ``generation``: decoding
    settings the model carries in its ``generation_config.json``. ``prompt_format``: the one the
    data was rendered with (the ``prompt_format`` record; a bare template, or null for the
    default template, is accepted too), saved with the model, its base model and training
    data (``finished_model.py``). The validation split drives the eval loss, early stopping and
    the best checkpoint. A run started again with the same parameters, base model and data
    continues from its checkpoints. Returns the model (LoRA merged) and the training metrics.
    """
    settings = TrainingSettings.from_params(training)
    decoding = GenerationSettings.from_params(generation)  # all three fail before any training
    prompt_format = as_prompt_format(prompt_format)
    _set_threads(settings.torch_threads)
    tokenizer = base_model.tokenizer
    device = select_device()
    settings.check_device(device.type)
    # Model: the base model, isolating packed examples, with LoRA adapters when asked.
    model = _trainable_model(base_model.model, settings.lora, settings.attn_implementation)
    # Data: the training rows (packed or not) and the validation rows.
    train_examples = _as_examples(tokenized_train)
    train_rows = _train_rows(train_examples, settings.packing, seed=settings.trainer.seed)
    validation_rows = as_rows(_as_examples(tokenized_validation))
    # Trainer: its arguments, checkpoint folder and resume point (before the Trainer exists).
    run_dir = checkpoints.run_directory(settings, base_model, tokenized_train)  # after LoRA
    args = training_arguments(settings, str(run_dir), device.type)
    distributed.check_joined(args)  # creating the arguments joined the launcher's process group
    resume_from = checkpoints.agreed_resume_point(args, run_dir)
    trainer, step_timer = _make_trainer(
        model, args, settings, train_rows, validation_rows, tokenizer.pad_token_id
    )
    _check_and_log_plan(trainer, settings, device, len(train_examples), run_dir)
    # Train.
    result, wall_time, counts = _train(trainer, resume_from)
    # Save: one plain model in memory (the catalog writes it); the run's checkpoints go.
    model, parameters = finished_model(trainer, tokenizer, run_dir, settings.lora, decoding)
    checkpoints.remove_finished_checkpoints(args, run_dir)
    # Summary, and the record of what the model was made from (saved with it).
    summary = training_summary(
        trainer,
        model,
        settings,
        device,
        parameters,
        counts,
        resumed_from=resume_from,
        train_loss=result.training_loss,
        wall_time=wall_time,
        step_seconds=step_timer.seconds,
    )
    metrics = {"log_history": trainer.state.log_history, "summary": summary}
    made_from = training_provenance(base_model, tokenized_train)
    return ModelAndTokenizer(model, tokenizer, prompt_format, made_from), metrics


def _train(trainer: Any, resume_from: str | None) -> tuple[Any, float, dict[str, int]]:
    """Train; the Trainer's result, the wall time and what every process trained on, summed."""
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    wall_time = time.perf_counter() - started
    # A collective: every process of a distributed run takes part.
    counts = {name: sum_over_processes(trainer, n) for name, n in trainer.trained_counts.items()}
    return result, wall_time, counts


def _set_threads(torch_threads: int | None) -> None:
    """``training.torch_threads`` (None: torch's default)."""
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)


def _trainable_model(model: Any, lora: LoraSettings, attn_implementation: str | None) -> Any:
    """The model that trains: batches carry position ids and never an attention mask (packed
    examples stay isolated), with ``attn_implementation`` when set and LoRA adapters when
    ``lora.enabled``."""
    if attn_implementation is not None:
        model.set_attn_implementation(attn_implementation)
    isolate_packed_examples(model)
    return add_adapters(model, lora) if lora.enabled else model


def _as_examples(frame: pl.DataFrame) -> list[dict[str, list[int]]]:
    """Rows of the tokenized frame as plain lists (the attention mask is implied: all ones)."""
    return frame.select("input_ids", "labels").to_dicts()


def _train_rows(
    examples: list[dict[str, list[int]]], packing: PackingSettings, seed: int
) -> list[dict[str, list[int]]]:
    """The Trainer's training rows: examples packed (shuffled with the Trainer's ``seed``), or
    one example per row."""
    if not packing.enabled:
        return as_rows(examples)
    return pack_rows(
        examples,
        examples_per_row=packing.examples_per_row,
        max_tokens_per_row=packing.max_tokens_per_row,
        seed=seed,
    )


def _make_trainer(
    model: Any,
    args: Any,
    settings: TrainingSettings,
    train_rows: list,
    validation_rows: list,
    pad_token_id: int,
) -> tuple[Any, Any]:
    """The project's Trainer (chunked loss when asked) with its callbacks: a step timer (returned
    too, for the throughput), early stopping when asked, and the loss progress bar."""
    from transformers import EarlyStoppingCallback, ProgressCallback

    from llm_finetune.pipelines.training.callbacks import LossProgressCallback, StepTimer

    step_timer = StepTimer()
    callbacks = [step_timer]
    if settings.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(settings.early_stopping_patience))
    trainer = make_trainer_class(settings.chunk_tokens)(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=validation_rows,
        data_collator=RowCollator(pad_token_id),
        callbacks=callbacks,
    )
    # The same bar with the loss and learning rate on it, instead of a dict printed per step.
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LossProgressCallback())
    return trainer, step_timer


def _check_and_log_plan(
    trainer: Any, settings: TrainingSettings, device: Any, examples: int, run_dir: Path
) -> None:
    """Log what is about to train; LoRA with FSDP fails (not supported here)."""
    args = trainer.args
    logger.info(
        "Fine-tuning %s on %s (%s, %s) for %d steps, %d examples in %d rows; checkpoints in %s",
        type(trainer.model).__name__,
        device,
        "bf16" if args.bf16 else "fp32",
        "LoRA" if settings.lora.enabled else "full",
        args.max_steps,
        examples,
        len(trainer.train_dataset),
        run_dir,
    )
    if args.fsdp and not trainer.is_fsdp_enabled:
        logger.warning("FSDP needs CUDA devices; training with DDP instead (%s)", device)
    if settings.lora.enabled and trainer.is_fsdp_enabled:
        raise ValueError(
            "LoRA with FSDP is not supported here; use DDP for LoRA (its optimizer state is "
            "small) or FSDP for full fine-tuning"
        )
    if args.world_size > 1:
        logger.info(
            "Distributed training: process rank %d of world size %d (local rank %d, %s, %s)",
            args.process_index,
            args.world_size,
            args.local_process_index,
            args.parallel_mode.value,
            "FSDP" if trainer.is_fsdp_enabled else "DDP",
        )


def plot_loss(training_metrics: dict[str, Any]) -> Any:
    """Training loss per step and eval loss, like the walkthrough's loss plot."""
    figure = new_figure((7, 4))
    draw_loss_curves(figure.subplots(), training_metrics)
    figure.tight_layout()
    return figure


def plot_learning_rate(training_metrics: dict[str, Any]) -> Any:
    """Learning rate schedule per step."""
    figure = new_figure((7, 4))
    draw_learning_rate(figure.subplots(), training_metrics)
    figure.tight_layout()
    return figure
