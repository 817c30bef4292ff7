"""The training pipeline reads the train and validation splits only: no test row reaches the
Trainer, and the validation split is what it evaluates on."""

from __future__ import annotations

import os
import sys

from llm_finetune.pipelines.training import create_pipeline
from llm_finetune.pipelines.training.packing import example_lengths
from llm_finetune.pipelines.training.tokenization import tokenize_qa
from tests.mlflow_support import copy_project, save_tiny_model, tiny_run_params


def test_the_pipeline_never_reads_the_test_split():
    inputs = {name for name in create_pipeline().inputs() if not name.startswith("params:")}
    assert inputs == {
        "train_qa",
        "validation_qa",
        "base_model",
        "base_tokenizer",
        "base_model_skeleton",
        "prompt_format",
    }


def test_only_fine_tune_reads_the_base_model_weights():
    readers = {
        name: sorted(node.name for node in create_pipeline().nodes if name in node.inputs)
        for name in ("base_model", "base_tokenizer", "base_model_skeleton")
    }
    assert readers == {
        "base_model": ["fine_tune"],
        "base_tokenizer": ["tokenize_datasets"],
        "base_model_skeleton": ["summarize_architecture"],
    }


def test_model_facts_are_catalog_entries_and_the_sweep_copies_skip_the_sizing():
    import yaml

    from tests.conftest import PROJECT_ROOT

    facts = {
        "model_architecture",
        "infrastructure_sizing",
        "infrastructure_sizing_html",
        "infrastructure_sizing_markdown",
    }
    pipe = create_pipeline()
    assert facts <= pipe.all_outputs()
    assert "params:infrastructure_sizing" in pipe.inputs()
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog_training.yml").read_text())
    assert all(catalog[name]["versioned"] for name in facts | {"model_report"})
    # The sweep builds one copy per configuration, its settings a dataset: the architecture
    # feeds each model report, the sizing (a fact of the base model) is not repeated.
    from llm_finetune.pipelines.sweep.pipeline import _training

    per_configuration = _training()
    assert "model_architecture" in per_configuration.all_outputs()
    assert not (facts - {"model_architecture"}) & per_configuration.all_outputs()
    assert not [name for name in per_configuration.inputs() if "infrastructure" in name]


def _examples(rows) -> set[tuple[int, ...]]:
    """Every example of the Trainer's rows (packed or not), as a tuple of token ids."""
    found = set()
    for row in rows:
        start = 0
        for length in example_lengths(row):
            found.add(tuple(row["input_ids"][start : start + length]))
            start += length
    return found


def test_no_test_row_reaches_the_trainer(tmp_path, monkeypatch):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from transformers import Trainer

    project = copy_project(tmp_path / "project", experiment="test_splits")
    params = tiny_run_params(save_tiny_model(tmp_path / "tiny_model"))
    seen: dict[str, list] = {}
    original_init = Trainer.__init__

    def spy(self, *args, **kwargs):
        seen["train"] = list(kwargs["train_dataset"])
        seen["eval"] = list(kwargs["eval_dataset"])
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "__init__", spy)
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        session.run(pipeline_names=["data_engineering", "training"])
        catalog = session.load_context().catalog
        splits = {name: catalog.load(f"{name}_qa") for name in ("train", "validation", "test")}
        tokenizer = catalog.load("base_tokenizer")

    tokenization = {"max_length": 2048, "answer_only_loss": True}
    examples = {
        name: {tuple(ids) for ids in tokenize_qa(qa, tokenizer, tokenization)[0]["input_ids"]}
        for name, qa in splits.items()
    }
    assert all(examples.values()), "every split holds examples"
    trained, evaluated = _examples(seen["train"]), _examples(seen["eval"])
    assert trained == examples["train"]
    assert evaluated == examples["validation"]
    assert not (trained | evaluated) & examples["test"]
    # Training wrote the validation tokens; the test split is tokenized by evaluation only.
    assert (project / "data/05_model_input/tokenized_validation.parquet").is_dir()
    assert not (project / "data/05_model_input/tokenized_test.parquet").exists()
