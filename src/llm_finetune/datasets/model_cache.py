"""The base model cache's bookkeeping: its directory name and the record of the source it holds.

A converted base model is cached as safetensors in ``<cache_dir>/<slug of source[@revision]>/``,
with :data:`SOURCE_INFO_FILE` written next to the weights (in the same atomic save): a fingerprint
of the source. A cache whose record no longer matches its source (another GGUF file under the
same name) is stale and converted again.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from kedro.io import DatasetError

from llm_finetune.datasets.model_dirs import is_complete_model_dir

logger = logging.getLogger(__name__)

#: File the cache writes next to the weights, describing where they came from.
SOURCE_INFO_FILE = "llm_finetune_source.json"


def source_slug(source: str, revision: str | None = None) -> str:
    """A directory name for ``source`` (and ``revision``) under the cache directory."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", source).strip("-.")
    if revision:
        slug += "@" + re.sub(r"[^A-Za-z0-9._]+", "-", revision).strip("-.")
    if not slug:
        raise DatasetError(f"cannot derive a cache directory name from source {source!r}")
    return slug


def fingerprint(source: str, revision: str | None, gguf: Path | None = None) -> dict[str, Any]:
    """What identifies a cached conversion: the source, its revision, and the GGUF file's name and
    size when it came from one."""
    info: dict[str, Any] = {"source": source, "revision": revision}
    if gguf is not None:
        info.update(gguf_file=gguf.name, gguf_size=gguf.stat().st_size)
    return info


def source_info_files(fingerprint: dict[str, Any]) -> dict[str, str]:
    """The record to save with the weights (``extra_files`` of ``save_model_atomically``)."""
    return {SOURCE_INFO_FILE: json.dumps(fingerprint, indent=2) + "\n"}


def cache_is_current(cache: Path, fingerprint: dict[str, Any]) -> bool:
    """True when ``cache`` holds a complete model converted from the fingerprinted source.

    A cache without a readable record (written by hand) is trusted; a stale one is logged.
    """
    if not is_complete_model_dir(cache):
        return False
    recorded = _recorded(cache)
    if recorded is None:
        return True  # a cache written by hand: trust it
    stale = {k: v for k, v in fingerprint.items() if recorded.get(k) != v}
    if stale:
        logger.warning("Cache %s is stale (%s changed); converting again", cache, stale)
    return not stale


def cache_written(cache: Path, fingerprint: dict[str, Any]) -> bool:
    """True once another process has finished writing ``cache`` from the fingerprinted source:
    complete, with a matching record (no record yet means the write is still going on)."""
    if not is_complete_model_dir(cache):
        return False
    recorded = _recorded(cache)
    return recorded is not None and all(recorded.get(k) == v for k, v in fingerprint.items())


def _recorded(cache: Path) -> dict[str, Any] | None:
    try:
        return json.loads((cache / SOURCE_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
