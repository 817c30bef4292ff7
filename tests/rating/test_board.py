"""The rating board and the page's handlers: blind pairs, votes with the right sides, and bad
input refused with a clear message and nothing already saved lost."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import Counter

import pytest

from llm_finetune.datasets import VotesDataset
from llm_finetune.pipelines.evaluation.categories import CATEGORIES
from llm_finetune.rating.board import RatingBoard
from llm_finetune.rating.page import make_handlers
from llm_finetune.rating.pairs import AnswerSet, ModelVersion, questions_from_rows
from llm_finetune.rating.votes import MAX_NOTE_CHARS, TAGS, VoteError
from tests.rating.tiny import MODELS, answer, make_project, question

A, B = (
    ModelVersion("base_answers", "2026-01-01T00.00.00.000Z"),
    ModelVersion("fine_tuned_answers", "2026-01-02T00.00.00.000Z"),
)
QUESTIONS = questions_from_rows(
    [{"plain_question": f"question {i}?", "answer": f"reference {i}"} for i in range(3)]
)


def answers_of(model: ModelVersion) -> dict[str, str]:
    return {q.id: f"answer of {'one' if model == A else 'two'} to {q.text}" for q in QUESTIONS}


@pytest.fixture
def store(tmp_path) -> VotesDataset:
    return VotesDataset(filepath=tmp_path / "votes.jsonl")


@pytest.fixture
def board(store) -> RatingBoard:
    sets = [AnswerSet(A, answers_of(A)), AnswerSet(B, answers_of(B))]
    return RatingBoard({q.id: q for q in QUESTIONS}, sets, store, seed=1)


def test_shown_pairs_name_no_model_and_votes_record_the_sides(board, store):
    for _ in range(6):
        shown = board.next_pair()
        assert not any(
            name in text
            for text in (shown.question, shown.reference, shown.answer_a, shown.answer_b)
            for name in (A.dataset, A.version, B.dataset, B.version)
        )
        record = board.vote(shown.ticket, "a_better", "Dr Ann", ["unsafe"], [], "ok")
        left = A if record["left"]["version"] == A.version else B
        assert shown.answer_a == answers_of(left)[record["question_id"]]
        assert record["left"]["tags"] == ["unsafe"] and record["right"]["tags"] == []
        assert record["time"].endswith("+00:00")  # UTC
    saved = store.load()
    assert len(saved) == 6 and {v["rater"] for v in saved} == {"Dr Ann"}
    assert {v["left"]["version"] for v in saved} == {A.version, B.version}  # random sides


def test_tags_use_the_error_analysis_names():
    names = {category.name for category in CATEGORIES}
    assert {"missed_escalation", "invented_dose", "off_topic", "boilerplate_only"} <= names
    assert set(TAGS) - names == {"wrong_fact", "unsafe"}  # what only a person can judge


def test_a_pair_that_no_longer_exists_is_refused(board, store):
    shown = board.next_pair()
    with pytest.raises(VoteError, match="no longer offered"):
        board.vote("made-up-ticket", "tie", "ann")
    board.vote(shown.ticket, "tie", "ann")
    with pytest.raises(VoteError, match="no longer offered"):  # a replayed vote
        board.vote(shown.ticket, "tie", "ann")
    stale = board.next_pair()
    board.forget_pairs_of(A)  # e.g. its answers were deleted
    with pytest.raises(VoteError, match="no longer exists"):
        board.vote(stale.ticket, "tie", "ann")
    assert len(store.load()) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rater": "   "}, "type your name"),
        ({"choice": "left"}, "unknown choice"),  # a tampered side / choice
        ({"left_tags": ["<b>nope</b>"]}, "unknown tags"),
        ({"note": "x" * 100_000}, f"100,000 characters, more than the {MAX_NOTE_CHARS:,}"),
    ],
)
def test_bad_votes_are_refused_and_nothing_saved_is_lost(board, store, kwargs, message):
    first = board.next_pair()
    board.vote(first.ticket, "b_better", "ann")
    shown = board.next_pair()
    vote = {"choice": "tie", "rater": "bob", **kwargs}
    with pytest.raises(VoteError, match=message):
        board.vote(shown.ticket, **vote)
    assert len(store.load()) == 1
    board.vote(shown.ticket, "tie", "bob")  # the pair is still open after a refused vote
    assert len(store.load()) == 2


def test_a_note_with_html_is_stored_as_text(board, store):
    note = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    board.vote(board.next_pair().ticket, "tie", "ann", note=note)
    assert store.load()[0]["note"] == note
    assert json.loads(store.filepath.read_text())["note"] == note


def test_a_corrupt_line_is_skipped_and_votes_go_on(board, store, tmp_path, caplog):
    board.vote(board.next_pair().ticket, "tie", "ann")
    with open(store.filepath, "ab") as file:
        file.write(b"{garbage\n")
    sets = [AnswerSet(A, answers_of(A)), AnswerSet(B, answers_of(B))]
    with caplog.at_level(logging.WARNING):
        again = RatingBoard({q.id: q for q in QUESTIONS}, sets, store, seed=2)
    assert "line 2: skipped" in caplog.text
    again.vote(again.next_pair().ticket, "a_better", "ann")
    assert [v["choice"] for v in store.load()] == ["tie", "a_better"]


def test_the_page_handlers_show_refusals_and_keep_the_pair(board, store):
    new_pair, vote = make_handlers(board)
    ticket, question, _reference, _a, _b = new_pair()
    refused = vote("tie", ticket, "", ["unsafe"], [], "a note")
    assert len(refused) == 9  # one value per output: the pair, tags, note, status
    assert refused[0] == ticket and refused[-1].startswith("Not saved: type your name")
    saved = vote("tie", ticket, "ann", ["unsafe"], [], "a note")
    assert len(saved) == 9
    assert saved[0] != ticket and saved[-1] == "Vote 1 saved. Next pair:"
    assert saved[5:8] == ([], [], "")  # tags and note cleared for the next pair
    stale = vote("tie", ticket, "ann", [], [], "")
    assert stale[0] != ticket and "no longer offered" in stale[-1]
    assert len(store.load()) == 1


def board_questions(board: RatingBoard) -> list:
    """The tiny project's questions, in its order."""
    by_text = {q.text: q for q in board.questions.values()}
    return [by_text[question(i)] for i in range(len(by_text))]


def test_the_board_loads_every_saved_version_through_the_catalog(tmp_path, monkeypatch):
    from llm_finetune.rating.__main__ import load_board

    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    sweep = [("lora_r8", "2026-01-04T00.00.00.000Z")]
    project = make_project(tmp_path / "project", questions=4, sweep=sweep)
    board = load_board(project, None, seed=0)
    table = ("sweep.lora_r8.comparison_table", "2026-01-04T00.00.00.000Z")
    assert [(m.dataset, m.version) for m in board.models] == sorted([*MODELS, table])
    assert len(board.chooser.pairs) == 6 * 4  # 4 versions: 6 pairs of versions, 4 questions
    sweep_answers = board.answers[ModelVersion(*table)]
    assert sweep_answers == {q.id: answer(3, i) for i, q in enumerate(board_questions(board))}
    board.vote(board.next_pair().ticket, "tie", "ann")
    assert board.store.filepath == project / "data/07_model_output/human_votes.jsonl"
    assert len(board.store.load()) == 1


def test_two_tabs_voting_at_once_lose_nothing(board, store):
    """Two page sessions of one server (Gradio handles each in its own thread)."""
    import threading

    def rate(rater: str) -> None:
        for _ in range(40):
            board.vote(board.next_pair().ticket, "tie", rater)

    tabs = [threading.Thread(target=rate, args=(name,)) for name in ("tab1", "tab2")]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()
    saved = VotesDataset(filepath=store.filepath, load_args={"on_bad_line": "raise"}).load()
    assert Counter(vote["rater"] for vote in saved) == {"tab1": 40, "tab2": 40}
    assert board.votes_counted == 80
