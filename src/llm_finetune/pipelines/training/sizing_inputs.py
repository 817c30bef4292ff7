"""What the infrastructure sizing starts from: its checked settings
(``params:infrastructure_sizing``, typed by
:class:`llm_finetune.config.InfrastructureSizingSettings`) and each listed model's parameter
count.

transformers and torch are imported inside the functions that build configs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_finetune.config.sizing import COUNT_KEYS, InfrastructureSizingSettings


@dataclass(frozen=True)
class GpuOption:
    """One GPU, or a node of ``count`` of them (memory pooled by sharding)."""

    key: str
    name: str
    count: int
    memory_gb: float  # per GPU, as marketed
    dense_tflops: float  # per GPU: dense (non-sparse) bf16 tensor-core peak
    peak_note: str
    instances: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.name if self.count == 1 else f"{self.count}×{self.name}"

    @property
    def total_memory_gb(self) -> float:
        return self.count * self.memory_gb


class UnavailableModel(ValueError):
    """A listed model whose parameter count cannot be read: its row is marked unavailable."""


#: The sizing's numeric settings (floats for the formulas).
_NUMBERS = ("utilisation", "training_tokens", "overhead_factor", "lora_trainable_fraction")


def check_sizing_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings checked by :class:`InfrastructureSizingSettings` (which fails naming a key
    that is unknown, missing or bad), as the sizing reads them: GPUs as :class:`GpuOption` by
    total memory (stable: at equal memory in the listed order).

    Model entries are only checked for unknown keys here: any other problem with one makes its
    row unavailable (see :func:`count_parameters`), not the whole table.
    """
    checked = InfrastructureSizingSettings.from_params(settings)
    options = [
        GpuOption(
            key=key,
            name=gpu.name,
            count=gpu.count,
            memory_gb=float(gpu.memory_gb),
            dense_tflops=float(gpu.dense_tflops),
            peak_note=gpu.peak_note or "",
            instances=gpu.instances,
        )
        for key, gpu in checked.gpu_settings().items()
    ]
    return {
        **{name: float(getattr(checked, name)) for name in _NUMBERS},
        "models": dict(checked.models),
        "gpus": sorted(options, key=lambda option: option.total_memory_gb),
    }


def count_parameters(entry: Any, model_architecture: Mapping[str, Any]) -> tuple[int, str]:
    """A model entry's parameter count and how it was obtained. Raises :class:`UnavailableModel`
    (or the config loader's own error) when the count cannot be read."""
    if not isinstance(entry, Mapping):
        raise UnavailableModel(f"expected a mapping with one of {list(COUNT_KEYS)}, got {entry!r}")
    given = [key for key in COUNT_KEYS if entry.get(key) not in (None, False)]
    if len(given) != 1:
        raise UnavailableModel(f"needs exactly one of {list(COUNT_KEYS)}, got {given or 'none'}")
    value = entry[given[0]]
    if given[0] == "parameters":
        return positive_count(value), "nominal count (parameters)"
    if given[0] == "from_base_model":
        total = (model_architecture.get("parameters") or {}).get("total")
        if value is not True or total is None:
            raise UnavailableModel("from_base_model must be true, with the base model counted")
        how = f"the loaded base model ({model_architecture.get('model_class')})"
        return positive_count(total), how
    if given[0] == "config_path":
        config = config_from_path(value)
        return count_on_meta_device(config), f"{type(config).__name__} of {value}, built on meta"
    config = config_from_values(value)
    return count_on_meta_device(config), f"{type(config).__name__} in parameters, built on meta"


def config_from_values(values: Any) -> Any:
    """A transformers config from ``model_type`` and its fields. Unknown fields are refused: a
    config would silently keep its default for a misspelt one, and count the wrong model."""
    from transformers import CONFIG_MAPPING

    if not isinstance(values, Mapping):
        raise UnavailableModel(f"config must be a mapping of config fields, got {values!r}")
    fields = dict(values)
    model_type = fields.pop("model_type", None)
    if model_type not in CONFIG_MAPPING:
        raise UnavailableModel(f"unknown config model_type {model_type!r}")
    config_class = CONFIG_MAPPING[model_type]
    known = set(config_class().to_dict()) | set(getattr(config_class, "attribute_map", {}))
    unknown = sorted(set(fields) - known)
    if unknown:
        raise UnavailableModel(f"unknown {config_class.__name__} field(s) {unknown}")
    return config_class(**fields)


def config_from_path(value: Any) -> Any:
    """The config of a local ``config.json`` or model directory (never the network)."""
    from transformers import AutoConfig

    path = Path(str(value)).expanduser()
    if not path.exists():
        raise UnavailableModel(f"config_path {str(path)!r} does not exist")
    return AutoConfig.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)


def count_on_meta_device(config: Any) -> int:
    """Exact parameter count of the causal LM ``config`` describes, built on the ``meta`` device:
    shapes only, no memory and no weights, so even a 70B config counts in about a second."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return int(sum(parameter.numel() for parameter in model.parameters()))  # tied: counted once


def positive_count(value: Any) -> int:
    """``value`` as a whole number of parameters (YAML gives ``7.0e+9`` as a float)."""
    try:
        count = float(value)
    except (TypeError, ValueError):
        raise UnavailableModel(f"parameters must be a positive number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(count) or count < 1:
        raise UnavailableModel(f"parameters must be a positive number, got {value!r}")
    return int(round(count))


def unavailable_reason(error: Exception) -> str:
    """One line saying why a model's count could not be read."""
    if isinstance(error, UnavailableModel):
        return str(error)
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}"[:300]  # transformers' can be pages long
