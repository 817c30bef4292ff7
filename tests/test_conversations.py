"""Conversation data (the ``messages`` schema) and the chat prompt format, from the raw file to
a trained model: checks per row, the format cut from a chat template, labels turn by turn."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import polars as pl
import pytest

from llm_finetune.chat.bot import ChatModel
from llm_finetune.chat.history import Turn
from llm_finetune.chat.options import ChatOptions
from llm_finetune.conversations import DROP_REASONS, check_messages
from llm_finetune.datasets import RawDialoguesDataset
from llm_finetune.modeling.examples import IGNORE_INDEX
from llm_finetune.modeling.prompt_format import (
    CHAT_KIND,
    PromptFormat,
    chat_prompt_format,
    read_prompt_format,
)
from llm_finetune.pipelines.data_engineering.nodes import (
    apply_prompt_template,
    normalise_schema,
)
from llm_finetune.pipelines.training.tokenization import tokenize_qa
from tests.conftest import TINY_CHAT_TEMPLATE, build_tiny_model, build_tiny_tokenizer
from tests.mlflow_support import copy_project

EOS = "<|endoftext|>"
CHATML = TINY_CHAT_TEMPLATE
SYSTEM = "You answer briefly."
CONVERSATION = [
    {"role": "system", "content": "Be kind."},
    {"role": "user", "content": "I have a headache since morning."},
    {"role": "assistant", "content": "Drink water and rest in a dark room."},
    {"role": "user", "content": "It is still there after an hour."},
    {"role": "assistant", "content": "See a doctor today if it gets worse."},
]


@pytest.fixture(scope="module")
def chat_tokenizer():
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = CHATML
    return tokenizer


# ---------- the checks of a row ----------


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ("not json", "not_a_message_list"),
        ({"role": "user"}, "not_a_message_list"),
        ([], "not_a_message_list"),
        ([{"role": "user", "text": "hi"}], "not_a_message_list"),
        (
            [{"role": "doctor", "content": "a"}, {"role": "assistant", "content": "b"}],
            "unknown_role",
        ),
        (
            [{"role": "user", "content": 3}, {"role": "assistant", "content": "b"}],
            "non_string_content",
        ),
        (
            [
                {"role": "system", "content": "a"},
                {"role": "system", "content": "b"},
                {"role": "user", "content": "c"},
                {"role": "assistant", "content": "d"},
            ],
            "two_system_turns",
        ),
        ([{"role": "user", "content": "a"}], "no_assistant_turn"),
        (
            [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}],
            "turns_out_of_order",
        ),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ],
            "turns_out_of_order",
        ),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "system", "content": "b"},
                {"role": "assistant", "content": "c"},
            ],
            "turns_out_of_order",
        ),
    ],
)
def test_a_bad_conversation_is_refused_with_its_reason(messages, reason):
    assert reason in DROP_REASONS
    assert check_messages(messages) == reason


def test_a_conversation_splits_into_history_question_and_answer():
    checked = check_messages(json.dumps(CONVERSATION))
    assert checked.history == CONVERSATION[:3]
    assert checked.question == CONVERSATION[3]["content"]
    assert checked.answer == CONVERSATION[4]["content"]


# ---------- the chat format ----------


def test_the_chat_format_renders_a_conversation_as_the_chat_template_does(chat_tokenizer):
    for system in (None, SYSTEM):
        fmt = chat_prompt_format(chat_tokenizer, system)
        assert fmt.kind == CHAT_KIND and fmt.system_prompt == system
        for history in (CONVERSATION[:3], CONVERSATION[1:3], []):
            turns, prompt = fmt.conversation_turns(history, "And tomorrow?")
            ours = "".join(p + a + EOS for p, a in turns) + prompt
            messages = [*history, {"role": "user", "content": "And tomorrow?"}]
            if system is not None and not (history and history[0]["role"] == "system"):
                messages.insert(0, {"role": "system", "content": system})
            expected = chat_tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            assert ours == expected


def test_a_chat_template_that_cannot_be_trained_turn_by_turn_is_refused(chat_tokenizer):
    tokenizer = build_tiny_tokenizer()
    with pytest.raises(ValueError, match="no chat template"):
        chat_prompt_format(tokenizer, None)
    tokenizer.chat_template = CHATML.replace(EOS, "</turn>")  # turns do not end with EOS
    with pytest.raises(ValueError, match="EOS token"):
        chat_prompt_format(tokenizer, None)


def test_the_chat_format_round_trips_through_its_record(tmp_path, chat_tokenizer):
    fmt = chat_prompt_format(chat_tokenizer, SYSTEM)
    (tmp_path / "prompt_format.json").write_text(fmt.to_json(), encoding="utf-8")
    assert read_prompt_format(tmp_path) == fmt
    assert PromptFormat(**fmt.to_record()) == fmt


# ---------- rows, labels ----------


def test_messages_rows_are_read_checked_and_counted_per_reason(tmp_path):
    lines = [
        {"messages": CONVERSATION},
        {"messages": CONVERSATION[1:3]},
        {"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]},
        {"messages": [{"role": "system", "content": "x"}, *CONVERSATION]},
        {"messages": CONVERSATION[1:2]},
        {"messages": [{"role": "user", "content": ["a list"]}, CONVERSATION[2]]},
        {"messages": None},
        {"messages": "a string"},
    ]
    path = tmp_path / "conversations.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    raw = RawDialoguesDataset(str(path)).load()
    kept, drops = normalise_schema(raw)
    assert kept["line_number"].to_list() == [1, 2]
    assert kept["question"].to_list() == [CONVERSATION[3]["content"], CONVERSATION[1]["content"]]
    assert json.loads(kept["history"][0]) == CONVERSATION[:3]
    assert json.loads(kept["history"][1]) == []
    assert drops["missing_value"] == 1
    assert drops["conversation_drops"] == {
        "not_a_message_list": 1,
        "unknown_role": 1,
        "non_string_content": 1,
        "two_system_turns": 1,
        "no_assistant_turn": 1,
        "turns_out_of_order": 0,
    }


def test_the_loss_covers_every_assistant_turn_and_nothing_else(chat_tokenizer):
    fmt = chat_prompt_format(chat_tokenizer, SYSTEM)
    frame = pl.DataFrame(
        {
            "line_number": [1, 2],
            "question": [CONVERSATION[3]["content"], "Only one turn here?"],
            "answer": [CONVERSATION[4]["content"], "Yes, only one turn."],
            "history": [json.dumps(CONVERSATION[:3]), None],
        }
    )
    train_qa, _, _, train_text = apply_prompt_template(frame, frame, frame, fmt.to_record())
    tokenized, stats = tokenize_qa(
        train_qa, chat_tokenizer, {"max_length": 2048, "answer_only_loss": True}
    )
    assert stats["examples"] == 2 and stats["truncated"] == 0
    expected = [
        [CONVERSATION[2]["content"], CONVERSATION[4]["content"]],
        ["Yes, only one turn."],
    ]
    for labels, answers in zip(tokenized["labels"], expected, strict=True):
        spans, current = [], []
        for label in labels:
            if label == IGNORE_INDEX:
                if current:
                    spans.append(current)
                current = []
            else:
                current.append(label)
        spans.append(current)
        assert [chat_tokenizer.decode(span) for span in spans if span] == [
            answer + EOS for answer in answers
        ]
    # the whole example is the chat template's text of the conversation (its own system turn,
    # not the format's), and so is the readable training text, less the final EOS
    whole = chat_tokenizer.apply_chat_template(CONVERSATION, tokenize=False).removesuffix("\n")
    assert chat_tokenizer.decode(tokenized["input_ids"][0].to_list()) == whole
    context = json.loads(train_qa["context"][0])
    rendered = "".join(p + a for p, a in context) + train_qa["question"][0]
    assert train_text["text"][0] == rendered + train_qa["answer"][0]


def test_the_chat_keeps_the_first_turns_format_for_the_oldest_turn_it_keeps(chat_tokenizer):
    fmt = chat_prompt_format(chat_tokenizer, SYSTEM)
    model = build_tiny_model(chat_tokenizer)
    bot = ChatModel(model, chat_tokenizer, fmt.template, ChatOptions(8), prompt_format=fmt)
    history = [Turn("First question?", "First answer."), Turn("Second question?", "Second.")]
    prompt = bot.prompt(history, "Third question?")
    messages = [{"role": "system", "content": SYSTEM}]
    for turn in history:
        messages += [
            {"role": "user", "content": turn.question},
            {"role": "assistant", "content": turn.answer},
        ]
    messages.append({"role": "user", "content": "Third question?"})
    text = chat_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.turns_kept == 2
    assert prompt.input_ids == chat_tokenizer(text)["input_ids"]


# ---------- end to end ----------

WORDS = (
    "fever cough rash pain knee back chest sleep water rest walk tablet cream doctor clinic "
    "blood sugar pressure diet fruit morning night week month"
).split()


def conversation_rows(count: int) -> list[dict]:
    """``count`` distinct conversations of one to three turns, answers of 9+ distinct words."""
    import random

    rng = random.Random(0)
    rows = []
    for index in range(count):
        turns = []
        for turn in range(1 + index % 3):
            question = f"Question {index}.{turn}: " + " ".join(rng.sample(WORDS, 6)) + "?"
            answer = f"Answer {index}.{turn} says " + " ".join(rng.sample(WORDS, 9)) + "."
            turns += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        if index % 4 == 0:
            turns.insert(0, {"role": "system", "content": f"System note {index}."})
        rows.append({"messages": turns})
    return rows


@pytest.mark.filterwarnings("ignore")
def test_a_conversation_dataset_trains_end_to_end_in_the_chat_format(tmp_path, monkeypatch):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = copy_project(tmp_path / "project", experiment="conversations")
    data = tmp_path / "conversations.jsonl"
    bad = [
        {"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]},
        {"messages": [{"role": "user", "content": "only a question"}]},
    ]
    data.write_text(
        "".join(json.dumps(row) + "\n" for row in [*conversation_rows(40), *bad]),
        encoding="utf-8",
    )
    model_dir = tmp_path / "tiny_chat_model"
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = CHATML
    build_tiny_model(tokenizer).save_pretrained(model_dir, safe_serialization=True)
    tokenizer.save_pretrained(model_dir)
    params = {
        "raw_data_path": str(data),
        "model": {"base": str(model_dir)},
        "data_engineering": {"prompt_format": "chat", "validation_fraction": 0.2},
        "training": {"trainer": {"max_steps": 3, "eval_steps": 3, "save_steps": 3}},
        "evaluation": {"num_questions": 4},
        "generation": {"max_new_tokens": 4},
    }
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        session.run(pipeline_names=["data_engineering", "training", "evaluation"])
        catalog = session.load_context().catalog
        report = catalog.load("data_quality_report")
        tokenized = catalog.load("tokenized_train")
        train_qa = catalog.load("train_qa")
        metrics = catalog.load("training_metrics")
        answers = catalog.load("fine_tuned_answers")
        saved_format = catalog.load("prompt_format")

    assert report["dropped_by_reason"]["unknown_role"] == 1
    assert report["dropped_by_reason"]["no_assistant_turn"] == 1
    assert saved_format["kind"] == CHAT_KIND
    multi_turn = [i for i, context in enumerate(train_qa["context"]) if json.loads(context)]
    assert multi_turn, "some training rows are conversations of two or more turns"
    # The loss covers the assistant turns only: every labelled span is an answer and its EOS.
    assistant_texts = {
        turn["content"] + EOS
        for row in conversation_rows(40)
        for turn in row["messages"]
        if turn["role"] == "assistant"
    }
    red_flag_rows = set(train_qa.filter(pl.col("line_number") < 0)["answer"].to_list())
    for index in multi_turn:
        labels = tokenized["labels"][index].to_list()
        spans, current = [], []
        for label in [*labels, IGNORE_INDEX]:
            if label == IGNORE_INDEX:
                if current:
                    spans.append(tokenizer.decode(current))
                current = []
            else:
                current.append(label)
        assert len(spans) == 1 + len(json.loads(train_qa["context"][index]))
        assert set(spans) <= assistant_texts | {a + EOS for a in red_flag_rows}
    assert any("loss" in record for record in metrics["log_history"])
    assert len(answers) == 4
    (saved,) = (project / "data/06_models/fine_tuned_model").glob("*/fine_tuned_model")
    assert read_prompt_format(saved) == PromptFormat(**saved_format)
    assert Path(saved, "prompt_format.json").is_file()


def test_evaluation_asks_a_conversation_after_its_turns_in_the_models_own_format(chat_tokenizer):
    from llm_finetune.datasets.model_dirs import ModelAndTokenizer
    from llm_finetune.pipelines.evaluation.nodes import model_prompts, select_eval_questions

    fmt = chat_prompt_format(chat_tokenizer, SYSTEM)
    test_qa = pl.DataFrame(
        {
            "question": ["rendered", "rendered"],
            "answer": [CONVERSATION[4]["content"], "Yes."],
            "plain_question": [CONVERSATION[3]["content"], "One turn?"],
            "line_number": [1, 2],
            "history": [json.dumps(CONVERSATION[:3]), "[]"],
        }
    )
    questions = select_eval_questions(test_qa, {"num_questions": None})
    model = ModelAndTokenizer(build_tiny_model(chat_tokenizer), chat_tokenizer, fmt)
    prompts = model_prompts(
        model, questions, ["Mars?", fmt.render("Mars?")], "### {question}{answer}"
    )
    assert prompts[0] == chat_tokenizer.apply_chat_template(
        CONVERSATION[:4], tokenize=False, add_generation_prompt=True
    )
    assert prompts[1] == fmt.render("One turn?")
    assert prompts[2:] == ["Mars?", fmt.render("Mars?")]


def test_a_history_that_cannot_be_rendered_names_its_line():
    frame = pl.DataFrame(
        {
            "line_number": [7],
            "question": ["Why?"],
            "answer": ["Because of the weather today, and nothing else at all."],
            "history": [json.dumps([{"role": "user", "content": "hi"}])],  # no answer to it
        }
    )
    with pytest.raises(ValueError, match="line 7: its history cannot be rendered"):
        apply_prompt_template(frame, frame, frame, None)
