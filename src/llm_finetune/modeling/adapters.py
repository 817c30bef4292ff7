"""Merging LoRA adapters into the base weights: what every saved model goes through."""

from __future__ import annotations

import copy
import logging
from typing import Any

logger = logging.getLogger(__name__)


def merge_adapters(model: Any) -> Any:
    """A plain model from a peft model (adapters merged into a copy), or ``model`` unchanged.

    The merge happens on a deep copy, so the caller's peft model keeps its adapters.
    """
    if callable(getattr(model, "merge_and_unload", None)) and hasattr(model, "peft_config"):
        logger.info("Merging the peft adapters into the base weights before saving")
        return copy.deepcopy(model).merge_and_unload()
    return model
