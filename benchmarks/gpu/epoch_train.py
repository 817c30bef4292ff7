"""The ``--epoch`` stretch's training, through the training pipeline's own code: the typed
``TrainingSettings`` of ``--env gpu`` (one epoch, no evaluation, no checkpoints), the model
``fine_tune`` trains (``_trainable_model``), its packed rows (``_train_rows``) and its Trainer
(``_make_trainer``: ``ProjectTrainer`` with the chunked loss, the ``RowCollator`` counts, the
Trainer's optimizer and learning-rate schedule). Which variant trains is chosen by the checks."""

from __future__ import annotations

import time
from typing import Any

from common import PeakMemory, synchronize
from transformers import TrainerCallback

from gpu.checks import (
    FAST_PATH_CHECKS,
    Check,
    correctness_checks,
    fast_path_check,
    liger_model,
    liger_skip_reason,
)
from gpu.models import Subject
from llm_finetune.config import TrainingSettings
from llm_finetune.config.trainer_arguments import training_arguments
from llm_finetune.modeling.examples import IGNORE_INDEX

# fine_tune's own helpers (private to nodes.py): the epoch builds exactly what the node builds.
from llm_finetune.pipelines.training.nodes import _make_trainer, _trainable_model
from llm_finetune.pipelines.training.packing import REAL_TOKENS, RowCollator

#: One pass over the packed rows and nothing else in the timed phase (the epoch saves its model
#: itself): no step limit, no best-checkpoint reload; progress printed by :class:`EpochProgress`.
EPOCH_TRAINER = {
    "max_steps": -1,
    "num_train_epochs": 1,
    "load_best_model_at_end": False,
}
LOSS_LOGS = 10  # logged losses over the epoch: the first and the last give first/last_loss


def epoch_settings(
    params: dict[str, Any], variant: str, dry: bool, logging_steps: int = 1
) -> TrainingSettings:
    """``params:training`` of ``--env gpu`` for one epoch of ``variant``, checked by the
    pipeline's typed settings. ``full_liger``: the model's (Liger's fused) loss instead of the
    chunked one; ``full_flex``: FlexAttention; ``full_compile``: the Trainer's torch.compile.
    Dry run: the CPU, one thread, rows of <= 256 tokens, 2 rows per step, 128-token examples."""
    trainer = {**params["trainer"], **EPOCH_TRAINER, "logging_steps": logging_steps}
    training = {**params, "trainer": trainer}
    if variant == "full_liger":
        training["chunked_loss"] = {**params["chunked_loss"], "enabled": False}
    if variant == "full_flex":
        training["attn_implementation"] = "flex_attention"
    if variant == "full_compile":
        trainer["torch_compile"] = True
    if dry:
        trainer.update(per_device_train_batch_size=2, use_cpu=True)
        training["torch_threads"] = 1
        training["packing"] = {**params["packing"], "max_tokens_per_row": 256}
        training["tokenization"] = {**params["tokenization"], "max_length": 128}
    return TrainingSettings.from_params(training, where="training")


def optimizer_steps(rows: int, settings: TrainingSettings) -> int:
    """Optimizer steps of one epoch over ``rows`` rows (the last batch and step may be short)."""
    batches = -(-rows // settings.trainer.per_device_train_batch_size)
    return -(-batches // settings.trainer.gradient_accumulation_steps)


class PaddedRowCollator(RowCollator):
    """The pipeline's collator, every batch padded to ``length`` tokens (one more padding
    segment, no labels): fixed shapes, so torch.compile and FlexAttention do not recompile per
    batch. The counts (real tokens, examples) are the rows' own, padding never counted."""

    def __init__(self, pad_token_id: int, length: int) -> None:
        super().__init__(pad_token_id)
        self.length = length

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        batch = super().__call__(rows)
        rows_in_batch, extra = (
            batch["input_ids"].shape[0],
            self.length - batch["input_ids"].shape[1],
        )
        if extra > 0:
            fill = {"input_ids": self.pad_token_id, "labels": IGNORE_INDEX}
            for key in ("input_ids", "labels", "position_ids"):
                tail = (
                    torch.arange(extra).expand(rows_in_batch, extra)
                    if key == "position_ids"
                    else torch.full((rows_in_batch, extra), fill[key])
                )
                batch[key] = torch.cat([batch[key], tail], dim=1)
        return batch


class EpochProgress(TrainerCallback):
    """Prints progress at every logged loss (a run stopped at its limit keeps it) and keeps the
    logged losses: the first and the last are the epoch's first and last loss."""

    def __init__(self, trainer: Any, device: Any) -> None:
        self.trainer, self.device = trainer, device
        self.losses: list[float] = []
        self.started = time.perf_counter()

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        self.losses.append(float(logs["loss"]))
        tokens = self.trainer.trained_counts[REAL_TOKENS]
        elapsed = time.perf_counter() - self.started
        print(
            f"  progress: {state.global_step:,}/{state.max_steps:,} steps, loss "
            f"{logs['loss']:.4f}, {tokens:,} tokens in {elapsed:.1f} s, "
            f"{tokens / elapsed:,.0f} tokens/s"
        )


def train_epoch(
    model: Any,
    tokenizer: Any,
    rows: list[dict],
    settings: TrainingSettings,
    variant: str,
    device: Any,
) -> dict[str, Any]:
    """Every row once through the pipeline's Trainer, as ``fine_tune`` builds it, without
    evaluation or checkpoints: wall time, real tokens, steps, first and last logged loss, peak
    memory. Returns the trained model too (``model``).

    Measured against the hand-written loop it replaces (dry run, tiny Llama, 395 vs 393 steps of
    2 rows, 1 thread, interleaved on the busy 2-core CPU): 23.3 s vs 21.2 s of training, ~5 ms
    per step more (the Trainer clips gradients, as the pipeline does, and loads batches in its
    workers); on a GPU a step of 16 x 2,048 tokens is far longer than that."""
    import tempfile

    import torch

    from llm_finetune.pipelines.training.callbacks import LossProgressCallback

    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    settings.check_device(device.type)
    model = _trainable_model(model, settings.lora, settings.attn_implementation)
    if variant == "full_liger":
        model = liger_model(model)
    pad = tokenizer.pad_token_id
    with tempfile.TemporaryDirectory(prefix="gpu_suite_epoch_trainer_") as output_dir:
        args = training_arguments(settings, output_dir, device.type)
        args.set_evaluate("no")
        args.set_save("no")
        trainer, step_timer = _make_trainer(model, args, settings, rows, [], pad)
        if variant in ("full_flex", "full_compile"):
            trainer.data_collator = PaddedRowCollator(pad, settings.packing.max_tokens_per_row)
        trainer.remove_callback(LossProgressCallback)  # a bar: the epoch prints lines instead
        progress = EpochProgress(trainer, device)
        trainer.add_callback(progress)
        with PeakMemory(device) as memory:
            started = time.perf_counter()
            trainer.train()
            synchronize(device)
            seconds = time.perf_counter() - started
    return {
        "model": model,
        "trainer": type(trainer).__name__,
        "bf16": args.bf16,
        "seconds": seconds,
        "step_seconds": step_timer.seconds,
        "tokens": trainer.trained_counts[REAL_TOKENS],
        "steps": trainer.state.global_step,
        "first_loss": progress.losses[0] if progress.losses else float("nan"),
        "last_loss": progress.losses[-1] if progress.losses else float("nan"),
        "peak_mib": memory.peak_mib,
    }


def epoch_variant(
    wanted: str, subject: Subject, device: Any, dry_run: bool, liger: bool | None
) -> tuple[str, list[Check]]:
    """The configuration to train with and the checks that allow it: the packed and chunked
    checks always; ``auto`` takes ``full_liger`` where Liger can run and its check passes,
    else ``full``; an explicitly asked fast path falls back to ``full`` when its check fails."""
    checks = correctness_checks(subject, device, chunk_tokens=64)
    if any(c.status != "PASS" for c in checks):
        return "", checks
    if wanted == "auto":
        skip = liger_skip_reason(device, dry_run, subject, liger)
        if skip:
            checks.append(Check("liger_vs_plain fp32", skip))
            return "full", checks
        wanted = "full_liger"
    if wanted == "full":
        return "full", checks
    name, prepare = FAST_PATH_CHECKS[wanted]
    check = fast_path_check(name, subject, device, prepare, None)
    checks.append(check)
    return (wanted if check.status == "PASS" else "full"), checks
