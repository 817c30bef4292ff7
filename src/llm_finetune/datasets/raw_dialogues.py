"""Read-only dataset for raw dialogue files (JSONL, CSV or Parquet) with actionable errors.

Structural problems (missing or empty file, bytes that are not UTF-8, a line that is not a JSON
object, no accepted schema) raise an error naming the file, the line and the problem. Row-level
problems (null or non-string values) are kept as rows and flagged in ``non_string_fields`` so the
pipeline can drop and count them: no row disappears here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.json
from kedro.io import AbstractDataset, DatasetError

from llm_finetune.schemas import MESSAGES, detect_schema, text_columns

LINE_NUMBER = "line_number"
NON_STRING_FIELDS = "non_string_fields"
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


class RawDialoguesDataset(AbstractDataset[None, pl.DataFrame]):
    """Loads a raw dialogue file into a polars frame of strings, one row per input record.

    The frame keeps every input record, adds ``line_number`` (1-based line in a JSONL file, data
    row in CSV/Parquet) and ``non_string_fields`` (comma-joined names of accepted-schema columns
    whose value was neither a string nor null; those values become null).
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._filepath}: raw data is read-only; the pipeline never writes it")

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def load(self) -> pl.DataFrame:
        path = self._filepath
        if not path.is_file():
            raise DatasetError(
                f"{path}: raw data file not found. Pass an existing file with "
                "`kedro run --params raw_data_path=/abs/path/file.jsonl`."
            )
        suffix = path.suffix.lower()
        if suffix in _JSONL_SUFFIXES:
            frame = _read_jsonl(path)
        elif suffix == ".csv":
            frame = _read_table(path, lambda: pl.read_csv(path, infer_schema=False))
        elif suffix == ".parquet":
            frame = _read_table(path, lambda: pl.read_parquet(path))
        else:
            raise DatasetError(
                f"{path}: unsupported file type '{suffix}'; use .jsonl (JSON Lines), .csv "
                "or .parquet"
            )
        try:
            schema = detect_schema([c for c in frame.columns if c != LINE_NUMBER])
        except ValueError as error:
            raise DatasetError(f"{path}: {error}") from None
        if schema.is_conversation:
            return _conversations_as_text(frame, path)
        return _flag_non_strings(frame, text_columns(schema), path)


def _read_table(path: Path, reader: Any) -> pl.DataFrame:
    try:
        frame = reader()
    except Exception as error:  # polars raises several unrelated types for corrupt files
        raise DatasetError(f"{path}: cannot be read: {error}") from error
    if frame.height == 0:
        raise DatasetError(f"{path}: file is empty (no data rows)")
    return _with_line_numbers(frame)


def _with_line_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """Number the records from 1; an input column of the same name (say the ``line_number`` of a
    file this pipeline wrote) is replaced, as it would collide with ours."""
    return frame.drop(LINE_NUMBER, strict=False).with_row_index(LINE_NUMBER, offset=1)


def _read_jsonl(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    if not data or data.isspace():
        raise DatasetError(f"{path}: file is empty (no JSON lines)")
    frame = _read_jsonl_fast(data)
    if frame is not None and MESSAGES not in frame.columns:
        return frame  # conversations take the exact reader: turns differ in keys and types
    try:  # the slow path names the exact line of any problem
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DatasetError(
            f"{path}, line {line}: bytes are not valid UTF-8 (byte 0x{data[error.start]:02x} at "
            f"offset {error.start}); re-encode the file as UTF-8"
        ) from None
    return _read_jsonl_strict(path, text)


def _read_jsonl_fast(data: bytes) -> pl.DataFrame | None:
    """Columnar parse of a clean file (one object per line, consistent types); None otherwise.

    pyarrow rejects a column whose values change type (string here, number there), which sends
    such files to the line-by-line reader; polars would silently turn the number into a string.
    """
    try:
        table = pyarrow.json.read_json(io.BytesIO(data))
        table.validate(full=True)  # pyarrow does not check UTF-8 while parsing; this does
        frame = pl.from_arrow(table)
    except Exception:  # noqa: BLE001 - any refusal sends us to the line-by-line reader
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if not isinstance(frame, pl.DataFrame) or frame.height != lines:
        return None  # blank lines would shift line numbers
    return _with_line_numbers(frame)


def _read_jsonl_strict(path: Path, text: str) -> pl.DataFrame:
    """Line-by-line parse that names the first structural problem precisely."""
    records: list[dict[str, Any]] = []
    line_numbers: list[int] = []
    # A UTF-8 byte order mark is not part of the first record (the columnar reader skips it too).
    for line_number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue  # blank lines are not records
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(
                f"{path}, line {line_number}: malformed JSON ({error.msg} at column {error.colno})"
            ) from None
        if not isinstance(record, dict):
            raise DatasetError(
                f"{path}, line {line_number}: expected a JSON object, got {type(record).__name__}"
            )
        records.append(record)
        line_numbers.append(line_number)
    columns = [
        key
        for key in dict.fromkeys(key for record in records for key in record)
        if key != LINE_NUMBER  # replaced by our own numbering, as in _with_line_numbers
    ]
    values = {
        column: [
            record.get(column) if column == MESSAGES else _as_text_or_marker(record.get(column))
            for record in records
        ]
        for column in columns
    }
    return pl.DataFrame(
        {LINE_NUMBER: line_numbers, **values},
        schema={LINE_NUMBER: pl.UInt32, **{column: pl.Object for column in columns}},
    )


class _NonString:
    """Marks a value that was neither a string nor null, so it can be flagged and counted."""

    def __init__(self, value: Any) -> None:
        self.type_name = type(value).__name__


def _as_text_or_marker(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else _NonString(value)


def _flag_non_strings(frame: pl.DataFrame, columns: list[str], path: Path) -> pl.DataFrame:
    """Turn accepted-schema columns into strings; non-string values become null and are flagged."""
    present = [c for c in columns if c in frame.columns]
    flags: list[pl.Expr] = []
    converted: list[pl.Series] = []
    for column in present:
        series = frame[column]
        if series.dtype == pl.Object:
            values = series.to_list()
            bad = [isinstance(v, _NonString) for v in values]
            text = [None if is_bad else v for v, is_bad in zip(values, bad, strict=True)]
            converted.append(pl.Series(column, text, dtype=pl.String))
            flags.append(pl.when(pl.Series(bad)).then(pl.lit(column)))
        elif series.dtype in (pl.String, pl.Null):
            converted.append(series.cast(pl.String))
        else:  # a typed column (Parquet) whose values are numbers, lists, ...: all non-string
            converted.append(pl.Series(column, [None] * frame.height, dtype=pl.String))
            flags.append(pl.when(series.is_not_null()).then(pl.lit(column)))
    keep = [c for c in frame.columns if c == LINE_NUMBER or c in present]
    result = frame.select(keep).with_columns(converted)
    joined = pl.concat_str(flags, separator=",", ignore_nulls=True) if flags else pl.lit("")
    non_string = pl.when(joined != "").then(joined).cast(pl.String)
    result = result.with_columns(non_string.alias(NON_STRING_FIELDS))
    if result.height == 0:
        raise DatasetError(f"{path}: file holds no records")
    return result


def _conversations_as_text(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``line_number`` and the ``messages`` column as JSON text, one row per record: the turns
    are checked (and bad rows dropped, counted per reason) in data engineering."""
    series = frame[MESSAGES]
    if series.dtype in (pl.String, pl.Null):
        text = series.cast(pl.String)
    else:  # a list per row (JSON Lines, Parquet)
        text = pl.Series(
            MESSAGES,
            [v if v is None or isinstance(v, str) else json.dumps(v) for v in series.to_list()],
            dtype=pl.String,
        )
    if frame.height == 0:
        raise DatasetError(f"{path}: file holds no records")
    return pl.DataFrame({LINE_NUMBER: frame[LINE_NUMBER], MESSAGES: text}).with_columns(
        pl.lit(None, dtype=pl.String).alias(NON_STRING_FIELDS)
    )


class HubDialoguesDataset(AbstractDataset[None, pl.DataFrame]):
    """The raw dialogues of a Hugging Face Hub dataset (for users online), in the same frame form.

    Needs the network: run with ``HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0``. Pin ``revision`` to a
    commit so that a rerun reads the same rows.
    """

    def __init__(
        self,
        repo_id: str,
        split: str = "train",
        revision: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._repo_id = repo_id
        self._split = split
        self._revision = revision
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"repo_id": self._repo_id, "split": self._split, "revision": self._revision}

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._repo_id}: hub datasets are read-only here")

    def load(self) -> pl.DataFrame:
        import os

        import datasets

        source = f"hub dataset {self._repo_id}@{self._revision or 'main'} ({self._split})"
        try:
            table = datasets.load_dataset(
                self._repo_id, split=self._split, revision=self._revision
            ).data.table
        except Exception as error:
            hint = ""
            offline = {os.environ.get("HF_DATASETS_OFFLINE"), os.environ.get("HF_HUB_OFFLINE")}
            if "1" in offline:
                hint = (
                    " The Hugging Face Hub is off by default; go online with "
                    "HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0."
                )
            raise DatasetError(f"{source}: cannot be loaded: {error}.{hint}") from error
        frame = pl.from_arrow(table).with_row_index(LINE_NUMBER, offset=1)
        try:
            schema = detect_schema([c for c in frame.columns if c != LINE_NUMBER])
        except ValueError as error:
            raise DatasetError(f"{source}: {error}") from None
        if schema.is_conversation:
            return _conversations_as_text(frame, Path(source))
        return _flag_non_strings(frame, text_columns(schema), Path(source))
