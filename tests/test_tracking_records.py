"""The catalog's tracking vocabulary and what it turns saved data into (``llm_finetune.tracking``),
without a Kedro run or an MLflow store."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from llm_finetune.tracking.catalog import (
    History,
    Metrics,
    Tracking,
    TrackingMetadataError,
    parse_tracking,
    tracked_entries,
)
from llm_finetune.tracking.params import NodeParameters, ParameterTooLong
from llm_finetune.tracking.records import flatten, metrics_of, saved_file
from tests.conftest import PROJECT_ROOT

# ---------- the vocabulary ----------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("artifact", Tracking(artifact=True)),
        (["artifact", "metrics"], Tracking(artifact=True, metrics=Metrics())),
        ({"history": True}, Tracking(history=History())),
        ({"artifact": False, "metrics": False}, Tracking()),
        (
            {"metrics": {"prefix": "training", "key": "summary", "depth": 1}},
            Tracking(metrics=Metrics(prefix="training", key="summary", depth=1)),
        ),
        (
            {"artifact": True, "metrics": {"exclude": ["generation"]}},
            Tracking(artifact=True, metrics=Metrics(exclude=frozenset({"generation"}))),
        ),
        (
            {"history": {"key": "log_history", "step": "epoch"}},
            Tracking(history=History("log_history", "epoch")),
        ),
    ],
)
def test_tracking_metadata_forms(value, expected):
    assert parse_tracking(value, "entry") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("artefact", r"unknown tracking \['artefact'\]"),
        ({"metric": True}, r"unknown tracking \['metric'\]"),
        ({"artifact": "yes"}, "tracking.artifact is true or false"),
        ({"metrics": "all"}, "tracking.metrics is true, false or a mapping"),
        ({"metrics": {"prefx": "a"}}, r"unknown options \['prefx'\]"),
        ({"metrics": {"depth": 0}}, "depth is at least 1"),
        ({"metrics": {"depth": True}}, "depth"),
        ({"metrics": {"exclude": "generation"}}, "exclude"),
        ({"history": {"step": 1}}, "step"),
        (42, "a kind, a list of kinds or a mapping"),
        ([["artifact"]], "lists kind names"),
    ],
)
def test_tracking_metadata_outside_the_vocabulary_is_refused(value, message):
    with pytest.raises(TrackingMetadataError, match=message):
        parse_tracking(value, "entry")


def _project_catalog():
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return DataCatalog.from_config(loader["catalog"])


def test_the_catalog_declares_what_is_tracked_including_dataset_factories():
    catalog = _project_catalog()
    names = [
        "data_quality_report",
        "training_metrics",
        "train_qa",  # versioned, not tracked
        "sweep.lora_r4.training_metrics",
        "sweep.lora_r4.loss_plot",
        "sweep.lora_r4.fine_tuned_model",  # in memory
        "sweep.lora_r4.training_params",  # no entry
        "params:training",
    ]
    tracked = tracked_entries(catalog, names)
    assert sorted(tracked) == [
        "data_quality_report",
        "sweep.lora_r4.loss_plot",
        "sweep.lora_r4.training_metrics",
        "training_metrics",
    ]
    history = tracked["sweep.lora_r4.training_metrics"]
    assert history.tracking == tracked["training_metrics"].tracking
    assert history.tracking.history == History(key="log_history")
    assert history.filepath == "data/08_reporting/sweep/lora_r4/training_metrics.json"
    assert tracked["sweep.lora_r4.loss_plot"].tracking == Tracking(artifact=True)
    quality = tracked["data_quality_report"].tracking
    assert quality == Tracking(artifact=True, metrics=Metrics(prefix="data_quality"))


# ---------- records ----------

TRAINING_METRICS = {
    "log_history": [
        {"loss": 2.5, "learning_rate": 1e-4, "epoch": 0.5, "step": 1},
        {"eval_loss": 2.4, "step": 2, "note": "text"},
        {"loss": math.nan, "step": 3},
        {"train_runtime": 1.5},  # no step: step 0
    ],
    "summary": {"global_step": 3, "flags": {"deep": 1.0}, "done": True},
}


def test_history_and_metrics_of_training_metrics():
    tracking = parse_tracking(
        {
            "history": {"key": "log_history"},
            "metrics": {"key": "summary", "prefix": "training", "depth": 1},
        },
        "training_metrics",
    )
    assert metrics_of(TRAINING_METRICS, tracking) == [
        ("loss", 2.5, 1),
        ("learning_rate", 1e-4, 1),
        ("epoch", 0.5, 1),
        ("eval_loss", 2.4, 2),
        ("train_runtime", 1.5, 0),
        ("training.global_step", 3.0, 0),  # nothing deeper than depth 1, no booleans
    ]


def test_metrics_with_excluded_keys_and_without_prefix():
    data = {"base": {"perplexity": 3.0, "scores": {"f1": 0.5}}, "generation": {"tokens": 4}, "n": 2}
    tracking = parse_tracking({"metrics": {"exclude": ["generation"]}}, "evaluation_metrics")
    assert metrics_of(data, tracking) == [
        ("base.perplexity", 3.0, 0),
        ("base.scores.f1", 0.5, 0),
        ("n", 2.0, 0),
    ]
    assert metrics_of([1, 2], tracking) == []  # not a mapping: nothing
    assert metrics_of({"log": "text"}, parse_tracking("history", "x")) == []


def test_flatten_like_kedro_mlflow():
    params = {"training": {"lora": {"r": 8}, "lr": 0.1}, "seed": 1}
    assert flatten(params) == {"training.lora.r": 8, "training.lr": 0.1, "seed": 1}
    assert flatten(params, recursive=False, sep="/") == {
        "training/lora": {"r": 8},
        "training/lr": 0.1,
        "seed": 1,
    }


def test_saved_file_is_the_version_just_saved(tmp_path, monkeypatch):
    from kedro.io import MemoryDataset, Version
    from kedro_datasets.json import JSONDataset

    monkeypatch.chdir(tmp_path)
    filepath = "reports/r.json"
    for version in ("2024-01-01T00.00.00.000Z", "2024-01-02T00.00.00.000Z"):
        JSONDataset(filepath=filepath, version=Version(None, version)).save({"v": version})
    older = JSONDataset(filepath=filepath, version=Version(None, "2024-01-01T00.00.00.000Z"))
    path = saved_file(older, filepath)
    assert path is not None and path.parent.name == "2024-01-01T00.00.00.000Z"
    assert path.resolve() == (tmp_path / filepath / path.parent.name / "r.json").resolve()
    plain = JSONDataset(filepath="reports/plain.json")
    assert saved_file(plain, "reports/plain.json") is None  # not saved yet
    plain.save({})
    assert saved_file(plain, "reports/plain.json") == Path("reports/plain.json")  # unversioned
    assert saved_file(MemoryDataset({}), None) is None


# ---------- node parameters ----------


def _mlflow_hook(strategy: str = "tag", flatten_params: bool = True):
    dict_params = SimpleNamespace(flatten=flatten_params, recursive=True, sep=".")
    params = SimpleNamespace(dict_params=dict_params, long_params_strategy=strategy)
    config = SimpleNamespace(tracking=SimpleNamespace(params=params))
    return SimpleNamespace(
        mlflow_config=config, sanitize_param_name=lambda name: name.replace("@", "_")
    )


def test_node_parameters_once_per_run_with_long_values_as_tags():
    parameters = NodeParameters(_mlflow_hook("tag"))
    inputs = {"params:training": {"lr": 0.1, "notes": "x" * 7000}, "data": [1], "params:a@b": 1}
    new = parameters.new(inputs)
    assert new.params == {"training.lr": "0.1", "a_b": "1"}
    assert new.tags == {"training.notes": "x" * 7000}
    second = parameters.new({"params:training": {"lr": 0.2}, "parameters": {"all": 1}})
    assert second.params == {"parameters.all": "1"} and not second.tags


def test_node_parameters_long_values_truncated_or_refused():
    inputs = {"params:notes": "y" * 7000}
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    truncated = NodeParameters(_mlflow_hook("truncate")).new(inputs)
    assert truncated.params == {"notes": "y" * MAX_PARAM_VAL_LENGTH}
    with pytest.raises(ParameterTooLong, match="notes"):
        NodeParameters(_mlflow_hook("fail")).new(inputs)
