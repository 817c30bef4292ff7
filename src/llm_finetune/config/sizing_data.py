"""The infrastructure sizing's default models and GPUs (``infrastructure_sizing.models`` and
``.gpus``; :class:`llm_finetune.config.sizing.InfrastructureSizingSettings`). Data only."""

from __future__ import annotations

from typing import Any


def _nominal(parameters: float, source: str = "nominal size class") -> dict[str, Any]:
    return {"source": source, "parameters": parameters}


DEFAULT_MODELS: dict[str, Any] = {
    "pythia-70m": {
        "source": "EleutherAI/pythia-70m, the walkthrough's model (the values of its config.json)",
        "config": {
            "model_type": "gpt_neox",
            "hidden_size": 512,
            "num_hidden_layers": 6,
            "num_attention_heads": 8,
            "intermediate_size": 2048,
            "vocab_size": 50304,
            "max_position_embeddings": 2048,
            "tie_word_embeddings": False,
        },
    },
    "base_model": {"from_base_model": True},
    "410M": _nominal(4.1e8, "nominal size class (pythia-410m has 405M)"),
    "1B": _nominal(1.0e9),
    "3B": _nominal(3.0e9),
    "7B": _nominal(7.0e9, "nominal size class (Llama-2-7B has 6.74B)"),
    "13B": _nominal(1.3e10, "nominal size class (Llama-2-13B has 13.0B)"),
    "70B": _nominal(7.0e10, "nominal size class (Llama-2-70B has 69.0B)"),
}


def _gpu(name: str, memory_gb: int, dense_tflops: int, **more: Any) -> dict[str, Any]:
    count = more.pop("count", None)
    head = {"name": name} if count is None else {"name": name, "count": count}
    return {**head, "memory_gb": memory_gb, "dense_tflops": dense_tflops, **more}


_T4_NOTE = "fp16: T4 has no bf16, so it trains in fp16 mixed precision with loss scaling"
_A10G_NOTE = "the A10 datasheet's figure; AWS's A10G runs lower clocks, so expect less"

DEFAULT_GPUS: dict[str, Any] = {
    "t4": _gpu(
        "T4", 16, 65, peak_note=_T4_NOTE, instances=["AWS g4dn.xlarge", "GCP n1-standard-4 + 1 T4"]
    ),
    "l4": _gpu("L4", 24, 121, instances=["AWS g6.xlarge", "GCP g2-standard-4"]),
    "a10g": _gpu("A10G", 24, 125, peak_note=_A10G_NOTE, instances=["AWS g5.xlarge"]),
    "a100_40gb": _gpu("A100 40GB", 40, 312, instances=["GCP a2-highgpu-1g"]),
    "a100_80gb": _gpu(
        "A100 80GB", 80, 312, instances=["GCP a2-ultragpu-1g", "Azure NC24ads A100 v4 (PCIe)"]
    ),
    "h100": _gpu("H100", 80, 989, peak_note="SXM", instances=["GCP a3-highgpu-1g"]),
    "h200": _gpu(
        "H200", 141, 989, peak_note="SXM", instances=["mostly sold as 8-GPU nodes (below)"]
    ),
    "8x_a100_40gb": _gpu(
        "A100 40GB", 40, 312, count=8, instances=["AWS p4d.24xlarge", "GCP a2-highgpu-8g"]
    ),
    "8x_a100_80gb": _gpu(
        "A100 80GB", 80, 312, count=8, instances=["AWS p4de.24xlarge", "GCP a2-ultragpu-8g"]
    ),
    "8x_h100": _gpu(
        "H100",
        80,
        989,
        count=8,
        peak_note="SXM",
        instances=["AWS p5.48xlarge", "GCP a3-highgpu-8g", "Azure ND H100 v5"],
    ),
    "8x_h200": _gpu(
        "H200",
        141,
        989,
        count=8,
        peak_note="SXM",
        instances=["AWS p5e.48xlarge", "GCP a3-ultragpu-8g", "Azure ND H200 v5"],
    ),
}
