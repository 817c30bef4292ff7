"""Training under torchrun: DDP over gloo on two CPU processes, catalog outputs from rank 0 only.

The end-to-end test runs the real CLI (``torchrun -m llm_finetune --pipelines training``) on a
temporary copy of the project with a tiny model, and checks the result against one process
trained on the same global batches. The unit tests cover the pieces on their own: the rank-0
catalog (through Kedro's runner), the Trainer arguments for a launcher, the FSDP gather, and the
base-model cache that only local rank 0 writes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner
from omegaconf import OmegaConf
from safetensors.torch import load_file

from llm_finetune import distributed
from llm_finetune.datasets import ModelAndTokenizer, PretrainedModelDataset, pretrained_model
from llm_finetune.datasets.model_cache import SOURCE_INFO_FILE
from llm_finetune.datasets.model_dirs import save_model_atomically
from llm_finetune.distributed import RankZeroDataCatalog, launcher_trainer_args
from llm_finetune.pipelines.training import checkpoints, create_pipeline, finished_model
from tests.conftest import PROJECT_ROOT, build_tiny_model, build_tiny_tokenizer

SAMPLE = Path("data") / "01_raw" / "medical_dialogues_sample.jsonl"
MAX_STEPS = 3
# Tiny but real: the project's parameters, with steps, lengths and batches cut down. Packing is on
# (position-id isolated rows go through DDP too); one evaluation and one checkpoint at the end, so
# load_best_model_at_end reloads the checkpoint rank 0 wrote on every rank.
TRAINING_PARAMS = [
    "training.tokenization.max_length=256",
    f"training.trainer.max_steps={MAX_STEPS}",
    "training.trainer.per_device_train_batch_size=1",
    "training.trainer.learning_rate=0.001",
    "training.trainer.warmup_steps=0",
    f"training.trainer.eval_steps={MAX_STEPS}",
    f"training.trainer.save_steps={MAX_STEPS}",
    "training.trainer.per_device_eval_batch_size=1",
    "training.packing.enabled=true",
    "training.packing.examples_per_row=2",
]


# ---------- the rank-0 catalog ----------


def _persisted_catalog(tmp_path: Path) -> RankZeroDataCatalog:
    return RankZeroDataCatalog.from_config(
        {
            "numbers": {
                "type": "json.JSONDataset",
                "filepath": str(tmp_path / "numbers.json"),
                "versioned": True,
            },
            "doubled": {"type": "json.JSONDataset", "filepath": str(tmp_path / "doubled.json")},
        }
    )


def _two_nodes() -> Pipeline:
    return Pipeline(
        [
            Node(lambda: [1, 2, 3], inputs=None, outputs="numbers", name="make"),
            Node(lambda xs: [2 * x for x in xs], "numbers", "doubled", name="double"),
            Node(lambda xs: sum(xs), inputs="doubled", outputs="total", name="total"),
        ]
    )


def test_non_zero_rank_writes_nothing_but_downstream_nodes_get_the_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    catalog = _persisted_catalog(tmp_path)

    # Kedro's own runner: outputs go through catalog.save, inputs through catalog.load.
    SequentialRunner().run(_two_nodes(), catalog)

    assert not list(tmp_path.iterdir()), "rank 1 wrote files"
    assert catalog.load("total") == 12  # a MemoryDataset output: saved as usual on every rank


def test_rank_zero_and_single_process_save_as_usual(tmp_path, monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    catalog = _persisted_catalog(tmp_path / "single")
    SequentialRunner().run(_two_nodes(), catalog)
    assert json.loads((tmp_path / "single" / "doubled.json").read_text()) == [2, 4, 6]

    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    catalog = _persisted_catalog(tmp_path / "rank0")
    SequentialRunner().run(_two_nodes(), catalog)
    assert len(list((tmp_path / "rank0" / "numbers.json").iterdir())) == 1  # one version
    assert catalog.load("doubled") == [2, 4, 6]


def test_kept_outputs_are_released_and_params_stay_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "3")
    catalog = _persisted_catalog(tmp_path)
    catalog["params:x"] = MemoryDataset(1)
    catalog.save("doubled", [4])
    assert catalog.exists("doubled") and catalog.load("doubled") == [4]
    catalog.release("doubled")
    with pytest.raises(DatasetError):  # gone from memory, and never written
        catalog.load("doubled")
    catalog.save("params:x", 2)
    assert catalog.load("params:x") == 2


def test_settings_use_the_rank_zero_catalog():
    from llm_finetune import settings

    assert settings.DATA_CATALOG_CLASS is RankZeroDataCatalog
    assert hasattr(RankZeroDataCatalog(), "describe_datasets")  # `kedro catalog` commands work


# ---------- Trainer arguments under a launcher ----------


def test_launcher_trainer_args(monkeypatch):
    args = {"learning_rate": 1e-5}
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert launcher_trainer_args(args, "cpu") == args  # a plain run is left alone

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launcher_trainer_args(args, "cpu") == {
        "learning_rate": 1e-5,
        "use_cpu": True,  # without it accelerate leaves each CPU process training on its own
        "ddp_backend": "gloo",
        "ddp_find_unused_parameters": False,
    }
    assert launcher_trainer_args({"ddp_backend": "mpi"}, "cpu")["ddp_backend"] == "mpi"
    assert launcher_trainer_args(args, "cuda") == {**args, "ddp_find_unused_parameters": False}
    assert args == {"learning_rate": 1e-5}  # not modified in place


def test_launched_processes_that_train_alone_fail(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="every process would train a model of its own"):
        distributed.check_joined(SimpleNamespace(world_size=1, parallel_mode="not_parallel"))
    distributed.check_joined(SimpleNamespace(world_size=2, parallel_mode="distributed"))


def test_run_key_includes_the_number_of_processes(monkeypatch, tiny_tokenizer):
    import polars as pl

    base = ModelAndTokenizer(build_tiny_model(tiny_tokenizer), tiny_tokenizer)
    train = pl.DataFrame({"input_ids": [[1, 2]], "labels": [[1, 2]]})
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    single = checkpoints.run_key({"a": 1}, base, train)
    monkeypatch.setenv("WORLD_SIZE", "1")
    # Keys of plain runs are unchanged; a run resumes with as many processes only.
    assert checkpoints.run_key({"a": 1}, base, train) == single
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert checkpoints.run_key({"a": 1}, base, train) != single


def test_only_the_checkpoint_writer_removes_a_finished_run(tmp_path):
    finished = tmp_path / "run" / "checkpoint-4"
    finished.mkdir(parents=True)
    (finished / "trainer_state.json").write_text("{}")
    assert checkpoints.resume_point(tmp_path / "run", 4, remove_finished=False) is None
    assert finished.is_dir()  # rank 1 decides the same as rank 0 and leaves the directory alone
    assert checkpoints.resume_point(tmp_path / "run", 4) is None
    assert not (tmp_path / "run").exists()


class _SingleProcessAccelerator:
    """What ``gather_sharded_model`` uses of accelerate, for one process."""

    def get_state_dict(self, model):
        return {k: v.clone() for k, v in model.state_dict().items()}

    def unwrap_model(self, model):
        return model

    def wait_for_everyone(self):
        pass


def test_gather_sharded_model_returns_a_plain_copy(tmp_path, tiny_tokenizer):
    from types import SimpleNamespace

    model = build_tiny_model(tiny_tokenizer)
    trainer = SimpleNamespace(
        model=model, accelerator=_SingleProcessAccelerator(), args=SimpleNamespace(should_save=True)
    )
    gathered = finished_model.gather_sharded_model(trainer, tiny_tokenizer, tmp_path / "full-model")
    assert gathered is not model
    expected = model.state_dict()
    for key, tensor in gathered.state_dict().items():
        assert torch.equal(tensor, expected[key]), key


def test_other_local_ranks_wait_for_the_base_model_cache(tmp_path, monkeypatch, tiny_tokenizer):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"not read by local rank 1")
    dataset = PretrainedModelDataset(str(gguf), cache_dir=str(tmp_path / "cache"))
    resolved = dataset._resolve()
    fingerprint = dataset._fingerprint(resolved)
    model = build_tiny_model(tiny_tokenizer)

    def rank_zero_converts():
        time.sleep(1.5)
        save_model_atomically(
            ModelAndTokenizer(model, tiny_tokenizer),
            resolved.cache,
            extra_files={SOURCE_INFO_FILE: json.dumps(fingerprint)},
        )

    def no_conversion(*_):
        raise AssertionError("local rank 1 must not convert the model")

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(pretrained_model, "convert_gguf", no_conversion)
    writer = threading.Thread(target=rank_zero_converts)
    writer.start()
    try:
        loaded = dataset.load()
    finally:
        writer.join()
    assert torch.equal(loaded.model.lm_head.weight, model.lm_head.weight)


def test_waiting_for_local_rank_zero_times_out_with_what_it_waited_for(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    answers = iter([False, False, True])
    distributed.wait_for_local_rank_zero(lambda: next(answers), "write x", poll_s=0.01)
    with pytest.raises(TimeoutError, match=r"^local rank 0 did not write x within 0.05 s$"):
        distributed.wait_for_local_rank_zero(lambda: False, "write x", timeout_s=0.05, poll_s=0.01)
    assert distributed.is_local_main_process() is False
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert distributed.is_local_main_process() is True


def test_a_base_model_cache_never_written_is_a_dataset_error(tmp_path, monkeypatch):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"not read by local rank 1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    wait = distributed.wait_for_local_rank_zero
    monkeypatch.setattr(
        distributed, "wait_for_local_rank_zero", lambda ready, what: wait(ready, what, 0.05, 0.01)
    )
    dataset = PretrainedModelDataset(str(gguf), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DatasetError, match=r"local rank 0 did not cache base model .* within"):
        dataset.load()


# ---------- end to end: torchrun, two processes ----------


def _copy_project(dest: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "conf" / "base", dest / "conf" / "base")
    (dest / "conf" / "local").mkdir()
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / SAMPLE).parent.mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / SAMPLE, dest / SAMPLE)
    safety = Path("data") / "01_raw" / "safety"  # the red-flag training set and the probe
    shutil.copytree(PROJECT_ROOT / safety, dest / safety)
    (dest / "src").mkdir()  # bootstrap_project checks that the source folder exists
    return dest


def _run_in_process(project: Path, pipeline: str, params: list[str]) -> None:
    """``kedro run --pipelines <pipeline> --params <params>`` in this (single) process."""
    runtime_params = OmegaConf.to_container(OmegaConf.from_dotlist(params)) if params else None
    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path and PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        bootstrap_project(project)
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            session.run(pipeline_names=[pipeline])


def _versioned_training_outputs(project: Path) -> dict[str, Path]:
    """Training pipeline outputs the catalog versions: name -> folder holding the versions."""
    entries: dict[str, Any] = {}
    for path in sorted((project / "conf" / "base").glob("catalog*.yml")):
        entries.update(yaml.safe_load(path.read_text()) or {})
    outputs = create_pipeline().all_outputs()
    return {
        name: project / entries[name]["filepath"]
        for name in sorted(outputs)
        if isinstance(entries.get(name), dict) and entries[name].get("versioned")
    }


def _versions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _metrics(version: Path) -> dict[str, Any]:
    return json.loads((version / "training_metrics.json").read_text())


def test_torchrun_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    project = _copy_project(tmp_path / "project")
    tokenizer = build_tiny_tokenizer()
    base_dir = tmp_path / "tiny_model"
    build_tiny_model(tokenizer).save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    params = [f"model.base={base_dir}", *TRAINING_PARAMS]
    _run_in_process(project, "data_engineering", [])  # train_qa, validation_qa for the training

    # Two processes, one example row each per step: a global batch of 2 rows per optimizer step.
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "COLUMNS": "400",
        "NO_COLOR": "1",
        "OMP_NUM_THREADS": "1",
    }
    ddp_params = [*params, "training.trainer.gradient_accumulation_steps=1"]
    result = subprocess.run(
        [
            str(torchrun),
            "--standalone",  # a free rendezvous port: other jobs on the machine don't collide
            "--nproc_per_node",
            "2",
            "-m",
            "llm_finetune",
            "--pipelines",
            "training",
            "--params",
            ",".join(ddp_params),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for rank in (0, 1):  # both processes trained, as one DDP job
        assert f"process rank {rank} of world size 2" in output, output[-6000:]
    assert "(latest at start, from rank 0)" in output  # rank 1 read the splits rank 0 pinned

    # Exactly one version of every versioned output: rank 1 wrote none, and no half-written model.
    outputs = _versioned_training_outputs(project)
    assert {"fine_tuned_model", "training_metrics", "tokenized_train"} <= set(outputs)
    for name, folder in outputs.items():
        assert len(_versions(folder)) == 1, (name, _versions(folder))
    assert not list((project / "data" / "06_models" / "fine_tuned_model").glob(".*"))
    (ddp_version,) = _versions(outputs["training_metrics"])
    ddp = _metrics(ddp_version)
    assert ddp["summary"]["world_size"] == 2
    assert ddp["summary"]["rows_per_optimizer_step"] == 2
    assert ddp["summary"]["global_step"] == MAX_STEPS

    # The reference: one process, the same 2-row global batch through gradient accumulation.
    # DDP all-reduces (averages) the gradients of the two ranks before each optimizer step, and
    # the Trainer normalises the loss by the label tokens of the whole global batch in both
    # cases, so the optimizer sees the same gradient as one process accumulating the same two
    # rows. The rows are the same too: both runs draw one seeded permutation (accelerate's
    # seedable sampler); one process takes rows 2k and 2k+1 for step k, and DDP deals batch 2k to
    # rank 0 and 2k+1 to rank 1. Same seed, same initial weights, same packing: the trained
    # weights may differ by float rounding only (the order of additions).
    single_params = [*params, "training.trainer.gradient_accumulation_steps=2"]
    _run_in_process(project, "training", single_params)
    single_version = _versions(outputs["training_metrics"])[1]
    single = _metrics(single_version)
    assert single["summary"]["world_size"] == 1
    assert single["summary"]["rows_per_optimizer_step"] == 2
    # Both processes' examples and tokens count towards each optimizer step.
    for key in ("examples_per_optimizer_step", "tokens_per_optimizer_step"):
        assert ddp["summary"][key] == single["summary"][key], key

    def losses(metrics):
        return [(e["step"], e["loss"]) for e in metrics["log_history"] if "loss" in e]

    assert [step for step, _ in losses(ddp)] == list(range(1, MAX_STEPS + 1))
    for (step, ddp_loss), (_, single_loss) in zip(losses(ddp), losses(single), strict=True):
        assert ddp_loss == pytest.approx(single_loss, rel=1e-5), step  # the same rows per step

    ddp_model, single_model = (
        load_file(version / "fine_tuned_model" / "model.safetensors")
        for version in _versions(outputs["fine_tuned_model"])
    )
    base = load_file(base_dir / "model.safetensors")
    assert ddp_model.keys() == single_model.keys()
    scale = max(tensor.abs().max().item() for tensor in single_model.values())
    difference = max((ddp_model[k] - single_model[k]).abs().max().item() for k in ddp_model)
    moved = max((single_model[k] - base[k]).abs().max().item() for k in single_model)
    assert difference <= 1e-5 * scale, (difference, scale)
    # Training moved the weights by far more than that: ranks training on their own, or different
    # rows per step, would differ by about as much as an update.
    assert moved > 100 * 1e-5 * scale, (moved, scale)
