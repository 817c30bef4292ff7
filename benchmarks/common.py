"""Shared setup of the benchmarks: the real rows, the base model, device facts.

Benchmarks run from the project root: ``.venv/bin/python benchmarks/<name>.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from llm_finetune.prompting import DEFAULT_PROMPT_TEMPLATE

ROOT = Path(__file__).resolve().parents[1]
REAL_ROWS = ROOT.parent / "shared" / "data" / "ai_medical_chatbot_raw_dev.jsonl"
# Dense bf16 peak of one H100/H200 SXM (spec sheet), for MFU.
PEAK_FLOPS = {"cuda": 989e12}


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


def load_base_model(source: str = DEFAULT_MODEL_ALIAS) -> Any:
    """The project's base model through its catalog dataset (cached after the first conversion)."""
    from llm_finetune.datasets.pretrained_model import PretrainedModelDataset

    cache_dir = str(ROOT / "data/06_models/base_model")
    return PretrainedModelDataset(source=source, cache_dir=cache_dir).load()


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
