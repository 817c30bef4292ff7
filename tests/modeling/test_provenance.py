"""The training data's content fingerprint a fine-tuned model records."""

from __future__ import annotations

import polars as pl

from llm_finetune.modeling.provenance import data_fingerprint


def test_the_fingerprint_follows_the_rows_not_the_file():
    frame = pl.DataFrame({"input_ids": [[1, 2], [3]], "labels": [[-100, 2], [3]]})
    first = data_fingerprint(frame, "tokenized_train")
    assert first["dataset"] == "tokenized_train" and first["rows"] == 2
    assert len(first["sha256"]) == 64
    assert data_fingerprint(frame.clone(), "tokenized_train") == first
    changed = frame.with_columns(pl.Series("labels", [[-100, 2], [4]]))
    assert data_fingerprint(changed, "tokenized_train")["sha256"] != first["sha256"]
    assert data_fingerprint(frame.reverse(), "tokenized_train")["sha256"] != first["sha256"]
    assert data_fingerprint(frame.head(1), "tokenized_train")["rows"] == 1
