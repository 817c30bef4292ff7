"""The training step the throughput benchmarks time (``train_throughput.py`` and the GPU
suite's variants): the Trainer's step (forward, loss / grad-accum, backward, optimizer step)
written out so that only the step is timed, and the setups it is timed with.

The GPU suite's ``--epoch`` trains through the pipeline's Trainer itself
(``gpu/epoch_train.py``); this loop measures steps, not a run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from common import PeakMemory, synchronize

from llm_finetune.pipelines.training.chunked_loss import (
    chunked_causal_lm_loss,
    final_hidden_states,
)
from llm_finetune.pipelines.training.packing import as_rows, collate_rows


def random_init_pythia_70m(vocab_size: int) -> Any:
    """A random-init GPT-NeoX of pythia-70m's size (throughput does not depend on the weights)."""
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    config = GPTNeoXConfig(  # EleutherAI/pythia-70m
        vocab_size=vocab_size,
        hidden_size=512,
        intermediate_size=2048,
        num_hidden_layers=6,
        num_attention_heads=8,
        rotary_pct=0.25,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
    )
    return GPTNeoXForCausalLM(config)


def with_attention_mask(rows: list[dict[str, list[int]]], pad_token_id: int) -> dict[str, Any]:
    """The walkthrough's batches: right padding and an attention mask, no position ids."""
    import torch

    longest = max(len(row["input_ids"]) for row in rows)
    batch = {"input_ids": [], "labels": [], "attention_mask": []}
    for row in rows:
        pad = longest - len(row["input_ids"])
        batch["input_ids"].append(row["input_ids"] + [pad_token_id] * pad)
        batch["labels"].append(row["labels"] + [-100] * pad)
        batch["attention_mask"].append([1] * len(row["input_ids"]) + [0] * pad)
    return {key: torch.tensor(value) for key, value in batch.items()}


def make_optimizer(name: str, parameters: list[Any], lr: float) -> Any:
    import torch
    from transformers.optimization import Adafactor

    if name == "adafactor":  # the Trainer's Adafactor settings
        return Adafactor(parameters, lr=lr, scale_parameter=False, relative_step=False)
    if name in ("adamw_torch_fused", "adamw_torch"):
        return torch.optim.AdamW(parameters, lr=lr, fused=name.endswith("fused"))
    raise ValueError(f"optimizer {name!r} is not benchmarked")


def batches(rows: list[dict], batch_size: int, seed: int) -> Iterator[list[dict]]:
    rng = random.Random(seed)
    while True:
        order = list(range(len(rows)))
        rng.shuffle(order)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [rows[i] for i in order[start : start + batch_size]]


def timed_steps(
    model: Any,
    rows: list[dict],
    collate: Callable[[list[dict]], dict[str, Any]],
    *,
    batch_size: int,
    grad_accum: int,
    optimizer_name: str,
    lr: float,
    bf16: bool,
    steps: int,
    device: Any,
    chunk_tokens: int | None = None,
) -> tuple[float, float]:
    """(real tokens/s, peak MiB) over ``steps`` optimizer steps after one warm-up step."""
    import torch

    model.to(device).train()
    optimizer = make_optimizer(
        optimizer_name, [p for p in model.parameters() if p.requires_grad], lr
    )
    source = batches(rows, batch_size, seed=0)
    tokens = 0
    with PeakMemory(device) as memory:
        for step in range(1 + steps):
            if step == 1:
                synchronize(device)
                started, tokens = time.perf_counter(), 0
            for _ in range(grad_accum):
                rows_in_batch = next(source)
                tokens += sum(len(row["input_ids"]) for row in rows_in_batch)
                batch = {k: v.to(device) for k, v in collate(rows_in_batch).items()}
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    loss = compute_loss(model, batch, chunk_tokens) / grad_accum
                loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        synchronize(device)
        seconds = time.perf_counter() - started
    return tokens / seconds, memory.peak_mib


def compute_loss(model: Any, batch: dict[str, Any], chunk_tokens: int | None) -> Any:
    """The model's own loss, or the project's chunked loss (same value)."""
    if not chunk_tokens:
        return model(**batch).loss
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    hidden = final_hidden_states(model, inputs)
    total, count = chunked_causal_lm_loss(
        hidden, model.get_output_embeddings(), batch["labels"], chunk_tokens
    )
    return total / count


def walkthrough_setup(examples: list[dict], pad_token_id: int) -> dict[str, Any]:
    """The walkthrough's setup: one example per batch with an attention mask, grad-accum 4,
    Adafactor at 1e-5, fp32, the model's own loss."""
    return dict(
        rows=as_rows(examples),
        collate=lambda rows: with_attention_mask(rows, pad_token_id),
        batch_size=1,
        grad_accum=4,
        optimizer_name="adafactor",
        lr=1e-5,
        bf16=False,
        chunk_tokens=None,
        lora=False,
    )


def full_setup(params: dict, bf16: bool, rows: list[dict], pad_token_id: int) -> dict[str, Any]:
    """The project's training setup (``params:training``) on ``rows``: collate with position
    ids, the configured batch, optimizer and learning rate, bf16 where fast, the chunked loss
    when enabled."""
    trainer, chunked = params["trainer"], params["chunked_loss"]
    return dict(
        rows=rows,
        collate=lambda batch_rows: collate_rows(batch_rows, pad_token_id),
        batch_size=trainer["per_device_train_batch_size"],
        grad_accum=trainer["gradient_accumulation_steps"],
        optimizer_name=trainer["optim"],
        lr=trainer["learning_rate"],
        bf16=bf16,
        chunk_tokens=chunked["chunk_tokens"] if chunked["enabled"] else None,
        lora=False,
    )
