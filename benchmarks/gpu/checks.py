"""Correctness on the device: packed rows against every example alone, the chunked loss against
the model's own, and each optional fast path (FlexAttention, torch.compile, Liger) against plain
eager. ``loss_rel`` = |loss - reference| / |reference|, ``grad_rel`` = max |grad - reference| /
max |reference| over all parameters."""

from __future__ import annotations

import copy
import importlib.util
import traceback
from dataclasses import dataclass
from typing import Any

from timed_training import compute_loss

from gpu.models import Subject
from llm_finetune.modeling.examples import IGNORE_INDEX
from llm_finetune.pipelines.training.packing import (
    collate_rows,
    isolate_packed_examples,
    pack_rows,
)

# (max loss_rel, max grad_rel) per comparison and precision. fp32: the same maths through other
# kernels (masked vs causal attention); bf16 autocast rounds every matmul input to 8 mantissa bits;
# fused kernels and compiled graphs reorder reductions.
TOLERANCES = {
    "fp32": (1e-4, 1e-3),
    "bf16": (1e-2, 5e-2),
    "fused_fp32": (1e-3, 1e-2),
}
SKIP_NO_CUDA = "skipped (dry run / no CUDA)"


@dataclass
class Check:
    name: str
    status: str  # PASS, FAIL, ERROR or a skip reason
    loss_rel: float | None = None
    grad_rel: float | None = None
    tolerance: tuple[float, float] | None = None


def _grads(model: Any) -> Any:
    import torch

    return torch.cat(
        [p.grad.flatten().float() for p in model.parameters() if p.grad is not None]
    ).cpu()


def _loss_and_grads(model: Any, loss_of: Any, bf16: bool, device: Any) -> tuple[float, Any]:
    import torch

    model.zero_grad(set_to_none=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        loss = loss_of(model)
    loss.backward()
    return float(loss.detach().float()), _grads(model)


def _compare(name: str, reference: tuple, candidate: tuple, tolerance: tuple) -> Check:
    loss_rel = abs(candidate[0] - reference[0]) / max(abs(reference[0]), 1e-12)
    grad_rel = float((candidate[1] - reference[1]).abs().max() / reference[1].abs().max())
    ok = loss_rel <= tolerance[0] and grad_rel <= tolerance[1]
    return Check(name, "PASS" if ok else "FAIL", loss_rel, grad_rel, tolerance)


def check_batch(subject: Subject, device: Any) -> dict[str, Any]:
    """Two packed rows of different lengths (the second ends in a padding segment)."""
    examples = subject.examples[:6]
    rows = pack_rows(examples, examples_per_row=(len(examples) + 1) // 2, seed=None)
    batch = collate_rows(rows, subject.tokenizer.pad_token_id)
    return {key: value.to(device) for key, value in batch.items()}


def one_by_one_loss(model: Any, examples: list[dict], device: Any) -> Any:
    """Mean next-token loss over all labelled tokens, each example run alone (no packing)."""
    import torch

    total, count = 0.0, 0
    for example in examples:
        ids = torch.tensor([example["input_ids"]], device=device)
        labels = torch.tensor([example["labels"]], device=device)
        n = int((labels[:, 1:] != IGNORE_INDEX).sum())
        total = total + model(input_ids=ids, labels=labels).loss * n
        count += n
    return total / count


def correctness_checks(subject: Subject, device: Any, chunk_tokens: int) -> list[Check]:
    """Packed vs one by one and chunked vs plain, in fp32 and bf16 autocast, on ``device``."""
    model = copy.deepcopy(subject.model).to(device).train()
    isolate_packed_examples(model)
    batch = check_batch(subject, device)
    examples = subject.examples[:6]
    checks = []
    for precision, bf16 in (("fp32", False), ("bf16", True)):
        tolerance = TOLERANCES[precision]
        packed = _loss_and_grads(model, lambda m: compute_loss(m, batch, None), bf16, device)
        alone = _loss_and_grads(model, lambda m: one_by_one_loss(m, examples, device), bf16, device)
        checks.append(_compare(f"packed_vs_one_by_one {precision}", alone, packed, tolerance))
        chunked = _loss_and_grads(
            model, lambda m: compute_loss(m, batch, chunk_tokens), bf16, device
        )
        checks.append(_compare(f"chunked_vs_plain {precision}", packed, chunked, tolerance))
    del model
    return checks


def fast_path_check(
    name: str, subject: Subject, device: Any, prepare: Any, chunk_tokens: int | None
) -> Check:
    """Packed loss and gradients of ``prepare(model)`` (a fast path) vs plain eager, fp32."""
    try:
        model = copy.deepcopy(subject.model).to(device).train()
        isolate_packed_examples(model)
        batch = check_batch(subject, device)
        reference = _loss_and_grads(model, lambda m: compute_loss(m, batch, None), False, device)
        fast = prepare(model)
        candidate = _loss_and_grads(
            fast, lambda m: compute_loss(m, batch, chunk_tokens), False, device
        )
        return _compare(name, reference, candidate, TOLERANCES["fused_fp32"])
    except Exception as error:  # an optional fast path: reported, never fatal
        traceback.print_exc()
        return Check(name, f"ERROR: {type(error).__name__}: {str(error)[:120]}")


def compile_model(model: Any) -> Any:
    import torch

    return torch.compile(model)


def flex_model(model: Any) -> Any:
    """FlexAttention: transformers turns the packed position ids into a block mask, so blocks
    across examples are skipped rather than masked (SDPA gets a dense mask per row)."""
    model.set_attn_implementation("flex_attention")
    return model


def liger_model(model: Any) -> Any:
    """Liger kernels on this Llama instance (and, as Liger patches classes, on every Llama built
    after it in this process: the suite runs it last)."""
    from liger_kernel.transformers import apply_liger_kernel_to_llama

    apply_liger_kernel_to_llama(model=model)
    return model


#: Optional fast paths: variant -> (its check against plain eager, how the model is prepared).
FAST_PATH_CHECKS = {
    "full_flex": ("flex_vs_sdpa fp32", flex_model),
    "full_compile": ("compile_vs_eager fp32", compile_model),
    "full_liger": ("liger_vs_plain fp32", liger_model),
}


def liger_skip_reason(device: Any, dry_run: bool, subject: Subject, wanted: bool | None) -> str:
    if dry_run or device.type != "cuda":
        return SKIP_NO_CUDA
    if wanted is False:
        return "skipped (--no-liger)"
    if importlib.util.find_spec("liger_kernel") is None:
        return "skipped: liger-kernel not installed (pip install -e '.[gpu]')"
    if subject.model.config.model_type != "llama":
        return f"skipped: liger-kernel has no {subject.model.config.model_type} patch"
    return ""


def flex_skip_reason(device: Any, dry_run: bool, wanted: bool | None) -> str:
    if dry_run or device.type != "cuda":  # FlexAttention has no backward on the CPU
        return SKIP_NO_CUDA
    if wanted is False:
        return "skipped (--no-flex)"
    return ""


def compile_skip_reason(device: Any, dry_run: bool, wanted: bool | None) -> str:
    if dry_run:
        return SKIP_NO_CUDA
    if wanted is None and device.type != "cuda":
        return SKIP_NO_CUDA
    if wanted is False:
        return "skipped (--no-compile)"
    return ""


def print_checks(checks: list[Check], header: bool = True) -> None:
    if header:
        print(f"{'check':<28}{'loss_rel':>10}{'grad_rel':>10}{'tolerance':>18}  result")
    for check in checks:
        if check.loss_rel is None:
            print(f"{check.name:<28}{'':>38}  {check.status}")
            continue
        tolerance = f"{check.tolerance[0]:.0e}/{check.tolerance[1]:.0e}"
        print(
            f"{check.name:<28}{check.loss_rel:>10.2e}{check.grad_rel:>10.2e}{tolerance:>18}"
            f"  {check.status}"
        )
