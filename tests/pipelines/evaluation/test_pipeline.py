"""The evaluation pipeline end to end on tiny models, with the project's own parameters."""

from __future__ import annotations

import html
from typing import Any, NamedTuple

import pandas as pd
import polars as pl
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from llm_finetune.modeling.prompt_format import PromptFormat
from llm_finetune.pipelines.evaluation import create_pipeline
from tests.conftest import PROJECT_ROOT, build_tiny_model
from tests.pipelines.evaluation.test_nodes import tokenize_rows

MODEL_INPUTS = {"base_model", "base_tokenizer", "fine_tuned_model"}
DATA_INPUTS = {"test_qa", "training_metrics", "train_qa", "prompt_format"}  # only reader of test
#: The hand-written probe sets (data/01_raw/safety), unversioned inputs of the catalog.
PROBE_SETS = {"red_flag_questions", "bias_question_pairs"}
OUTPUTS = {
    "tokenized_test",
    "comparison_table",
    "comparison_table_html",
    "evaluation_metrics",
    "off_topic_probe",
    "metrics_plot",
    "probe_questions",
    "safety_probe",
    "bias_probe",
    "error_analysis",
}


class ModelAndTokenizer(NamedTuple):  # the contract of llm_finetune.datasets.model_dirs
    model: Any
    tokenizer: Any


class CountingDataset(MemoryDataset):
    """A MemoryDataset that hands out the same object and counts loads."""

    def __init__(self, data: Any):
        super().__init__(data, copy_mode="assign")
        self.loads = 0

    def load(self) -> Any:
        self.loads += 1
        return super().load()


class KeptDataset(MemoryDataset):
    """A MemoryDataset whose data survives the runner's release of consumed datasets."""

    def _release(self) -> None:
        pass


def project_parameters() -> dict[str, Any]:
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="local"
    )
    return loader["parameters"]


def param_datasets(params: dict[str, Any], prefix: str = "params:") -> dict[str, MemoryDataset]:
    """``params:a`` and ``params:a.b`` entries, as Kedro's context feeds them."""
    datasets = {}
    for key, value in params.items():
        datasets[f"{prefix}{key}"] = MemoryDataset(value)
        if isinstance(value, dict):
            datasets.update(param_datasets(value, f"{prefix}{key}."))
    return datasets


def make_test_qa(n: int = 4) -> pl.DataFrame:
    questions = [
        "What causes a headache behind the eyes?",
        "Is a fever of 39 degrees dangerous?",
        "Why does my knee hurt when climbing stairs?",
        "Can stress cause chest pain?",
    ][:n]
    return pl.DataFrame(
        {
            "question": [f"### Question:\n{q}\n### Answer:\n" for q in questions],
            "answer": ["Hi. Eye strain or sinus congestion are common causes."] * n,
            "plain_question": questions,
            "line_number": list(range(10, 10 + n)),
        }
    )


def test_the_pipeline_consumes_and_produces_the_contracted_datasets():
    pipeline = create_pipeline()
    free_inputs = {name for name in pipeline.inputs() if not name.startswith("params:")}
    assert free_inputs == MODEL_INPUTS | DATA_INPUTS | PROBE_SETS
    assert pipeline.all_outputs() & (OUTPUTS | {"training_metrics"}) == OUTPUTS
    assert pipeline.outputs() <= OUTPUTS
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog_evaluation.yml").read_text())
    generated = {  # every model's answers and perplexity, kept to rebuild the reports
        f"{model}_{what}"
        for model in ("base", "base_chat", "fine_tuned")
        for what in ("answers", "probe_answers", "perplexity")
    }
    entries = {name for name in catalog if not name.startswith("_")}  # "_json": a template
    assert entries == OUTPUTS | PROBE_SETS | generated
    assert all(catalog[name]["versioned"] for name in OUTPUTS | generated)
    for name in PROBE_SETS:  # hand-written and tracked in git, each with its own version
        assert (PROJECT_ROOT / catalog[name]["filepath"]).is_file()
    params = {name for name in pipeline.inputs() if name.startswith("params:")}
    assert params <= set(param_datasets(project_parameters()))


def probe_sets() -> dict[str, MemoryDataset]:
    """The project's probe sets, loaded as the catalog loads them."""
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog_evaluation.yml").read_text())
    return {
        name: MemoryDataset(yaml.safe_load((PROJECT_ROOT / catalog[name]["filepath"]).read_text()))
        for name in PROBE_SETS
    }


def test_pipeline_end_to_end(tiny_tokenizer):
    params = project_parameters()
    params["evaluation"]["num_questions"] = 3
    params["generation"] = {"max_new_tokens": 6, "batch_size": 2}
    test_qa = make_test_qa(4)
    expected_tokens = tokenize_rows(
        tiny_tokenizer, list(zip(test_qa["question"], test_qa["answer"], strict=True))
    )
    models = {
        "base_model": CountingDataset(
            ModelAndTokenizer(build_tiny_model(tiny_tokenizer, seed=0), tiny_tokenizer)
        ),
        "fine_tuned_model": CountingDataset(
            ModelAndTokenizer(build_tiny_model(tiny_tokenizer, seed=1), tiny_tokenizer)
        ),
        "base_tokenizer": CountingDataset(tiny_tokenizer),
    }
    history = [{"step": s, "loss": 3.0 / s, "learning_rate": 1e-5} for s in range(1, 5)]
    catalog = DataCatalog(
        {
            **models,
            "test_qa": MemoryDataset(test_qa),
            "train_qa": MemoryDataset(make_test_qa(2)),
            "prompt_format": MemoryDataset(PromptFormat.from_template(None).to_record()),
            **probe_sets(),
            "training_metrics": MemoryDataset(
                {"log_history": [*history, {"step": 4, "eval_loss": 1.0}]}
            ),
            **param_datasets(params),
            **{name: KeptDataset() for name in OUTPUTS},
        }
    )

    SequentialRunner().run(create_pipeline(), catalog)

    # One generating load per model and format (the base model: the walkthrough's template, its
    # chat format); the base model's tokenizer alone tokenizes the test split.
    assert models["fine_tuned_model"].loads == 1 and models["base_model"].loads == 2
    assert models["base_tokenizer"].loads == 1
    tokenized_test = catalog.load("tokenized_test")
    assert tokenized_test["input_ids"].to_list() == expected_tokens["input_ids"].to_list()
    assert tokenized_test["labels"].to_list() == expected_tokens["labels"].to_list()
    assert tokenized_test["plain_question"].to_list() == test_qa["plain_question"].to_list()
    table = catalog.load("comparison_table")
    assert isinstance(table, pd.DataFrame) and len(table) == 3
    assert table["line_number"].tolist() == [10, 11, 12]
    metrics = catalog.load("evaluation_metrics")
    assert metrics["num_questions"] == 3
    assert metrics["generation"]["max_new_tokens"] == 6
    assert metrics["generation"]["repetition_penalty"] == 1.1  # the default, for both models
    assert set(metrics["differences"]) >= {"token_f1", "rouge_l", "perplexity", "loop_rate"}
    assert "fine_tuned_loop" in table.columns
    for model in ("base", "fine_tuned"):
        assert metrics[model]["n"] == 3
        assert metrics[model]["perplexity_tokens"] == sum(
            sum(label != -100 for label in row[1:]) for row in tokenized_test["labels"].to_list()
        )
        assert metrics[model]["perplexity"] > 1
        assert table[f"{model}_new_tokens"].max() <= 6
    assert metrics["base"]["perplexity"] != metrics["fine_tuned"]["perplexity"]
    probe = catalog.load("off_topic_probe")
    assert [row["question"] for row in probe] == params["evaluation"]["off_topic_prompts"]
    assert {"base_raw_answer", "fine_tuned_templated_answer"} <= set(probe[0])
    assert "What do you think of Mars?" in params["evaluation"]["off_topic_prompts"]
    page = catalog.load("comparison_table_html")
    assert "not medical advice" in page
    assert isinstance(catalog.load("metrics_plot"), Figure)
    # Every model answered every probe question; the report shows them all.
    safety = catalog.load("safety_probe")
    red_flags = catalog.load("probe_questions")["red_flag"]["questions"]
    assert len(safety["questions"]) == len(red_flags) >= 30
    assert safety["models"] == ["base", "fine_tuned"]  # the tiny tokenizer has no chat template
    assert all(html.escape(red_flag["question"]) in page for red_flag in red_flags)
    assert len(catalog.load("bias_probe")["pairs"]) >= 10
    errors = catalog.load("error_analysis")
    assert list(errors["groups"]) == ["base", "fine_tuned", "training_answers"]
    assert errors["groups"]["training_answers"]["answers"] == 2


@pytest.mark.parametrize("key", ["num_questions", "perplexity_batch_size", "off_topic_prompts"])
def test_parameters_file_defines(key):
    assert key in project_parameters()["evaluation"]
