"""Tests of the red-flag training set and of mixing it into the training dialogues: the shipped
file is valid, disjoint from the probe and holdout sets, escalates and names no dose; bad sets
fail naming the file, the item and the problem; the mix is counted, seeded and checked."""

from __future__ import annotations

import copy
import re
from collections import Counter

import polars as pl
import pytest
import yaml

from llm_finetune.datasets.raw_dialogues import LINE_NUMBER
from llm_finetune.pipelines.data_engineering.nodes import apply_prompt_template
from llm_finetune.pipelines.data_engineering.safety_mix import (
    check_disjoint,
    mix_safety_examples,
    safety_training_examples,
)
from llm_finetune.pipelines.evaluation.probe_sets import EXPECTED_ACTIONS
from llm_finetune.safety.answer_rules import dose_amounts, escalates, names_dose
from tests.conftest import PROJECT_ROOT

SAFETY = PROJECT_ROOT / "data" / "01_raw" / "safety"
TRAINING = SAFETY / "red_flag_training.yml"
PROBE_SETS = ("red_flag_questions", "red_flag_holdout", "red_flag_holdout_2")
TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"

ESCALATING = (
    "Sudden chest pain with sweating can be a heart attack. Call an ambulance now and do not "
    "drive yourself; sit down and keep someone with you until help arrives."
)
CALM = "This sounds like a common cold. Rest, drink plenty and it should settle within a week."


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shipped():
    return safety_training_examples(load(TRAINING), TRAINING.name)


def example(number: int = 1, **fields) -> dict:
    item = {
        "id": f"example-{number}",
        "topic": "chest-pain",
        "expected_action": "emergency",
        "question": f"Crushing chest pain number {number}, sweaty and grey, what do I do?",
        "answer": ESCALATING,
    }
    item.update(fields)
    return {name: value for name, value in item.items() if value is not None}


def training_set(*items) -> dict:
    return {"version": 1, "examples": list(items) or [example()]}


# --------------------------------------------------------------------------------------------------
# The shipped file
# --------------------------------------------------------------------------------------------------


def test_shipped_training_set_validates(shipped):
    version, examples = shipped
    assert version == 1
    assert len(examples) >= 60
    assert len({item["id"] for item in examples}) == len(examples)
    assert {item["expected_action"] for item in examples} == set(EXPECTED_ACTIONS)
    assert all(
        set(item) == {"id", "topic", "expected_action", "question", "answer"} for item in examples
    )


def test_shipped_header_says_it_was_written_blind_to_the_probe():
    header = TRAINING.read_text(encoding="utf-8").split("\nversion:")[0]
    assert header.startswith("#")
    assert "BLIND" in header and "red_flag_questions.yml" in header


@pytest.mark.parametrize(
    "topic",
    [
        "chest-pain",
        "stroke",
        "suicidal-thoughts",
        "self-harm",
        "overdose",
        "anaphylaxis",
        "meningitis",
        "sudden-severe-headache",
        "gi-bleeding",
        "pregnancy-bleeding",
        "ectopic-pregnancy",
        "infant-fever",
        "asthma-attack",
        "severe-breathlessness",
        "sepsis",
        "testicular-torsion",
        "appendicitis",
        "diabetic-emergency",
        "head-injury",
        "cauda-equina",
        "sudden-vision-loss",
        "severe-burns",
        "poisoning",
        "dvt",
        "pulmonary-embolism",
        "severe-dehydration",
        "seizures",
    ],
)
def test_shipped_set_covers_the_red_flag_topic(shipped, topic):
    assert topic in {item["topic"] for item in shipped[1]}


def test_shipped_set_is_disjoint_from_the_probe_and_holdout_sets(shipped):
    sets = [(name, load(SAFETY / f"{name}.yml")) for name in PROBE_SETS]
    report = check_disjoint(shipped[1], *sets)
    assert set(report["sets"]) == set(PROBE_SETS)
    assert report["training_questions"] == len(shipped[1])
    assert all(entry["questions"] > 0 for entry in report["sets"].values())
    assert report["max_jaccard"] < report["near_copy_jaccard"] == 0.8


def test_shipped_answers_escalate_and_name_no_dose(shipped):
    for item in shipped[1]:
        assert escalates(item["answer"]), item["id"]
        assert not dose_amounts(item["answer"]), item["id"]
        assert not names_dose(item["answer"], item["question"]), item["id"]


def test_shipped_answers_read_like_a_doctor_not_the_source_site(shipped):
    openings = Counter(item["answer"].split()[0].strip(",.!").lower() for item in shipped[1])
    assert not {"hi", "hello", "dear", "greetings"} & set(openings)
    assert openings.most_common(1)[0][1] <= len(shipped[1]) // 5, openings.most_common(3)
    for item in shipped[1]:
        words = len(item["answer"].split())
        assert 40 <= words <= 120, (item["id"], words)
        assert "-->" not in item["answer"], item["id"]
        assert "consult online" not in item["answer"].lower(), item["id"]
        assert not re.search(r"\b(?:mg|mls?|mcg|tablets?|capsules?)\b", item["answer"]), item["id"]


# --------------------------------------------------------------------------------------------------
# Bad sets
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (example(2, topic=None), "example 2 ('example-2') lacks topic"),
        (example(2, expected_action=None), "example 2 ('example-2') lacks expected_action"),
        (example(2, answer="  "), "example 2 ('example-2') lacks answer"),
        (
            example(2, expected_action="routine"),
            "example 2 ('example-2') has the unknown expected_action 'routine'; allowed: "
            "emergency, urgent",
        ),
        (
            example(2, answer=ESCALATING + " Chew 300 mg of aspirin while you wait."),
            "example 2 ('example-2') answer names a dose (300 mg)",
        ),
        (
            example(2, answer=ESCALATING + " Take two tablets of your spray."),
            "example 2 ('example-2') answer names a dose (2 tablets)",
        ),
        (example(2, id="example-1"), "example 2 ('example-1') repeats the id of example 1"),
        (example(2, id="Example_2"), "example 2 ('Example_2') id is not kebab-case"),
        (
            example(2, question=example(1)["question"].upper()),
            "example 2 ('example-2') repeats the question of example 1 ('example-1')",
        ),
        (
            example(2, answer=CALM),
            "example 2 ('example-2') is 'emergency' but its answer does not escalate",
        ),
        (
            example(2, answer="It could be serious; if it gets worse, go to the emergency room."),
            "example 2 ('example-2') is 'emergency' but its answer does not escalate",
        ),
        (
            example(2, expected_action="urgent", answer=CALM),
            "example 2 ('example-2') is 'urgent' but its answer does not escalate",
        ),
        ("just a string", "example 2 must be a mapping"),
    ],
)
def test_bad_example_fails_naming_the_file_item_and_problem(bad, message):
    with pytest.raises(ValueError) as error:
        safety_training_examples(training_set(example(1), bad), "red_flag_training.yml")
    assert str(error.value).startswith(f"red_flag_training.yml {message}"), str(error.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["not", "a", "mapping"], "must be a mapping with 'version' and 'examples'"),
        ({"version": 1}, "lacks examples"),
        ({"version": 0, "examples": [example()]}, "version must be a positive integer"),
        ({"version": 1, "examples": []}, "examples is empty"),
    ],
)
def test_bad_set_fails_naming_the_file(raw, message):
    with pytest.raises(ValueError, match=re.escape(f"red_flag_training {message}")):
        safety_training_examples(raw)


def probe(*questions: str) -> dict:
    return {
        "version": 1,
        "questions": [
            {"id": f"probe-{n}", "topic": "t", "expected_action": "emergency", "question": q}
            for n, q in enumerate(questions, start=1)
        ],
    }


def test_question_copied_from_a_probe_set_fails_naming_both_ids():
    _, examples = safety_training_examples(training_set(example(1), example(2)))
    copied = "  crushing CHEST pain number 2 -- sweaty and grey; what do I do "
    with pytest.raises(ValueError) as error:
        check_disjoint(
            examples,
            ("red_flag_questions", probe("Unrelated headache?")),
            ("red_flag_holdout", probe("Something else", copied)),
        )
    assert str(error.value).startswith(
        "red-flag training example 'example-2' asks the same question as red_flag_holdout "
        "question 'probe-2'"
    )


def test_question_nearly_copied_from_a_probe_set_fails_naming_both_ids():
    question = "my father has crushing chest pain going into his arm and he is sweating badly now"
    _, examples = safety_training_examples(training_set(example(1, question=question)))
    near = question.replace("badly", "heavily")  # 15 of 17 words shared: Jaccard 0.88
    with pytest.raises(
        ValueError,
        match=r"example 'example-1' nearly copies red_flag_holdout_2 "
        r"question 'probe-1': word-set Jaccard 0\.88 >= 0\.8",
    ):
        check_disjoint(examples, ("red_flag_holdout_2", probe(near)))


def test_disjoint_sets_report_the_closest_overlap():
    _, examples = safety_training_examples(
        training_set(example(1, question="sudden chest pain and sweating"), example(2))
    )
    report = check_disjoint(
        examples,
        ("probe", probe("chest pain after running", "rash on my arm")),
        ("holdout", probe("a headache in the morning")),
    )
    assert report["sets"]["probe"] == {
        "questions": 2,
        "closest": {"jaccard": 0.286, "training_id": "example-1", "probe_id": "probe-1"},
    }
    assert report["sets"]["holdout"]["closest"]["jaccard"] < 0.286
    assert report["max_jaccard"] == 0.286
    assert report["training_questions"] == 2


def test_a_bad_probe_set_fails_naming_it():
    _, examples = safety_training_examples(training_set())
    with pytest.raises(ValueError, match="red_flag_holdout lacks questions"):
        check_disjoint(examples, ("red_flag_holdout", {"version": 1}))


# --------------------------------------------------------------------------------------------------
# Mixing
# --------------------------------------------------------------------------------------------------


def train_frame(height: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            LINE_NUMBER: list(range(1, height + 1)),
            "question": [f"question {n}" for n in range(height)],
            "answer": [f"answer {n}" for n in range(height)],
        },
        schema={LINE_NUMBER: pl.UInt32, "question": pl.String, "answer": pl.String},
    )


@pytest.fixture(scope="module")
def few_examples():
    items = [example(n, answer=ESCALATING + f" Case {n}.") for n in range(1, 5)]
    return safety_training_examples(training_set(*items))[1]


def test_mix_adds_round_ratio_times_height_rows_each_example_once(few_examples):
    train = train_frame(10)
    mixed, stats = mix_safety_examples(train, few_examples, ratio=0.4, seed=1)
    assert stats == {"safety_rows_added": 4, "safety_examples_available": 4, "ratio": 0.4}
    assert mixed.height == 14 and mixed.columns == train.columns
    assert mixed.head(10)[LINE_NUMBER].to_list() == train[LINE_NUMBER].to_list()
    safety = mixed.tail(4)
    assert sorted(safety[LINE_NUMBER].to_list()) == [-4, -3, -2, -1]
    for row in safety.iter_rows(named=True):
        source = few_examples[-row[LINE_NUMBER] - 1]
        assert (row["question"], row["answer"]) == (source["question"], source["answer"])


def test_mix_cycles_evenly_when_more_rows_than_examples(few_examples):
    mixed, stats = mix_safety_examples(train_frame(20), few_examples, ratio=0.5, seed=3)
    assert stats["safety_rows_added"] == 10
    uses = Counter(mixed.filter(pl.col(LINE_NUMBER) < 0)[LINE_NUMBER].to_list())
    assert set(uses) == {-1, -2, -3, -4} and set(uses.values()) <= {2, 3}
    first_round = mixed.tail(10)[LINE_NUMBER].to_list()[:4]
    assert sorted(first_round) == [-4, -3, -2, -1]


def test_mix_is_deterministic_per_seed(few_examples):
    train = train_frame(40)
    first, _ = mix_safety_examples(train, few_examples, ratio=0.25, seed=7)
    again, _ = mix_safety_examples(train, few_examples, ratio=0.25, seed=7)
    other, _ = mix_safety_examples(train, few_examples, ratio=0.25, seed=8)
    assert first.equals(again)
    assert not first.equals(other)
    assert first[LINE_NUMBER].dtype == pl.Int64


def test_mix_with_ratio_zero_returns_the_frame_unchanged(few_examples):
    train = train_frame(5)
    mixed, stats = mix_safety_examples(train, few_examples, ratio=0, seed=1)
    assert mixed is train
    assert stats == {"safety_rows_added": 0, "safety_examples_available": 4, "ratio": 0}
    assert mix_safety_examples(train, [], ratio=0.0, seed=1)[0] is train


@pytest.mark.parametrize("ratio", [-0.1, "0.1", None, True, float("nan"), float("inf")])
def test_mix_with_a_bad_ratio_fails_naming_the_parameter(few_examples, ratio):
    with pytest.raises(ValueError, match=r"data_engineering\.safety_mix_ratio must be a number"):
        mix_safety_examples(train_frame(5), few_examples, ratio=ratio, seed=1)


def test_mix_without_examples_or_columns_fails_clearly(few_examples):
    with pytest.raises(ValueError, match="safety_mix_ratio=0.5 asks for 2 safety rows but there"):
        mix_safety_examples(train_frame(4), [], ratio=0.5, seed=1)
    with pytest.raises(ValueError, match="the training dialogues lack answer"):
        mix_safety_examples(train_frame(4).drop("answer"), few_examples, ratio=0.5, seed=1)


def test_mixed_frame_goes_through_the_prompt_template(shipped):
    train = train_frame(100)
    mixed, stats = mix_safety_examples(train, shipped[1], ratio=0.1, seed=0)
    train_qa, *_, train_text = apply_prompt_template(mixed, train.head(1), train.head(1), TEMPLATE)
    assert train_qa.height == train_text.height == 110
    safety = train_qa.filter(pl.col(LINE_NUMBER) < 0)
    assert safety.height == stats["safety_rows_added"] == 10
    assert safety["question"].str.starts_with("### Question:\n").all()


def test_mix_leaves_the_examples_untouched(shipped):
    examples = copy.deepcopy(shipped[1])
    mix_safety_examples(train_frame(30), examples, ratio=1.0, seed=2)
    assert examples == shipped[1]
