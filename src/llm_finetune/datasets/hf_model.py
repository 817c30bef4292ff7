"""``HFModelDataset``: a model and its tokenizer in a (versioned) ``save_pretrained`` directory."""

from __future__ import annotations

import logging
import time
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version

from llm_finetune.datasets.model_dirs import (
    ModelAndTokenizer,
    is_complete_model_dir,
    load_model_dir,
    save_model_atomically,
)

logger = logging.getLogger(__name__)


class HFModelDataset(AbstractVersionedDataset[ModelAndTokenizer, ModelAndTokenizer]):
    """A model and its tokenizer in one directory, in the ``save_pretrained`` layout.

    Versioned (``versioned: true`` in the catalog) it is ``<filepath>/<version>/<name>/``. Saves are
    atomic (see ``model_dirs.save_model_atomically``; peft adapters are merged first) and the
    latest version is the newest one holding ``config.json`` and safetensors weights, so neither an
    interrupted save nor an incomplete directory is ever loaded. Loads take safetensors only and
    never run remote code; ``load_args`` go to ``AutoModelForCausalLM.from_pretrained``.

    Example usage for the YAML API:

    .. code-block:: yaml

        fine_tuned_model:
          type: llm_finetune.datasets.HFModelDataset
          filepath: data/06_models/fine_tuned_model
          versioned: true
          load_args:
            dtype: float32
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {}

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            filepath=PurePosixPath(Path(filepath).as_posix()),
            version=version,
            exists_function=is_complete_model_dir,
        )
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self.metadata = metadata

    def load(self) -> ModelAndTokenizer:
        path = Path(self._get_load_path())
        if not is_complete_model_dir(path):
            raise DatasetError(
                f"{path}: no complete model there (config.json and model.safetensors expected); "
                "run the pipeline that saves it first"
            )
        started = time.perf_counter()
        data = load_model_dir(path, self._load_args)
        logger.info(
            "Loaded model and tokenizer from %s in %.1f s", path, time.perf_counter() - started
        )
        return data

    def save(self, data: ModelAndTokenizer) -> None:
        target = Path(self._get_save_path())
        # Versioned: a version directory is never reused. Unversioned: replace the previous model.
        save_model_atomically(data, target, overwrite=not self._version)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "version": self._version,
            "load_args": self._load_args,
        }

    def _exists(self) -> bool:
        return is_complete_model_dir(self._get_load_path())
