"""``--epoch``: one training epoch end to end, raw JSONL -> data engineering -> tokenize ->
pack -> checks -> train (the pipeline's Trainer, ``epoch_train``) -> save, timed per phase
against the 3-minute target; the last line machine-readable."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import HUB_ROWS, load_benchmark_model, project_parameters, real_qa_pairs

from gpu.checks import print_checks
from gpu.epoch_data import (
    build_distinct_input,
    engineer_train_qa,
    print_engineered,
    print_tokenized,
    tokenize_parallel,
)
from gpu.epoch_train import (
    LOSS_LOGS,
    epoch_settings,
    epoch_variant,
    optimizer_steps,
    train_epoch,
)
from gpu.models import Subject, tiny_llama_on_real_rows
from llm_finetune.pipelines.training.nodes import _as_examples, _train_rows

EPOCH_TARGET_S = 180
DRY_EPOCH_ROWS = 2_000
EPOCH_PHASES = (
    "build input",
    "data engineering",
    "tokenize",
    "pack",
    "load model",
    "checks",
    "train",
    "save",
)


class PhaseClock:
    """Seconds per phase: each call closes the phase that ran since the previous call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name], self._last = now - self._last, now


def run_epoch(args: argparse.Namespace) -> int:
    """One epoch end to end: raw JSONL -> data engineering -> tokenize -> pack -> train -> save."""
    import torch

    from llm_finetune.hardware import select_device

    dry = args.dry_run
    device = torch.device("cpu") if dry else select_device()
    if dry:  # a tiny model: threads only add synchronisation (and stall on a busy machine)
        torch.set_num_threads(1)
    input_rows = args.epoch_rows or (DRY_EPOCH_ROWS if dry else HUB_ROWS)
    workers = args.tokenize_workers or (1 if dry else min(os.cpu_count() or 1, 16))
    params = project_parameters("gpu")["training"]  # the `kedro run --env gpu` setup
    print(
        f"epoch: {input_rows:,} raw rows, device {device}, torch {torch.__version__}, "
        f"tokenize workers {workers}" + (" (dry run: tiny random-init Llama)" if dry else "")
    )
    phase = PhaseClock()
    with tempfile.TemporaryDirectory(prefix="gpu_suite_epoch_") as tmp:
        data = prepared_data(Path(tmp), input_rows, workers, params, args, phase)
        subject = Subject(data["name"], data["model"], data["tokenizer"], data["examples"][:6])
        variant, checks = epoch_variant(args.epoch_variant, subject, device, dry, args.liger)
        phase("checks")
        print_checks(checks)
        if not variant:
            print("FAILED: a packed or chunked check failed; no epoch trained", file=sys.stderr)
            return 1
        steps = optimizer_steps(len(data["rows"]), data["settings"])
        settings = epoch_settings(params, variant, dry, max(1, steps // LOSS_LOGS))
        result = train_epoch(
            data["model"], data["tokenizer"], data["rows"], settings, variant, device
        )
        phase("train")
        print_trained(variant, settings, result)
        loads = save_and_reload(
            result["model"], data["tokenizer"], args.epoch_output, Path(tmp), phase
        )
    print_phases(phase.seconds)
    print(machine_line(device, data, result, phase.seconds, variant, input_rows, loads, dry))
    return 0 if loads else 1


def prepared_data(
    tmp: Path, input_rows: int, workers: int, params: dict, args: argparse.Namespace, phase: Any
) -> dict[str, Any]:
    """The phases before the checks: build input, data engineering, load model, tokenize, pack
    (the pipeline's packing of ``--env gpu``, ``epoch_settings``)."""
    dry = args.dry_run
    settings = epoch_settings(params, "full", dry)  # tokenizing and packing: every variant's
    source = tmp / "dialogues.jsonl"
    build_distinct_input(source, input_rows)
    phase("build input")
    train_qa, report = engineer_train_qa(source)
    phase("data engineering")
    print_engineered(source, report)
    if dry:
        tokenizer, model = tiny_llama_on_real_rows(real_qa_pairs())
        name = "tiny-llama(random-init)"
    else:
        name, base = load_benchmark_model(args.base_model)
        tokenizer, model = base.tokenizer, base.model
    phase("load model")
    tokenization = settings.tokenization.to_dict()
    frame, stats = tokenize_parallel(train_qa, tokenizer, tokenization, workers)
    phase("tokenize")
    print_tokenized(stats)
    examples = _as_examples(frame)
    del frame
    rows = _train_rows(examples, settings.packing, seed=settings.trainer.seed)
    phase("pack")
    print(f"packed: {len(rows):,} rows of <= {settings.packing.max_tokens_per_row:,} tokens")
    return {
        "name": name,
        "model": model,
        "tokenizer": tokenizer,
        "examples": examples,
        "rows": rows,
        "stats": stats,
        "settings": settings,
    }


def print_trained(variant: str, settings: Any, result: dict[str, Any]) -> None:
    trainer = settings.trainer
    print(
        f"trained ({variant}, {result['trainer']}, bf16={result['bf16']}, {trainer.optim}, "
        f"{trainer.per_device_train_batch_size} rows x {trainer.gradient_accumulation_steps} per "
        f"step, {'chunked' if settings.chunk_tokens else 'model'} loss): "
        f"{result['steps']:,} optimizer steps, loss {result['first_loss']:.3f} (first steps) -> "
        f"{result['last_loss']:.3f} (last), peak {result['peak_mib']:,.0f} MiB"
    )


def save_and_reload(model: Any, tokenizer: Any, output: str | None, tmp: Path, phase: Any) -> bool:
    """Save as the catalog saves a model (``save_model_atomically``, timed as ``save``); True
    when the directory is complete and loads with as many parameters (not timed)."""
    from llm_finetune.datasets.model_dirs import (
        ModelAndTokenizer,
        is_complete_model_dir,
        load_model_dir,
        save_model_atomically,
    )

    model.config.use_cache = True  # as the training node leaves it: generation wants it
    directory = Path(output) if output else tmp / "epoch_model"
    save_model_atomically(ModelAndTokenizer(model, tokenizer), directory)
    phase("save")
    loads = is_complete_model_dir(directory)
    if loads:
        loads = load_model_dir(directory).model.num_parameters() == model.num_parameters()
    print(f"saved model: {directory if output else 'a temporary directory'}")
    return loads


def print_phases(seconds: dict[str, float]) -> None:
    total = sum(seconds.values())
    print(f"\n{'phase':<18}{'seconds':>9}{'share':>8}")
    for key in EPOCH_PHASES:
        print(f"{key:<18}{seconds[key]:>9.2f}{seconds[key] / total:>8.1%}")
    print(f"{'total':<18}{total:>9.2f}")


def machine_line(
    device: Any,
    data: dict[str, Any],
    result: dict[str, Any],
    seconds: dict[str, float],
    variant: str,
    input_rows: int,
    loads: bool,
    dry: bool,
) -> str:
    """``device=... epoch_rows=... epoch_tokens=... epoch_s=... train_tok_s=... target_s=180
    met=...`` and more keys after (device_run.sh and RESULTS.md read them)."""
    total = sum(seconds.values())
    met = total <= EPOCH_TARGET_S and not dry
    return (
        f"device={device.type} epoch_rows={data['stats']['examples']} "
        f"epoch_tokens={result['tokens']} epoch_s={total:.1f} "
        f"train_tok_s={result['tokens'] / result['seconds']:.1f} target_s={EPOCH_TARGET_S} "
        f"met={met} model={data['name']} variant={variant} input_rows={input_rows} "
        f"train_s={result['seconds']:.1f} steps={result['steps']} "
        f"first_loss={result['first_loss']:.4f} last_loss={result['last_loss']:.4f} "
        f"saved_loads={loads} trainer={result['trainer']}"
    )
