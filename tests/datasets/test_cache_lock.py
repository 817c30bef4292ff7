"""Runs started together share the base model cache: one converts, the others wait for it.

"Another run" is another process (flock locks are per process), started here with Python.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch
from kedro.io import DatasetError

from llm_finetune.datasets import PretrainedModelDataset, pretrained_model
from llm_finetune.datasets.model_cache import cache_lock
from tests.conftest import PROJECT_ROOT

HOLD_THE_LOCK = """
import json, sys
from pathlib import Path
from llm_finetune.datasets.model_cache import cache_lock, source_info_files
from llm_finetune.datasets.model_dirs import ModelAndTokenizer, save_model_atomically
from tests.conftest import build_tiny_model, build_tiny_tokenizer

cache, fingerprint = Path(sys.argv[1]), json.loads(sys.argv[2])
with cache_lock(cache):
    print("locked", flush=True)
    if fingerprint:  # convert: write the cache as the run holding the lock does
        tokenizer = build_tiny_tokenizer()
        data = ModelAndTokenizer(build_tiny_model(tokenizer), tokenizer)
        save_model_atomically(data, cache, extra_files=source_info_files(fingerprint))
    else:
        sys.stdin.readline()  # hold the lock until told
"""


def _another_run(cache: Path, fingerprint: dict | None) -> subprocess.Popen:
    import json

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), *sys.path])}
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_THE_LOCK), str(cache), json.dumps(fingerprint)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    for line in process.stdout:  # (the imports may log first)
        if line.strip() == "locked":
            return process
    raise AssertionError(f"the other run did not take the lock: exit code {process.wait()}")


def test_a_run_waits_for_the_run_converting_the_base_model_and_reads_its_cache(
    tmp_path, monkeypatch, caplog
):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"converted by the other run")
    dataset = PretrainedModelDataset(str(gguf), cache_dir=str(tmp_path / "cache"))
    resolved = dataset._resolve()

    def no_conversion(*_):
        raise AssertionError("the other run converts the model; this one must wait for it")

    monkeypatch.setattr(pretrained_model, "convert_gguf", no_conversion)
    other = _another_run(resolved.cache, dataset._fingerprint(resolved))
    with caplog.at_level(logging.INFO, logger="llm_finetune.datasets"):
        loaded = dataset.load()
    other.communicate(timeout=60)
    assert other.returncode == 0
    assert isinstance(loaded.model.lm_head.weight, torch.Tensor)
    assert f"being written by another run (pid {other.pid}" in caplog.text
    assert "written by another run meanwhile" in caplog.text


def test_waiting_too_long_names_the_run_holding_the_lock(tmp_path):
    cache = tmp_path / "cache" / "model"
    other = _another_run(cache, None)
    try:
        with pytest.raises(DatasetError, match=rf"still held after 0.2 s by pid {other.pid}, "):
            with cache_lock(cache, timeout_s=0.2, poll_s=0.05):
                pass
    finally:
        other.communicate("release\n", timeout=60)
    with cache_lock(cache, timeout_s=0.2, poll_s=0.05):  # released with the other run
        pass


def test_the_lock_this_process_holds_would_deadlock(tmp_path):
    cache = tmp_path / "model"
    with cache_lock(cache):
        with pytest.raises(DatasetError, match=f"this process \\(pid {os.getpid()}.* deadlock"):
            with cache_lock(cache):
                pass


def test_threads_of_one_process_take_turns(tmp_path):
    cache, order = tmp_path / "model", []

    def write(name: str) -> None:
        with cache_lock(cache):
            order.append(f"{name} in")
            time.sleep(0.1)
            order.append(f"{name} out")

    threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
