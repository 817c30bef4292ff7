"""The answer cleaning rules one at a time, each switched off by its parameter, and the node's
counts per rule."""

from __future__ import annotations

import polars as pl
import pytest

from llm_finetune.pipelines.data_engineering.answer_cleaning import (
    stock_sentences,
    strip_dose_sentences,
    strip_greeting,
    strip_referral_lines,
    strip_sentences,
    word_count,
)
from llm_finetune.pipelines.data_engineering.nodes import clean_answers

CONTENT = "Eye strain or sinus congestion are the usual causes; rest your eyes and drink water."


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (f"{CONTENT} For further doubts consult a sexologist online -->", CONTENT),
        (f"{CONTENT} For more information consult an ENT otolaryngologist online --->", CONTENT),
        (f"Hello, Welcome to icliniq.com. {CONTENT}", CONTENT),
        (f"{CONTENT} -->", CONTENT),  # a stray arrow
        ("Hi. For further information consult a dentist online -->", "Hi."),
        (CONTENT, CONTENT),
    ],
)
def test_referral_lines_and_the_site_go(answer, expected):
    assert strip_referral_lines(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (f"Hi. {CONTENT}", CONTENT),
        (f"Hello. Hi. {CONTENT}", CONTENT),
        (f"Hello, thanks for your query. {CONTENT}", CONTENT),
        ("Hi, the rash you describe is eczema.", "The rash you describe is eczema."),
        ("Dear user, thanks for the query.", ""),
        ("Hi.", ""),
        (f"{CONTENT} Hi.", f"{CONTENT} Hi."),  # only an opening greeting goes
        ("Hiccups stop on their own.", "Hiccups stop on their own."),  # not the word "hi"
        ("", ""),
    ],
)
def test_opening_greetings_go(answer, expected):
    assert strip_greeting(answer) == expected


def test_stock_sentences_are_found_by_counting_distinct_answers():
    answers = [f"Take care. Case {i} needs rest." for i in range(4)] + ["1. Rest. 2. Water."] * 9
    answers += ["1. Fluids. 2. Sleep.", "1. Salt. 2. Sugar.", "Take care."]
    stock = stock_sentences(answers, min_answers=3, min_share=0.1)
    # in 5 distinct answers; "1." and "2." are list numbers, not sentences; the repeated
    # "1. Rest. 2. Water." counts once
    assert stock == {"Take care.": 5}
    assert stock_sentences(answers, min_answers=6, min_share=0.1) == {}
    assert stock_sentences(answers, min_answers=3, min_share=0.9) == {}  # 5 of 7 < 90%
    assert strip_sentences("Take care. Case 1 needs rest.", stock) == "Case 1 needs rest."


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (
            "I have acid reflux after meals?",
            "It is gastritis. Take tab. Pantoprazole 40 mg twice daily. Avoid spicy food.",
            "It is gastritis. Avoid spicy food.",
        ),
        (  # the question's own dose is not an invented one
            "I take metformin 500 mg, is it safe with tea?",
            "Yes, metformin 500 mg is safe with tea. Keep your sugar checked.",
            "Yes, metformin 500 mg is safe with tea. Keep your sugar checked.",
        ),
        ("Is a cold serious?", "No. Rest and drink water.", "No. Rest and drink water."),
    ],
)
def test_sentences_naming_a_dose_the_question_does_not_give_go(question, answer, expected):
    assert strip_dose_sentences(answer, question) == expected


def test_the_dose_rule_counts_its_rows_and_leaves_the_low_content_rule_the_rest():
    rows = frame(
        ["Acid reflux after meals?", "A rash on my arm?"],
        [
            f"{CONTENT} Take tab. Pantoprazole 40 mg twice daily for a week.",
            "Apply hydrocortisone cream 1% twice a day, 5 ml.",
        ],
    )
    kept, stats = clean_answers(rows)
    assert stats["rows_changed"]["dose_sentence"] == 2
    assert stats["rows_dropped"]["low_content"] == 1  # nothing but the dose was left
    assert kept["answer"].to_list() == [CONTENT]


def test_words_are_counted_like_the_error_categories():
    assert word_count("It's a cold, not the flu.") == 6
    assert word_count("") == 0


def frame(questions: list[str], answers: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "line_number": list(range(1, len(questions) + 1)),
            "question": questions,
            "answer": answers,
        }
    )


def test_the_node_counts_every_rule_and_keeps_the_other_columns():
    water = "Drink plenty of water and rest for a few days, then see how it goes."
    fever = "See a doctor if the fever lasts more than three days or gets worse."
    cold = "Cold compresses ease the swelling within a day or two, and it will pass."
    questions = [f"Question {i}?" for i in range(8)] + ["Question 7?"]
    rows = frame(
        questions,
        [
            f"Hi. {CONTENT} For further information consult a dentist online -->",
            f"Hello. I understand your concern. {water} Take care.",
            "Hi. For further information consult a dentist online -->",  # nothing left
            f"I understand your concern. {fever} Take care.",
            f"I understand your concern. {CONTENT} Take care.",  # = row 0's, once cleaned
            "A stock reply that is given to two different questions at once.",
            "A stock reply that is given to two different questions at once.",
            f"{cold} Take care.",
            cold,
        ],
    )
    kept, stats = clean_answers(rows, stock_sentence_min_answers=3, stock_sentence_min_share=0.1)

    assert stats["rows_changed"] == {
        "referral_line": 2,
        "greeting": 3,
        "stock_sentence": 4,
        "dose_sentence": 0,
    }
    assert {item["sentence"]: item["answers"] for item in stats["stock_sentences"]} == {
        "Take care.": 4,
        "I understand your concern.": 3,
    }
    # row 2: nothing left; rows 0 and 4 (CONTENT) and 5 and 6: one answer, two questions;
    # lines 8 and 9: the same question and answer once "Take care." is gone
    assert stats["rows_dropped"] == {
        "low_content": 1,
        "reused_answer": 4,
        "duplicate_after_cleaning": 1,
    }
    assert kept.columns == ["line_number", "question", "answer"]
    assert kept.rows() == [
        (2, "Question 1?", water),
        (4, "Question 3?", fever),
        (8, "Question 7?", cold),
    ]


def test_every_rule_turns_off():
    answers = [
        "Hi. For further information consult a dentist online -->",
        "Hello. A stock reply given to two different questions here.",
        "Hello. A stock reply given to two different questions here.",
    ]
    rows = frame(["One?", "Two?", "Three?"], answers)
    kept, stats = clean_answers(
        rows,
        strip_referral_lines=False,
        strip_greetings=False,
        stock_sentence_min_answers=None,
        min_answer_words=0,
        max_questions_per_answer=None,
        strip_dose_sentences=False,
    )
    assert kept.equals(rows)
    assert stats["rows_changed"] == {}
    assert stats["rows_dropped"] == {"duplicate_after_cleaning": 0}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("stock_sentence_min_answers", 0, "a positive integer or null"),
        ("stock_sentence_min_share", 1.5, "between 0 and 1"),
        ("min_answer_words", -1, "an integer >= 0"),
        ("max_questions_per_answer", "two", "a positive integer or null"),
        ("strip_greetings", "yes", "true or false"),
        ("strip_dose_sentences", 1, "true or false"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_key(key, value, message):
    with pytest.raises(ValueError, match=f"data_engineering.{key}.*{message}"):
        clean_answers(frame(["One?"], [CONTENT]), **{key: value})
