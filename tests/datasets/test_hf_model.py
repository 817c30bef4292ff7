"""HFModelDataset: atomic versioned saves and latest-version resolution."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kedro.io import DatasetError, Version

from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer
from tests.conftest import build_tiny_model
from tests.datasets.model_checks import TEXTS, assert_same_model, generate


def _versioned(path: Path) -> HFModelDataset:
    return HFModelDataset(filepath=str(path / "model"), version=Version(None, None))


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
    assert_same_model(loaded, tiny_model, tiny_tokenizer)
    assert loaded.tokenizer.pad_token is not None
    assert loaded.model.config.pad_token_id == loaded.tokenizer.pad_token_id
    output = generate(loaded)
    assert output.shape[1] > loaded.tokenizer(TEXTS[0], return_tensors="pt")["input_ids"].shape[1]


def test_unversioned_save_replaces_previous(tmp_path, tiny_tokenizer):

    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(ModelAndTokenizer(build_tiny_model(tiny_tokenizer, seed=1), tiny_tokenizer))
    second = build_tiny_model(tiny_tokenizer, seed=2)
    dataset.save(ModelAndTokenizer(second, tiny_tokenizer))
    assert_same_model(dataset.load(), second, tiny_tokenizer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_two_saves_load_newest(tmp_path, tiny_tokenizer):

    first = build_tiny_model(tiny_tokenizer, seed=1)
    second = build_tiny_model(tiny_tokenizer, seed=2)
    _versioned(tmp_path).save(ModelAndTokenizer(first, tiny_tokenizer))
    time.sleep(0.01)  # versions are millisecond timestamps
    _versioned(tmp_path).save(ModelAndTokenizer(second, tiny_tokenizer))

    assert len(_version_dirs(tmp_path)) == 2
    assert_same_model(_versioned(tmp_path).load(), second, tiny_tokenizer)
    # A pinned load version still reaches the older one.
    oldest = _version_dirs(tmp_path)[0].name
    pinned = HFModelDataset(filepath=str(tmp_path / "model"), version=Version(oldest, None))
    assert_same_model(pinned.load(), first, tiny_tokenizer)


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
    assert_same_model(fresh.load(), tiny_model, tiny_tokenizer)

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
    assert_same_model(fresh.load(), first, tiny_tokenizer)


def test_save_rejects_non_pair(tmp_path):
    with pytest.raises(DatasetError, match="ModelAndTokenizer"):
        HFModelDataset(filepath=str(tmp_path / "model")).save("not a model")
