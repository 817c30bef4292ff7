"""What a saved model records about how it was made (:data:`PROVENANCE_FILE`, beside
``generation_config.json``): the base model it was trained from, as configured and as the
base-model dataset resolved it, and the data it was trained on (row count and a content
fingerprint, so two models can be told apart by their data without the data at hand)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

PROVENANCE_FILE = "provenance.json"


def data_fingerprint(frame: Any, name: str) -> dict[str, Any]:
    """``name``, row count and sha256 over the rows of a polars frame (columns in order, each
    row serialized as JSON): a content version of the data that does not depend on its file."""
    digest = hashlib.sha256()
    digest.update(json.dumps(frame.columns).encode())
    for row in frame.iter_rows():
        digest.update(json.dumps(row, ensure_ascii=False, default=str).encode())
        digest.update(b"\n")
    return {"dataset": name, "rows": frame.height, "sha256": digest.hexdigest()}


def read_provenance(directory: str | Path) -> dict[str, Any] | None:
    """The record of a model directory, or None when it has none; ``ValueError`` naming the file
    when it is unreadable."""
    path = Path(directory) / PROVENANCE_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a valid provenance record: {error!r}") from error
    if not isinstance(record, dict):
        raise ValueError(f"{path}: a provenance record is a JSON object, got {record!r}")
    return record


def provenance_files(provenance: dict[str, Any] | None) -> dict[str, str]:
    """File name -> text to save with a model (``extra_files`` of ``save_model_atomically``)."""
    if provenance is None:
        return {}
    return {PROVENANCE_FILE: json.dumps(provenance, indent=2, sort_keys=True, default=str) + "\n"}
