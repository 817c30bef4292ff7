"""Pick the device to train and evaluate on, and whether bfloat16 pays off there.

``torch`` is imported inside the functions: every ``kedro`` command imports all project modules,
and most of them (``kedro catalog``, ``kedro viz``) never touch a tensor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def select_device() -> torch.device:
    """The best available device: CUDA, then Apple MPS, then CPU."""
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def fast_bf16_supported(device: torch.device | str) -> bool:
    """True only where bfloat16 is a speed-up: a CUDA device whose hardware supports it.

    False on CPU (bfloat16 was measured about 10x slower than float32 on the project's CPU) and on
    MPS (partial support; float32 is the safe default there).
    """
    import torch

    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    return bool(torch.cuda.is_bf16_supported())
