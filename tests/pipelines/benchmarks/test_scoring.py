"""Scoring a model in memory with lm-evaluation-harness: a tokenizer without a pad token still
scores, and the harness task configurations carry each task's format."""

from __future__ import annotations

import pytest

from llm_finetune.benchmark_tasks import TASKS
from llm_finetune.pipelines.benchmarks.scoring import harness_configs, score_model
from tests.pipelines.benchmarks import tiny


def _question(index: int, gold: int, subject: str | None = None, split: str = "test") -> dict:
    return {
        "id": f"q{index}",
        "split": split,
        "subject": subject,
        "question": "What is it ?",
        "choices": tiny.CHOICES,
        "gold": gold,
    }


def test_a_tokenizer_without_a_pad_token_still_scores(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    tokenizer = tiny.build_tokenizer(pad=False)
    assert tokenizer.pad_token is None
    plan = {
        "tasks": {"hellaswag": {"questions": [_question(0, 0), _question(1, 2)], "fewshot": []}}
    }
    scores = score_model(tiny.uniform_model(tokenizer), tokenizer, plan, batch_size=2)
    records = scores["questions"]
    assert [record["acc"] for record in records] == [1.0, 0.0]  # the uniform model answers 0
    assert [record["acc_norm"] for record in records] == [0.0, 0.0]  # ... and 1 per character
    assert scores["harness"]["hellaswag"] == {"acc": 0.5, "acc_norm": 0.0}
    assert scores["examples"]["hellaswag"]["continuations"] == [" " + c for c in tiny.CHOICES]


def test_mmlu_is_asked_per_subject_with_that_subjects_dev_examples(tmp_path):
    questions = [_question(0, 0, "anatomy"), _question(1, 1, "college_biology")]
    fewshot = [
        _question(10 + i, i % 4, subject, "dev")
        for subject in ("anatomy", "college_biology")
        for i in range(5)
    ]
    configs = harness_configs(TASKS["mmlu_medical"], questions, fewshot, tmp_path)
    assert [config["task"] for config in configs] == [
        "mmlu_medical__anatomy",
        "mmlu_medical__college_biology",
    ]
    anatomy = configs[0]
    assert anatomy["description"].startswith(
        "The following are multiple choice questions (with answers) about anatomy."
    )
    assert anatomy["num_fewshot"] == 5 and anatomy["fewshot_split"] == "dev"
    assert anatomy["doc_to_choice"] == ["A", "B", "C", "D"]
    dev = (tmp_path / "mmlu_medical__anatomy" / "dev.jsonl").read_text().splitlines()
    assert len(dev) == 5 and all('"anatomy"' in line for line in dev)


def test_too_few_dev_examples_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="1 few-shot examples for 'anatomy', 5 needed"):
        harness_configs(
            TASKS["mmlu_medical"],
            [_question(0, 0, "anatomy")],
            [_question(9, 0, "anatomy", "dev")],
            tmp_path,
        )


def test_cloze_tasks_score_the_option_texts_zero_shot(tmp_path):
    (config,) = harness_configs(TASKS["medqa_5options"], [_question(0, 0)], [], tmp_path)
    assert config["doc_to_choice"] == "{{choices}}" and config["num_fewshot"] == 0
    assert config["doc_to_text"] == "Question: {{question}}\nAnswer:"
    assert [metric["metric"] for metric in config["metric_list"]] == ["acc", "acc_norm"]
