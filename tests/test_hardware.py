"""Device selection and the bfloat16 decision."""

from __future__ import annotations

import sys

import pytest
import torch

from llm_finetune.hardware import fast_bf16_supported, select_device


def test_module_imports_without_torch_at_top():
    source = open(sys.modules["llm_finetune.hardware"].__file__, encoding="utf-8").read()
    top = source.split("\ndef ", 1)[0]
    assert "\nimport torch" not in top.replace("    import torch", "")


def test_select_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert select_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device() == torch.device("cuda")


def test_select_device_here_is_usable():
    device = select_device()
    assert torch.zeros(1, device=device).device.type == device.type


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "mps"])
def test_bf16_never_on_cpu_or_mps(device, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert fast_bf16_supported(device) is False


def test_bf16_follows_cuda_support(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert fast_bf16_supported(torch.device("cuda")) is True
    assert fast_bf16_supported("cuda:0") is True
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert fast_bf16_supported("cuda") is False
