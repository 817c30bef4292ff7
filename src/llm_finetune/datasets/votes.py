"""Append-only JSON Lines dataset for the human votes: one vote a line, appended crash-safe.

Each record is written as one line by a single ``os.write`` on an ``O_APPEND`` descriptor, then
``fsync``-ed, under an exclusive ``fcntl.flock`` of the file: two processes (two rating tabs,
two servers) never interleave their lines, and a process killed mid-write leaves at most its own
last line torn. A torn or corrupt line is skipped on load with a warning naming the file and the
line; the next append starts on a new line, so a torn line never swallows a later vote.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Mapping
from copy import deepcopy
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)


class VotesDataset(AbstractDataset[list[dict[str, Any]], list[dict[str, Any]]]):
    """``VotesDataset`` loads a JSON Lines file of records (one JSON object a line) and *appends*
    the records it is given: saving never rewrites what is already in the file.

    Example usage for the `YAML API <https://docs.kedro.org/en/stable/catalog-data/
    data_catalog_yaml_examples/>`_:

    .. code-block:: yaml

        human_votes:
          type: llm_finetune.datasets.VotesDataset
          filepath: data/07_model_output/human_votes.jsonl
          load_args:
            on_bad_line: warn   # or "raise"
          save_args:
            fsync: true

    Example usage for the Python API:

    .. code-block:: pycon

        >>> from llm_finetune.datasets import VotesDataset
        >>> dataset = VotesDataset(filepath=tmp_path / "votes.jsonl")
        >>> dataset.save([{"choice": "tie"}])
        >>> dataset.append({"choice": "a_better"})
        >>> [vote["choice"] for vote in dataset.load()]
        ['tie', 'a_better']
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"on_bad_line": "warn"}
    DEFAULT_SAVE_ARGS: dict[str, Any] = {"fsync": True}

    def __init__(
        self,
        *,
        filepath: str | os.PathLike,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates a new instance of ``VotesDataset`` pointing to a local JSON Lines file.

        Args:
            filepath: The JSON Lines file (created with its folder on the first append).
            load_args: ``on_bad_line``: ``"warn"`` (default) skips a line that is not a JSON
                object, with a warning naming it; ``"raise"`` fails on it.
            save_args: ``fsync`` (default True): flush each append to the disk before returning.
            metadata: Any arbitrary metadata; ignored by Kedro, read by the project's tracking.
        """
        self._filepath = Path(filepath)
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        if self._load_args["on_bad_line"] not in ("warn", "raise"):
            raise DatasetError(
                f"{self._filepath}: load_args.on_bad_line must be 'warn' or 'raise', "
                f"got {self._load_args['on_bad_line']!r}"
            )
        unknown = set(self._save_args) - set(self.DEFAULT_SAVE_ARGS)
        if unknown:
            raise DatasetError(f"{self._filepath}: unknown save_args {sorted(unknown)}")
        self.metadata = metadata

    @property
    def filepath(self) -> Path:
        return self._filepath

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "load_args": deepcopy(self._load_args),
            "save_args": deepcopy(self._save_args),
        }

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def load(self) -> list[dict[str, Any]]:
        """Every complete record, in file order; a missing file is no votes yet."""
        if not self._filepath.is_file():
            return []
        records: list[dict[str, Any]] = []
        with open(self._filepath, "rb") as file:
            # A shared lock: never read a line another process is halfway through writing.
            fcntl.flock(file.fileno(), fcntl.LOCK_SH)
            try:
                data = file.read()
            finally:
                fcntl.flock(file.fileno(), fcntl.LOCK_UN)
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError(f"a JSON {type(record).__name__}, not an object")
            except (UnicodeDecodeError, ValueError) as error:
                message = (
                    f"{self._filepath}, line {number}: skipped, not a complete vote record "
                    f"({error}); every other line is kept"
                )
                if self._load_args["on_bad_line"] == "raise":
                    raise DatasetError(message) from error
                logger.warning(message)
                continue
            records.append(record)
        return records

    def save(self, data: Iterable[Mapping[str, Any]]) -> None:
        """Append ``data`` (records), each as one line, to the file."""
        for record in data:
            self.append(record)

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one record as one line: one write, under the file lock, then fsync."""
        line = json.dumps(dict(record), ensure_ascii=False, sort_keys=True).encode("utf-8")
        if b"\n" in line:  # json.dumps escapes newlines: a raw one would split the record
            raise DatasetError("a vote record must serialise to one line")
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        # O_RDWR (not O_WRONLY) so the last byte can be read back; O_APPEND: every write lands
        # at the end of the file, whatever other writers did.
        fd = os.open(self._filepath, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                # After a torn last line (a writer killed mid-write), start on a new line.
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                payload = (b"\n" if torn else b"") + line + b"\n"
                written = os.write(fd, payload)
                if written != len(payload):
                    raise DatasetError(
                        f"{self._filepath}: wrote {written} of {len(payload)} bytes of a vote"
                    )
                if self._save_args["fsync"]:
                    os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
