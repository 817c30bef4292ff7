"""LoRA adapters: added to the model before training, merged into its weights after it."""

from __future__ import annotations

import logging
from typing import Any

from llm_finetune.config import LoraSettings

logger = logging.getLogger(__name__)


def add_adapters(model: Any, lora: LoraSettings) -> Any:
    """``model`` with trainable LoRA adapters (``training.lora``) before training: a peft model
    whose base weights are frozen. The adapters' initial weights are drawn from torch's global
    random state."""
    from peft import LoraConfig, get_peft_model

    modules = lora.target_modules  # None: peft's default for the architecture
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(modules) if isinstance(modules, tuple) else modules,  # peft wants lists
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)
