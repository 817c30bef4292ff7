"""The suite proper: per model, the correctness checks, generation, the throughput variants,
MFU, and one machine-readable line."""

from __future__ import annotations

import argparse
import statistics
import time
import traceback
from typing import Any

from common import flops_per_token, project_parameters, real_qa_pairs

from gpu.checks import (
    FAST_PATH_CHECKS,
    SKIP_NO_CUDA,
    Check,
    compile_skip_reason,
    correctness_checks,
    flex_skip_reason,
    liger_skip_reason,
    print_checks,
)
from gpu.generation import generation_comparison, print_generation
from gpu.models import Subject, subjects
from gpu.variants import measure_variants, mfu_peak, throughput_variants

Results = dict[str, tuple[float, float] | str]


def suite_settings(dry: bool) -> dict[str, Any]:
    """The ``kedro run --env gpu`` training and generation setup, shrunk for a dry run."""
    gpu = project_parameters("gpu")
    params, generation = gpu["training"], gpu["generation"]
    return {
        "params": params,
        "budget": 256 if dry else params["packing"]["max_tokens_per_row"],
        "rows_per_step": 2 if dry else params["trainer"]["per_device_train_batch_size"],
        "check_chunk_tokens": 64,  # several chunks even for the check's few examples
        "max_new_tokens": 8 if dry else 64,
        "gen_batch": 4 if dry else generation["batch_size"],
        "gen_max_batch_tokens": generation.get("max_batch_tokens"),
        "gemm_tokens": 1024 if dry else 4096,
        "max_length": 128 if dry else params["tokenization"]["max_length"],
    }


def run_suite(args: argparse.Namespace, device: Any) -> int:
    """Every model asked, one after another; the machine-readable lines last."""
    import torch

    dry = args.dry_run
    args.steps = args.steps or (2 if dry else 10)
    args.repeats = args.repeats or (1 if dry else 2)
    settings = suite_settings(dry)
    pairs = real_qa_pairs()[: args.examples or (24 if dry else None)]
    settings["prompts"] = [prompt for prompt, _ in pairs[: 4 if dry else 32]]
    started = time.perf_counter()
    if dry:
        print(f"dry run: CPU, tiny random-init models; CUDA-only parts: {SKIP_NO_CUDA}")
    print(f"torch {torch.__version__}, device {device}, {len(pairs)} real pairs")
    outcomes = []
    chosen = subjects(dry, pairs, settings["max_length"], args.base_model, tuple(args.models))
    for subject in chosen:
        try:  # one model's failure must not cost the other model's figures
            outcomes.append(run_subject(subject, args, device, settings))
        except Exception as error:
            traceback.print_exc()
            line = f"FAILED device={device.type} model={subject.name} error={type(error).__name__}"
            outcomes.append({"line": line, "core_failed": True})
    print(f"\nsuite wall time: {time.perf_counter() - started:.1f} s")
    for outcome in outcomes:
        print(outcome["line"])
    return 1 if any(outcome["core_failed"] for outcome in outcomes) else 0


def run_subject(subject: Subject, args: argparse.Namespace, device: Any, settings: dict) -> dict:
    """One model: checks, generation, throughput, MFU; {"line": ..., "core_failed": ...}."""
    from llm_finetune.hardware import fast_bf16_supported

    lengths = [len(e["input_ids"]) for e in subject.examples]
    attention = getattr(subject.model.config, "_attn_implementation", None)
    print(
        f"\n== model={subject.name} device={device.type} attention={attention} "
        f"parameters={subject.model.num_parameters():,} examples={len(lengths)} "
        f"mean_tokens={statistics.mean(lengths):.0f}"
    )
    timings: dict[str, float] = {}
    section = time.perf_counter()
    checks = correctness_checks(subject, device, chunk_tokens=settings["check_chunk_tokens"])
    timings["checks"] = time.perf_counter() - section
    print_checks(checks)  # each figure as soon as it exists: a run stopped at its limit keeps them
    bf16 = fast_bf16_supported(device)
    variants = throughput_variants(
        subject, settings["params"], bf16, settings["budget"], settings["rows_per_step"]
    )
    # Generation before Liger: Liger patches the Llama classes for the rest of the process.
    section = time.perf_counter()
    generation = generation_comparison(
        subject,
        device,
        settings["prompts"],
        settings["max_new_tokens"],
        settings["gen_batch"],
        settings["gen_max_batch_tokens"],
    )
    timings["generation"] = time.perf_counter() - section
    print_generation(generation, settings)
    section = time.perf_counter()
    skip = skip_reasons(subject, args, device)
    results = measure_variants(subject, variants, skip, checks, args, device)
    timings["training"] = time.perf_counter() - section
    peak = mfu_peak(subject.model, device, settings["gemm_tokens"])
    lora = {key: bool(variant["lora"]) for key, variant in variants.items()}
    summary = summarise(subject, lengths, results, lora, checks, peak)
    print("section seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    core_failed = any(
        c.status != "PASS" for c in checks if c.name.startswith(("packed", "chunked"))
    )
    return {
        "line": machine_line(subject, device, summary, checks, generation),
        "core_failed": core_failed,
    }


def skip_reasons(subject: Subject, args: argparse.Namespace, device: Any) -> dict[str, str]:
    """Fast-path variant -> why it is not measured here ("" where it is)."""
    return {
        "full_flex": flex_skip_reason(device, args.dry_run, args.flex),
        "full_compile": compile_skip_reason(device, args.dry_run, args.compile),
        "full_liger": liger_skip_reason(device, args.dry_run, subject, args.liger),
    }


def summarise(
    subject: Subject,
    lengths: list[int],
    results: Results,
    lora: dict[str, bool],
    checks: list[Check],
    peak: float,
) -> dict[str, Any]:
    """Print the variant table (tokens/s, x walkthrough, memory, MFU, check) and the fastest
    full-setup variant whose checks passed; return the figures the machine line takes."""
    check_of = {"full": ("packed", "chunked")} | {
        key: name.split("_")[0] for key, (name, _) in FAST_PATH_CHECKS.items()
    }
    passed = {
        key: all(c.status == "PASS" for c in checks if c.name.startswith(prefix))
        for key, prefix in check_of.items()
    }
    seed = results["walkthrough"][0]
    print(
        f"{'variant':<14}{'tokens/s':>11}{'x walkthrough':>15}{'peak MiB':>10}"
        f"{'GFLOP/s':>10}{'MFU':>8}  check"
    )
    mfu = {}
    for key, result in results.items():
        if isinstance(result, str):
            print(f"{key:<14}  {result}")
            continue
        tok_s, memory = result
        achieved = tok_s * flops_per_token(subject.model, lengths, lora=lora[key])
        mfu[key] = achieved / peak
        check = ("passed" if passed[key] else "FAILED") if key in passed else ""
        print(
            f"{key:<14}{tok_s:>11,.0f}{tok_s / seed:>15.2f}{memory:>10,.0f}"
            f"{achieved / 1e9:>10,.2f}{mfu[key]:>8.1%}  {check}"
        )
    measured = {k: r[0] for k, r in results.items() if not isinstance(r, str)}
    candidates = [k for k in check_of if k in measured and passed[k]]
    fastest = max(candidates, key=measured.get, default="")
    print(f"fastest full-setup variant passing its checks: {fastest or 'none'}")
    full_peak_mib = results["full"][1]
    return {
        "seed": seed,
        "measured": measured,
        "mfu": mfu,
        "fastest": fastest,
        "full_peak_mib": full_peak_mib,
    }


def machine_line(
    subject: Subject, device: Any, summary: dict, checks: list[Check], generation: dict
) -> str:
    """``device=... model=... seed_tok_s=... full_tok_s=... lora_tok_s=... speedup=... mfu=...``
    and more keys after (device_run.sh and device_bundle.py read them)."""
    seed, measured, mfu, fastest = (summary[k] for k in ("seed", "measured", "mfu", "fastest"))
    return (
        f"device={device.type} model={subject.name} seed_tok_s={seed:.1f} "
        f"full_tok_s={measured['full']:.1f} lora_tok_s={measured['lora']:.1f} "
        f"speedup={measured['full'] / seed:.2f} mfu={mfu['full']:.4f} "
        f"lora_speedup={measured['lora'] / seed:.2f} seed_mfu={mfu['walkthrough']:.4f} "
        f"fastest={fastest or 'none'} fastest_tok_s={measured.get(fastest, 0.0):.1f} "
        f"full_peak_mib={summary['full_peak_mib']:.0f} "
        f"checks_passed={all(c.status == 'PASS' for c in checks if c.status in ('PASS', 'FAIL'))} "
        f"gen_single_answers_s={generation['one_at_a_time_answers_s']:.3f} "
        f"gen_batched_answers_s={generation['batched_answers_s']:.3f} "
        f"identical={generation['identical']}"
    )
