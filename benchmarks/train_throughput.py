"""Training throughput: walkthrough style vs the project's default vs LoRA vs token-budget rows.

All variants run in this process on the same real rows (``../shared/data``, tokenized with the
project's answer-only/EOS rules), alternating, ``--repeats`` times each, from a fresh copy of the
same weights. One optimizer step is a warm-up; the next ``--steps`` are timed. Tokens are real
(non-padding) tokens. The training step is the Trainer's (forward, loss / grad-accum, backward,
optimizer step), written out so that only the step is timed (``timed_training.py``).

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
import statistics
from typing import Any

from common import (
    flops_per_token,
    gemm_peak_flops,
    gpu_peak_flops,
    load_base_model,
    model_gemm_shapes,
    project_parameters,
    real_qa_pairs,
    tokenized_examples,
)
from timed_training import (
    full_setup,
    random_init_pythia_70m,
    timed_steps,
    walkthrough_setup,
)

from llm_finetune.config import LoraSettings
from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from llm_finetune.pipelines.training.lora import add_adapters
from llm_finetune.pipelines.training.packing import (
    as_rows,
    isolate_packed_examples,
    pack_rows,
)


def parse_args() -> argparse.Namespace:
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
    return parser.parse_args()


def variants_of(
    examples: list[dict], params: dict[str, Any], pad: int, bf16: bool, budget: int
) -> dict[str, dict[str, Any]]:
    """Variant name -> ``timed_steps`` settings (plus ``lora``), in the order measured."""
    packing = params["packing"]
    packed = pack_rows(examples, packing["examples_per_row"], packing["max_tokens_per_row"], seed=0)
    full = full_setup(params, bf16, packed if packing["enabled"] else as_rows(examples), pad)
    return {
        "walkthrough": walkthrough_setup(examples, pad),
        "full": full,
        "lora": {**full, "lora": True, "lr": params["lora"]["learning_rate"]},
        "full_chunked": {**full, "chunk_tokens": 4096},
        "budget_rows": {**full, "rows": pack_rows(examples, None, budget, seed=0), "grad_accum": 1},
    }


def run_variants(
    model: Any, variants: dict, lora: dict, args: argparse.Namespace, device: Any
) -> dict[str, list[tuple[float, float]]]:
    """(tokens/s, peak MiB) per run of every variant, alternating ``args.repeats`` times (drift
    hits every variant alike), each from a fresh copy of ``model``."""
    import torch

    results: dict[str, list[tuple[float, float]]] = {key: [] for key in variants}
    for _ in range(args.repeats):
        for key, variant in variants.items():
            run_model = copy.deepcopy(model)
            if variant["lora"]:
                run_model = add_adapters(run_model, LoraSettings.from_params(lora))
            settings = {k: v for k, v in variant.items() if k != "lora"}
            results[key].append(timed_steps(run_model, steps=args.steps, device=device, **settings))
            del run_model
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return results


def peak_flops(device: Any, shapes: list, gemm_before: float) -> tuple[float | None, str]:
    """The dense bf16 spec peak on a known GPU; on a CPU the best of the GEMM peak measured
    before and after the variants (load from other processes lowers it and them alike)."""
    import torch

    if device.type == "cuda":
        peak, peak_name = gpu_peak_flops(device)
        return peak, f"{peak_name} dense bf16 spec"
    gemm_after = gemm_peak_flops(device, shapes)
    return max(gemm_before, gemm_after), (
        f"measured fp32 GEMM peak ({torch.get_num_threads()} threads; before the variants "
        f"{gemm_before / 1e9:,.1f}, after {gemm_after / 1e9:,.1f})"
    )


def report(
    results: dict[str, list[tuple[float, float]]], per_token: dict[str, float], peak: float | None
) -> dict[str, float]:
    """Print the variant table; return the median tokens/s per variant."""
    seed_tok_s = statistics.median(r[0] for r in results["walkthrough"])
    print(
        f"{'variant':<13}{'tokens/s':>11}{'x walkthrough':>15}{'peak MiB':>10}"
        f"{'GFLOP/s':>10}{'of peak':>9}"
    )
    medians = {}
    for key, runs in results.items():
        tok_s = medians[key] = statistics.median(r[0] for r in runs)
        memory = max(r[1] for r in runs)
        achieved = tok_s * per_token[key]
        fraction = f"{achieved / peak:.1%}" if peak else ""
        print(
            f"{key:<13}{tok_s:>11,.0f}{tok_s / seed_tok_s:>15.2f}{memory:>10,.0f}"
            f"{achieved / 1e9:>10,.2f}{fraction:>9}"
        )
    return medians


def main() -> None:
    from llm_finetune.hardware import fast_bf16_supported, select_device

    args = parse_args()
    device = select_device()
    params = project_parameters("gpu" if device.type == "cuda" else "base")["training"]
    tokenizer = (base := load_base_model(args.model)).tokenizer
    model = base.model if args.architecture == "smollm2" else random_init_pythia_70m(len(tokenizer))
    isolate_packed_examples(model)
    name = args.model if args.architecture == "smollm2" else "pythia-70m(random-init)"
    max_length = params["tokenization"]["max_length"]
    examples = tokenized_examples(tokenizer, real_qa_pairs()[: args.examples], max_length)
    lengths = [len(e["input_ids"]) for e in examples]
    print(
        f"device={device} model={name} examples={len(examples)} "
        f"mean_tokens={statistics.mean(lengths):.0f}"
    )
    bf16 = fast_bf16_supported(device)
    variants = variants_of(examples, params, tokenizer.pad_token_id, bf16, args.budget)
    shapes = model_gemm_shapes(model.config, tokens=512)
    gemm_before = gemm_peak_flops(device, shapes) if device.type != "cuda" else 0.0
    results = run_variants(model, variants, params["lora"], args, device)
    per_token = {key: flops_per_token(model, lengths, v["lora"]) for key, v in variants.items()}
    peak, peak_name = peak_flops(device, shapes, gemm_before)
    print(f"peak: {peak / 1e9:,.1f} GFLOP/s, {peak_name}" if peak else f"peak: ?, {peak_name}")
    medians = report(results, per_token, peak)
    seed_tok_s = medians["walkthrough"]
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
