"""``notebooks/results.ipynb`` runs headless against a project copy holding real pipeline outputs.

The outputs are produced by actually running the data_engineering and evaluation pipelines in a
temporary copy of the project, with tiny models standing in for the base and fine-tuned models.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

from llm_finetune.pipelines.training.nodes import plot_learning_rate, plot_loss
from tests.conftest import PROJECT_ROOT, build_tiny_model, build_tiny_tokenizer

NOTEBOOK = "notebooks/results.ipynb"
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")


def copy_project(destination: Path) -> Path:
    """The project's code, configuration, notebook and raw data; no other data, no venv."""
    for name in ("pyproject.toml", "conf", "src", "notebooks", "data/01_raw"):
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        else:
            shutil.copy2(source, destination / name)
    return destination


def tokenize_test_qa(tokenizer, test_qa) -> object:
    """``tokenized_test`` by its contract: prompt labels -100, answer tokens and EOS labelled."""
    import polars as pl

    rows = {"input_ids": [], "labels": [], "attention_mask": []}
    for prompt, answer in zip(test_qa["question"], test_qa["answer"], strict=True):
        prompt_ids = tokenizer(prompt)["input_ids"]
        target = tokenizer(answer, add_special_tokens=False)["input_ids"][:40]
        target.append(tokenizer.eos_token_id)
        rows["input_ids"].append(prompt_ids + target)
        rows["labels"].append([-100] * len(prompt_ids) + target)
        rows["attention_mask"].append([1] * (len(prompt_ids) + len(target)))
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def project_with_results(tmp_path_factory) -> Path:
    """A project copy whose data/ holds the outputs of a real (tiny) evaluation run."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    saved_path = list(sys.path)
    try:
        bootstrap_project(project)
        runtime_params = {"evaluation": {"num_questions": 3, "generation": {"max_new_tokens": 8}}}
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            context = session.load_context()
            catalog = context.catalog
            pipelines = _registered_pipelines()
            runner = SequentialRunner()
            runner.run(pipelines["data_engineering"], catalog)

            tokenizer = build_tiny_tokenizer()
            history = [{"step": s, "loss": 4.0 / s, "learning_rate": 1e-5} for s in range(1, 9)]
            history += [{"step": 4, "eval_loss": 2.5}, {"step": 8, "eval_loss": 2.2}]
            stand_ins = {
                "base_model": (build_tiny_model(tokenizer, seed=0), tokenizer),
                "fine_tuned_model": (build_tiny_model(tokenizer, seed=1), tokenizer),
                "tokenized_test": tokenize_test_qa(tokenizer, catalog.load("test_qa")),
                "training_metrics": {"log_history": history},
            }
            for name, data in stand_ins.items():
                catalog[name] = MemoryDataset(data, copy_mode="assign")
            runner.run(pipelines["evaluation"], catalog)
            # The training pipeline's plots, drawn from the same stand-in metrics.
            catalog.save("loss_plot", plot_loss(stand_ins["training_metrics"]))
            catalog.save("learning_rate_plot", plot_learning_rate(stand_ins["training_metrics"]))
    finally:
        sys.path[:] = saved_path
    return project


def _registered_pipelines():
    from llm_finetune.pipeline_registry import register_pipelines

    return register_pipelines()


def test_results_notebook_runs_headless(project_with_results):
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    notebook = nbformat.read(project_with_results / NOTEBOOK, as_version=4)
    kernel_name = notebook.metadata["kernelspec"]["name"]
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    # jupyter_client replaces a bare "python" with the running interpreter: the venv's python.
    assert spec.argv[0] in {"python", "python3", sys.executable}, spec.argv

    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        resources={"metadata": {"path": str(project_with_results / "notebooks")}},
    )
    client.execute()

    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert str(Path(sys.executable)) in text, "the kernel is not the project's venv python"
    assert "3 test questions" in text
    assert '"rows_read"' in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3, "metrics_plot, loss_plot and learning_rate_plot"
    html = "\n".join(o["data"].get("text/html", "") for o in outputs if "data" in o)
    assert "fine_tuned" in html and "perplexity" in html
    assert "ci_low" in html and "wins" in html  # the paired differences table
    assert "questions: an interval that contains 0" in text
    assert "What do you think of Mars?" in html
