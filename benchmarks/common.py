"""Shared setup of the benchmarks: the real rows, the base model, device facts.

Benchmarks run from the project root: ``.venv/bin/python benchmarks/<name>.py``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from llm_finetune.modeling.prompt_format import DEFAULT_PROMPT_TEMPLATE

ROOT = Path(__file__).resolve().parents[1]
# The real rows: ../shared/data beside the checkout. LLM_FINETUNE_REAL_ROWS points elsewhere (the
# GPU machine gets the checkout without ../shared: benchmarks/device_run.sh sets it).
REAL_ROWS = Path(
    os.environ.get("LLM_FINETUNE_REAL_ROWS")
    or ROOT.parent / "shared" / "data" / "ai_medical_chatbot_raw_dev.jsonl"
)
HUB_ROWS = 256_916  # rows of the hub dataset ruslanmv/ai-medical-chatbot (full-size benchmarks)
# Dense bf16 peak of one H100/H200 SXM (spec sheet), for MFU.
PEAK_FLOPS = {"cuda": 989e12}
# Dense (no sparsity) bf16 tensor-core peaks from the spec sheets, matched in this order against
# ``torch.cuda.get_device_name()``. H100 is the SXM figure (the PCIe card peaks at 756e12).
GPU_BF16_PEAKS = (
    ("H200", 989e12),
    ("H100", 989e12),
    ("A100", 312e12),
    ("L40S", 362e12),
    ("L4", 121e12),
)


def project_parameters(env: str) -> dict[str, Any]:
    """All parameters of a Kedro environment, merged over base like ``kedro run --env``."""
    from llm_finetune.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    args = {**CONFIG_LOADER_ARGS, "default_run_env": env}
    return CONFIG_LOADER_CLASS(conf_source=str(ROOT / "conf"), env=env, **args)["parameters"]


def safety_sets() -> tuple[dict, dict]:
    """The red-flag training set and the evaluation's probe (``data/01_raw/safety``), as the
    data_engineering pipeline's ``mix_safety_training`` reads them."""
    import yaml

    folder = ROOT / "data" / "01_raw" / "safety"
    return tuple(
        yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        for name in ("red_flag_training.yml", "red_flag_questions.yml")
    )


def real_qa_pairs() -> list[tuple[str, str]]:
    """(prompt, answer) pairs of the real rows, through the project's data_engineering nodes."""
    from llm_finetune.datasets.raw_dialogues import RawDialoguesDataset
    from llm_finetune.pipelines.data_engineering import nodes

    raw = RawDialoguesDataset(str(REAL_ROWS)).load()
    dialogues, _ = nodes.normalise_schema(raw)
    clean, _ = nodes.clean_dialogues(dialogues)
    empty = clean.head(0)
    qa, *_ = nodes.apply_prompt_template(clean, empty, empty, DEFAULT_PROMPT_TEMPLATE)
    return list(zip(qa["question"], qa["answer"], strict=True))


def tokenized_examples(tokenizer: Any, pairs: list[tuple[str, str]], max_length: int) -> list:
    """The pairs through the project's ``tokenize_pair`` (answer-only labels, learned EOS), as
    ``{"input_ids", "labels"}`` examples; pairs whose prompt alone is too long are left out."""
    from llm_finetune.modeling.examples import tokenize_pair

    examples = []
    for prompt, answer in pairs:
        example = tokenize_pair(tokenizer, prompt, answer, max_length)
        if example is not None:
            examples.append({"input_ids": example.input_ids, "labels": example.labels})
    return examples


def load_base_model(source: str = DEFAULT_MODEL_ALIAS) -> Any:
    """The project's base model through its catalog dataset (cached after the first conversion)."""
    from llm_finetune.datasets.pretrained_model import PretrainedModelDataset

    cache_dir = str(ROOT / "data/06_models/base_model")
    return PretrainedModelDataset(source=source, cache_dir=cache_dir).load()


def load_benchmark_model(model_dir: str | None = None) -> tuple[str, Any]:
    """(name, base model) for the benchmarks: the project's base model, or one from ``model_dir``.

    ``model_dir`` with weights (a ``save_pretrained`` directory) loads as it is. With only its
    config and tokenizer (the GPU machine: the weights do not fit what travels there) it gives the
    same architecture, random init, named ``<alias>(random-init)``: throughput, memory and the
    correctness checks do not depend on the weights.
    """
    from llm_finetune.datasets.model_dirs import (
        ModelAndTokenizer,
        is_complete_model_dir,
        load_model_dir,
    )

    if model_dir is None:
        return DEFAULT_MODEL_ALIAS, load_base_model()
    if is_complete_model_dir(model_dir):
        return Path(model_dir).name, load_model_dir(model_dir, {"dtype": "float32"})
    if not (Path(model_dir) / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir}: no config.json (a model directory is expected)")
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from llm_finetune.modeling.padding import ensure_pad_token

    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_config(config)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    ensure_pad_token(model, tokenizer)
    return f"{Path(model_dir).name}(random-init)", ModelAndTokenizer(model, tokenizer)


def synchronize(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


class PeakMemory:
    """Peak memory of a block: CUDA allocator peak, or sampled process RSS on the CPU (MiB)."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.peak_mib = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        import torch

        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        else:
            import psutil

            process = psutil.Process()

            def sample() -> None:
                while not self._stop.is_set():
                    self.peak_mib = max(self.peak_mib, process.memory_info().rss / 2**20)
                    time.sleep(0.05)

            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        import torch

        if self.device.type == "cuda":
            self.peak_mib = torch.cuda.max_memory_allocated() / 2**20
        else:
            self._stop.set()
            self._thread.join()


def gpu_peak_flops(device: Any) -> tuple[float | None, str]:
    """(dense bf16 peak FLOP/s, GPU name) from :data:`GPU_BF16_PEAKS`; None for an unknown GPU."""
    import torch

    name = torch.cuda.get_device_name(device)
    for key, peak in GPU_BF16_PEAKS:
        if key.lower() in name.lower():
            return peak, name
    return None, name


def model_gemm_shapes(config: Any, tokens: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of a model's big multiplies for ``tokens`` tokens: the MLP's up projection and the
    vocabulary projection."""
    intermediate = getattr(config, "intermediate_size", None) or 4 * config.hidden_size
    return [
        (tokens, config.hidden_size, intermediate),
        (tokens, config.hidden_size, config.vocab_size),
    ]


def gemm_peak_flops(
    device: Any, shapes: list[tuple[int, int, int]], dtype: Any = None, repeats: int = 5
) -> float:
    """Measured matmul peak (FLOP/s): ``torch.mm`` at each (m, k, n) shape, best of ``repeats``
    timings of each, the best shape. fp32 unless ``dtype`` says otherwise. A ceiling for the
    model's own multiplies on this machine: MFU on a CPU is measured against it."""
    import torch

    dtype = dtype or torch.float32
    best = 0.0
    for m, k, n in shapes:
        a = torch.randn(m, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        torch.mm(a, b)  # warm-up
        for _ in range(repeats):
            synchronize(device)
            started = time.perf_counter()
            torch.mm(a, b)
            synchronize(device)
            best = max(best, 2 * m * k * n / (time.perf_counter() - started))
    return best


def flops_per_token(model: Any, lengths: list[int], lora: bool = False) -> float:
    """Training FLOPs per real token of examples of these ``lengths``: the project's
    ``training_flops`` (6·N·tokens plus the attention term of each example's own length).

    LoRA: two thirds of it (forward and input gradients; no weight gradients of the frozen base).
    Pass the base model, not a peft wrapper.
    """
    from llm_finetune.pipelines.training.accounting import matmul_parameters, training_flops

    config = model.config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    tokens = sum(lengths)
    flops = training_flops(
        matmul_parameters(model),
        tokens=tokens,
        squared_example_tokens=sum(t * t for t in lengths),
        layers=config.num_hidden_layers,
        attention_width=config.num_attention_heads * head_dim,
    )
    return flops / tokens * (2 / 3 if lora else 1.0)
