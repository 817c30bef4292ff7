"""The base model cache's directory name and source record."""

from __future__ import annotations

import json

from llm_finetune.datasets.model_cache import (
    SOURCE_INFO_FILE,
    cache_is_current,
    cache_written,
    fingerprint,
    source_info_files,
    source_slug,
)


def test_source_slug():
    assert source_slug("smollm2-135m-instruct") == "smollm2-135m-instruct"
    assert source_slug("EleutherAI/pythia-70m", "main") == "EleutherAI-pythia-70m@main"
    assert not source_slug("/abs/dir/model.Q4.gguf").startswith(".")


def test_the_record_decides_whether_a_cache_is_reused(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"12345")
    cache = tmp_path / "cache"
    recorded = fingerprint(str(gguf), None, gguf)
    assert recorded == {
        "source": str(gguf),
        "revision": None,
        "gguf_file": "model.gguf",
        "gguf_size": 5,
    }
    assert not cache_is_current(cache, recorded) and not cache_written(cache, recorded)

    cache.mkdir()
    (cache / "config.json").write_text("{}")
    (cache / "model.safetensors").write_bytes(b"")
    assert cache_is_current(cache, recorded)  # no record: a cache written by hand is trusted
    assert not cache_written(cache, recorded)  # ... but another process is not done with it

    for name, text in source_info_files(recorded).items():
        (cache / name).write_text(text)
    assert json.loads((cache / SOURCE_INFO_FILE).read_text()) == recorded
    assert cache_is_current(cache, recorded) and cache_written(cache, recorded)

    gguf.write_bytes(b"another file under the same name")
    changed = fingerprint(str(gguf), None, gguf)
    assert not cache_is_current(cache, changed) and not cache_written(cache, changed)
