"""``benchmarks/gpu_suite.py``'s command line: the suite, or with ``--epoch`` one epoch."""

from __future__ import annotations

import argparse

from common import HUB_ROWS

from gpu.checks import FAST_PATH_CHECKS
from gpu.epoch import DRY_EPOCH_ROWS, run_epoch
from gpu.models import SUITE_MODELS
from gpu.suite import run_suite


def parser(description: str) -> argparse.ArgumentParser:
    """The suite's options, then ``--epoch`` and the options only it reads."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--dry-run", action="store_true", help="CPU, tiny random-init models, 2 steps per variant"
    )
    parser.add_argument("--steps", type=int, default=None, help="timed steps (10; dry run 2)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per variant (2; dry 1)")
    parser.add_argument("--examples", type=int, default=None, help="real examples (all; dry 24)")
    fast_paths = (
        ("compile", "measure torch.compile (default: on CUDA)"),
        ("flex", "measure FlexAttention (default: on CUDA; it has no backward on the CPU)"),
        ("liger", "measure Liger kernels (default: on CUDA when liger-kernel is installed)"),
    )
    for name, help_text in fast_paths:
        parser.add_argument(
            f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=help_text
        )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=SUITE_MODELS,
        default=list(SUITE_MODELS),
        help="the models measured, in this order (device_run.sh runs one per process)",
    )
    parser.add_argument(
        "--base-model",
        default=None,
        help="model directory instead of the converted base model; with only config.json and the "
        "tokenizer: that architecture, random init (the GPU machine, benchmarks/device_run.sh)",
    )
    add_epoch_arguments(parser)
    return parser


def add_epoch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--epoch",
        action="store_true",
        help="instead of the suite: one epoch end to end, raw JSONL to a saved model",
    )
    parser.add_argument(
        "--epoch-rows",
        type=int,
        default=None,
        help=f"--epoch: raw rows built ({HUB_ROWS:,}; dry run {DRY_EPOCH_ROWS:,})",
    )
    parser.add_argument(
        "--epoch-variant",
        choices=("auto", "full", *FAST_PATH_CHECKS),
        default="auto",
        help="--epoch: training setup (auto: full_liger where it runs and passes, else full)",
    )
    parser.add_argument(
        "--epoch-output",
        default=None,
        help="--epoch: save the model here (must not exist; default: a temporary directory)",
    )
    parser.add_argument(
        "--tokenize-workers",
        type=int,
        default=None,
        help="--epoch: tokenizing processes (CPU count up to 16; dry run 1)",
    )


def main(description: str) -> int:
    import torch

    from llm_finetune.hardware import select_device

    args = parser(description).parse_args()
    if args.epoch:
        return run_epoch(args)
    device = torch.device("cpu") if args.dry_run else select_device()
    if args.dry_run:  # tiny models: threads only add synchronisation (and stall on a busy machine)
        torch.set_num_threads(1)
    return run_suite(args, device)
