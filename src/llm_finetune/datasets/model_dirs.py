"""Model directories in the ``save_pretrained`` layout: written atomically, checked whole, loaded.

A directory is complete when it holds ``config.json`` and safetensors weights. A save goes to a
hidden temporary sibling first and is renamed into place only when complete, so an interrupted
save never leaves a directory that loads. Loads take safetensors only, never run remote code and
never reach the network.

A directory may also record how its model was made (``modeling/prompt_format.py``,
``modeling/provenance.py``); those records travel in :class:`ModelAndTokenizer`.

``torch`` and ``transformers`` are imported inside functions: every
``kedro`` command imports this module, most of them never load a model.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, NamedTuple

from kedro.io import DatasetError

from llm_finetune.modeling.adapters import merge_adapters
from llm_finetune.modeling.padding import ensure_pad_token
from llm_finetune.modeling.prompt_format import (
    PromptFormat,
    prompt_format_files,
    read_prompt_format,
)
from llm_finetune.modeling.provenance import provenance_files, read_provenance

logger = logging.getLogger(__name__)

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_PARTIAL_MARK = ".partial-"


class ModelAndTokenizer(NamedTuple):
    """What every model catalog entry loads and saves: the model, its tokenizer, and the records
    of how it was made (None: not recorded), saved beside the weights."""

    model: Any
    tokenizer: Any
    prompt_format: PromptFormat | None = None
    provenance: dict[str, Any] | None = None


def is_complete_model_dir(path: str | os.PathLike) -> bool:
    """True for a directory holding a full ``save_pretrained`` checkpoint (config and weights).

    Used to resolve the latest version, so a partial or hand-damaged directory is never "latest".
    """
    directory = Path(path)
    return (directory / "config.json").is_file() and any(
        (directory / name).is_file() for name in _WEIGHT_FILES
    )


def load_model_dir(
    path: str | os.PathLike, load_args: dict[str, Any] | None = None
) -> ModelAndTokenizer:
    """Load a local ``save_pretrained`` directory: safetensors only, no remote code, no network;
    with the directory's prompt format and provenance records when it has them."""
    from transformers import AutoModelForCausalLM

    records = _read_records(path)
    args = resolve_dtype(dict(load_args or {}))
    for forced in ("local_files_only", "trust_remote_code", "use_safetensors"):
        args.pop(forced, None)
    model = AutoModelForCausalLM.from_pretrained(
        str(path), local_files_only=True, trust_remote_code=False, use_safetensors=True, **args
    )
    tokenizer = load_tokenizer_dir(path)
    ensure_pad_token(model, tokenizer)
    return ModelAndTokenizer(model, tokenizer, *records)


def load_tokenizer_dir(path: str | os.PathLike) -> Any:
    """The tokenizer of a local model directory alone (with its pad token), without the weights."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        str(path), local_files_only=True, trust_remote_code=False
    )
    ensure_pad_token(None, tokenizer)
    return tokenizer


def load_model_skeleton(path: str | os.PathLike, dtype: str = "float32") -> ModelAndTokenizer:
    """The model of a local directory built from its config on torch's meta device (its module
    tree, parameter shapes and ``dtype``; no weights read) and its tokenizer: what describing the
    architecture needs, in a fraction of a load."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(
            config, trust_remote_code=False, **resolve_dtype({"dtype": dtype})
        )
    model.name_or_path = str(path)
    tokenizer = load_tokenizer_dir(path)
    ensure_pad_token(model, tokenizer)
    return ModelAndTokenizer(model, tokenizer)


def _read_records(path: str | os.PathLike) -> tuple[PromptFormat | None, dict[str, Any] | None]:
    try:
        return read_prompt_format(path), read_provenance(path)
    except ValueError as error:
        raise DatasetError(str(error)) from error


def resolve_dtype(args: dict[str, Any]) -> dict[str, Any]:
    """YAML gives ``dtype: float32``; transformers wants a ``torch.dtype`` (or ``"auto"``)."""
    dtype = args.get("dtype", args.pop("torch_dtype", None))
    if isinstance(dtype, str) and dtype != "auto":
        import torch

        resolved = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(resolved, torch.dtype):
            raise DatasetError(f"unknown dtype {dtype!r}; use e.g. float32, bfloat16 or auto")
        dtype = resolved
    if dtype is not None:
        args["dtype"] = dtype
    return args


def save_model_atomically(
    data: ModelAndTokenizer,
    target: str | os.PathLike,
    *,
    overwrite: bool = False,
    extra_files: dict[str, str] | None = None,
) -> None:
    """Write ``data`` to ``target`` in the ``save_pretrained`` layout, all or nothing.

    Everything goes to the hidden sibling ``.<name>.partial-<random>`` first (safetensors weights,
    tokenizer, then ``extra_files``: name -> text) and is renamed to ``target`` only when complete.
    Any failure removes the temporary directory and raises :class:`DatasetError`; ``target`` is
    then untouched. GGUF markers are stripped and peft adapters merged first. The prompt format
    and provenance of a :class:`ModelAndTokenizer` are saved beside the weights.
    """
    if not isinstance(data, tuple) or len(data) not in (2, 4):
        raise DatasetError(
            f"expected a ModelAndTokenizer(model, tokenizer) to save, got {type(data).__name__}"
        )
    model, tokenizer = data[0], data[1]
    if isinstance(data, ModelAndTokenizer):
        extra_files = {
            **prompt_format_files(data.prompt_format),
            **provenance_files(data.provenance),
            **(extra_files or {}),
        }
    target = Path(target)
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} already exists; refusing to overwrite a saved model")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}{_PARTIAL_MARK}{secrets.token_hex(4)}"
    started = time.perf_counter()
    try:
        model = make_serializable(merge_adapters(model))
        model.save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
        for name, text in (extra_files or {}).items():
            (partial / name).write_text(text, encoding="utf-8")
        if not is_complete_model_dir(partial):
            raise DatasetError(f"save_pretrained wrote no config.json or safetensors to {partial}")
        _rename_into_place(partial, target, overwrite=overwrite)
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(error, DatasetError) or not isinstance(error, Exception):
            raise
        raise DatasetError(
            f"saving the model to {target} failed, nothing was written there: "
            f"{type(error).__name__}: {error}"
        ) from error
    logger.info("Saved model and tokenizer to %s in %.1f s", target, time.perf_counter() - started)


def _rename_into_place(partial: Path, target: Path, *, overwrite: bool) -> None:
    if not target.exists():
        os.replace(partial, target)
        return
    if not overwrite:
        raise DatasetError(f"{target} appeared while saving; refusing to overwrite it")
    # A directory cannot replace a non-empty one: move the old one aside, then drop it.
    old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
    os.replace(target, old)
    os.replace(partial, target)
    shutil.rmtree(old, ignore_errors=True)


def make_serializable(model: Any) -> Any:
    """Strip the "quantized" markers transformers leaves on a model loaded from a GGUF file.

    A GGUF checkpoint loaded with its weights dequantized (the only mode on a CPU without the
    ``kernels`` package, and what :func:`~llm_finetune.datasets.gguf.convert_gguf` asks for) is a
    plain float model, but transformers still tags it as quantized and ``save_pretrained`` refuses
    it ("quantized with gguf and is not serializable"). Removes ``model.hf_quantizer``,
    ``model.is_quantized``, ``model.quantization_method``, the GGUF weight conversions
    (``model._weight_conversions``) and ``config.quantization_config``/``config._is_quantized`` on
    every sub-model. Other quantization methods are left alone, and weights still packed in GGUF
    blocks raise ``ValueError``. Returns the same model, changed in place.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    method = getattr(model, "quantization_method", None)
    config_quant = getattr(getattr(model, "config", None), "quantization_config", None)
    if not any(_is_gguf(marker) for marker in (quantizer, method, config_quant)):
        return model
    packed = sorted(
        {
            type(module).__name__
            for module in model.modules()
            if type(module).__name__.startswith("Gguf")
        }
    )
    if packed:
        raise ValueError(
            f"the model still holds weights packed in GGUF blocks ({', '.join(packed)}); load it "
            "with `quantization_config=GgufConfig(dequantize=True)` to get plain weights to save"
        )
    for name in ("hf_quantizer", "quantization_method", "_weight_conversions"):
        if name in vars(model):
            delattr(model, name)
    model.is_quantized = False
    # None makes save_pretrained use the architecture's own checkpoint mapping, not the GGUF one.
    model._weight_conversions = None
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is None:
            continue
        if _is_gguf(getattr(config, "quantization_config", None)):
            del config.quantization_config
        if getattr(config, "_is_quantized", False):
            config._is_quantized = False
    return model


def _is_gguf(marker: Any) -> bool:
    if marker is None:
        return False
    if type(marker).__name__.startswith("Gguf"):  # GgufHfQuantizer, GgufConfig
        return True
    method = getattr(marker, "quant_method", marker)
    if isinstance(method, dict):
        method = method.get("quant_method")
    return str(getattr(method, "value", method)).lower() == "gguf"
