"""Training throughput: the variants (walkthrough, the ``--env gpu`` setup, LoRA, the fast
paths), each measured from a fresh copy of the weights (``timed_training.timed_steps``), its
fast-path check first; and the peak FLOP/s that MFU divides by."""

from __future__ import annotations

import copy
import statistics
import time
import traceback
from typing import Any

from common import gemm_peak_flops, gpu_peak_flops, model_gemm_shapes
from timed_training import full_setup, timed_steps, walkthrough_setup

from gpu.checks import (
    FAST_PATH_CHECKS,
    Check,
    compile_model,
    fast_path_check,
    flex_model,
    liger_model,
    print_checks,
)
from gpu.models import Subject
from llm_finetune.config import LoraSettings
from llm_finetune.modeling.examples import IGNORE_INDEX
from llm_finetune.pipelines.training.lora import add_adapters
from llm_finetune.pipelines.training.packing import (
    collate_rows,
    isolate_packed_examples,
    pack_rows,
)


def collate_to_length(length: int, pad_token_id: int) -> Any:
    """Rows padded to ``length`` tokens (a padding segment in the first row): fixed shapes for
    torch.compile; padding is never counted as a real token."""

    def collate(rows: list[dict]) -> dict[str, Any]:
        first, extra = rows[0], length - max(len(row["input_ids"]) for row in rows)
        if extra > 0:
            pad = length - len(first["input_ids"])
            first = {
                "input_ids": first["input_ids"] + [pad_token_id] * pad,
                "labels": first["labels"] + [IGNORE_INDEX] * pad,
                "position_ids": first["position_ids"] + list(range(pad)),
            }
        return collate_rows([first, *rows[1:]], pad_token_id)

    return collate


def throughput_variants(
    subject: Subject, params: dict, bf16: bool, budget: int, rows_per_step: int
) -> dict[str, dict[str, Any]]:
    """Variant name -> ``timed_steps`` settings (plus ``lora`` and ``prepare``), in the order
    measured: the fast paths last."""
    lora = params["lora"]
    pad = subject.tokenizer.pad_token_id
    full = full_setup(params, bf16, pack_rows(subject.examples, None, budget, seed=0), pad)
    full.update(batch_size=min(rows_per_step, len(full["rows"])), prepare=None)
    walkthrough = {**walkthrough_setup(subject.examples, pad), "prepare": None}
    fixed = collate_to_length(budget, pad)  # fixed shapes: neither recompiles per batch
    return {
        "walkthrough": walkthrough,
        "full": full,
        "lora": {**full, "lora": lora, "lr": lora["learning_rate"]},
        "full_flex": {**full, "collate": fixed, "prepare": flex_model},
        "full_compile": {**full, "collate": fixed, "prepare": compile_model},
        "full_liger": {**full, "chunk_tokens": None, "prepare": liger_model},
    }


def measure(
    subject: Subject, variant: dict[str, Any], steps: int, repeats: int, device: Any
) -> tuple[float, float]:
    """(median real tokens/s, max peak MiB) over ``repeats`` runs from a fresh copy."""
    import torch

    runs = []
    for _ in range(repeats):
        model = copy.deepcopy(subject.model)
        isolate_packed_examples(model)
        if variant["lora"]:
            model = add_adapters(model, LoraSettings.from_params(variant["lora"]))
        if variant["prepare"]:
            model = variant["prepare"](model.to(device))
        settings = {k: v for k, v in variant.items() if k not in ("lora", "prepare")}
        runs.append(timed_steps(model, steps=steps, device=device, **settings))
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def measure_variants(
    subject: Subject,
    variants: dict[str, dict[str, Any]],
    skip: dict[str, str],
    checks: list[Check],
    args: Any,
    device: Any,
) -> dict[str, tuple[float, float] | str]:
    """Every variant's (tokens/s, peak MiB), or why it has none; each fast path's check is
    appended to ``checks`` before it is measured. Liger last: it patches classes for good."""
    started = time.perf_counter()
    results: dict[str, tuple[float, float] | str] = {}
    for key in [key for key in variants if key != "full_liger"] + ["full_liger"]:
        if key in FAST_PATH_CHECKS:
            name, prepare = FAST_PATH_CHECKS[key]
            checks.append(
                Check(name, skip[key])
                if skip[key]
                else fast_path_check(name, subject, device, prepare, None)
            )
            print_checks(checks[-1:], header=False)
        if skip.get(key):
            results[key] = skip[key]
            continue
        results[key] = _measured(key, subject, variants[key], args, device)
        result = results[key]
        if not isinstance(result, str):
            result = f"{result[0]:,.0f} tokens/s, peak {result[1]:,.0f} MiB"
        print(f"{key} measured: {result} ({time.perf_counter() - started:.0f} s into training)")
    return results


def _measured(
    key: str, subject: Subject, variant: dict[str, Any], args: Any, device: Any
) -> tuple[float, float] | str:
    """``measure``; an optional fast path that fails is reported, never fatal."""
    try:
        return measure(subject, variant, args.steps, args.repeats, device)
    except Exception as error:
        if key not in FAST_PATH_CHECKS:
            raise
        traceback.print_exc()
        return f"ERROR: {type(error).__name__}"


def mfu_peak(model: Any, device: Any, gemm_tokens: int) -> float:
    """FLOP/s that MFU divides by: the dense bf16 spec peak on a known GPU; otherwise the
    measured GEMM peak at the model's shapes (bf16 on a GPU, fp32 on a CPU)."""
    import torch

    shapes = model_gemm_shapes(model.config, tokens=gemm_tokens)
    if device.type == "cuda":
        peak, gpu_name = gpu_peak_flops(device)
        measured = gemm_peak_flops(device, shapes, dtype=torch.bfloat16)
        peak_name = f"{gpu_name} dense bf16 spec"
        if peak is None:
            peak, peak_name = measured, f"{gpu_name} measured bf16 GEMM peak (not in the table)"
        print(f"measured bf16 GEMM peak at the model's shapes: {measured / 1e12:,.1f} TFLOP/s")
    else:
        peak = gemm_peak_flops(device, shapes)
        peak_name = f"measured fp32 GEMM peak ({torch.get_num_threads()} threads)"
    print(f"peak for MFU: {peak / 1e9:,.1f} GFLOP/s, {peak_name}")
    return peak
