"""Pure functions of the training pipeline: tokenize, fine-tune, report.

torch/transformers/peft are imported inside the functions: every kedro command imports every
pipeline module, and those imports cost seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from llm_finetune import distributed
from llm_finetune.pipelines.training.packing import (
    RowCollator,
    as_rows,
    isolate_packed_examples,
    pack_rows,
)
from llm_finetune.pipelines.training.tokenization import IGNORE_INDEX, tokenize_pair
from llm_finetune.plotting import draw_learning_rate, draw_loss_curves, new_figure

logger = logging.getLogger(__name__)

TOKENIZED_COLUMNS = ("input_ids", "labels", "attention_mask")


def tokenize_datasets(
    train_qa: pl.DataFrame, test_qa: pl.DataFrame, base_model: Any, tokenization: dict[str, Any]
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Tokenize train and test pairs with answer-only labels and a learned EOS.

    Returns the two tokenized frames (``input_ids``, ``labels``, ``attention_mask``) and counts of
    truncated and dropped (prompt longer than ``max_length``) examples per split.
    """
    tokenizer = base_model.tokenizer
    stats: dict[str, Any] = {"max_length": tokenization["max_length"]}
    frames = []
    for split, qa in (("train", train_qa), ("test", test_qa)):
        rows: dict[str, list[list[int]]] = {column: [] for column in TOKENIZED_COLUMNS}
        truncated = dropped = 0
        for prompt, answer in zip(qa["question"], qa["answer"], strict=True):
            example = tokenize_pair(
                tokenizer,
                prompt,
                answer,
                max_length=tokenization["max_length"],
                answer_only_loss=tokenization["answer_only_loss"],
            )
            if example is None:
                dropped += 1
                continue
            truncated += example.truncated
            rows["input_ids"].append(example.input_ids)
            rows["labels"].append(example.labels)
            rows["attention_mask"].append([1] * len(example.input_ids))
        frame = pl.DataFrame(rows, schema={column: pl.List(pl.Int64) for column in rows})
        lengths = frame["input_ids"].list.len()
        stats[split] = {
            "examples": frame.height,
            "truncated": truncated,
            "dropped_prompt_too_long": dropped,
            "tokens": int(lengths.sum()),
            "answer_tokens": int(
                frame["labels"].list.eval((pl.element() != IGNORE_INDEX).sum()).explode().sum()
            ),
            "mean_tokens_per_example": round(float(lengths.mean() or 0.0), 1),
            "max_tokens_per_example": int(lengths.max() or 0),
        }
        frames.append(frame)
    if frames[0].height == 0:
        raise ValueError(
            f"no training example fits max_length={tokenization['max_length']} tokens; raise "
            "training.tokenization.max_length"
        )
    logger.info("Tokenized: %s", json.dumps(stats))
    return frames[0], frames[1], stats


def fine_tune(
    base_model: Any,
    tokenized_train: pl.DataFrame,
    tokenized_test: pl.DataFrame,
    training: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune with the HF Trainer (full or LoRA), resuming from the last complete checkpoint.

    With ``packing.enabled`` several examples share one row, isolated by restarting position ids
    (same loss and gradients as one by one; see ``packing.py``), which removes padding work.

    Checkpoints live in ``checkpoint_dir/<run key>``; the key hashes the parameters and the data,
    so a run started again with the same parameters continues where it stopped.
    Returns the fine-tuned model (LoRA merged into the base weights) and the training metrics.
    """
    import torch
    from transformers import EarlyStoppingCallback, ProgressCallback, TrainingArguments

    from llm_finetune.datasets.hf_model import ModelAndTokenizer
    from llm_finetune.hardware import fast_bf16_supported, select_device
    from llm_finetune.pipelines.training.callbacks import LossProgressCallback, StepTimer
    from llm_finetune.pipelines.training.trainer import make_trainer_class

    if training.get("torch_threads"):
        torch.set_num_threads(int(training["torch_threads"]))
    model, tokenizer = base_model.model, base_model.tokenizer
    isolate_packed_examples(model)  # batches carry position ids, never an attention mask
    trainer_args = dict(training["trainer"])
    lora = training["lora"]
    if lora["enabled"]:
        model = _with_lora(model, lora)
        trainer_args["learning_rate"] = lora["learning_rate"]
    device = select_device()
    bf16 = fast_bf16_supported(device)
    # Under torchrun / accelerate launch: DDP over gloo without CUDA (NCCL with it).
    trainer_args = distributed.launcher_trainer_args(trainer_args, device.type)
    run_dir = Path(training["checkpoint_dir"]) / _run_key(training, base_model, tokenized_train)
    step_timer = StepTimer()
    callbacks = [step_timer]
    if training.get("early_stopping_patience"):
        callbacks.append(EarlyStoppingCallback(training["early_stopping_patience"]))
    args = TrainingArguments(
        output_dir=str(run_dir),
        eval_strategy="steps",
        save_strategy="steps",
        bf16=bf16,
        report_to="none",
        remove_unused_columns=False,
        dataloader_pin_memory=device.type == "cuda",
        **trainer_args,
    )
    distributed.check_joined(args)  # creating the arguments joined the launcher's process group
    # Rank 0 decides (and may remove a finished run) before the others look: the same decision
    # on every rank, never a half-removed directory.
    with args.main_process_first(local=False, desc="checkpoint lookup"):
        resume_from = _resume_point(run_dir, trainer_args["max_steps"], args.process_index == 0)
    packing = training["packing"]
    train_examples = _as_examples(tokenized_train)
    if packing["enabled"]:
        train_rows = pack_rows(
            train_examples,
            examples_per_row=packing["examples_per_row"],
            max_tokens_per_row=packing["max_tokens_per_row"],
            seed=args.seed,
        )
    else:
        train_rows = as_rows(train_examples)
    collator = RowCollator(tokenizer.pad_token_id)
    chunked = training.get("chunked_loss") or {}
    trainer_class = make_trainer_class(chunked["chunk_tokens"] if chunked.get("enabled") else None)
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=as_rows(_as_examples(tokenized_test)),
        data_collator=collator,
        callbacks=callbacks,
    )
    # The same bar with the loss and learning rate on it, instead of a dict printed per step.
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LossProgressCallback())
    logger.info(
        "Fine-tuning %s on %s (%s, %s) for %d steps, %d examples in %d rows; checkpoints in %s",
        type(model).__name__,
        device,
        "bf16" if bf16 else "fp32",
        "LoRA" if lora["enabled"] else "full",
        args.max_steps,
        len(train_examples),
        len(train_rows),
        run_dir,
    )
    if args.fsdp and not trainer.is_fsdp_enabled:
        logger.warning("FSDP needs CUDA devices; training with DDP instead (%s)", device)
    if lora["enabled"] and trainer.is_fsdp_enabled:
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
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    wall_time = time.perf_counter() - started
    # A collective: every process of a distributed run takes part.
    tokens_trained = _sum_over_processes(trainer, trainer.real_tokens_trained)
    model = trainer.model
    if trainer.is_fsdp_enabled:  # each process holds a shard of the weights
        model = _gather_sharded_model(trainer, tokenizer, run_dir / "full-model")
    parameters = _parameter_counts(model)
    if lora["enabled"]:
        model = model.merge_and_unload()  # evaluation loads one plain model either way
    model.eval()
    model.config.use_cache = True  # generation wants the KV cache back
    summary = {
        "architecture": type(model).__name__,
        "model_type": model.config.model_type,
        "device": str(device),
        "precision": "bf16" if bf16 else "fp32",
        "method": "lora" if lora["enabled"] else "full",
        **parameters,
        "memory_footprint_bytes": int(model.get_memory_footprint()),
        "global_step": trainer.state.global_step,
        "resumed_from_checkpoint": resume_from,
        "packing": packing if packing["enabled"] else None,
        "chunked_loss": chunked if chunked.get("enabled") else None,
        # Processes that trained together (torchrun / accelerate launch), 1 for a plain run.
        "world_size": args.world_size,
        # Real (non-padding) tokens trained on, all processes together; a resumed run counts its
        # own steps.
        "tokens_trained": tokens_trained,
        "train_loss": float(result.training_loss),
        "best_eval_loss": trainer.state.best_metric,
        "wall_time_s": round(wall_time, 2),
        "flops_per_optimizer_step": _flops_per_optimizer_step(model, tokenized_train, args),
        "learning_rate": args.learning_rate,
        "effective_batch_size": args.per_device_train_batch_size
        * args.gradient_accumulation_steps
        * args.world_size,
    }
    # Training throughput: optimizer steps only (evaluation and checkpoint saving excluded).
    summary["train_step_seconds"] = round(step_timer.seconds, 2)
    step_seconds = max(step_timer.seconds, 1e-9)
    summary["tokens_per_second"] = round(tokens_trained / step_seconds, 1)
    metrics = {"log_history": trainer.state.log_history, "summary": summary}
    return ModelAndTokenizer(model, tokenizer), metrics


def _with_lora(model: Any, lora: dict[str, Any]) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=lora["target_modules"],  # None: peft's default for the architecture
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _as_examples(frame: pl.DataFrame) -> list[dict[str, list[int]]]:
    """Rows of the tokenized frame as plain lists (the attention mask is implied: all ones)."""
    return frame.select("input_ids", "labels").to_dicts()


def _run_key(training: dict[str, Any], base_model: Any, tokenized_train: pl.DataFrame) -> str:
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


def _resume_point(run_dir: Path, max_steps: int, remove_finished: bool = True) -> str | None:
    """The last complete checkpoint of an interrupted run, or None to start fresh.

    A checkpoint is complete once ``trainer_state.json`` exists (the Trainer writes it last).
    A run that already reached ``max_steps`` is started again from scratch (its directory is
    removed when ``remove_finished``: by the one process that writes checkpoints).
    """
    complete = sorted(
        (path for path in run_dir.glob("checkpoint-*") if (path / "trainer_state.json").is_file()),
        key=_step_of,
    )
    if not complete:
        return None
    last = complete[-1]
    if _step_of(str(last)) >= max_steps:
        logger.info("A finished run with these parameters exists in %s; training again", run_dir)
        if remove_finished:
            shutil.rmtree(run_dir)
        return None
    logger.info("Resuming the interrupted run from %s", last)
    return str(last)


def _step_of(checkpoint: str | Path | None) -> int:
    return int(str(checkpoint).rsplit("-", 1)[1]) if checkpoint else 0


def _sum_over_processes(trainer: Any, value: int) -> int:
    """``value`` summed over the processes of a distributed run (itself in a plain run)."""
    import torch

    if trainer.args.world_size <= 1:
        return int(value)
    total = trainer.accelerator.reduce(
        torch.tensor(value, dtype=torch.long, device=trainer.args.device), reduction="sum"
    )
    return int(total.item())


def _gather_sharded_model(trainer: Any, tokenizer: Any, directory: Path) -> Any:
    """One plain model from the shards an FSDP run leaves on each process.

    Every process takes part in gathering the full weights (a collective); rank 0 writes them to
    ``directory`` in the ``save_pretrained`` layout, and every process loads them back as a plain,
    unsharded model, so the catalog's save on rank 0 and the downstream nodes of every rank get an
    ordinary model.
    """
    from llm_finetune.datasets.hf_model import load_model_dir

    accelerator = trainer.accelerator
    state_dict = accelerator.get_state_dict(trainer.model)  # full weights on rank 0 only
    if trainer.args.should_save:
        shutil.rmtree(directory, ignore_errors=True)
        accelerator.unwrap_model(trainer.model).save_pretrained(
            directory, state_dict=state_dict, safe_serialization=True
        )
        tokenizer.save_pretrained(directory)
    accelerator.wait_for_everyone()
    logger.info("Gathered the FSDP-sharded weights into one model (%s)", directory)
    return load_model_dir(directory, {"dtype": "auto"}).model


def _parameter_counts(model: Any) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total_parameters": int(total), "trainable_parameters": int(trainable)}


def _flops_per_optimizer_step(model: Any, tokenized_train: pl.DataFrame, args: Any) -> int:
    """The walkthrough's estimate: ``floating_point_ops`` of a mean-length batch x grad-accum
    (x the number of processes: an optimizer step trains on every process's batches).

    ``floating_point_ops`` is the Kaplan et al. rule, 6 x tokens x non-embedding parameters.
    """
    mean_tokens = float(tokenized_train["input_ids"].list.len().mean() or 0.0)
    tokens_per_step = mean_tokens * args.per_device_train_batch_size
    flops = 6 * tokens_per_step * model.num_parameters(exclude_embeddings=True)
    return int(flops * args.gradient_accumulation_steps * args.world_size)


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


# Bytes per parameter for the sizing table (activations and KV cache excluded; see notes).
_WEIGHT_BYTES = {"fp32": 4, "bf16": 2}
# AdamW full fine-tuning: weights + gradients + two fp32 moments (+ an fp32 master copy in bf16).
_FULL_FINETUNE_BYTES = {"fp32": 4 + 4 + 8, "bf16": 2 + 2 + 8 + 4}


def build_model_report(
    training_metrics: dict[str, Any], tokenization_stats: dict[str, Any]
) -> dict[str, Any]:
    """Model facts, training cost and a sizing table (memory to run and to fine-tune)."""
    summary = training_metrics["summary"]
    total = summary["total_parameters"]
    eval_losses = [e["eval_loss"] for e in training_metrics["log_history"] if "eval_loss" in e]
    lora_trainable = summary["trainable_parameters"] if summary["method"] == "lora" else None
    sizing = []
    for precision, weight_bytes in _WEIGHT_BYTES.items():
        sizing.append(
            {
                "precision": precision,
                "inference_gib": _gib(total * weight_bytes),
                "full_finetune_adamw_gib": _gib(total * _FULL_FINETUNE_BYTES[precision]),
                # LoRA: frozen weights + AdamW state for the adapters (~1% of weights if unknown).
                "lora_finetune_adamw_gib": _gib(
                    total * weight_bytes + (lora_trainable or total // 100) * 16
                ),
            }
        )
    return {
        **summary,
        "final_eval_loss": eval_losses[-1] if eval_losses else None,
        "tokenization": tokenization_stats,
        "sizing_table": sizing,
        "sizing_notes": (
            "Weights plus optimizer state only; add activations (grow with batch x sequence) "
            "and, for generation, the KV cache. Adafactor (the walkthrough's optimizer) needs "
            "far less optimizer state than AdamW."
        ),
    }


def _gib(num_bytes: float) -> float:
    return round(num_bytes / 2**30, 3)
