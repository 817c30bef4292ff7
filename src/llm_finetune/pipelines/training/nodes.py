"""Pure functions of the training pipeline: tokenize, fine-tune, plot.

torch/transformers/peft are imported inside the functions: every kedro command imports every
pipeline module, and those imports cost seconds.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from llm_finetune import distributed
from llm_finetune.pipelines.training.checkpoints import (
    remove_finished_run,
    resume_point,
    run_key,
    step_of,
)
from llm_finetune.pipelines.training.packing import (
    EXAMPLES,
    REAL_TOKENS,
    SQUARED_TOKENS,
    RowCollator,
    as_rows,
    isolate_packed_examples,
    pack_rows,
)
from llm_finetune.pipelines.training.tokenization import tokenize_qa
from llm_finetune.plotting import draw_learning_rate, draw_loss_curves, new_figure

logger = logging.getLogger(__name__)


def tokenize_datasets(
    train_qa: pl.DataFrame,
    validation_qa: pl.DataFrame,
    base_model: Any,
    tokenization: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Tokenize the train and validation pairs with answer-only labels and a learned EOS.

    Returns the two tokenized frames (``input_ids``, ``labels``, ``attention_mask``) and counts of
    truncated and dropped (prompt longer than ``max_length``) examples per split. The test split
    is not read here: only evaluation reads it.
    """
    stats: dict[str, Any] = {"max_length": tokenization["max_length"]}
    frames = []
    for split, qa in (("train", train_qa), ("validation", validation_qa)):
        frame, stats[split] = tokenize_qa(qa, base_model.tokenizer, tokenization)
        if frame.height == 0:
            raise ValueError(
                f"no {split} example fits max_length={tokenization['max_length']} tokens; raise "
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
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune with the HF Trainer (full or LoRA), resuming from the last complete checkpoint.

    The validation split drives the eval loss, early stopping and the best checkpoint. The
    returned model carries the project's decoding settings (``params:generation``) in its
    generation config, so its saved ``generation_config.json`` decodes as evaluation and the
    chats do.

    With ``packing.enabled`` several examples share one row, isolated by restarting position ids
    (same loss and gradients as one by one; see ``packing.py``), which removes padding work.

    Checkpoints live in ``checkpoint_dir/<run key>``; the key hashes the parameters and the data,
    so a run started again with the same parameters continues where it stopped. A run that
    finishes removes its checkpoints (a finished run is never resumed).
    Returns the fine-tuned model (LoRA merged into the base weights) and the training metrics.
    """
    import torch
    from transformers import EarlyStoppingCallback, ProgressCallback

    from llm_finetune.datasets.hf_model import ModelAndTokenizer
    from llm_finetune.generation import GenerationSettings, attach_generation_config
    from llm_finetune.hardware import select_device
    from llm_finetune.pipelines.training.callbacks import LossProgressCallback, StepTimer
    from llm_finetune.pipelines.training.trainer import make_trainer_class, training_arguments

    decoding = GenerationSettings.from_params(generation)  # fails before any training
    if training.get("torch_threads"):
        torch.set_num_threads(int(training["torch_threads"]))
    model, tokenizer = base_model.model, base_model.tokenizer
    isolate_packed_examples(model)  # batches carry position ids, never an attention mask
    lora = training["lora"]
    if lora["enabled"]:
        model = _with_lora(model, lora)
    device = select_device()
    run_dir = Path(training["checkpoint_dir"]) / run_key(training, base_model, tokenized_train)
    args = training_arguments(training, str(run_dir), device.type)
    bf16 = args.bf16
    step_timer = StepTimer()
    callbacks = [step_timer]
    if training.get("early_stopping_patience"):
        callbacks.append(EarlyStoppingCallback(training["early_stopping_patience"]))
    distributed.check_joined(args)  # creating the arguments joined the launcher's process group
    # Rank 0 decides (and may remove a finished run) before the others look: the same decision
    # on every rank, never a half-removed directory.
    with args.main_process_first(local=False, desc="checkpoint lookup"):
        resume_from = resume_point(run_dir, args.max_steps, args.process_index == 0)
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
        eval_dataset=as_rows(_as_examples(tokenized_validation)),
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
    counts = {
        name: _sum_over_processes(trainer, value) for name, value in trainer.trained_counts.items()
    }
    steps_run = trainer.state.global_step - step_of(resume_from)
    model = trainer.model
    if trainer.is_fsdp_enabled:  # each process holds a shard of the weights
        model = _gather_sharded_model(trainer, tokenizer, run_dir / "full-model")
    parameters = _parameter_counts(model)
    if lora["enabled"]:
        model = model.merge_and_unload()  # evaluation loads one plain model either way
    model.eval()
    model.config.use_cache = True  # generation wants the KV cache back
    attach_generation_config(model, tokenizer, decoding)
    if args.should_save:  # the model is in memory; a finished run is never resumed
        remove_finished_run(run_dir)
    accounting = step_accounting(model, counts, steps_run)
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
        "tokens_trained": counts[REAL_TOKENS],
        "examples_trained": counts[EXAMPLES],
        **accounting,
        "train_loss": float(result.training_loss),
        "best_eval_loss": trainer.state.best_metric,
        "wall_time_s": round(wall_time, 2),
        "learning_rate": args.learning_rate,
        # Rows (of packed examples, or single examples) per optimizer step, all processes.
        "rows_per_optimizer_step": args.per_device_train_batch_size
        * args.gradient_accumulation_steps
        * args.world_size,
    }
    # Training throughput: optimizer steps only (evaluation and checkpoint saving excluded).
    summary["train_step_seconds"] = round(step_timer.seconds, 2)
    step_seconds = max(step_timer.seconds, 1e-9)
    summary["tokens_per_second"] = round(counts[REAL_TOKENS] / step_seconds, 1)
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


def step_accounting(model: Any, counts: dict[str, int], steps: int) -> dict[str, float]:
    """What one optimizer step trained on, on average, and its training FLOPs.

    ``counts`` are the totals the Trainer saw (real tokens, examples, squared example lengths);
    FLOPs are from :func:`training_flops` with the model's own shapes.
    """
    if steps <= 0:
        return {
            "examples_per_optimizer_step": 0.0,
            "tokens_per_optimizer_step": 0.0,
            "flops_per_optimizer_step": 0.0,
        }
    config = model.config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    flops = training_flops(
        matmul_parameters(model),
        tokens=counts[REAL_TOKENS],
        squared_example_tokens=counts[SQUARED_TOKENS],
        layers=config.num_hidden_layers,
        attention_width=config.num_attention_heads * head_dim,
    )
    return {
        "examples_per_optimizer_step": round(counts[EXAMPLES] / steps, 2),
        "tokens_per_optimizer_step": round(counts[REAL_TOKENS] / steps, 1),
        "flops_per_optimizer_step": float(flops / steps),
    }


def matmul_parameters(model: Any) -> int:
    """Parameters that take part in a matrix multiply per token: all but the input embeddings,
    plus the output projection (counted even when it shares its weights with the input
    embeddings, as SmolLM2's does: the multiply happens either way)."""
    body = model.num_parameters(exclude_embeddings=True)
    head = model.get_output_embeddings()
    embeddings = model.get_input_embeddings()
    tied = head is not None and head.weight is embeddings.weight
    return int(body + (head.weight.numel() if tied else 0))


def training_flops(
    parameters: int,
    tokens: int,
    squared_example_tokens: int,
    layers: int,
    attention_width: int,
) -> float:
    """Training FLOPs (forward + backward) of ``tokens`` tokens, in examples whose squared lengths
    sum to ``squared_example_tokens``.

    ``6 N T`` for the weight multiplies (Kaplan et al.) plus PaLM's attention term,
    ``12 L d_attn t`` per token of an example of length ``t`` (query-key scores and the weighted
    sum of values, forward and backward, without discounting the causal mask), i.e.
    ``12 L d_attn sum(t^2)`` over examples: packed examples attend only to themselves.
    """
    return 6.0 * parameters * tokens + 12.0 * layers * attention_width * squared_example_tokens


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
