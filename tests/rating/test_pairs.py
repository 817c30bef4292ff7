"""Which model versions and pairs the rating page offers."""

from __future__ import annotations

import logging
from collections import Counter

from llm_finetune.rating.pairs import (
    AnswerSet,
    ModelVersion,
    PairChooser,
    answer_set,
    candidate_pairs,
    question_id,
    questions_for,
    questions_from_rows,
)

A, B, C = (ModelVersion("fine_tuned_answers", f"2026-01-0{i}T00.00.00.000Z") for i in (1, 2, 3))
QUESTIONS = questions_from_rows(
    [{"plain_question": f"question {i}?", "answer": f"reference {i}"} for i in range(4)]
)


def test_question_ids_ignore_spacing_and_are_stable():
    assert question_id("Is  it\nserious?") == question_id("Is it serious?")
    assert question_id("Is it serious?") != question_id("Is it serious!")
    assert QUESTIONS[0].reference == "reference 0"


def test_answers_align_with_the_first_questions_and_extra_answers_are_refused(caplog):
    aligned = answer_set(A, [{"text": "one"}, {"text": "two"}], QUESTIONS)
    assert aligned.answers == {QUESTIONS[0].id: "one", QUESTIONS[1].id: "two"}
    with caplog.at_level(logging.WARNING):
        assert answer_set(A, ["x"] * 5, QUESTIONS) is None
    assert "5 answers for 4 test questions" in caplog.text


def test_questions_of_the_newest_split_not_newer_than_the_answers():
    splits = {"2026-01-01T00.00.00.000Z": "old", "2026-01-03T00.00.00.000Z": "new"}
    assert questions_for("2026-01-02T00.00.00.000Z", splits) == "old"
    assert questions_for("2026-01-03T00.00.00.000Z", splits) == "new"
    assert questions_for("2025-12-31T00.00.00.000Z", splits) is None


def test_identical_answers_are_no_pair():
    q0, q1 = QUESTIONS[0].id, QUESTIONS[1].id
    sets = [AnswerSet(A, {q0: "same", q1: "a"}), AnswerSet(B, {q0: " same ", q1: "b"})]
    assert [(p.question_id, p.first, p.second) for p in candidate_pairs(sets)] == [(q1, A, B)]


def test_the_least_voted_pairs_come_first_and_sides_are_random():
    sets = [AnswerSet(m, {q.id: f"{m.version} {q.id}" for q in QUESTIONS}) for m in (A, B, C)]
    chooser = PairChooser(candidate_pairs(sets), seed=0)
    shown, sides = [], Counter()
    for _ in range(3 * len(QUESTIONS)):  # every pair once before any twice
        pair = chooser.choose()
        left, _right = chooser.sides(pair)
        sides[left == pair.first] += 1
        chooser.count(pair.question_id, pair.second, pair.first)
        shown.append(pair.key)
    assert len(set(shown)) == len(shown) == 12
    assert set(chooser.model_pair_votes.values()) == {4}
    assert sides[True] > 0 and sides[False] > 0
