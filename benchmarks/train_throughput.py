"""Training throughput: walkthrough style vs the project's default vs LoRA vs token-budget rows.

All variants run in this process on the same real rows (``../shared/data``, tokenized with the
project's answer-only/EOS rules), alternating, ``--repeats`` times each, from a fresh copy of the
same weights. One optimizer step is a warm-up; the next ``--steps`` are timed. Tokens are real
(non-padding) tokens. The training step is the Trainer's (forward, loss / grad-accum, backward,
optimizer step), written out so that only the step is timed.

- ``walkthrough``: one example per batch with an attention mask, grad-accum 4, Adafactor, fp32.
- ``full``: the project's default for this device (``conf/base`` on CPU, ``conf/gpu`` on CUDA):
  packed rows isolated by position ids, the configured optimizer and precision.
- ``lora``: the same with the configured LoRA adapters.
- ``full_chunked``: ``full`` with the chunked loss forced on (logits only for labelled positions).
- ``budget_rows``: ``--budget``-token packed rows (the GPU-style layout), for comparison.

    .venv/bin/python benchmarks/train_throughput.py [--model SOURCE]
        [--architecture smollm2|pythia-70m] [--steps 3] [--repeats 2]

Model FLOP/s per variant: real tokens/s x training FLOPs per token (6·N plus the attention term,
``accounting.training_flops``; LoRA two thirds of it), against the dense bf16 spec peak on a known
GPU, or on a CPU against the measured fp32 GEMM peak of this machine at the model's shapes
(``torch.mm``, (512 tokens x hidden) @ (hidden x intermediate) and @ (hidden x vocabulary), best of
5, measured before and after the variants): a roofline for the CPU figures.

The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from common import (
    PeakMemory,
    flops_per_token,
    gemm_peak_flops,
    gpu_peak_flops,
    load_base_model,
    model_gemm_shapes,
    project_parameters,
    real_qa_pairs,
    synchronize,
)

from llm_finetune.config import LoraSettings
from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from llm_finetune.pipelines.training.chunked_loss import (
    chunked_causal_lm_loss,
    final_hidden_states,
)
from llm_finetune.pipelines.training.lora import add_adapters
from llm_finetune.pipelines.training.packing import (
    as_rows,
    collate_rows,
    isolate_packed_examples,
    pack_rows,
)
from llm_finetune.pipelines.training.tokenization import tokenize_pair


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


def main() -> None:
    import torch

    from llm_finetune.hardware import fast_bf16_supported, select_device

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_ALIAS, help="base model source")
    parser.add_argument(
        "--architecture",
        default="smollm2",
        choices=["smollm2", "pythia-70m"],
        help="pythia-70m: random-init GPT-NeoX of that size (tokenized with the base tokenizer)",
    )
    parser.add_argument("--steps", type=int, default=3, help="timed optimizer steps per run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--budget", type=int, default=1024, help="tokens per budget row")
    parser.add_argument("--examples", type=int, default=400, help="real examples used")
    args = parser.parse_args()

    device = select_device()
    params = project_parameters("gpu" if device.type == "cuda" else "base")["training"]
    trainer, packing, lora = params["trainer"], params["packing"], params["lora"]
    bf16 = fast_bf16_supported(device)
    base = load_base_model(args.model)
    tokenizer = base.tokenizer
    model = base.model if args.architecture == "smollm2" else random_init_pythia_70m(len(tokenizer))
    isolate_packed_examples(model)
    name = args.model if args.architecture == "smollm2" else "pythia-70m(random-init)"
    examples = []
    for prompt, answer in real_qa_pairs()[: args.examples]:
        example = tokenize_pair(tokenizer, prompt, answer, params["tokenization"]["max_length"])
        if example is not None:
            examples.append({"input_ids": example.input_ids, "labels": example.labels})
    mean_tokens = statistics.mean(len(e["input_ids"]) for e in examples)
    print(f"device={device} model={name} examples={len(examples)} mean_tokens={mean_tokens:.0f}")

    pad = tokenizer.pad_token_id
    packed = pack_rows(examples, packing["examples_per_row"], packing["max_tokens_per_row"], seed=0)
    default_rows = packed if packing["enabled"] else as_rows(examples)
    variants = {
        "walkthrough": dict(
            rows=as_rows(examples),
            collate=lambda rows: with_attention_mask(rows, pad),
            batch_size=1,
            grad_accum=4,
            optimizer_name="adafactor",
            lr=1e-5,
            bf16=False,
            lora=False,
            chunk_tokens=None,
        ),
        "full": dict(
            rows=default_rows,
            collate=lambda rows: collate_rows(rows, pad),
            batch_size=trainer["per_device_train_batch_size"],
            grad_accum=trainer["gradient_accumulation_steps"],
            optimizer_name=trainer["optim"],
            lr=trainer["learning_rate"],
            bf16=bf16,
            lora=False,
            chunk_tokens=params["chunked_loss"]["chunk_tokens"]
            if params["chunked_loss"]["enabled"]
            else None,
        ),
    }
    variants["lora"] = {**variants["full"], "lora": True, "lr": lora["learning_rate"]}
    variants["full_chunked"] = {**variants["full"], "chunk_tokens": 4096}
    variants["budget_rows"] = {
        **variants["full"],
        "rows": pack_rows(examples, None, args.budget, seed=0),
        "grad_accum": 1,
    }
    results: dict[str, list[tuple[float, float]]] = {key: [] for key in variants}
    # The CPU's GEMM peak, before and after the variants (best of both): load from other
    # processes lowers it and the variants alike.
    shapes = model_gemm_shapes(model.config, tokens=512)
    gemm_before = gemm_peak_flops(device, shapes) if device.type != "cuda" else 0.0
    for _ in range(args.repeats):
        for key, variant in variants.items():  # alternating: drift hits every variant alike
            run_model = copy.deepcopy(model)
            if variant["lora"]:
                run_model = add_adapters(run_model, LoraSettings.from_params(lora))
            settings = {k: v for k, v in variant.items() if k != "lora"}
            results[key].append(timed_steps(run_model, steps=args.steps, device=device, **settings))
            del run_model
            if device.type == "cuda":
                torch.cuda.empty_cache()

    lengths = [len(e["input_ids"]) for e in examples]
    per_token = {key: flops_per_token(model, lengths, v["lora"]) for key, v in variants.items()}
    if device.type == "cuda":
        peak, peak_name = gpu_peak_flops(device)
        peak_name = f"{peak_name} dense bf16 spec"
    else:
        gemm_after = gemm_peak_flops(device, shapes)
        peak = max(gemm_before, gemm_after)
        peak_name = (
            f"measured fp32 GEMM peak ({torch.get_num_threads()} threads; before the variants "
            f"{gemm_before / 1e9:,.1f}, after {gemm_after / 1e9:,.1f})"
        )
    print(f"peak: {peak / 1e9:,.1f} GFLOP/s, {peak_name}" if peak else f"peak: ?, {peak_name}")
    seed_tok_s = statistics.median(r[0] for r in results["walkthrough"])
    print(
        f"{'variant':<13}{'tokens/s':>11}{'x walkthrough':>15}{'peak MiB':>10}"
        f"{'GFLOP/s':>10}{'of peak':>9}"
    )
    medians = {}
    for key, runs in results.items():
        tok_s = statistics.median(r[0] for r in runs)
        medians[key] = tok_s
        memory = max(r[1] for r in runs)
        achieved = tok_s * per_token[key]
        fraction = f"{achieved / peak:.1%}" if peak else ""
        print(
            f"{key:<13}{tok_s:>11,.0f}{tok_s / seed_tok_s:>15.2f}{memory:>10,.0f}"
            f"{achieved / 1e9:>10,.2f}{fraction:>9}"
        )
    print(
        f"device={device.type} model={name} seed_tok_s={seed_tok_s:.1f} "
        f"full_tok_s={medians['full']:.1f} lora_tok_s={medians['lora']:.1f} "
        f"speedup={medians['full'] / seed_tok_s:.2f} "
        f"lora_speedup={medians['lora'] / seed_tok_s:.2f} "
        f"peak_gflop_s={(peak or 0) / 1e9:.1f} "
        f"full_of_peak={(medians['full'] * per_token['full'] / peak) if peak else 0:.3f}"
    )


if __name__ == "__main__":
    main()
