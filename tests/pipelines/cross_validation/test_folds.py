"""The folds of cross-validation (grouped by question, seeded, every pooled row held out exactly
once), its settings (typed, unknown keys rejected) and each setting's training/generation blocks."""

from __future__ import annotations

import json

import polars as pl
import pytest

from llm_finetune.config import CrossValidationSettings, GenerationSettings, TrainingSettings
from llm_finetune.pipelines.cross_validation import nodes
from llm_finetune.pipelines.cross_validation.folds import (
    assign_questions,
    scored_questions,
    setting_blocks,
)
from tests.config.test_settings import ENVIRONMENTS, resolved_parameters
from tests.conftest import build_tiny_tokenizer


def qa_frame(questions: list[str], start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "question": [f"### Question:\n{q}\n### Answer:\n" for q in questions],
            "answer": [f"answer {start + i}" for i in range(len(questions))],
            "plain_question": questions,
            "line_number": list(range(start, start + len(questions))),
        }
    )


# Questions repeated inside a split and across train and validation.
TRAIN = qa_frame([f"q{i % 9}" for i in range(20)])
VALIDATION = qa_frame(["q3", "q10", "q11", "q11", "q12"], start=100)


def folds_of(k: int, seed: int = 0, max_questions: int | None = None):
    params = {"k": k, "seed": seed, "max_questions": max_questions}
    summary, *frames = nodes.assign_folds(TRAIN, VALIDATION, params)
    return summary, frames[0::2], frames[1::2]


def test_every_copy_of_a_question_is_in_one_fold():
    pooled = pl.concat([TRAIN, VALIDATION])
    assignment = assign_questions(pooled["plain_question"].to_list(), k=3, seed=7)
    assert sorted(assignment) == sorted(set(pooled["plain_question"].to_list()))
    assert set(assignment.values()) == {0, 1, 2}
    sizes = [list(assignment.values()).count(fold) for fold in range(3)]
    assert max(sizes) - min(sizes) <= 1  # dealt round-robin over the distinct questions


def test_the_folds_are_deterministic_and_do_not_depend_on_row_order():
    questions = pl.concat([TRAIN, VALIDATION])["plain_question"].to_list()
    first = assign_questions(questions, k=3, seed=1)
    assert assign_questions(list(reversed(questions)), k=3, seed=1) == first
    assert assign_questions(questions, k=3, seed=2) != first  # the seed draws them


def test_every_pooled_row_is_held_out_exactly_once_and_never_trained_on_there():
    summary, trains, held_outs = folds_of(k=3)
    pooled = pl.concat([TRAIN, VALIDATION])
    held_lines = sorted(line for frame in held_outs for line in frame["line_number"].to_list())
    assert held_lines == sorted(pooled["line_number"].to_list())
    for train, held_out in zip(trains, held_outs, strict=True):
        assert not set(train["plain_question"]) & set(held_out["plain_question"])
        assert train.height + held_out.height == pooled.height
    assert summary["pooled_rows"] == pooled.height == sum(f["rows"] for f in summary["folds"])
    assert summary["distinct_questions"] == 12
    assert summary["splits_read"] == ["train_qa", "validation_qa"]
    assert trains[0].columns == ["question", "answer", "plain_question", "line_number"]


def test_rows_added_to_training_are_trained_on_in_every_fold_and_never_held_out():
    safety = qa_frame(["red flag a", "red flag b"]).with_columns(
        pl.Series("line_number", [-1, -2], dtype=pl.Int64)
    )
    mixed = pl.concat([TRAIN, safety])
    summary, *frames = nodes.assign_folds(mixed, VALIDATION, {"k": 3, "max_questions": None})
    trains, held_outs = frames[0::2], frames[1::2]
    assert summary["training_only_rows"] == 2
    assert summary["pooled_rows"] == TRAIN.height + VALIDATION.height
    for train, held_out in zip(trains, held_outs, strict=True):
        assert {-1, -2} <= set(train["line_number"])
        assert (held_out["line_number"] >= 0).all()


def test_held_out_scoring_is_capped_by_questions_keeping_every_row_of_each():
    summary, _, held_outs = folds_of(k=2, max_questions=2)
    _, _, full = folds_of(k=2)
    for fold, capped, whole in zip(summary["folds"], held_outs, full, strict=True):
        assert capped["plain_question"].n_unique() == fold["scored_questions"] == 2
        kept = set(capped["plain_question"])
        assert capped.height == whole.filter(pl.col("plain_question").is_in(kept)).height
        assert fold["scored_rows"] == capped.height
        assert fold["rows"] == whole.height
    assignment = assign_questions(pl.concat([TRAIN, VALIDATION])["plain_question"], 2, 0)
    assert set(held_outs[0]["plain_question"]) == set(scored_questions(assignment, 0, 0, 2))


@pytest.mark.parametrize(
    ("k", "message"),
    [
        (1, r"cross_validation\.k must be an integer >= 2"),
        (13, r"cross_validation\.k=13 is larger than the 12 distinct questions"),
    ],
)
def test_a_bad_k_fails_naming_the_parameter(k, message):
    with pytest.raises(ValueError, match=message):
        folds_of(k=k)


def test_assign_questions_checks_k_itself():
    with pytest.raises(ValueError, match=r"cross_validation\.k must be at least 2"):
        assign_questions(["a", "b"], k=1, seed=0)


def test_the_settings_reject_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match=r"cross_validation\.folds: unknown key"):
        CrossValidationSettings.from_params({"folds": 3})
    with pytest.raises(ValueError, match=r"cross_validation\.max_questions must be a positive"):
        CrossValidationSettings.from_params({"max_questions": 0})
    with pytest.raises(ValueError, match=r"cross_validation\.candidate\.lr is not a key of"):
        CrossValidationSettings.from_params({"candidate": {"lr": 1e-3}})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_builds_the_settings_and_both_settings_blocks(env):
    parameters = resolved_parameters(env)
    settings = CrossValidationSettings.from_params(parameters["cross_validation"])
    assert settings.to_dict() == parameters["cross_validation"]
    outputs = nodes.configure_cross_validation(
        parameters["cross_validation"],
        parameters["training"],
        parameters["generation"],
        parameters["data_engineering"],
    )
    baseline, candidate = outputs[:4], outputs[4:]
    for training, tokenization, generation, data in (baseline, candidate):
        assert data["prompt_format"] in ("template", "chat")
        checked = TrainingSettings.from_params(training)
        assert tokenization == training["tokenization"]
        assert not checked.trainer.load_best_model_at_end
        GenerationSettings.from_params(generation)
        if settings.max_steps is not None:
            assert checked.trainer.max_steps == settings.max_steps


def test_the_default_candidate_is_the_walkthrough_learning_rate():
    parameters = resolved_parameters("base")
    settings = CrossValidationSettings()
    baseline, _ = setting_blocks(
        settings, "baseline", parameters["training"], parameters["generation"]
    )
    candidate, generation = setting_blocks(
        settings, "candidate", parameters["training"], parameters["generation"]
    )
    assert (
        baseline["trainer"]["learning_rate"] == parameters["training"]["trainer"]["learning_rate"]
    )
    assert candidate["trainer"]["learning_rate"] == 1.0e-5
    assert candidate["trainer"]["max_steps"] == settings.max_steps == 20
    assert generation["max_new_tokens"] == 128
    assert baseline["checkpoint_dir"] == "data/06_models/cross_validation_checkpoints"


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (
            {"training.trainer.learnig_rate": 1e-3},
            r"cross_validation\.candidate: training\.trainer: learnig_rate is not a field",
        ),
        ({"training.lora.rnk": 4}, r"cross_validation\.candidate \(training\): unknown key"),
        ({"generation.max_new_tokenz": 4}, r"cross_validation\.candidate \(generation\)"),
        ({"evaluation.num_questions": 4}, r"cross_validation\.candidate\.evaluation\.num_q"),
        ({"training.lora.r": 0}, r"cross_validation\.candidate\.training\.lora\.r must be"),
        (
            {"training.trainer.load_best_model_at_end": True},
            r"cross_validation\.candidate: .*must not choose it",
        ),
        ({}, r"give the same training, generation and data settings"),
        (
            {"data_engineering.strip_greetings": False},
            r"cross_validation\.candidate\.data_engineering\.strip_greetings: .*only",
        ),
        (
            {"data_engineering.safety_mix_ratio": 0.3},
            r"safety_mix_ratio=0\.3: only 0",
        ),
        (
            {"data_engineering.prompt_format": "chatml"},
            r"cross_validation\.candidate\.data_engineering\.prompt_format",
        ),
    ],
)
def test_a_bad_setting_fails_naming_the_parameter(candidate, message):
    parameters = resolved_parameters("base")
    block = {**parameters["cross_validation"], "candidate": candidate}
    with pytest.raises(ValueError, match=message):
        nodes.configure_cross_validation(block, parameters["training"], parameters["generation"])


def test_nested_setting_keys_work_like_dotted_ones():
    parameters = resolved_parameters("base")
    block = {
        **parameters["cross_validation"],
        "candidate": {"training": {"lora": {"enabled": True}}, "generation": {"max_new_tokens": 8}},
    }
    outputs = nodes.configure_cross_validation(
        block, parameters["training"], parameters["generation"]
    )
    assert outputs[4]["lora"]["enabled"] is True and outputs[6]["max_new_tokens"] == 8
    assert outputs[0]["lora"]["enabled"] is False and outputs[2]["max_new_tokens"] == 128


def test_a_fold_is_rendered_again_in_its_settings_format_and_mix():
    from tests.test_conversations import CHATML, CONVERSATION, EOS

    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = CHATML
    rows = pl.DataFrame(
        {
            "line_number": [1, 2, -1],
            "question": ["### Question:\nq1\n### Answer:\n", "x", "x"],
            "answer": ["a1", CONVERSATION[4]["content"], "Go to the emergency room now."],
            "plain_question": ["q1", CONVERSATION[3]["content"], "Crushing chest pain?"],
            "history": ["[]", json.dumps(CONVERSATION[:3]), None],
        }
    )
    data = {"prompt_format": "chat", "safety_mix_ratio": 0}
    train, held_out, fmt = nodes.prepare_fold(rows, rows, data, tokenizer, None, "Be a doctor.")
    assert fmt["kind"] == "chat" and fmt["system_prompt"] == "Be a doctor."
    assert train["line_number"].to_list() == [1, 2]  # the red-flag row left out of training
    assert held_out.height == 3
    expected = tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be a doctor."}, {"role": "user", "content": "q1"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert train["question"][0] == expected
    (turn,) = json.loads(train["context"][1])
    assert turn[1] == CONVERSATION[2]["content"]
    assert turn[0].startswith("<|im_start|>system\nBe kind." + EOS)  # its own system turn
    kept, *_ = nodes.prepare_fold(
        rows, rows, {**data, "safety_mix_ratio": 0.1}, tokenizer, None, None
    )
    assert kept.height == 3
