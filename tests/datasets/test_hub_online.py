"""The online path (``--env hub``) without a network: Hub calls answered by strict stand-ins.

``conf/hub/catalog.yml`` is what online users run. Here its entries are loaded through Kedro's own
config loader and catalog, and the calls that would reach the Hugging Face Hub are answered by
stand-ins that are as strict as the real functions:

- ``datasets.load_dataset`` binds its arguments to the real function's signature (an unknown or
  renamed argument is a ``TypeError``, as in the real call; builder-config extras, which the real
  call would pass to the builder, are refused too), checks that the repo id, split and pinned
  ``revision`` of ``conf/hub/catalog.yml`` reach it, and returns a real ``datasets.Dataset`` built
  by the real ``load_dataset`` from the 776 hub-schema rows in ``../shared/data``;
- ``AutoModelForCausalLM.from_pretrained`` / ``AutoTokenizer.from_pretrained`` bind to the real
  signatures and accept only the keyword arguments the real implementations consume, check the hub
  id and revision, and return a tiny random-init model and tokenizer. Loads of a local directory
  (the dataset reading back its own cache) go to the real functions.

The expected values are read from ``conf/hub/catalog.yml`` with plain YAML, not through the code
under test. The offline behaviour is checked against the real libraries in a subprocess with an
empty Hugging Face cache.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import datasets
import polars as pl
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError

from llm_finetune import settings
from llm_finetune.datasets import HubDialoguesDataset, PretrainedModelDataset, RawDialoguesDataset
from llm_finetune.datasets.model_cache import SOURCE_INFO_FILE
from llm_finetune.datasets.model_dirs import is_complete_model_dir
from tests.conftest import PROJECT_ROOT, build_tiny_model, build_tiny_tokenizer

HUB_CATALOG = yaml.safe_load((PROJECT_ROOT / "conf" / "hub" / "catalog.yml").read_text("utf-8"))
PINNED = HUB_CATALOG["raw_dialogues"]  # repo_id, split, revision as written in the file


def runtime_default(value: str | None, key: str) -> str | None:
    """The fallback of ``${runtime_params:<key>, <fallback>}`` as written in the file."""
    if value is None:
        return None
    found = re.fullmatch(rf"\$\{{runtime_params:{re.escape(key)},\s*(.+?)\s*\}}", value)
    return found.group(1) if found else value


#: The hub id the hub catalog's base_model falls back to without `--params model.base=...`.
HUB_MODEL_ID = runtime_default(HUB_CATALOG["base_model"]["source"], "model.base")
BASE_MODEL_CACHE = HUB_CATALOG["base_model"]["cache_dir"]
#: None: the default branch.
BASE_MODEL_REVISION = runtime_default(HUB_CATALOG["base_model"].get("revision"), "model.revision")
REV_A = "a" * 40
REV_B = "b" * 40

REAL_LOAD_DATASET = datasets.load_dataset


def _hub_catalog(runtime_params: dict[str, Any] | None = None):
    """The catalog ``kedro run --env hub`` builds, with the project's loader and catalog class."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_ROOT / "conf"),
        env="hub",
        runtime_params=runtime_params,
        **settings.CONFIG_LOADER_ARGS,
    )
    return settings.DATA_CATALOG_CLASS.from_config(loader["catalog"])


def _popped_kwargs(*functions: Any) -> set[str]:
    """Keyword names the real implementations take out of ``**kwargs`` (the rest would go to the
    model config / tokenizer init, where a misspelt name is silently ignored)."""
    names: set[str] = set()
    for function in functions:
        source = inspect.getsource(function)
        names |= set(re.findall(r"kwargs\.(?:pop|get)\(\s*[\"'](\w+)[\"']", source))
    return names


def _bind(signature: inspect.Signature, allowed_extra: set[str], what: str, args, kwargs):
    """Bind like the real call would (TypeError on a bad argument) and refuse unknown extras."""
    bound = signature.bind(*args, **kwargs)
    var_kw = next((p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD), None)
    extra = set(bound.arguments.get(var_kw, {})) if var_kw else set()
    if extra - allowed_extra:
        raise TypeError(
            f"{what}() got unexpected keyword arguments {sorted(extra - allowed_extra)}"
        )
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.update(arguments.pop(var_kw, {}) if var_kw else {})
    return arguments


# --------------------------------------------------------------------------------------------------
# Stand-in for datasets.load_dataset
# --------------------------------------------------------------------------------------------------


class HubDatasetStandIn:
    """``datasets.load_dataset`` for the pinned hub dataset, answered from the real dev rows."""

    signature = inspect.signature(REAL_LOAD_DATASET)

    def __init__(self, rows: Path, workdir: Path, expected: dict[str, str]) -> None:
        self.expected = expected
        self.calls: list[dict[str, Any]] = []
        self._workdir = workdir
        self._parquet = workdir / "train-00000-of-00001.parquet"  # the hub stores parquet
        workdir.mkdir(parents=True, exist_ok=True)
        pl.read_ndjson(rows, infer_schema_length=None).write_parquet(self._parquet)

    def __call__(self, *args: Any, **kwargs: Any):
        # No **config_kwargs: the real call passes them to the builder config, which rejects
        # unknown names (ValueError) or silently uses them; this dataset needs none.
        arguments = _bind(self.signature, set(), "load_dataset", args, kwargs)
        self.calls.append(arguments)
        assert arguments["path"] == self.expected["repo_id"], arguments
        assert arguments["split"] == self.expected["split"], arguments
        assert isinstance(arguments["revision"], str) and (  # a YAML float/int is no commit
            arguments["revision"] == self.expected["revision"]
        ), (
            f"revision {arguments['revision']!r} reached load_dataset, "
            f"conf/hub/catalog.yml pins {self.expected['revision']!r}"
        )
        # What the real call returns: a memory-mapped Dataset from the datasets cache.
        return REAL_LOAD_DATASET(
            "parquet",
            data_files={arguments["split"]: str(self._parquet)},
            split=arguments["split"],
            cache_dir=str(self._workdir / "hf_datasets_cache"),
        )


@pytest.fixture
def hub_dataset(real_dev_data, tmp_path, monkeypatch) -> HubDatasetStandIn:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    stand_in = HubDatasetStandIn(real_dev_data, tmp_path / "hub_dataset", PINNED)
    monkeypatch.setattr(datasets, "load_dataset", stand_in)
    return stand_in


# --------------------------------------------------------------------------------------------------
# Stand-ins for AutoModelForCausalLM.from_pretrained / AutoTokenizer.from_pretrained
# --------------------------------------------------------------------------------------------------


class HubModelStandIn:
    """The model and tokenizer ``from_pretrained`` calls; hub ids get a tiny random-init model."""

    def __init__(self, hub_id: str, expected_revision: str | None) -> None:
        from transformers import (
            AutoModelForCausalLM,
            AutoTokenizer,
            PreTrainedModel,
            PreTrainedTokenizerBase,
        )
        from transformers.models.auto.auto_factory import _BaseAutoModelClass

        self.hub_id = hub_id
        self.expected_revision = expected_revision
        self.model_calls: list[dict[str, Any]] = []
        self.tokenizer_calls: list[dict[str, Any]] = []
        self.returned: list[Any] = []  # the models handed out, to compare with what loads
        self.real_model = AutoModelForCausalLM.from_pretrained
        self.real_tokenizer = AutoTokenizer.from_pretrained
        self.model_signature = inspect.signature(PreTrainedModel.from_pretrained)
        self.model_kwargs = _popped_kwargs(
            _BaseAutoModelClass.from_pretrained, PreTrainedModel.from_pretrained
        )
        self.tokenizer_signature = inspect.signature(PreTrainedTokenizerBase.from_pretrained)
        self.tokenizer_kwargs = _popped_kwargs(AutoTokenizer.from_pretrained)
        self._tokenizer = build_tiny_tokenizer()

    @staticmethod
    def _is_local(args: tuple, kwargs: dict) -> bool:
        name = args[0] if args else kwargs.get("pretrained_model_name_or_path")
        return name is not None and Path(str(name)).is_dir()

    def _check(self, arguments: dict[str, Any]) -> None:
        assert arguments["pretrained_model_name_or_path"] == self.hub_id, arguments
        revision = arguments["revision"]  # "main" when not passed: the real default
        # No revision expected: the default branch, whether passed as None or left out.
        expected = {None, "main"} if self.expected_revision is None else {self.expected_revision}
        assert revision in expected, (
            f"revision {revision!r} reached from_pretrained, expected {self.expected_revision!r}"
        )
        assert arguments.get("trust_remote_code") is False, arguments  # remote code never runs
        assert not arguments["local_files_only"], arguments  # a hub download may use the network

    def model(self, *args: Any, **kwargs: Any):
        if self._is_local(args, kwargs):
            return self.real_model(*args, **kwargs)
        arguments = _bind(self.model_signature, self.model_kwargs, "from_pretrained", args, kwargs)
        self.model_calls.append(arguments)
        self._check(arguments)
        model = build_tiny_model(self._tokenizer)
        if arguments.get("dtype") not in (None, "auto"):
            model = model.to(arguments["dtype"])
        self.returned.append(model)
        return model

    def tokenizer(self, *args: Any, **kwargs: Any):
        if self._is_local(args, kwargs):
            return self.real_tokenizer(*args, **kwargs)
        arguments = _bind(
            self.tokenizer_signature, self.tokenizer_kwargs, "from_pretrained", args, kwargs
        )
        self.tokenizer_calls.append(arguments)
        self._check(arguments)
        return copy.deepcopy(self._tokenizer)

    @property
    def hub_calls(self) -> int:
        return len(self.model_calls) + len(self.tokenizer_calls)


def _patch_model_hub(monkeypatch, stand_in: HubModelStandIn) -> HubModelStandIn:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", staticmethod(stand_in.model))
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", staticmethod(stand_in.tokenizer))
    return stand_in


def _same_weights(first, second) -> bool:
    import torch

    a, b = first.state_dict(), second.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------------------------------
# The stand-ins have teeth
# --------------------------------------------------------------------------------------------------


def test_the_hub_catalog_pins_a_commit():
    assert PINNED["repo_id"] == "ruslanmv/ai-medical-chatbot"
    assert PINNED["split"] == "train"
    assert isinstance(PINNED["revision"], str) and re.fullmatch(r"[0-9a-f]{40}", PINNED["revision"])
    assert "/" in HUB_MODEL_ID and not Path(HUB_MODEL_ID).exists()  # taken as a hub id


def test_dataset_stand_in_rejects_what_the_real_call_would(hub_dataset):
    good = {"split": PINNED["split"], "revision": PINNED["revision"]}
    with pytest.raises(TypeError):  # a renamed argument
        hub_dataset(PINNED["repo_id"], split=PINNED["split"], revison=PINNED["revision"])
    with pytest.raises(TypeError):  # the repo id under a wrong name
        hub_dataset(repo_id=PINNED["repo_id"], **good)
    with pytest.raises(AssertionError, match="revision"):  # revision not passed
        hub_dataset(PINNED["repo_id"], split=PINNED["split"])
    with pytest.raises(AssertionError, match="revision"):
        hub_dataset(PINNED["repo_id"], split=PINNED["split"], revision="main")
    assert isinstance(hub_dataset(PINNED["repo_id"], **good), datasets.Dataset)
    # Through the dataset: an unpinned or wrongly pinned entry fails here, not on a user's machine.
    for revision in (None, "main"):
        with pytest.raises(DatasetError, match="revision"):
            HubDialoguesDataset(PINNED["repo_id"], PINNED["split"], revision).load()


def test_model_stand_ins_reject_what_the_real_call_would(tmp_path, monkeypatch):
    stand_in = _patch_model_hub(monkeypatch, HubModelStandIn(HUB_MODEL_ID, REV_A))
    with pytest.raises(TypeError):  # misspelt dtype: the real call would hand it to the config
        stand_in.model(HUB_MODEL_ID, revision=REV_A, trust_remote_code=False, dtyp="float32")
    with pytest.raises(TypeError):
        stand_in.tokenizer(HUB_MODEL_ID, revison=REV_A, trust_remote_code=False)
    with pytest.raises(AssertionError, match="revision"):
        stand_in.model(HUB_MODEL_ID, revision="main", trust_remote_code=False)
    with pytest.raises(AssertionError, match="revision"):
        stand_in.tokenizer(HUB_MODEL_ID, trust_remote_code=False)  # revision not passed
    # PretrainedModelDataset without the revision the stand-in expects: caught, nothing cached.
    dataset = PretrainedModelDataset(HUB_MODEL_ID, cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DatasetError, match="revision"):
        dataset.load()
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------------------------------
# raw_dialogues of the hub environment
# --------------------------------------------------------------------------------------------------


def test_hub_catalog_raw_dialogues_reaches_load_dataset_pinned(hub_dataset, real_dev_data):
    catalog = _hub_catalog()
    frame = catalog.load("raw_dialogues")

    assert len(hub_dataset.calls) == 1
    call = hub_dataset.calls[0]
    assert (call["path"], call["split"], call["revision"]) == (
        PINNED["repo_id"],
        PINNED["split"],
        PINNED["revision"],
    )
    assert not call["streaming"]  # .data.table needs a map-style Dataset
    # The hub frame is the frame the local-file path gives for the same rows, row for row.
    assert frame.height == 776
    assert frame.columns == ["line_number", "Description", "Patient", "Doctor", "non_string_fields"]
    expected = RawDialoguesDataset(filepath=str(real_dev_data)).load()
    assert frame.equals(expected)
    assert frame["non_string_fields"].null_count() == 776


def _copy_hub_project(dest: Path) -> Path:
    """conf/ (every environment: hub may extend another), pyproject.toml, the safety sets; no
    other data, no venv."""
    shutil.copytree(PROJECT_ROOT / "conf", dest / "conf", ignore=shutil.ignore_patterns("local"))
    (dest / "conf" / "local").mkdir()
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", dest / "pyproject.toml")
    safety = Path("data") / "01_raw" / "safety"  # the red-flag training set and the probe
    shutil.copytree(PROJECT_ROOT / safety, dest / safety)
    (dest / "src").mkdir()  # bootstrap_project checks that the source folder exists
    return dest


def _run_data_engineering(project: Path, env: str | None, runtime_params=None) -> dict[str, Any]:
    names = ("train_qa", "validation_qa", "test_qa", "train_text", "data_quality_report")
    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path and PYTHONPATH
        # Data engineering reads the base tokenizer for a chat format only; the hub environment's
        # format is the walkthrough's template, and its pythia is not reachable from here.
        patch.setattr(PretrainedModelDataset, "load", lambda self: build_tiny_tokenizer())
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        bootstrap_project(project)
        with KedroSession.create(
            project_path=project, env=env, runtime_params=runtime_params
        ) as session:
            session.run(pipeline_names=["data_engineering"])
            catalog = session.load_context().catalog
            return {name: catalog.load(name) for name in names}


def test_data_engineering_runs_on_the_hub_rows_under_env_hub(hub_dataset, real_dev_data, tmp_path):
    """``kedro run --env hub --pipelines data_engineering`` (Hub answered by the stand-in) gives
    exactly what the tested local path gives for the same rows."""
    hub = _run_data_engineering(_copy_hub_project(tmp_path / "hub"), env="hub")
    # Kedro loads raw_dialogues for each node that reads it (normalise_schema and the report).
    hub_calls = len(hub_dataset.calls)
    assert hub_calls >= 1
    assert {c["revision"] for c in hub_dataset.calls} == {PINNED["revision"]}

    report = hub["data_quality_report"]
    assert report["schema"] == "ai_medical_chatbot"
    assert report["rows_read"] == 776
    assert report["rows_kept"] + report["rows_dropped"] == 776
    assert report["prefix_removed"] > 0  # the hub's "Q. " prefix
    for split in ("train", "validation", "test"):
        assert hub[f"{split}_qa"].height == report["splits"][split]["rows"] > 0
    assert hub["train_text"].height == hub["train_qa"].height
    assert not any(q.startswith("Q. ") for q in hub["train_qa"]["plain_question"])

    # The same rows from the local file, with the hub environment's data settings (its row
    # limit, the answers as they are, no red-flag examples).
    hub_params = settings.CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_ROOT / "conf"), env="hub", **settings.CONFIG_LOADER_ARGS
    )["parameters"]
    local = _run_data_engineering(
        _copy_hub_project(tmp_path / "local"),
        env=None,
        runtime_params={
            "raw_data_path": str(real_dev_data),
            "data_engineering": hub_params["data_engineering"],
        },
    )
    assert len(hub_dataset.calls) == hub_calls  # the local run never reached the Hub
    assert report == local["data_quality_report"]
    for name in ("train_qa", "validation_qa", "test_qa", "train_text"):
        assert hub[name].equals(local[name]), name


def test_real_offline_libraries_give_actionable_errors(tmp_path):
    """The package's default (Hub off), no Hugging Face cache: the real ``datasets`` and
    ``transformers`` fail fast, and both hub entries say how to go online; nothing is cached."""
    script = textwrap.dedent(
        """
        import json, sys
        from kedro.io import DatasetError
        from llm_finetune import settings

        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=sys.argv[1], env="hub", **settings.CONFIG_LOADER_ARGS
        )
        catalog = settings.DATA_CATALOG_CLASS.from_config(loader["catalog"])
        result = {"base_model_exists": catalog.exists("base_model")}
        for name in ("raw_dialogues", "base_model"):
            try:
                catalog.load(name)
                result[name] = None
            except DatasetError as error:
                result[name] = str(error)
        print("RESULT " + json.dumps(result))
        """
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))
    }
    env.update(HF_HOME=str(tmp_path / "hf_home"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    completed = subprocess.run(
        [sys.executable, "-c", script, str(PROJECT_ROOT / "conf")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))

    dialogues = result["raw_dialogues"]
    assert dialogues is not None
    assert PINNED["repo_id"] in dialogues and PINNED["revision"] in dialogues
    assert "HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0" in dialogues

    model = result["base_model"]
    assert model is not None
    assert HUB_MODEL_ID in model and "HF_HUB_OFFLINE=0" in model and "offline" in model
    assert result["base_model_exists"] is False
    assert not (tmp_path / BASE_MODEL_CACHE).exists()  # nothing half-written in the model cache


# --------------------------------------------------------------------------------------------------
# base_model of the hub environment: hub-id resolution, download once, cache
# --------------------------------------------------------------------------------------------------


def test_hub_catalog_base_model_downloads_once_then_loads_from_cache(tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)  # the catalog's cache_dir is relative, as under `kedro run`
    stand_in = _patch_model_hub(monkeypatch, HubModelStandIn(HUB_MODEL_ID, BASE_MODEL_REVISION))

    first = _hub_catalog().load("base_model")
    assert len(stand_in.model_calls) == len(stand_in.tokenizer_calls) == 1
    call = stand_in.model_calls[0]
    assert call["dtype"] is torch.float32  # `dtype: float32` resolved for transformers
    assert call["cache_dir"] is None  # the Hugging Face cache; ours holds the safetensors copy
    slug = HUB_MODEL_ID.replace("/", "-") + (
        f"@{BASE_MODEL_REVISION}" if BASE_MODEL_REVISION else ""
    )
    cache = tmp_path / BASE_MODEL_CACHE / slug
    assert is_complete_model_dir(cache)
    recorded = json.loads((cache / SOURCE_INFO_FILE).read_text())
    assert recorded == {"source": HUB_MODEL_ID, "revision": BASE_MODEL_REVISION}
    assert _same_weights(first.model, stand_in.returned[0])
    assert first.tokenizer.pad_token is not None
    assert first.model.config.pad_token_id == first.tokenizer.pad_token_id

    mtime = (cache / "model.safetensors").stat().st_mtime_ns
    second = _hub_catalog().load("base_model")  # a new run: a fresh catalog
    assert stand_in.hub_calls == 2  # no further Hub call
    assert (cache / "model.safetensors").stat().st_mtime_ns == mtime
    assert _same_weights(second.model, first.model)

    # The hub id from `--params model.base=...` goes through the same resolution.
    other = _patch_model_hub(
        monkeypatch, HubModelStandIn("some-org/other-model", BASE_MODEL_REVISION)
    )
    _hub_catalog({"model": {"base": "some-org/other-model"}}).load("base_model")
    assert len(other.model_calls) == 1
    assert len(list((tmp_path / BASE_MODEL_CACHE).glob("some-org-other-model*"))) == 1


def test_hub_model_revision_reaches_the_hub_and_keys_the_cache(tmp_path, monkeypatch):
    cache_dir = tmp_path / "base_model"

    def load(revision: str):
        stand_in = _patch_model_hub(monkeypatch, HubModelStandIn(HUB_MODEL_ID, revision))
        dataset = PretrainedModelDataset(HUB_MODEL_ID, cache_dir=str(cache_dir), revision=revision)
        return dataset.load(), stand_in

    slug = HUB_MODEL_ID.replace("/", "-")
    first_a, hub = load(REV_A)
    assert [c["revision"] for c in hub.model_calls + hub.tokenizer_calls] == [REV_A, REV_A]
    assert is_complete_model_dir(cache_dir / f"{slug}@{REV_A}")

    first_b, hub = load(REV_B)  # another revision: downloaded again, cached apart
    assert hub.hub_calls == 2
    assert is_complete_model_dir(cache_dir / f"{slug}@{REV_B}")
    recorded = json.loads((cache_dir / f"{slug}@{REV_B}" / SOURCE_INFO_FILE).read_text())
    assert recorded["revision"] == REV_B

    again_a, hub = load(REV_A)  # back to the first: from its cache, no Hub call
    assert hub.hub_calls == 0
    assert _same_weights(again_a.model, first_a.model)


def test_hub_model_exists_asks_the_hub_cache(tmp_path, monkeypatch):
    import huggingface_hub

    real = inspect.signature(huggingface_hub.try_to_load_from_cache)
    calls: list[dict[str, Any]] = []

    def try_to_load_from_cache(*args: Any, **kwargs: Any):
        calls.append(_bind(real, set(), "try_to_load_from_cache", args, kwargs))
        return None  # not in the Hugging Face cache

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", try_to_load_from_cache)
    dataset = PretrainedModelDataset(HUB_MODEL_ID, cache_dir=str(tmp_path), revision=REV_A)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert dataset.exists() is False
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert dataset.exists() is True  # online it can be downloaded
    assert [(c["repo_id"], c["filename"], c["revision"]) for c in calls] == [
        (HUB_MODEL_ID, "config.json", REV_A)
    ] * 2
