"""Infrastructure sizing: memory to serve and to fine-tune each model, the smallest GPU (or 8-GPU
node) that holds it, example cloud instances, and hours to train on each GPU.

The settings are ``params:infrastructure_sizing`` (conf/base/parameters_infrastructure.yml); the
bytes per parameter of each method, and what they include, are :data:`METHODS`.
``sizing_tables.py`` renders the result for people.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from llm_finetune.pipelines.training.sizing_inputs import (
    GpuOption,
    check_sizing_settings,
    count_parameters,
    unavailable_reason,
)

logger = logging.getLogger(__name__)

GB = 1e9  # bytes; GPU memory is compared with the marketed capacity in these units
#: 4-bit NF4 with double quantization (QLoRA, Dettmers et al. 2023): 4 bits per weight plus
#: 0.127 bit of quantization constants (8-bit constants per 64 weights, fp32 per 256 of those).
FOUR_BIT_BYTES = (4 + 0.127) / 8
#: AdamW in mixed precision, per trained parameter: bf16 weights 2 + bf16 gradients 2 + fp32 master
#: weights 4 + fp32 first and second moments 8.
ADAMW_MIXED_BYTES = 2 + 2 + 4 + 8


@dataclass(frozen=True)
class Method:
    """A way to serve or fine-tune: bytes per parameter and training FLOPs per token."""

    key: str
    workload: str  # "serve" or "fine_tune"
    label: str
    frozen_bytes: float  # per parameter of the model
    adapter_bytes: float  # per adapter parameter (lora_trainable_fraction of the model's)
    flops_per_parameter: float | None  # per token trained on; None when serving
    assumption: str


METHODS = (
    Method("fp32", "serve", "fp32", 4, 0, None, "fp32 weights, 4 B"),
    Method("bf16", "serve", "bf16", 2, 0, None, "bf16 weights, 2 B"),
    Method("int8", "serve", "int8", 1, 0, None, "int8 weights, 1 B (per-row scales negligible)"),
    Method(
        "4bit",
        "serve",
        "4-bit",
        FOUR_BIT_BYTES,
        0,
        None,
        "4-bit NF4 weights 0.5 B + quantization constants with double quantization 0.016 B",
    ),
    Method(
        "full_adamw",
        "fine_tune",
        "full, AdamW",
        ADAMW_MIXED_BYTES,
        0,
        6,
        "AdamW, mixed precision: bf16 weights 2 + bf16 gradients 2 + fp32 master weights 4 + "
        "fp32 first and second moments 8 = 16 B",
    ),
    Method(
        "full_adafactor",
        "fine_tune",
        "full, Adafactor",
        8,
        0,
        6,
        "Adafactor without momentum (the transformers default), its second moment factored into "
        "one row and one column of statistics per matrix (~0 B), with fp32 weights 4 + fp32 "
        "gradients 4 (the Trainer keeps fp32 weights under bf16 autocast) = 8 B",
    ),
    Method(
        "lora",
        "fine_tune",
        "LoRA",
        2,
        ADAMW_MIXED_BYTES,
        4,
        "frozen bf16 weights 2 B + adapters (lora_trainable_fraction of the parameters) trained "
        "with AdamW in mixed precision, 16 B each",
    ),
    Method(
        "qlora",
        "fine_tune",
        "QLoRA",
        FOUR_BIT_BYTES,
        ADAMW_MIXED_BYTES,
        4,
        "frozen 4-bit NF4 weights 0.516 B + adapters at 16 B each, as LoRA",
    ),
)


def size_infrastructure(
    model_architecture: dict[str, Any], infrastructure_sizing: dict[str, Any]
) -> pd.DataFrame:
    """One row per model and method (:data:`METHODS`): bytes per parameter, memory, the smallest
    GPU that holds it, example instances, training FLOPs and hours on every GPU that holds it
    (``train_hours_<gpu>``). A model whose count cannot be read gets one row with the reason in
    ``note``, logged; the other rows are built as usual."""
    settings = check_sizing_settings(infrastructure_sizing)
    rows: list[dict[str, Any]] = []
    for name, entry in settings["models"].items():
        label = _label(str(name), entry, model_architecture)
        source = entry.get("source") if isinstance(entry, Mapping) else None
        try:
            parameters, how = count_parameters(entry, model_architecture)
        except Exception as error:  # whatever stops the count, the other rows are still built
            reason = unavailable_reason(error)
            logger.warning("infrastructure_sizing: model %r is unavailable: %s", name, reason)
            note = f"unavailable: {reason}"
            rows.append({"model": label, "parameters_source": source, "note": note})
            continue
        origin = f"{how}; {source}" if source else how
        rows += [_method_row(label, parameters, origin, method, settings) for method in METHODS]
    frame = pd.DataFrame(rows, columns=_columns(settings["gpus"]))
    return frame.astype({"parameters": "Int64", "gpus": "Int64"})


def _method_row(
    model: str, parameters: int, origin: str, method: Method, settings: dict[str, Any]
) -> dict[str, Any]:
    fraction = settings["lora_trainable_fraction"]
    bytes_per_parameter = method.frozen_bytes + method.adapter_bytes * fraction
    memory_gb = parameters * bytes_per_parameter * settings["overhead_factor"] / GB
    gpus: list[GpuOption] = settings["gpus"]
    fitting = [option for option in gpus if option.total_memory_gb >= memory_gb]
    row: dict[str, Any] = {
        "model": model,
        "parameters": parameters,
        "parameters_source": origin,
        "workload": method.workload,
        "method": method.label,
        "method_assumption": method.assumption,
        "bytes_per_parameter": bytes_per_parameter,
        "overhead_factor": settings["overhead_factor"],
        "memory_gb": memory_gb,
    }
    if fitting:
        smallest = [o for o in fitting if o.total_memory_gb == fitting[0].total_memory_gb]
        row["smallest_gpu"] = " / ".join(option.label for option in smallest)
        row["gpus"] = smallest[0].count
        row["smallest_gpu_memory_gb"] = smallest[0].total_memory_gb
        row["example_instances"] = "; ".join(i for o in smallest for i in o.instances)
    else:  # sharded over more GPUs of the largest kind than one node holds
        largest = gpus[-1]
        needed = math.ceil(memory_gb / largest.memory_gb)
        row["smallest_gpu"] = f"multi-node: {needed}×{largest.name}"
        row["note"] = f"more than {largest.label} ({largest.total_memory_gb:g} GB) holds"
    if method.flops_per_parameter is not None:
        flops = method.flops_per_parameter * parameters * settings["training_tokens"]
        row.update(
            flops_per_token_per_parameter=method.flops_per_parameter,
            training_tokens=settings["training_tokens"],
            training_flops=flops,
            utilisation_mfu=settings["utilisation"],
        )
        for option in fitting:
            peak = option.count * option.dense_tflops * 1e12
            row[f"train_hours_{option.key}"] = flops / (peak * settings["utilisation"]) / 3600
    return row


def _columns(gpus: list[GpuOption]) -> list[str]:
    return [
        "model",
        "parameters",
        "parameters_source",
        "workload",
        "method",
        "method_assumption",
        "bytes_per_parameter",
        "overhead_factor",
        "memory_gb",
        "smallest_gpu",
        "gpus",
        "smallest_gpu_memory_gb",
        "example_instances",
        "flops_per_token_per_parameter",
        "training_tokens",
        "training_flops",
        "utilisation_mfu",
        *(f"train_hours_{option.key}" for option in gpus),
        "note",
    ]


def _label(name: str, entry: Any, model_architecture: Mapping[str, Any]) -> str:
    """The row's name; the base model's says which model it is (its folder or hub id)."""
    loaded = Path(str(model_architecture.get("name_or_path") or "")).name
    if isinstance(entry, Mapping) and entry.get("from_base_model") is True and loaded:
        return f"{name} ({loaded})"
    return name
