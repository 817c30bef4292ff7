"""The GPU suite's dry run: the same code path on the CPU with tiny random-init models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    assert any(line.startswith("flex_vs_sdpa") for line in skipped)  # no backward on the CPU

    records = [dict(pair.split("=", 1) for pair in line.split()) for line in lines[-2:]]
    assert [record["model"] for record in records] == list(MODELS)
    for line, record in zip(lines[-2:], records, strict=True):
        assert tuple(pair.split("=", 1)[0] for pair in line.split()[:7]) == MACHINE_KEYS
        assert record["device"] == "cpu"
        for key in ("seed_tok_s", "full_tok_s", "lora_tok_s", "speedup", "mfu"):
            assert float(record[key]) > 0, (key, record)
        assert record["identical"] == "True"
        assert record["checks_passed"] == "True"


EPOCH_PHASES = (
    "build input",
    "data engineering",
    "tokenize",
    "pack",
    "load model",
    "checks",
    "train",
    "save",
)
EPOCH_KEYS = ("device", "epoch_rows", "epoch_tokens", "epoch_s", "train_tok_s", "target_s", "met")


def test_dry_run_epoch_goes_from_raw_rows_to_a_saved_model_that_loads(tmp_path):
    from llm_finetune.datasets.model_dirs import is_complete_model_dir, load_model_dir

    output = tmp_path / "epoch_model"
    result = run_suite("--dry-run", "--epoch", "--epoch-output", str(output))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()

    # 2,000 distinct raw rows: nothing dropped, 80/10/10 split by question.
    assert any("kept 2,000" in line and "train 1,600" in line for line in lines), lines
    for phase in EPOCH_PHASES:
        rows = [line for line in lines if line.startswith(phase + " ")]
        assert len(rows) == 1, (phase, lines)
        assert float(rows[0].split()[-2]) >= 0
    assert any(line.startswith("total ") for line in lines)
    assert all(line.endswith("PASS") for line in lines if line.startswith(CHECKS))

    record = dict(pair.split("=", 1) for pair in lines[-1].split())
    assert tuple(pair.split("=", 1)[0] for pair in lines[-1].split()[:7]) == EPOCH_KEYS
    assert record["device"] == "cpu"
    assert int(record["epoch_rows"]) == 1600
    assert int(record["epoch_tokens"]) > 1600
    assert float(record["epoch_s"]) > 0 and float(record["train_tok_s"]) > 0
    assert record["target_s"] == "180"
    assert record["met"] == "False"  # a dry run never meets the GPU target
    assert record["variant"] == "full"
    assert record["saved_loads"] == "True"
    assert record["trainer"] == "ProjectTrainer"  # the training pipeline's Trainer
    trained = [line for line in lines if line.startswith("trained (")]
    assert len(trained) == 1 and "chunked loss" in trained[0], trained
    assert float(record["last_loss"]) < float(record["first_loss"])  # it trained

    assert is_complete_model_dir(output)
    loaded = load_model_dir(output)
    assert loaded.model.config.model_type == "llama"
    assert loaded.tokenizer.eos_token == "<|endoftext|>"


def test_parallel_tokenizing_gives_the_same_frame_and_counts(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import polars as pl
    from common import real_qa_pairs
    from gpu.epoch_data import TOKENIZE_CHUNK_ROWS, tokenize_parallel
    from gpu.models import tiny_tokenizer

    from llm_finetune.pipelines.training.tokenization import tokenize_qa

    pairs = real_qa_pairs()
    tokenizer = tiny_tokenizer([prompt + answer for prompt, answer in pairs[:64]])
    repeats = 2 * TOKENIZE_CHUNK_ROWS // len(pairs) + 1  # three chunks
    qa = pl.DataFrame(
        {
            "question": [prompt for prompt, _ in pairs] * repeats,
            "answer": [answer for _, answer in pairs] * repeats,
            "plain_question": [f"q{i}" for i in range(len(pairs) * repeats)],
        }
    )
    tokenization = {"max_length": 96, "answer_only_loss": True}
    alone = tokenize_qa(qa, tokenizer, tokenization)
    parallel = tokenize_parallel(qa, tokenizer, tokenization, workers=2)
    assert parallel[1] == alone[1]
    assert parallel[0].equals(alone[0])


def test_models_are_selected_in_the_order_asked(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from common import real_qa_pairs
    from gpu.models import subjects

    pairs = real_qa_pairs()[:8]
    chosen = subjects(True, pairs, 64, models=("pythia-70m", "base"))
    assert [subject.name for subject in chosen] == list(reversed(MODELS))
    assert [s.model.config.model_type for s in chosen] == ["gpt_neox", "llama"]
    assert chosen[0].examples and chosen[0].examples == chosen[1].examples
    only = subjects(True, pairs, 64, models=("pythia-70m",))
    assert [subject.name for subject in only] == [MODELS[1]]


def test_flex_attention_isolates_packed_examples_in_the_forward_pass(monkeypatch):
    """The FlexAttention variant's block mask comes from the packed position ids: its packed
    loss equals each example run alone (forward only: FlexAttention has no CPU backward; the
    suite checks gradients on the GPU)."""
    import copy

    import torch

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from common import real_qa_pairs
    from gpu.checks import check_batch, flex_model, one_by_one_loss
    from gpu.models import subjects
    from timed_training import compute_loss

    from llm_finetune.pipelines.training.packing import isolate_packed_examples

    pairs = real_qa_pairs()[:12]
    for subject in subjects(True, pairs, 96):
        model = copy.deepcopy(subject.model).eval()
        isolate_packed_examples(model)
        batch = check_batch(subject, torch.device("cpu"))
        with torch.no_grad():
            alone = float(one_by_one_loss(model, subject.examples[:6], "cpu"))
            flex = float(compute_loss(flex_model(model), batch, None))
        assert model.config._attn_implementation == "flex_attention"
        assert abs(flex - alone) / alone < 1e-5, (subject.name, flex, alone)


def test_epoch_settings_are_the_pipelines_typed_settings_per_variant(monkeypatch):
    """One epoch of ``--env gpu``, checked by TrainingSettings; each fast path switches on the
    pipeline's own setting for it; a bad value fails naming the key."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from common import project_parameters
    from gpu.epoch_train import epoch_settings

    from llm_finetune.config import SettingsError

    params = project_parameters("gpu")["training"]
    full = epoch_settings(params, "full", dry=False, logging_steps=7)
    assert full.trainer.max_steps == -1 and full.trainer.extra["num_train_epochs"] == 1
    assert full.trainer.logging_steps == 7 and not full.trainer.load_best_model_at_end
    assert full.chunk_tokens == params["chunked_loss"]["chunk_tokens"]
    assert full.packing.max_tokens_per_row == params["packing"]["max_tokens_per_row"]
    assert full.trainer.optim == params["trainer"]["optim"]
    assert epoch_settings(params, "full_liger", dry=False).chunk_tokens is None
    assert epoch_settings(params, "full_flex", dry=False).attn_implementation == "flex_attention"
    assert epoch_settings(params, "full_compile", dry=False).trainer.extra["torch_compile"]
    dry = epoch_settings(params, "full", dry=True)
    assert dry.packing.max_tokens_per_row == 256 and dry.tokenization.max_length == 128
    assert dry.trainer.per_device_train_batch_size == 2 and dry.torch_threads == 1
    bad = {**params, "trainer": {**params["trainer"], "per_device_train_batch_size": 0}}
    with pytest.raises(SettingsError, match="training.trainer.per_device_train_batch_size"):
        epoch_settings(bad, "full", dry=False)


def test_padded_row_collator_fixes_the_shape_and_keeps_counts_and_loss(monkeypatch):
    """The compile/flex epoch's collator: every batch ``length`` tokens, the pipeline
    collator's counts unchanged, and the same loss (the padding is its own unlabelled segment)."""
    import torch

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    from common import real_qa_pairs
    from gpu.epoch_train import PaddedRowCollator
    from gpu.models import subjects

    from llm_finetune.pipelines.training.packing import (
        RowCollator,
        isolate_packed_examples,
        pack_rows,
    )

    subject = subjects(True, real_qa_pairs()[:8], 96, models=("base",))[0]
    rows = pack_rows(subject.examples, None, 200, seed=0)[:2]
    pad = subject.tokenizer.pad_token_id
    plain, padded = RowCollator(pad)(rows), PaddedRowCollator(pad, 256)(rows)
    assert plain["input_ids"].shape[1] < 256
    assert {key: value.shape[1] for key, value in padded.items() if value.dim() == 2} == {
        "input_ids": 256,
        "labels": 256,
        "position_ids": 256,
    }
    for key in ("num_real_tokens", "num_examples", "num_squared_example_tokens"):
        assert int(padded[key]) == int(plain[key])
    model = subject.model.eval()
    isolate_packed_examples(model)
    with torch.no_grad():
        losses = [
            float(model(**{k: v for k, v in batch.items() if not k.startswith("num_")}).loss)
            for batch in (plain, padded)
        ]
    assert abs(losses[0] - losses[1]) / losses[0] < 1e-5, losses
