"""Unit tests of the data_engineering nodes, one small hand-built frame at a time."""

from __future__ import annotations

import polars as pl
import pytest
import yaml

from llm_finetune.datasets.raw_dialogues import LINE_NUMBER, NON_STRING_FIELDS
from llm_finetune.pipelines.data_engineering.nodes import (
    apply_prompt_template,
    build_data_quality_report,
    clean_answers,
    clean_dialogues,
    mix_safety_training,
    normalise_schema,
    select_rows,
    split_by_question,
)
from tests.conftest import PROJECT_ROOT

TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"
LONG_ANSWER = "Rest, fluids and a follow-up visit if it persists."


def raw_frame(columns: dict[str, list], non_string: list[str | None] | None = None) -> pl.DataFrame:
    """A frame shaped like RawDialoguesDataset's output (string columns, line numbers, flags)."""
    height = len(next(iter(columns.values())))
    return pl.DataFrame(
        {
            LINE_NUMBER: list(range(1, height + 1)),
            **columns,
            NON_STRING_FIELDS: non_string or [None] * height,
        },
        schema={
            LINE_NUMBER: pl.UInt32,
            **{name: pl.String for name in columns},
            NON_STRING_FIELDS: pl.String,
        },
    )


def dialogues(questions: list[str], answers: list[str] | None = None) -> pl.DataFrame:
    """A frame shaped like normalise_schema's output."""
    answers = answers or [LONG_ANSWER] * len(questions)
    return pl.DataFrame(
        {LINE_NUMBER: list(range(1, len(questions) + 1)), "question": questions, "answer": answers},
        schema={LINE_NUMBER: pl.UInt32, "question": pl.String, "answer": pl.String},
    )


# ---------- normalise_schema ----------


@pytest.mark.parametrize(
    ("question_column", "answer_column", "schema_name"),
    [
        ("Description", "Doctor", "ai_medical_chatbot"),
        ("question", "answer", "question_answer"),
        ("instruction", "response", "instruction_response"),
        ("input", "output", "input_output"),
    ],
)
def test_normalise_schema_maps_every_accepted_schema(question_column, answer_column, schema_name):
    raw = raw_frame({question_column: ["Q1?", "Q2?"], answer_column: ["A1.", "A2."]})

    result, stats = normalise_schema(raw)

    assert result.columns == [LINE_NUMBER, "question", "answer"]
    assert result["question"].to_list() == ["Q1?", "Q2?"]
    assert result["answer"].to_list() == ["A1.", "A2."]
    assert result[LINE_NUMBER].to_list() == [1, 2]
    assert stats == {"schema": schema_name, "non_string_value": 0, "missing_value": 0}


def test_normalise_schema_ignores_patient_text_by_default():
    raw = raw_frame({"Description": ["Q. Cough?"], "Patient": ["I cough."], "Doctor": ["Rest."]})

    result, _ = normalise_schema(raw)

    assert result["question"].to_list() == ["Q. Cough?"]


def test_normalise_schema_folds_patient_text_when_asked():
    raw = raw_frame(
        {
            "Description": ["Q. Cough?", "Q. Fever?"],
            "Patient": ["I cough at night.", None],
            "Doctor": ["Rest.", "Fluids."],
        }
    )

    default_sep, _ = normalise_schema(raw, include_context=True)
    custom_sep, stats = normalise_schema(raw, include_context=True, context_separator=" | ")

    assert default_sep["question"].to_list() == ["Q. Cough?\nI cough at night.", "Q. Fever?"]
    assert custom_sep["question"].to_list() == ["Q. Cough? | I cough at night.", "Q. Fever?"]
    assert stats["missing_value"] == 0  # Patient text is optional context


def test_normalise_schema_folding_never_turns_patient_text_into_a_missing_question():
    raw = raw_frame(
        {
            "Description": [None, "Q. Fever?"],
            "Patient": ["Only patient text.", "Hot."],
            "Doctor": ["Rest.", "Fluids."],
        }
    )

    result, stats = normalise_schema(raw, include_context=True)

    assert result[LINE_NUMBER].to_list() == [2]
    assert stats["missing_value"] == 1


def test_normalise_schema_counts_missing_values():
    raw = raw_frame({"question": ["Q1?", None, "Q3?", None], "answer": ["A1.", "A2.", None, None]})

    result, stats = normalise_schema(raw)

    assert result[LINE_NUMBER].to_list() == [1]
    assert stats["missing_value"] == 3
    assert stats["non_string_value"] == 0


def test_normalise_schema_counts_non_string_values_once():
    # The loader turned the non-string values into nulls and flagged them.
    raw = raw_frame(
        {"question": ["Q1?", None, "Q3?"], "answer": ["A1.", "A2.", None]},
        non_string=[None, "question", "answer"],
    )

    result, stats = normalise_schema(raw)

    assert result[LINE_NUMBER].to_list() == [1]
    assert stats["non_string_value"] == 2
    assert stats["missing_value"] == 0  # not counted twice


def test_normalise_schema_keeps_rows_whose_bad_value_is_in_an_unused_column():
    raw = raw_frame(
        {
            "Description": ["Q. A?", "Q. B?", "Q. C?"],
            "Patient": [None, "p", None],
            "Doctor": ["Yes.", "No.", None],
        },
        non_string=["Patient", None, "Patient,Doctor"],
    )

    without_patient, stats = normalise_schema(raw, include_context=False)
    with_patient, folded_stats = normalise_schema(raw, include_context=True)

    assert without_patient[LINE_NUMBER].to_list() == [1, 2]
    assert stats["non_string_value"] == 1
    assert with_patient[LINE_NUMBER].to_list() == [2]
    assert folded_stats["non_string_value"] == 2


def test_normalise_schema_rejects_unknown_columns():
    with pytest.raises(ValueError, match="none of the accepted schemas"):
        normalise_schema(raw_frame({"prompt": ["x"], "reply": ["y"]}))


# ---------- select_rows ----------


def test_select_rows_none_keeps_everything():
    frame = dialogues([f"Question {i}?" for i in range(5)])

    result, cut = select_rows(frame, None)

    assert result.equals(frame)
    assert cut == 0


@pytest.mark.parametrize(("max_rows", "kept", "cut"), [(1, 1, 4), (3, 3, 2), (5, 5, 0), (50, 5, 0)])
def test_select_rows_keeps_the_first_n(max_rows, kept, cut):
    frame = dialogues([f"Question {i}?" for i in range(5)])

    result, not_selected = select_rows(frame, max_rows)

    assert result[LINE_NUMBER].to_list() == list(range(1, kept + 1))
    assert not_selected == cut


@pytest.mark.parametrize("max_rows", [0, -3, 2.5, "10", True])
def test_select_rows_rejects_invalid_max_rows(max_rows):
    with pytest.raises(ValueError, match="max_rows must be a positive integer or null"):
        select_rows(dialogues(["Question one?"]), max_rows)


# ---------- clean_dialogues ----------


def test_clean_dialogues_collapses_whitespace():
    frame = dialogues(
        ["  What  is\ta\ncold?  ", "Clean question here?"],
        ["A  virus\n\nof the nose,  mostly. ", "A clean answer of enough length."],
    )

    result, stats = clean_dialogues(frame)

    assert result["question"].to_list() == ["What is a cold?", "Clean question here?"]
    assert result["answer"].to_list() == [
        "A virus of the nose, mostly.",
        "A clean answer of enough length.",
    ]
    assert stats["whitespace_normalised"] == 1


@pytest.mark.parametrize(
    ("raw_question", "expected"),
    [
        ("Q. Quinsy after tonsillitis", "Quinsy after tonsillitis"),
        ("Q. QT interval prolonged?", "QT interval prolonged?"),
        ("Q. Q fever exposure on a farm?", "Q fever exposure on a farm?"),
        ("Q. .5% hydrocortisone on my face?", ".5% hydrocortisone on my face?"),
        ("Q.  Double spaced after the prefix?", "Double spaced after the prefix?"),
        ("Q.\tTab after the prefix here?", "Tab after the prefix here?"),
        ("   Q. Leading spaces before prefix?", "Leading spaces before prefix?"),
        ("Quinsy after tonsillitis?", "Quinsy after tonsillitis?"),  # no prefix
        ("What does Q. fever mean here?", "What does Q. fever mean here?"),  # inside, not prefix
        ("Q.T. interval is prolonged?", "Q.T. interval is prolonged?"),  # "Q." without space
        ("QQ. Strange start of a question?", "QQ. Strange start of a question?"),
    ],
)
def test_clean_dialogues_removes_the_prefix_only_as_a_prefix(raw_question, expected):
    result, stats = clean_dialogues(dialogues([raw_question]))

    assert result["question"].to_list() == [expected]
    assert stats["prefix_removed"] == int(expected != " ".join(raw_question.split()))


def test_clean_dialogues_prefix_is_configurable():
    frame = dialogues(["Question: Why do I sneeze?", "Q. Why do I yawn so much?"])

    custom, custom_stats = clean_dialogues(frame, question_prefix="Question: ")
    disabled, disabled_stats = clean_dialogues(frame, question_prefix="")

    assert custom["question"].to_list() == ["Why do I sneeze?", "Q. Why do I yawn so much?"]
    assert custom_stats["prefix_removed"] == 1
    assert disabled["question"].to_list() == frame["question"].to_list()
    assert disabled_stats["prefix_removed"] == 0


def test_clean_dialogues_drops_too_short_rows():
    frame = dialogues(
        [
            "Q. ",
            "Q. Short?",
            "Q. Ten chars?",
            "Q. Long enough question?",
            "Q. Another question?",
            "Q. Third question here?",
        ],
        [LONG_ANSWER, LONG_ANSWER, "x" * 20, "Ok.", "", "y" * 19],
    )

    result, stats = clean_dialogues(frame, min_question_chars=10, min_answer_chars=20)

    assert result["question"].to_list() == ["Ten chars?"]  # exactly 10 characters: kept
    assert result["answer"].to_list() == ["x" * 20]
    assert stats["empty_or_too_short"] == 5
    assert stats["duplicate"] == 0


def test_clean_dialogues_length_thresholds_are_inclusive():
    frame = dialogues(["a" * 10, "b" * 9], ["c" * 20, "d" * 20])

    result, stats = clean_dialogues(frame, question_prefix="", min_question_chars=10)

    assert result["question"].to_list() == ["a" * 10]
    assert stats["empty_or_too_short"] == 1


def test_clean_dialogues_drops_exact_duplicates_after_normalisation_and_counts_them():
    other_answer = "A different but equally long answer."
    frame = dialogues(
        [
            "Q. What is a cold?",
            "Q. What  is a cold? ",
            "Q. What is a cold?",
            "Q. What is a cold?",
            "Q. Is a fever bad?",
        ],
        [LONG_ANSWER, LONG_ANSWER, other_answer, LONG_ANSWER, LONG_ANSWER],
    )

    result, stats = clean_dialogues(frame)

    # Same question with a different answer is not a duplicate; the first copy is kept.
    assert result[LINE_NUMBER].to_list() == [1, 3, 5]
    assert stats["duplicate"] == 2
    assert result.columns == [LINE_NUMBER, "question", "answer"]
    assert frame.height == result.height + stats["duplicate"] + stats["empty_or_too_short"]


# ---------- split_by_question ----------


def grouped_frame(n_questions: int = 40) -> pl.DataFrame:
    """Questions repeated up to three times, with different answers."""
    questions, answers = [], []
    for i in range(n_questions):
        for copy in range(1 + i % 3):
            questions.append(f"Question number {i}?")
            answers.append(f"Answer {copy} to question {i}, long enough.")
    return dialogues(questions, answers)


def test_split_by_question_is_grouped():
    frame = grouped_frame()

    train, validation, test = split_by_question(frame, 0.2, 0.25, seed=7)

    splits = (train, validation, test)
    for index, first in enumerate(splits):
        for second in splits[index + 1 :]:
            assert set(first["question"]).isdisjoint(set(second["question"]))
    assert sum(split.height for split in splits) == frame.height
    assert sorted(pl.concat(splits)[LINE_NUMBER].to_list()) == frame[LINE_NUMBER].to_list()
    # every copy of a held-out question went to its split
    copies = frame.group_by("question").len()
    for held_out in (validation, test):
        held_out_copies = held_out.group_by("question").len()
        assert (
            held_out_copies.join(copies, on="question")
            .filter(pl.col("len") != pl.col("len_right"))
            .is_empty()
        )
    # shares of the 40 questions, not of the rows
    assert test["question"].n_unique() == 10 and validation["question"].n_unique() == 8


def test_split_by_question_is_deterministic_for_a_seed_and_varies_across_seeds():
    frame = grouped_frame()

    first = split_by_question(frame, 0.2, 0.2, seed=123)
    again = split_by_question(frame, 0.2, 0.2, seed=123)
    other = split_by_question(frame, 0.2, 0.2, seed=124)

    assert all(a.equals(b) for a, b in zip(first, again, strict=True))
    assert set(first[2]["question"]) != set(other[2]["question"])


@pytest.mark.parametrize(
    ("n_questions", "validation", "test", "sizes"),
    [
        (100, 0.1, 0.1, (80, 10, 10)),
        (100, 0.05, 0.25, (70, 5, 25)),
        (10, 0.1, 0.1, (8, 1, 1)),
        (3, 0.3, 0.3, (1, 1, 1)),
    ],
)
def test_split_by_question_respects_the_fractions(n_questions, validation, test, sizes):
    frame = dialogues([f"Question number {i}?" for i in range(n_questions)])

    splits = split_by_question(frame, validation, test, seed=1)

    assert tuple(split.height for split in splits) == sizes


@pytest.mark.parametrize(
    ("frame", "empty"),
    [
        (dialogues([]), "train and validation and test"),
        (dialogues(["Only question?"]), "validation and test"),
        (dialogues(["Same question?"] * 5), "validation and test"),
        (dialogues([f"Question {i}?" for i in range(4)]), "validation and test"),
        (dialogues([f"Question {i}?" for i in range(6)]), "validation"),
    ],
    ids=["empty", "one-row", "one-question-many-rows", "tiny", "small"],
)
def test_split_by_question_names_an_empty_split(frame, empty):
    with pytest.raises(ValueError, match=f"the {empty} split would be empty"):
        split_by_question(frame, 0.05, 0.1, seed=1)


@pytest.mark.parametrize(
    ("validation", "test", "message"),
    [
        (0.1, 0, "test_fraction must be between 0 and 1"),
        (0.1, 1, "test_fraction must be between 0 and 1"),
        (0.1, -0.1, "test_fraction must be between 0 and 1"),
        (1.5, 0.1, "validation_fraction must be between 0 and 1"),
        (0, 0.1, "validation_fraction must be between 0 and 1"),
        (0.5, 0.5, "validation_fraction \\+ data_engineering.test_fraction must be below 1"),
        (0.7, 0.4, "must be below 1"),
        ("0.1", 0.1, "validation_fraction must be a number"),
        (0.1, None, "test_fraction must be a number"),
    ],
)
def test_split_by_question_rejects_bad_fractions(validation, test, message):
    with pytest.raises(ValueError, match=message):
        split_by_question(grouped_frame(), validation, test, seed=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: clean_dialogues(dialogues(["Q?"]), min_question_chars=-1), "min_question_chars"),
        (lambda: clean_dialogues(dialogues(["Q?"]), question_prefix=None), "question_prefix"),
        (lambda: normalise_schema(raw_frame({"a": ["x"]}), include_context="yes"), "include_pat"),
        (lambda: split_by_question(grouped_frame(), 0.1, 0.1, seed=-1), "split_seed"),
    ],
)
def test_nodes_name_the_parameter_of_a_bad_value(call, message):
    with pytest.raises(ValueError, match=rf"^data_engineering\.{message}.*\(data_engineering pipe"):
        call()


# ---------- apply_prompt_template ----------


def test_configured_template_is_the_walkthrough_template():
    from llm_finetune.modeling.prompt_format import resolve_template

    params = yaml.safe_load(
        (PROJECT_ROOT / "conf" / "base" / "parameters_data_engineering.yml").read_text()
    )
    assert params["prompt_template"] is None  # null: the default, written in Python only
    assert resolve_template(params["prompt_template"]) == TEMPLATE
    frame = pl.DataFrame({"question": ["Why?"], "answer": ["Because."], "line_number": [1]})
    default_qa, *_ = apply_prompt_template(frame, frame, frame, None)
    assert default_qa["question"].to_list() == ["### Question:\nWhy?\n### Answer:\n"]


def test_apply_prompt_template_renders_exact_prompt_and_text():
    train = dialogues(["What is a cold?", "Why {answer} here?"], ["A virus.", "Braces stay."])
    validation = dialogues(["Is a cough bad?"], ["Rarely."])
    test = dialogues(["Is fever bad?"], ["Sometimes."])

    train_qa, validation_qa, test_qa, train_text = apply_prompt_template(
        train, validation, test, TEMPLATE
    )

    assert train_qa.columns == ["question", "answer", "plain_question", LINE_NUMBER]
    assert train_qa["question"].to_list() == [
        "### Question:\nWhat is a cold?\n### Answer:\n",
        "### Question:\nWhy {answer} here?\n### Answer:\n",
    ]
    assert test_qa["question"].to_list() == ["### Question:\nIs fever bad?\n### Answer:\n"]
    assert validation_qa["question"].to_list() == ["### Question:\nIs a cough bad?\n### Answer:\n"]
    assert train_qa["plain_question"].to_list() == train["question"].to_list()
    assert test_qa["answer"].to_list() == ["Sometimes."]
    assert train_qa[LINE_NUMBER].to_list() == [1, 2]
    assert train_text.columns == ["text"]
    assert train_text["text"].to_list() == [
        "### Question:\nWhat is a cold?\n### Answer:\nA virus.",
        "### Question:\nWhy {answer} here?\n### Answer:\nBraces stay.",
    ]
    assert train_text["text"].to_list() == [
        q + a for q, a in zip(train_qa["question"], train_qa["answer"], strict=True)
    ]


def test_apply_prompt_template_honours_another_template():
    train_qa, _, _, train_text = apply_prompt_template(
        dialogues(["Why?"], ["Because."]),
        dialogues(["How?"], ["Thus."]),
        dialogues(["When?"], ["Now."]),
        "Q: {question}\nA: {answer}",
    )

    assert train_qa["question"].to_list() == ["Q: Why?\nA: "]
    assert train_text["text"].to_list() == ["Q: Why?\nA: Because."]


@pytest.mark.parametrize(
    "template",
    [
        "### Question:\n### Answer:\n{answer}",  # no {question}
        "### Question:\n{question}\n### Answer:\n",  # no {answer}
        "{answer}\n### Question:\n{question}",  # {answer} not at the end
        "",
    ],
)
def test_apply_prompt_template_rejects_bad_templates(template):
    frame = dialogues(["What?"], ["That."])
    with pytest.raises(ValueError, match="prompt_template must contain"):
        apply_prompt_template(frame, frame, frame, template)


# ---------- build_data_quality_report ----------


def run_nodes(raw: pl.DataFrame, max_rows: int | None = None, safety_ratio: float = 0.5):
    dialogues_, schema_drops = normalise_schema(raw)
    selected, not_selected = select_rows(dialogues_, max_rows)
    clean, cleaning_stats = clean_dialogues(selected)
    answered, answer_stats = clean_answers(clean)
    train, validation, test = split_by_question(answered, 0.25, 0.25, seed=3)
    mixed, mix_stats = mix_safety_training(train, *safety_sets(), ratio=safety_ratio)
    train_qa, validation_qa, test_qa, _ = apply_prompt_template(mixed, validation, test, TEMPLATE)
    return (
        *(schema_drops, not_selected, cleaning_stats, answer_stats, mix_stats),
        *(train_qa, validation_qa, test_qa),
    )


def safety_sets() -> tuple[dict, dict]:
    """The shipped red-flag training set and the evaluation's probe."""
    folder = PROJECT_ROOT / "data" / "01_raw" / "safety"
    return tuple(
        yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        for name in ("red_flag_training.yml", "red_flag_questions.yml")
    )


#: One answer per distinct question (one answer under two questions is dropped as reused).
ANSWERS = [f"Rest, fluids and a follow-up visit if it persists past day {i}." for i in range(8)]
REFERRAL_ONLY = "Hi. For further information consult a dentist online -->"


def messy_raw() -> pl.DataFrame:
    questions = [f"Q. Distinct question {i}?" for i in range(8)]
    return raw_frame(
        {
            "Description": questions
            + ["Q. Distinct question 0?", "Q. ", None, "Q. Numeric answer here?", "Q. Too short?"]
            + ["Q. Only a referral here?", "Q. One stock reply?", "Q. Another stock reply?"],
            "Doctor": [*ANSWERS, ANSWERS[0], LONG_ANSWER, LONG_ANSWER, None, "Ok."]
            + [REFERRAL_ONLY, LONG_ANSWER, LONG_ANSWER],
        },
        non_string=[None] * 11 + ["Doctor", None, None, None, None],
    )


@pytest.mark.parametrize("max_rows", [None, 10])
def test_report_accounts_for_every_row(max_rows):
    raw = messy_raw()

    report = build_data_quality_report(raw, *run_nodes(raw, max_rows))

    dropped = report["dropped_by_reason"]
    assert report["rows_read"] == raw.height == 16
    assert report["rows_kept"] + sum(dropped.values()) == report["rows_read"]
    assert report["rows_dropped"] == sum(dropped.values())
    assert dropped["missing_value"] == 1
    assert dropped["non_string_value"] == 1
    if max_rows is None:
        assert dropped == {
            "missing_value": 1,
            "non_string_value": 1,
            "not_selected": 0,
            "empty_or_too_short": 2,
            "duplicate": 1,
            "low_content": 1,
            "reused_answer": 2,
            "duplicate_after_cleaning": 0,
        }
        assert report["rows_kept"] == 8
        assert report["answer_cleaning"]["rows_changed"]["referral_line"] == 1
    else:  # 14 usable rows; the last 4 are not selected
        assert dropped["not_selected"] == 4
        assert dropped["empty_or_too_short"] == 1
        assert dropped["low_content"] == dropped["reused_answer"] == 0
        assert report["rows_kept"] == 8
    splits = report["splits"]
    # the training split holds the safety examples too (ratio 0.5: 2 for 4 training rows)
    assert report["safety_examples"]["safety_rows_added"] == 2
    assert report["rows_kept"] + 2 == sum(split["rows"] for split in splits.values())
    assert {name: split["questions"] for name, split in splits.items()} == {
        "train": 4 + 2,  # with the 2 red-flag examples
        "validation": 2,
        "test": 2,
    }
    assert report["duplicates_removed"] == dropped["duplicate"]
    assert report["questions_in_two_splits"] == {
        "train_validation": 0,
        "train_test": 0,
        "validation_test": 0,
    }
    assert report["schema"] == "ai_medical_chatbot"
    assert report["length_chars"]["question"]["min"] == len("Distinct question 0?")
    assert report["length_chars"]["answer"]["max"] == max(len(answer) for answer in ANSWERS)


def test_report_raises_when_rows_are_unaccounted_for():
    raw = messy_raw()
    schema_drops, not_selected, cleaning_stats, answer_stats, mix_stats, *splits = run_nodes(raw)
    fewer_dropped = {
        **answer_stats,
        "rows_dropped": {**answer_stats["rows_dropped"], "low_content": 0},
    }

    with pytest.raises(RuntimeError, match="row accounting broken: read 16"):
        build_data_quality_report(
            raw,
            schema_drops,
            not_selected,
            {**cleaning_stats, "duplicate": 0},
            answer_stats,
            mix_stats,
            *splits,
        )
    with pytest.raises(RuntimeError, match="row accounting broken: read 16"):
        build_data_quality_report(
            raw, schema_drops, not_selected, cleaning_stats, fewer_dropped, mix_stats, *splits
        )
    with pytest.raises(RuntimeError, match="row accounting broken: read 15"):
        build_data_quality_report(
            raw.head(15),
            schema_drops,
            not_selected,
            cleaning_stats,
            answer_stats,
            mix_stats,
            *splits,
        )
    with pytest.raises(RuntimeError, match="2 safety rows, 3 were added"):
        build_data_quality_report(
            raw,
            schema_drops,
            not_selected,
            cleaning_stats,
            answer_stats,
            {**mix_stats, "safety_rows_added": 3},
            *splits,
        )


def test_report_raises_when_a_question_is_in_two_splits():
    raw = messy_raw()
    *stats, train_qa, validation_qa, test_qa = run_nodes(raw)
    # A training row in place of a test row: the count still adds up, the leak does not.
    leaked = pl.concat([train_qa.head(1), test_qa.slice(1)], how="vertical_relaxed")
    with pytest.raises(RuntimeError, match="questions shared between splits.*'train_test': 1"):
        build_data_quality_report(raw, *stats, train_qa, validation_qa, leaked)


def test_collapse_whitespace_equals_the_plain_regex_everywhere():
    from llm_finetune.pipelines.data_engineering.nodes import collapse_whitespace

    texts = pl.Series(
        ["a  b", "a\tb", "a b", " a", "a\u00a0b", "ok ", " x\n\ny ", "", "clean text", "\r\n"]
    )
    expected = texts.str.replace_all(r"\s+", " ").str.strip_chars()
    assert collapse_whitespace(texts).to_list() == expected.to_list()
    assert texts[0] == "a  b", "the input series is not modified"
