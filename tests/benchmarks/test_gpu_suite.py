"""The GPU suite's dry run: the same code path on the CPU with tiny random-init models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "benchmarks" / "gpu_suite.py"
MACHINE_KEYS = ("device", "model", "seed_tok_s", "full_tok_s", "lora_tok_s", "speedup", "mfu")
MODELS = ("tiny-llama(random-init)", "tiny-gpt-neox(random-init)")
CHECKS = (
    "packed_vs_one_by_one fp32",
    "packed_vs_one_by_one bf16",
    "chunked_vs_plain fp32",
    "chunked_vs_plain bf16",
)


def run_suite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SUITE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_dry_run_passes_its_checks_and_ends_with_one_machine_line_per_model():
    result = run_suite("--dry-run")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()

    for check in CHECKS:
        rows = [line for line in lines if line.startswith(check)]
        assert len(rows) == len(MODELS), (check, rows)
        assert all(row.endswith("PASS") for row in rows), rows
    skipped = [line for line in lines if line.endswith("skipped (dry run / no CUDA)")]
    assert any(line.startswith("compile_vs_eager") for line in skipped)
    assert any(line.startswith("liger_vs_plain") for line in skipped)

    records = [dict(pair.split("=", 1) for pair in line.split()) for line in lines[-2:]]
    assert [record["model"] for record in records] == list(MODELS)
    for line, record in zip(lines[-2:], records, strict=True):
        assert tuple(pair.split("=", 1)[0] for pair in line.split()[:7]) == MACHINE_KEYS
        assert record["device"] == "cpu"
        for key in ("seed_tok_s", "full_tok_s", "lora_tok_s", "speedup", "mfu"):
            assert float(record[key]) > 0, (key, record)
        assert record["identical"] == "True"
        assert record["checks_passed"] == "True"


def test_epoch_is_not_pretended():
    result = run_suite("--epoch")
    assert result.returncode == 2
    assert "not implemented yet" in result.stderr
