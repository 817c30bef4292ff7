"""PretrainedModelDataset: base model sources, read-only, and errors that say what to do."""

from __future__ import annotations

import pytest
from kedro.io import DatasetError

from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer, PretrainedModelDataset
from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from tests.datasets.model_checks import assert_same_model


def test_pretrained_from_local_directory(tmp_path, tiny_model, tiny_tokenizer):
    HFModelDataset(filepath=str(tmp_path / "base")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer)
    )
    dataset = PretrainedModelDataset(source=str(tmp_path / "base"), cache_dir=str(tmp_path / "c"))
    assert dataset.exists()
    loaded = dataset.load()
    assert_same_model(loaded, tiny_model, tiny_tokenizer)
    assert loaded.model.dtype.is_floating_point
    assert not (tmp_path / "c").exists()  # local directories are loaded in place
    assert dataset._describe()["source"] == str(tmp_path / "base")


def test_pretrained_is_read_only(tmp_path, tiny_model, tiny_tokenizer):
    dataset = PretrainedModelDataset(source=DEFAULT_MODEL_ALIAS, cache_dir=str(tmp_path))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))


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
