"""The base model cache's bookkeeping: its directory name and the record of the source it holds.

A converted base model is cached as safetensors in ``<cache_dir>/<slug of source[@revision]>/``,
with :data:`SOURCE_INFO_FILE` written next to the weights (in the same atomic save): a fingerprint
of the source. A cache whose record no longer matches its source (another GGUF file under the
same name) is stale and converted again.

Runs started together (in one project or not) share the cache: :func:`cache_lock` lets one of them
convert while the other waits (and logs which run holds it), then reads what the first wrote.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from kedro.io import DatasetError

from llm_finetune.datasets.model_dirs import is_complete_model_dir

logger = logging.getLogger(__name__)

#: File the cache writes next to the weights, describing where they came from.
SOURCE_INFO_FILE = "llm_finetune_source.json"
#: How long a run waits for another run's conversion of the same base model.
LOCK_WAIT_SECONDS = 3600
_PROCESS_STARTED = time.strftime("%Y-%m-%d %H:%M:%S %Z")  # when this module was first imported
_THREAD_LOCKS: dict[Path, threading.RLock] = {}


def source_slug(source: str, revision: str | None = None) -> str:
    """A directory name for ``source`` (and ``revision``) under the cache directory."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", source).strip("-.")
    if revision:
        slug += "@" + re.sub(r"[^A-Za-z0-9._]+", "-", revision).strip("-.")
    if not slug:
        raise DatasetError(f"cannot derive a cache directory name from source {source!r}")
    return slug


def fingerprint(source: str, revision: str | None, gguf: Path | None = None) -> dict[str, Any]:
    """What identifies a cached conversion: the source, its revision, and the GGUF file's name and
    size when it came from one."""
    info: dict[str, Any] = {"source": source, "revision": revision}
    if gguf is not None:
        info.update(gguf_file=gguf.name, gguf_size=gguf.stat().st_size)
    return info


def source_info_files(fingerprint: dict[str, Any]) -> dict[str, str]:
    """The record to save with the weights (``extra_files`` of ``save_model_atomically``)."""
    return {SOURCE_INFO_FILE: json.dumps(fingerprint, indent=2) + "\n"}


def cache_is_current(cache: Path, fingerprint: dict[str, Any]) -> bool:
    """True when ``cache`` holds a complete model converted from the fingerprinted source.

    A cache without a readable record (written by hand) is trusted; a stale one is logged.
    """
    if not is_complete_model_dir(cache):
        return False
    recorded = _recorded(cache)
    if recorded is None:
        return True  # a cache written by hand: trust it
    stale = {k: v for k, v in fingerprint.items() if recorded.get(k) != v}
    if stale:
        logger.warning("Cache %s is stale (%s changed); converting again", cache, stale)
    return not stale


def cache_written(cache: Path, fingerprint: dict[str, Any]) -> bool:
    """True once another process has finished writing ``cache`` from the fingerprinted source:
    complete, with a matching record (no record yet means the write is still going on)."""
    if not is_complete_model_dir(cache):
        return False
    recorded = _recorded(cache)
    return recorded is not None and all(recorded.get(k) == v for k, v in fingerprint.items())


def _recorded(cache: Path) -> dict[str, Any] | None:
    try:
        return json.loads((cache / SOURCE_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextmanager
def cache_lock(
    cache: Path, timeout_s: float = LOCK_WAIT_SECONDS, poll_s: float = 1.0
) -> Iterator[None]:
    """Holds the lock of ``cache`` (a file lock, :func:`lock_file`) while the block writes it.
    Another run holding it is waited for (logged: its pid, command and start time) up to
    ``timeout_s``; this process holding it already (waiting would deadlock) is a ``DatasetError``.
    """
    lock_path = lock_file(cache)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # flock is per open file: threads of this process take turns here first.
    with _THREAD_LOCKS.setdefault(lock_path.resolve(), threading.RLock()):
        with lock_path.open("a+", encoding="utf-8") as handle:
            if not _try_lock(handle):
                _wait_for_lock(handle, lock_path, timeout_s, poll_s)
            holder = {"pid": os.getpid(), "started": _PROCESS_STARTED, "command": _command()}
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(holder) + "\n")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)


def lock_file(cache: Path) -> Path:
    """The lock of ``cache``: in the temporary directory (a failed download leaves nothing in the
    cache directory), named after the cache's absolute path. Never deleted: a waiting run may hold
    it open, and an unlocked file costs nothing."""
    absolute = str(cache.resolve())
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "llm_finetune_locks" / f"{cache.name}-{digest}.lock"


def _wait_for_lock(handle: TextIO, lock_path: Path, timeout_s: float, poll_s: float) -> None:
    holder = _holder(lock_path)
    if holder.get("pid") == os.getpid():
        raise DatasetError(
            f"{lock_path}: this process ({_describe(holder)}) already holds the base model "
            "cache's lock; waiting for it would deadlock"
        )
    logger.warning(
        "The base model cache is being written by another run (%s); waiting for it (lock %s)",
        _describe(holder),
        lock_path,
    )
    deadline = time.monotonic() + timeout_s
    while not _try_lock(handle):
        if time.monotonic() >= deadline:
            raise DatasetError(
                f"{lock_path}: still held after {timeout_s:g} s by {_describe(_holder(lock_path))}"
                " (the lock is released when that process ends: let it finish or stop it)"
            )
        time.sleep(poll_s)


def _try_lock(handle: TextIO) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(lock_path: Path) -> dict[str, Any]:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "a run that has not said which yet"
    return f"pid {holder.get('pid')}, `{holder.get('command')}`, started {holder.get('started')}"


def _command() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
