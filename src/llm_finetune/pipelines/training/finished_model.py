"""The trained model as the catalog saves it and evaluation loads it: one plain model with its
decoding settings, and the record of what it was trained from (base model, training data)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from llm_finetune.config import LoraSettings
from llm_finetune.generation import attach_generation_config
from llm_finetune.modeling.provenance import data_fingerprint
from llm_finetune.pipelines.training.accounting import parameter_counts

logger = logging.getLogger(__name__)

#: The training data the provenance fingerprints: the rows the model was trained on.
TRAINING_DATA = "tokenized_train"


def training_provenance(base_model: Any, tokenized_train: pl.DataFrame) -> dict[str, Any]:
    """What a fine-tuned model records of how it was made: its base model (the identity the
    base-model dataset resolved: source, revision, GGUF package, directory) and its training data
    (row count and content fingerprint of ``tokenized_train``)."""
    return {
        "base_model": getattr(base_model, "provenance", None),
        "training_data": data_fingerprint(tokenized_train, TRAINING_DATA),
    }


def finished_model(
    trainer: Any, tokenizer: Any, run_dir: Path, lora: LoraSettings, decoding: Any
) -> tuple[Any, dict[str, int]]:
    """The trained model as evaluation and the catalog take it (one plain model: FSDP shards
    gathered, LoRA merged; eval mode, KV cache on, the ``decoding`` settings in its generation
    config) and its parameter counts before the merge (so LoRA's trainable count shows)."""
    model = trainer.model
    if trainer.is_fsdp_enabled:  # each process holds a shard of the weights
        model = gather_sharded_model(trainer, tokenizer, run_dir / "full-model")
    parameters = parameter_counts(model)
    if lora.enabled:
        model = model.merge_and_unload()  # evaluation loads one plain model either way
    model.eval()
    model.config.use_cache = True  # generation wants the KV cache back
    attach_generation_config(model, tokenizer, decoding)
    return model, parameters


def gather_sharded_model(trainer: Any, tokenizer: Any, directory: Path) -> Any:
    """One plain model from the shards an FSDP run leaves on each process.

    Every process takes part in gathering the full weights (a collective); rank 0 writes them to
    ``directory`` in the ``save_pretrained`` layout, and every process loads them back as a plain,
    unsharded model, so the catalog's save on rank 0 and the downstream nodes of every rank get an
    ordinary model.
    """
    from llm_finetune.datasets.model_dirs import load_model_dir

    accelerator = trainer.accelerator
    state_dict = accelerator.get_state_dict(trainer.model)  # full weights on rank 0 only
    if trainer.args.should_save:
        shutil.rmtree(directory, ignore_errors=True)
        accelerator.unwrap_model(trainer.model).save_pretrained(
            directory, state_dict=state_dict, safe_serialization=True
        )
        tokenizer.save_pretrained(directory)
    accelerator.wait_for_everyone()
    logger.info("Gathered the FSDP-sharded weights into one model (%s)", directory)
    return load_model_dir(directory, {"dtype": "auto"}).model
