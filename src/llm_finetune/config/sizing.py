"""Typed settings of the infrastructure sizing (``params:infrastructure_sizing``; training
pipeline): memory to serve and to fine-tune each model, the smallest GPU that holds it, example
cloud instances and hours to train ``training_tokens`` tokens on each GPU.

The default models and GPUs are ``sizing_data.py``'s (``DEFAULT_MODELS``, ``DEFAULT_GPUS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from llm_finetune.config.base import POSITIVE_INT, Settings, is_number, rule
from llm_finetune.config.sizing_data import DEFAULT_GPUS, DEFAULT_MODELS

SIZING = "infrastructure_sizing"
#: The keys of a model entry that give its parameter count (exactly one per entry).
COUNT_KEYS = ("parameters", "config", "config_path", "from_base_model")


def _finite_number(low: float, high: float | None = None, at_least: bool = False) -> Any:
    words = f"a number {'at least' if at_least else 'above'} {low}"
    return rule(
        (lambda v: is_number(v) and math.isfinite(v), "a finite number"),
        (lambda v: v >= low if at_least else v > low, words),
        (lambda v: high is None or v <= high, f"a number at most {high}"),
    )


@dataclass(frozen=True)
class SizedModelSettings(Settings):
    """One model of the sizing table (``infrastructure_sizing.models.<name>``): exactly one of the
    count keys (:data:`COUNT_KEYS`). Only unknown keys fail here: an entry whose count cannot be
    read becomes a row marked unavailable, with the reason (``sizing_inputs.count_parameters``)."""

    SECTION = f"{SIZING}.models"
    PIPELINE = "training"

    #: Where the count comes from, shown with the row.
    source: Any = None
    #: A nominal count (e.g. 7.0e+9).
    parameters: Any = None
    #: A transformers config (model_type + its fields), built on the ``meta`` device.
    config: Any = None
    #: A local config.json, or a model directory holding one.
    config_path: Any = None
    #: true: the loaded base model's count (the model_architecture dataset).
    from_base_model: Any = None


@dataclass(frozen=True)
class GpuSettings(Settings):
    """One GPU, or a node of ``count`` of them (``infrastructure_sizing.gpus.<key>``)."""

    SECTION = f"{SIZING}.gpus"
    PIPELINE = "training"
    RULES = {
        "memory_gb": _finite_number(0),
        "dense_tflops": _finite_number(0),
        "count": POSITIVE_INT,
    }

    #: The GPU's name, as shown.
    name: str
    #: Memory per GPU as marketed (GB = 1e9 bytes).
    memory_gb: float
    #: The datasheet's dense (non-sparse) bf16 tensor-core peak per GPU, in TFLOPS.
    dense_tflops: float
    #: GPUs per instance.
    count: int = 1
    #: Shown with the peak (e.g. "SXM").
    peak_note: str | None = None
    #: Example instances (not a recommendation).
    instances: tuple[str, ...] = ()


@dataclass(frozen=True)
class InfrastructureSizingSettings(Settings):
    """What the infrastructure sizing reads (``params:infrastructure_sizing``)."""

    SECTION = SIZING
    PIPELINE = "training"
    RULES = {
        "utilisation": _finite_number(0, 1),
        "training_tokens": _finite_number(0),
        "overhead_factor": _finite_number(1, at_least=True),
        "lora_trainable_fraction": _finite_number(0, 1),
    }

    #: Rows of the table, in this order. Each entry holds exactly one of:
    #:   parameters: a nominal count (e.g. 7.0e+9)
    #:   config: a transformers config (model_type + its fields); the model is built on the `meta`
    #:           device (no memory, no weights) and its parameters are counted exactly
    #:   config_path: a local config.json, or a model directory holding one; counted the same way
    #:   from_base_model: true -- the loaded base model's count (the model_architecture dataset)
    #: and optionally `source`: where the count comes from, shown with the row.
    #: An entry whose count cannot be read (an unloadable config or path, a bad number) becomes a
    #: row marked unavailable, with the reason; the other rows are still built.
    models: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    #: Model FLOPs utilisation (MFU): achieved model FLOPs / the GPU's dense peak. 0.3-0.5 is
    #: typical of well-tuned training; small models and LoRA usually reach less.
    utilisation: float = 0.4
    #: Tokens trained on for the time columns.
    training_tokens: float = 1.0e9
    #: Memory multiplier on top of weights (+ gradients + optimizer state): activations at a
    #: modest batch x sequence, a short KV cache when serving, the CUDA context, allocator
    #: fragmentation.
    overhead_factor: float = 1.2
    #: LoRA / QLoRA adapters as a fraction of the model's parameters (r=16 on every linear layer
    #: of a 7B Llama is ~0.6%; on the attention projections only, less).
    lora_trainable_fraction: float = 0.01
    #: GPUs and 8-GPU nodes the smallest fit is chosen from (by total memory; at equal memory all
    #: are named). Per entry: name, count (GPUs per instance, default 1), memory_gb per GPU as
    #: marketed (GB = 1e9 bytes), dense_tflops: the datasheet's dense (non-sparse) bf16
    #: tensor-core peak per GPU, peak_note (optional, shown), instances: examples, not a
    #: recommendation -- names and availability change.
    gpus: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_GPUS))

    def check(self) -> None:
        for name in ("models", "gpus"):
            if not getattr(self, name):
                self.fail(name, "must map names to entries (at least one)")
        for name, entry in self.models.items():
            if isinstance(entry, dict):  # any other problem: that row is unavailable
                SizedModelSettings.from_params(entry, where=f"{self.key('models')}.{name}")
        self.gpu_settings()

    def gpu_settings(self) -> dict[str, GpuSettings]:
        """The GPUs, checked, by key (in the listed order)."""
        return {
            str(key): GpuSettings.from_params(entry, where=f"{self.key('gpus')}.{key}")
            for key, entry in self.gpus.items()
        }
