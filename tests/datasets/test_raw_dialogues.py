"""Tests of RawDialoguesDataset: each accepted format, and an actionable error per bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from kedro.io import DatasetError

from llm_finetune.datasets import RawDialoguesDataset
from llm_finetune.datasets.raw_dialogues import (
    LINE_NUMBER,
    NON_STRING_FIELDS,
    _read_jsonl_fast,
)
from llm_finetune.pipelines.data_engineering.nodes import normalise_schema

RECORDS = [
    {"Description": "Q. What is a cold?", "Patient": "I sneeze a lot.", "Doctor": "A virus."},
    {"Description": "Q. Is fever bad?", "Patient": "I feel hot.", "Doctor": "Not always."},
    {"Description": "Q. Why do I cough?", "Patient": "At night.", "Doctor": "Often reflux."},
]


def write_jsonl(path: Path, records: list, *, blank_lines_after: tuple[int, ...] = ()) -> Path:
    lines = []
    for index, record in enumerate(records, start=1):
        lines.append(json.dumps(record))
        if index in blank_lines_after:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(path: Path) -> pl.DataFrame:
    return RawDialoguesDataset(filepath=str(path)).load()


def load_error(path: Path) -> str:
    with pytest.raises(DatasetError) as error:
        load(path)
    return str(error.value)


# ---------- accepted formats ----------


def test_jsonl_clean_file_takes_the_fast_path(tmp_path):
    path = write_jsonl(tmp_path / "clean.jsonl", RECORDS)
    assert _read_jsonl_fast(path.read_bytes()) is not None

    frame = load(path)

    assert frame.columns == [LINE_NUMBER, "Description", "Patient", "Doctor", NON_STRING_FIELDS]
    assert frame[LINE_NUMBER].to_list() == [1, 2, 3]
    assert frame["Description"].to_list() == [r["Description"] for r in RECORDS]
    assert frame["Doctor"].to_list() == [r["Doctor"] for r in RECORDS]
    assert frame[NON_STRING_FIELDS].null_count() == 3
    assert all(frame[c].dtype == pl.String for c in ("Description", "Patient", "Doctor"))


def test_jsonl_blank_lines_take_the_line_by_line_path_and_keep_true_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "gaps.jsonl", RECORDS, blank_lines_after=(1, 2))
    path.write_text("\n" + path.read_text(encoding="utf-8"), encoding="utf-8")  # leading blank
    assert _read_jsonl_fast(path.read_bytes()) is None

    frame = load(path)

    # line 1 blank, record, blank, record, blank, record
    assert frame[LINE_NUMBER].to_list() == [2, 4, 6]
    assert frame["Description"].to_list() == [r["Description"] for r in RECORDS]


def test_both_jsonl_paths_return_the_same_frame(tmp_path):
    fast = load(write_jsonl(tmp_path / "fast.jsonl", RECORDS))
    slow_path = write_jsonl(tmp_path / "slow.jsonl", RECORDS)
    slow_path.write_text(slow_path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    assert _read_jsonl_fast(slow_path.read_bytes()) is None

    slow = load(slow_path)

    assert slow.equals(fast)
    assert slow.schema == fast.schema


def test_jsonl_without_trailing_newline_and_with_crlf(tmp_path):
    body = "\r\n".join(json.dumps(r) for r in RECORDS)
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(body.encode("utf-8"))

    frame = load(path)

    assert frame[LINE_NUMBER].to_list() == [1, 2, 3]
    assert frame["Doctor"].to_list() == [r["Doctor"] for r in RECORDS]


@pytest.mark.parametrize("blank_line", [False, True], ids=["fast", "line-by-line"])
def test_jsonl_with_utf8_byte_order_mark(tmp_path, blank_line):
    path = write_jsonl(
        tmp_path / "bom.jsonl", RECORDS, blank_lines_after=(1,) if blank_line else ()
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    frame = load(path)

    assert frame["Description"].to_list() == [r["Description"] for r in RECORDS]
    assert frame[LINE_NUMBER][0] == 1


@pytest.mark.parametrize("blank_line", [False, True], ids=["fast", "line-by-line"])
def test_an_input_column_named_line_number_is_replaced(tmp_path, blank_line):
    # e.g. the pipeline's own train_qa.jsonl fed back in as raw data
    records = [{"question": "Why?", "answer": "Because.", LINE_NUMBER: 40 + i} for i in range(3)]
    path = write_jsonl(
        tmp_path / "own.jsonl", records, blank_lines_after=(1,) if blank_line else ()
    )

    frame = load(path)

    expected = [1, 3, 4] if blank_line else [1, 2, 3]
    assert frame[LINE_NUMBER].to_list() == expected
    assert frame[LINE_NUMBER].dtype == pl.UInt32


def test_non_ascii_text_survives(tmp_path):
    records = [{"question": "Fièvre à 39 °C, µg dosage?", "answer": "Schöne Grüße."}]

    frame = load(write_jsonl(tmp_path / "utf8.jsonl", records))

    assert frame["question"].to_list() == ["Fièvre à 39 °C, µg dosage?"]


def test_csv(tmp_path):
    path = tmp_path / "dialogues.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["instruction", "response", "source"])
        writer.writerow(["Why, doctor?", "Because, multi\nline answer.", "a"])
        writer.writerow(["123", "", "b"])  # numbers stay text in CSV; empty field is null

    frame = load(path)

    assert frame.columns == [LINE_NUMBER, "instruction", "response", NON_STRING_FIELDS]
    assert frame[LINE_NUMBER].to_list() == [1, 2]  # data rows, not physical lines
    assert frame["instruction"].to_list() == ["Why, doctor?", "123"]
    assert frame["response"].to_list() == ["Because, multi\nline answer.", None]
    assert frame[NON_STRING_FIELDS].null_count() == 2


def test_parquet_with_typed_columns(tmp_path):
    path = tmp_path / "dialogues.parquet"
    pl.DataFrame(
        {"input": ["What?", None, "How?"], "output": [1, 2, None], "extra": [1.0, 2.0, 3.0]}
    ).write_parquet(path)

    frame = load(path)

    assert frame.columns == [LINE_NUMBER, "input", "output", NON_STRING_FIELDS]
    assert frame["input"].to_list() == ["What?", None, "How?"]
    assert frame["output"].to_list() == [None, None, None]  # numbers are not text
    assert frame[NON_STRING_FIELDS].to_list() == ["output", "output", None]


def test_parquet_strings(tmp_path):
    path = tmp_path / "dialogues.parquet"
    pl.DataFrame({"question": ["Q1?", "Q2?"], "answer": ["A1.", "A2."]}).write_parquet(path)

    frame = load(path)

    assert frame[LINE_NUMBER].to_list() == [1, 2]
    assert frame["answer"].to_list() == ["A1.", "A2."]
    assert frame[NON_STRING_FIELDS].null_count() == 2


# ---------- null and non-string values: kept, flagged, then counted ----------


@pytest.mark.parametrize("mixed_types", [True, False], ids=["mixed-column", "all-numbers"])
def test_non_string_values_are_kept_and_flagged(tmp_path, mixed_types):
    records = [
        {"Description": "Q. Fine?", "Patient": "Fine.", "Doctor": "Fine answer."},
        {"Description": None, "Patient": "Null question.", "Doctor": "Answer."},
        {"Description": "Q. Numeric answer?", "Patient": "Hi.", "Doctor": 42},
        {"Description": "Q. List answer?", "Patient": "Hi.", "Doctor": ["a", "b"]},
        {"Description": "Q. Numeric patient?", "Patient": 7, "Doctor": "Answer."},
        {"Description": True, "Patient": {"age": 3}, "Doctor": None},
    ]
    if not mixed_types:  # a column whose values are all numbers reaches the columnar reader
        records = [{"question": 1, "answer": "One."}, {"question": 2, "answer": "Two."}]
    path = write_jsonl(tmp_path / "values.jsonl", records)

    frame = load(path)

    assert frame.height == len(records)  # no row disappears in the loader
    if mixed_types:
        assert frame[NON_STRING_FIELDS].to_list() == [
            None,
            None,
            "Doctor",
            "Doctor",
            "Patient",
            "Description,Patient",
        ]
        assert frame["Doctor"].to_list() == ["Fine answer.", "Answer.", None, None, "Answer.", None]
        assert frame["Patient"][4] is None
    else:
        assert frame[NON_STRING_FIELDS].to_list() == ["question", "question"]
        assert frame["question"].to_list() == [None, None]

    dialogues, stats = normalise_schema(frame)

    if mixed_types:
        # numeric Patient is an unused column by default: its row is kept
        assert dialogues[LINE_NUMBER].to_list() == [1, 5]
        assert stats == {"schema": "ai_medical_chatbot", "non_string_value": 3, "missing_value": 1}
        folded, folded_stats = normalise_schema(frame, include_context=True)
        assert folded[LINE_NUMBER].to_list() == [1]
        assert folded_stats["non_string_value"] == 4
        assert folded_stats["missing_value"] == 1
    else:
        assert dialogues.is_empty()
        assert stats["non_string_value"] == 2


# ---------- bad inputs: each error names the file, the line and the problem ----------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jsonl"

    message = load_error(path)

    assert str(path) in message
    assert "not found" in message
    assert "raw_data_path" in message  # says how to point at another file
    assert not RawDialoguesDataset(filepath=str(path)).exists()


@pytest.mark.parametrize("content", ["", " \n\n\t  \n"], ids=["empty", "whitespace-only"])
def test_empty_jsonl(tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")

    message = load_error(path)

    assert str(path) in message
    assert "file is empty" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [("", "empty CSV"), ("question,answer\n", "file is empty (no data rows)")],
    ids=["zero-bytes", "header-only"],
)
def test_empty_csv(tmp_path, content, problem):
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")

    message = load_error(path)

    assert str(path) in message
    assert problem in message


def test_malformed_json_line(tmp_path):
    path = write_jsonl(tmp_path / "broken.jsonl", RECORDS[:2], blank_lines_after=(1,))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"Description": "Q. Cut off", "Doctor": \n')
        handle.write(json.dumps(RECORDS[2]) + "\n")

    message = load_error(path)

    assert message.startswith(f"{path}, line 4: malformed JSON")
    assert "column" in message


def test_json_line_that_is_an_array(tmp_path):
    path = tmp_path / "array.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n" + json.dumps(list(RECORDS[1].values())) + "\n")

    message = load_error(path)

    assert message == f"{path}, line 2: expected a JSON object, got list"


def test_whole_file_json_array_is_rejected_at_line_one(tmp_path):
    path = tmp_path / "array.json"
    path.write_text(json.dumps(RECORDS), encoding="utf-8")

    assert load_error(path) == f"{path}, line 1: expected a JSON object, got list"


def test_non_utf8_bytes(tmp_path):
    path = write_jsonl(tmp_path / "latin1.jsonl", RECORDS[:2])
    bad_line = json.dumps({"question": "Fièvre?", "answer": "Oui."}, ensure_ascii=False)
    path.write_bytes(path.read_bytes() + bad_line.encode("latin-1") + b"\n")

    message = load_error(path)

    assert message.startswith(f"{path}, line 3: bytes are not valid UTF-8")
    assert "0xe8" in message
    assert "re-encode the file as UTF-8" in message


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_file_without_an_accepted_schema(tmp_path, suffix):
    path = tmp_path / f"other{suffix}"
    frame = pl.DataFrame({"prompt": ["Hi?"], "reply": ["Hello."]})
    if suffix == ".jsonl":
        frame.write_ndjson(path)
    elif suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)

    message = load_error(path)

    assert message.startswith(f"{path}: none of the accepted schemas matches the columns")
    assert "['prompt', 'reply']" in message
    assert LINE_NUMBER not in message  # only the file's own columns are listed
    for accepted in ("Description/Doctor", "question/answer", "instruction/response"):
        assert accepted in message


def test_objects_without_any_key(tmp_path):
    path = tmp_path / "braces.jsonl"
    path.write_text("{}\n\n{}\n", encoding="utf-8")

    message = load_error(path)

    assert str(path) in message
    assert "none of the accepted schemas matches the columns []" in message


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(b"this is not parquet")

    message = load_error(path)

    assert message.startswith(f"{path}: cannot be read")


@pytest.mark.parametrize("suffix", [".txt", ".xlsx", ""])
def test_unsupported_extension(tmp_path, suffix):
    path = tmp_path / f"dialogues{suffix}"
    path.write_text(json.dumps(RECORDS[0]) + "\n", encoding="utf-8")

    message = load_error(path)

    assert str(path) in message
    assert f"unsupported file type '{suffix}'" in message
    assert ".jsonl" in message and ".csv" in message and ".parquet" in message


def test_dataset_is_read_only(tmp_path):
    path = write_jsonl(tmp_path / "ro.jsonl", RECORDS)
    dataset = RawDialoguesDataset(filepath=str(path))

    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(pl.DataFrame({"question": ["q"], "answer": ["a"]}))
    assert dataset.exists()
    assert str(path) in str(dataset)
