"""Version pinning on a real ``DataCatalog`` of versioned datasets (``llm_finetune.run_versions``).

Another run's version is made the way another run makes it: the same dataset saved with a newer
save version (a catalog with a later ``save_version``), between this run's save and its load.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro_datasets.json import JSONDataset

from llm_finetune import run_versions
from llm_finetune.datasets import HFModelDataset
from llm_finetune.run_versions import Pin, pin_versions, pinned_inputs, share_input_pins

OLD, RUN, LATER, NEWEST = (
    "2026-01-01T00.00.00.000Z",
    "2026-01-02T00.00.00.000Z",
    "2026-01-03T00.00.00.000Z",
    "2026-01-04T00.00.00.000Z",
)


def _identity(data):
    return data


def _pipeline() -> Pipeline:
    """``earlier`` (saved by earlier runs) -> ``made`` (saved by this run) -> ``report``."""
    return Pipeline(
        [
            Node(_identity, "earlier", "made", name="make"),
            Node(_identity, "made", "report", name="report"),
        ]
    )


def _catalog(root: Path, save_version: str, **kwargs) -> DataCatalog:
    config = {
        name: {"type": "json.JSONDataset", "filepath": str(root / f"{name}.json")}
        for name in ("earlier", "made", "report")
    }
    for entry in config.values():
        entry["versioned"] = True
    config["sweep.{configuration}.metrics"] = {
        "type": "json.JSONDataset",
        "filepath": str(root / "sweep" / "{configuration}.json"),
        "versioned": True,
    }
    return DataCatalog.from_config(config, save_version=save_version, **kwargs)


def _save_as_another_run(root: Path, name: str, version: str, data) -> None:
    _catalog(root, version).save(name, data)


def test_a_dataset_the_run_saves_is_read_back_at_the_run_s_version(tmp_path):
    catalog = _catalog(tmp_path, RUN)
    pins = pin_versions(catalog, _pipeline())
    assert pins["made"] == Pin(RUN, "this run") and pins["report"] == Pin(RUN, "this run")

    catalog.save("made", {"rows": 10})
    _save_as_another_run(tmp_path, "made", LATER, {"rows": 99})  # a run started after this one
    assert catalog.load("made") == {"rows": 10}

    # Unpinned (Kedro's default: the latest version) the same catalog reads the other run's.
    unpinned = _catalog(tmp_path, RUN)
    assert unpinned.load("made") == {"rows": 99}


def test_inputs_are_read_at_the_latest_version_when_the_run_started(tmp_path):
    _save_as_another_run(tmp_path, "earlier", OLD, {"split": "old"})
    _save_as_another_run(tmp_path, "earlier", RUN, {"split": "at start"})
    catalog = _catalog(tmp_path, LATER)
    pins = pin_versions(catalog, _pipeline())
    assert pins["earlier"] == Pin(RUN, "latest at start")
    assert pinned_inputs(catalog, _pipeline().inputs()) == {"earlier": RUN}

    _save_as_another_run(tmp_path, "earlier", NEWEST, {"split": "newer"})
    assert catalog.load("earlier") == {"split": "at start"}


def test_an_input_without_any_version_stays_unpinned_and_fails_as_before(tmp_path):
    catalog = _catalog(tmp_path, RUN)
    assert pin_versions(catalog, _pipeline())["earlier"] == Pin(None, "latest at start")
    assert pinned_inputs(catalog, ["earlier"]) == {}
    with pytest.raises(Exception, match="Did not find any versions"):
        catalog.load("earlier")


def test_load_versions_given_by_the_user_win(tmp_path):
    _save_as_another_run(tmp_path, "earlier", OLD, {"split": "chosen"})
    _save_as_another_run(tmp_path, "earlier", RUN, {"split": "latest"})
    _save_as_another_run(tmp_path, "made", OLD, {"rows": 1})
    catalog = _catalog(tmp_path, LATER, load_versions={"earlier": OLD, "made": OLD})
    pins = pin_versions(catalog, _pipeline())
    assert pins["earlier"] == Pin(OLD, "given") and pins["made"] == Pin(OLD, "given")
    assert catalog.load("earlier") == {"split": "chosen"}
    catalog.save("made", {"rows": 2})  # saved at the run's version, loaded at the given one
    assert catalog.load("made") == {"rows": 1}
    assert (tmp_path / "made.json" / LATER / "made.json").is_file()


def test_datasets_of_a_factory_are_pinned_each_to_the_run(tmp_path):
    catalog = _catalog(tmp_path, RUN)
    sweep = Pipeline(
        [
            Node(_identity, "made", f"sweep.{name}.metrics", name=f"train_{name}")
            for name in ("small", "large")
        ]
    )
    pins = pin_versions(catalog, sweep)
    assert pins["sweep.small.metrics"] == pins["sweep.large.metrics"] == Pin(RUN, "this run")
    catalog.save("sweep.small.metrics", {"loss": 1.0})
    _save_as_another_run(tmp_path, "sweep.small.metrics", LATER, {"loss": 9.0})
    assert catalog.load("sweep.small.metrics") == {"loss": 1.0}


def test_a_dataset_made_without_save_version_gets_one_fixed(tmp_path):
    made = JSONDataset(filepath=str(tmp_path / "made.json"), version=_version(None, None))
    report = JSONDataset(filepath=str(tmp_path / "report.json"))  # not versioned: not pinned
    catalog = DataCatalog(datasets={"made": made, "report": report})
    pins = pin_versions(catalog, _pipeline())
    assert set(pins) == {"made"} and pins["made"].origin == "this run"
    time.sleep(0.002)  # unpinned, the save would draw a new timestamp now
    catalog.save("made", {"rows": 3})
    saved = [path.name for path in (tmp_path / "made.json").iterdir()]
    assert saved == [pins["made"].version]
    assert catalog.load("made") == {"rows": 3}


def test_the_latest_model_at_start_is_a_complete_one(tmp_path, tiny_tokenizer, tiny_model):
    root = tmp_path / "fine_tuned_model"
    HFModelDataset(str(root), version=_version(None, OLD)).save((tiny_model, tiny_tokenizer))
    (root / RUN / "fine_tuned_model").mkdir(parents=True)  # a save still going on elsewhere
    model = HFModelDataset(str(root), version=_version(None, LATER))
    catalog = DataCatalog(datasets={"fine_tuned_model": model})
    pipeline = Pipeline([Node(_identity, "fine_tuned_model", "report", name="evaluate")])
    assert pin_versions(catalog, pipeline)["fine_tuned_model"] == Pin(OLD, "latest at start")


def _version(load, save):
    from kedro.io import Version

    return Version(load, save)


# ---------- torchrun: every rank reads the versions rank 0 pinned ----------


def _as_rank(monkeypatch, rank: int) -> None:
    for name, value in (("RANK", rank), ("LOCAL_RANK", rank), ("WORLD_SIZE", 2)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job-1")


def test_other_ranks_read_the_inputs_rank_zero_pinned(tmp_path, monkeypatch):
    data, pins_dir = tmp_path / "data", tmp_path / "pins"
    _save_as_another_run(data, "earlier", OLD, {"split": "rank 0 saw this"})
    _as_rank(monkeypatch, 0)
    rank_zero = _catalog(data, RUN)
    share_input_pins(rank_zero, pin_versions(rank_zero, _pipeline()), pins_dir)

    _save_as_another_run(data, "earlier", LATER, {"split": "written in between"})
    _as_rank(monkeypatch, 1)
    rank_one = _catalog(data, NEWEST)  # rank 1's own session: a later save version
    pins = share_input_pins(rank_one, pin_versions(rank_one, _pipeline()), pins_dir)
    assert pins["earlier"] == Pin(OLD, "latest at start, from rank 0")
    assert pins["made"] == Pin(NEWEST, "this run")  # kept in memory on rank 1 anyway
    assert rank_one.load("earlier") == {"split": "rank 0 saw this"}


def test_a_pins_file_of_an_earlier_job_is_not_read(tmp_path, monkeypatch):
    _as_rank(monkeypatch, 1)
    stale = tmp_path / f"{run_versions._job_key()}.json"
    stale.write_text(json.dumps({"earlier": OLD}))
    old = time.time() - 3600
    os.utime(stale, (old, old))
    wait = run_versions.distributed.wait_for_local_rank_zero
    monkeypatch.setattr(
        run_versions.distributed,
        "wait_for_local_rank_zero",
        lambda ready, what: wait(ready, what, 0.05, 0.01),
    )
    catalog = _catalog(tmp_path / "data", RUN)
    with pytest.raises(TimeoutError, match="pin the dataset versions"):
        share_input_pins(catalog, pin_versions(catalog, _pipeline()), tmp_path)
