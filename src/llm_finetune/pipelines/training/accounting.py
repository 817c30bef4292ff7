"""What a fine-tuning run trained on and what it cost: token and example counts over every process,
parameter counts, training FLOPs per optimizer step, and the ``summary`` of ``training_metrics``.

torch is imported inside the functions (importing this module stays cheap).
"""

from __future__ import annotations

from typing import Any

from llm_finetune.config import TrainingSettings
from llm_finetune.pipelines.training.checkpoints import step_of
from llm_finetune.pipelines.training.packing import EXAMPLES, REAL_TOKENS, SQUARED_TOKENS


def training_summary(
    trainer: Any,
    model: Any,
    settings: TrainingSettings,
    device: Any,
    parameters: dict[str, int],
    counts: dict[str, int],
    resumed_from: str | None,
    train_loss: float,
    wall_time: float,
    step_seconds: float,
) -> dict[str, Any]:
    """The ``summary`` of ``training_metrics``: the finished ``model`` (merged, in eval mode), how
    it trained (``trainer``'s arguments and state), what it trained on (``counts``, all processes
    together, over the steps of this run: since ``resumed_from``, if it resumed) and how long it
    took (``wall_time``, and ``step_seconds`` spent in optimizer steps). ``parameters``: counted
    before LoRA is merged."""
    args = trainer.args
    steps_run = trainer.state.global_step - step_of(resumed_from)
    summary = {
        "architecture": type(model).__name__,
        "model_type": model.config.model_type,
        "device": str(device),
        "precision": "bf16" if args.bf16 else "fp32",
        "method": "lora" if settings.lora.enabled else "full",
        **parameters,
        "memory_footprint_bytes": int(model.get_memory_footprint()),
        "global_step": trainer.state.global_step,
        "resumed_from_checkpoint": resumed_from,
        "packing": settings.packing.to_dict() if settings.packing.enabled else None,
        "chunked_loss": settings.chunked_loss.to_dict() if settings.chunked_loss.enabled else None,
        # Processes that trained together (torchrun / accelerate launch), 1 for a plain run.
        "world_size": args.world_size,
        # Real (non-padding) tokens trained on, all processes together; a resumed run counts its
        # own steps.
        "tokens_trained": counts[REAL_TOKENS],
        "examples_trained": counts[EXAMPLES],
        **step_accounting(model, counts, steps_run),
        "train_loss": float(train_loss),
        "best_eval_loss": trainer.state.best_metric,
        "wall_time_s": round(wall_time, 2),
        "learning_rate": args.learning_rate,
        # Rows (of packed examples, or single examples) per optimizer step, all processes.
        "rows_per_optimizer_step": args.per_device_train_batch_size
        * args.gradient_accumulation_steps
        * args.world_size,
    }
    # Training throughput: optimizer steps only (evaluation and checkpoint saving excluded).
    summary["train_step_seconds"] = round(step_seconds, 2)
    summary["tokens_per_second"] = round(counts[REAL_TOKENS] / max(step_seconds, 1e-9), 1)
    return summary


def sum_over_processes(trainer: Any, value: int) -> int:
    """``value`` summed over the processes of a distributed run (itself in a plain run); a
    collective: every process of a distributed run must call it."""
    import torch

    if trainer.args.world_size <= 1:
        return int(value)
    total = trainer.accelerator.reduce(
        torch.tensor(value, dtype=torch.long, device=trainer.args.device), reduction="sum"
    )
    return int(total.item())


def parameter_counts(model: Any) -> dict[str, int]:
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
