"""VotesDataset: appends one line per record under a lock; a writer killed mid-write, a torn or
corrupt line and two writers at once lose nothing already saved."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kedro.io import DatasetError

from llm_finetune.datasets import VotesDataset

# A writer process: appends numbered records until killed (or `count` records are written).
WRITER = """
import sys
from llm_finetune.datasets import VotesDataset
dataset = VotesDataset(filepath=sys.argv[1])
writer, count = sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
for n in range(count):
    dataset.append({"writer": writer, "n": n, "note": "x" * 2000})
"""


def start_writer(path: Path, writer: str, count: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), writer, str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:  # kedro may log to stdout first
        if line.strip() == "ready":
            return process
    pytest.fail(f"the writer exited with {process.wait()} before it was ready")


def test_appends_and_loads_in_order(tmp_path):
    dataset = VotesDataset(filepath=tmp_path / "sub" / "votes.jsonl")
    assert dataset.load() == [] and not dataset.exists()
    dataset.save([{"n": 1}, {"n": 2}])
    dataset.append({"n": 3, "note": "line\nbreak é"})
    assert [record["n"] for record in dataset.load()] == [1, 2, 3]
    assert dataset.load()[2]["note"] == "line\nbreak é"
    assert (tmp_path / "sub" / "votes.jsonl").read_text().count("\n") == 3


def test_describe_and_bad_arguments(tmp_path):
    dataset = VotesDataset(filepath=tmp_path / "v.jsonl")
    assert dataset._describe()["load_args"] == {"on_bad_line": "warn"}
    with pytest.raises(DatasetError, match="on_bad_line"):
        VotesDataset(filepath=tmp_path / "v.jsonl", load_args={"on_bad_line": "ignore"})
    with pytest.raises(DatasetError, match="unknown save_args"):
        VotesDataset(filepath=tmp_path / "v.jsonl", save_args={"mode": "w"})


def test_torn_last_line_is_skipped_and_the_next_append_starts_a_new_line(tmp_path, caplog):
    path = tmp_path / "votes.jsonl"
    dataset = VotesDataset(filepath=path)
    dataset.append({"n": 1})
    with open(path, "ab") as file:  # what a crash halfway through a line leaves
        file.write(b'{"n": 2, "note": "cut of')
    with caplog.at_level(logging.WARNING):
        assert dataset.load() == [{"n": 1}]
    assert "line 2: skipped, not a complete vote record" in caplog.text
    dataset.append({"n": 3})
    assert [record["n"] for record in dataset.load()] == [1, 3]


def test_a_corrupt_line_in_the_middle_is_skipped_or_raises(tmp_path, caplog):
    path = tmp_path / "votes.jsonl"
    path.write_bytes(b'{"n": 1}\nnot json\n[1, 2]\n\xff\xfe\n{"n": 5}\n')
    with caplog.at_level(logging.WARNING):
        assert VotesDataset(filepath=path).load() == [{"n": 1}, {"n": 5}]
    assert all(f"line {n}: skipped" in caplog.text for n in (2, 3, 4))
    with pytest.raises(DatasetError, match="line 2"):
        VotesDataset(filepath=path, load_args={"on_bad_line": "raise"}).load()
    assert path.read_bytes().startswith(b'{"n": 1}\nnot json')  # loading never rewrites


def test_a_writer_killed_mid_write_loses_nothing_saved_before(tmp_path):
    path = tmp_path / "votes.jsonl"
    VotesDataset(filepath=path).append({"writer": "before", "n": 0})
    writer = start_writer(path, "killed", 1_000_000)
    deadline = time.monotonic() + 20
    while path.stat().st_size < 200_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(writer.pid, signal.SIGKILL)  # wherever it is: between writes, in one, in fsync
    writer.wait()
    records = VotesDataset(filepath=path).load()
    assert records[0] == {"writer": "before", "n": 0}
    killed = [record["n"] for record in records if record["writer"] == "killed"]
    assert killed == list(range(len(killed))) and len(killed) > 50
    VotesDataset(filepath=path).append({"writer": "after", "n": 0})
    assert VotesDataset(filepath=path).load()[-1] == {"writer": "after", "n": 0}


def test_two_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "votes.jsonl"
    writers = [start_writer(path, name, 300) for name in ("tab1", "tab2")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
    records = VotesDataset(filepath=path, load_args={"on_bad_line": "raise"}).load()
    for name in ("tab1", "tab2"):
        assert [r["n"] for r in records if r["writer"] == name] == list(range(300))
