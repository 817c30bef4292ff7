"""GPU suite: the GPU path proven in one command (correctness on the device, training and
generation throughput, memory, MFU), for a machine that has a GPU for a few minutes.

    .venv/bin/python benchmarks/gpu_suite.py            # on a GPU machine (<= 8 min on an H200)
    .venv/bin/python benchmarks/gpu_suite.py --dry-run  # the same code path on the CPU, tiny models
    bash benchmarks/device_run.sh                       # on the lent H200 (see device_bundle.py)

For each model (SmolLM2-135M with its real weights through ``load_base_model``, or from
``--base-model DIR``, which without weights gives the architecture random-init; and the pythia-70m
architecture, GPT-NeoX, random init; ``--dry-run``: a tiny Llama and a tiny GPT-NeoX built here
from configs, with a tokenizer trained on the real rows), on the real rows of ``../shared/data``
(``LLM_FINETUNE_REAL_ROWS`` elsewhere):

1. Correctness on the device (model in fp32; bf16 = autocast, as in training). Packed rows
   (isolated by position ids, two rows of different lengths, so with a padding segment) against
   every example alone; the chunked loss against the model's own loss; FlexAttention,
   ``torch.compile`` and Liger-Kernel (fused linear cross-entropy, RMSNorm, RoPE, SwiGLU; Llama
   only) against plain eager. ``loss_rel`` = |loss - reference| / |reference|, ``grad_rel`` =
   max |grad - reference| / max |reference| over all parameters. Tolerances in :data:`TOLERANCES`.
2. Training throughput, real (non-padding) tokens/s of timed optimizer steps after a warm-up
   (``train_throughput.timed_steps``): ``walkthrough`` (batch 1, grad-accum 4, attention mask,
   Adafactor, fp32) vs ``full`` (the ``--env gpu`` setup: token-budget packed rows, chunked loss,
   fused AdamW, bf16 where the device runs it fast; attention: the default SDPA, isolated by
   position ids) vs ``lora`` (the same with the configured adapters), and where available the
   fast paths, each isolated per example and checked against plain eager first
   (:data:`FAST_PATH_CHECKS`): ``full_flex`` (FlexAttention: a block mask from the packed position
   ids, so blocks across examples are skipped; CUDA only, it has no CPU backward), ``full_compile``
   (torch.compile), both on rows padded to the budget so shapes are fixed, and ``full_liger``
   (Liger kernels; the fused loss replaces the chunked loss); measured last, in that order, as
   Liger patches classes for good.
   Peak memory per variant (``PeakMemory``). MFU = real tokens/s x training FLOPs per token
   (``accounting.training_flops``: 6·N plus the attention term; LoRA two thirds of it) / the dense
   bf16 spec peak of the GPU (``common.GPU_BF16_PEAKS``), or on a CPU / unknown GPU the measured
   GEMM peak at the model's shapes. ``fastest`` is the fastest full-setup variant whose correctness
   check passed.
3. Evaluation generation: ``generate_answers`` one prompt at a time vs batched, greedy; identical
   outputs and answers/s.

The last lines are machine-readable, one per model:
``device=... model=... seed_tok_s=... full_tok_s=... lora_tok_s=... speedup=... mfu=...`` (more
keys after). Exit status 1 when a packed or chunked check fails (an optional fast path that fails
is reported and left out of ``fastest``, without failing the suite).

``--epoch`` (instead of the above): one training epoch end to end, timed per phase against the
3-minute target. Builds 256,916 raw rows (``--epoch-rows``) from the real rows, each made distinct
(:func:`build_distinct_input`); runs the data_engineering nodes with the ``conf/base`` parameters
to the templated train split; ``tokenize_qa`` (``--tokenize-workers`` processes); packs
the ``--env gpu`` token-budget rows; loads the model; runs the packed and chunked checks (and the
fast path's, ``--epoch-variant``); trains every packed row once with the ``--env gpu`` setup and the
Trainer's learning-rate schedule; saves with ``save_model_atomically`` (``--epoch-output`` or a
temporary directory) and checks that the directory loads. Last line:
``device=... epoch_rows=... epoch_tokens=... epoch_s=... train_tok_s=... target_s=180 met=...``
(epoch_rows / epoch_tokens: the train split's examples and their tokens; epoch_s: all phases).
``--dry-run --epoch``: 2,000 rows, the tiny Llama, 1 thread, ``met`` always False.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    HUB_ROWS,
    REAL_ROWS,
    PeakMemory,
    flops_per_token,
    gemm_peak_flops,
    gpu_peak_flops,
    load_benchmark_model,
    model_gemm_shapes,
    project_parameters,
    real_qa_pairs,
    synchronize,
)
from train_throughput import (
    compute_loss,
    make_optimizer,
    random_init_pythia_70m,
    timed_steps,
    with_attention_mask,
)

from llm_finetune.config import LoraSettings
from llm_finetune.generation import generate_answers
from llm_finetune.pipelines.training.lora import add_adapters
from llm_finetune.pipelines.training.packing import (
    as_rows,
    collate_rows,
    isolate_packed_examples,
    pack_rows,
)
from llm_finetune.pipelines.training.tokenization import IGNORE_INDEX, tokenize_pair, tokenize_qa

# (max loss_rel, max grad_rel) per comparison and precision. fp32: the same maths through other
# kernels (masked vs causal attention); bf16 autocast rounds every matmul input to 8 mantissa bits;
# fused kernels and compiled graphs reorder reductions.
TOLERANCES = {
    "fp32": (1e-4, 1e-3),
    "bf16": (1e-2, 5e-2),
    "fused_fp32": (1e-3, 1e-2),
}
SKIP_NO_CUDA = "skipped (dry run / no CUDA)"
MACHINE_KEYS = ("device", "model", "seed_tok_s", "full_tok_s", "lora_tok_s", "speedup", "mfu")


@dataclass
class Check:
    name: str
    status: str  # PASS, FAIL, ERROR or a skip reason
    loss_rel: float | None = None
    grad_rel: float | None = None
    tolerance: tuple[float, float] | None = None


@dataclass
class Subject:
    """One model under test, with its tokenizer and tokenized real examples."""

    name: str
    model: Any
    tokenizer: Any
    examples: list[dict[str, list[int]]] = field(default_factory=list)


# ----------------------------------------------------------------------------------- tiny models
def tiny_tokenizer(texts: list[str], vocab_size: int = 512) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, ``<|endoftext|>`` as EOS and pad."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def tiny_model(architecture: str, tokenizer: Any, seed: int = 0) -> Any:
    """A 2-layer random-init Llama or GPT-NeoX, sized for millisecond steps on a CPU."""
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    ids = {
        "vocab_size": len(tokenizer),
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.eos_token_id,
        "max_position_embeddings": 512,
    }
    if architecture == "llama":
        config = LlamaConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            tie_word_embeddings=True,
            **ids,
        )
        return LlamaForCausalLM(config)
    config = GPTNeoXConfig(
        hidden_size=64,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        rotary_pct=0.25,
        tie_word_embeddings=False,
        **ids,
    )
    return GPTNeoXForCausalLM(config)


# ----------------------------------------------------------------------------------- correctness
def _grads(model: Any) -> Any:
    import torch

    return torch.cat(
        [p.grad.flatten().float() for p in model.parameters() if p.grad is not None]
    ).cpu()


def _loss_and_grads(model: Any, loss_of: Any, bf16: bool, device: Any) -> tuple[float, Any]:
    import torch

    model.zero_grad(set_to_none=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        loss = loss_of(model)
    loss.backward()
    return float(loss.detach().float()), _grads(model)


def _compare(name: str, reference: tuple, candidate: tuple, tolerance: tuple) -> Check:
    loss_rel = abs(candidate[0] - reference[0]) / max(abs(reference[0]), 1e-12)
    grad_rel = float((candidate[1] - reference[1]).abs().max() / reference[1].abs().max())
    ok = loss_rel <= tolerance[0] and grad_rel <= tolerance[1]
    return Check(name, "PASS" if ok else "FAIL", loss_rel, grad_rel, tolerance)


def check_batch(subject: Subject, device: Any) -> dict[str, Any]:
    """Two packed rows of different lengths (the second ends in a padding segment)."""
    examples = subject.examples[:6]
    rows = pack_rows(examples, examples_per_row=(len(examples) + 1) // 2, seed=None)
    batch = collate_rows(rows, subject.tokenizer.pad_token_id)
    return {key: value.to(device) for key, value in batch.items()}


def one_by_one_loss(model: Any, examples: list[dict], device: Any) -> Any:
    """Mean next-token loss over all labelled tokens, each example run alone (no packing)."""
    import torch

    total, count = 0.0, 0
    for example in examples:
        ids = torch.tensor([example["input_ids"]], device=device)
        labels = torch.tensor([example["labels"]], device=device)
        n = int((labels[:, 1:] != IGNORE_INDEX).sum())
        total = total + model(input_ids=ids, labels=labels).loss * n
        count += n
    return total / count


def correctness_checks(subject: Subject, device: Any, chunk_tokens: int) -> list[Check]:
    """Packed vs one by one and chunked vs plain, in fp32 and bf16 autocast, on ``device``."""
    model = copy.deepcopy(subject.model).to(device).train()
    isolate_packed_examples(model)
    batch = check_batch(subject, device)
    examples = subject.examples[:6]
    checks = []
    for precision, bf16 in (("fp32", False), ("bf16", True)):
        tolerance = TOLERANCES[precision]
        packed = _loss_and_grads(model, lambda m: compute_loss(m, batch, None), bf16, device)
        alone = _loss_and_grads(model, lambda m: one_by_one_loss(m, examples, device), bf16, device)
        checks.append(_compare(f"packed_vs_one_by_one {precision}", alone, packed, tolerance))
        chunked = _loss_and_grads(
            model, lambda m: compute_loss(m, batch, chunk_tokens), bf16, device
        )
        checks.append(_compare(f"chunked_vs_plain {precision}", packed, chunked, tolerance))
    del model
    return checks


def fast_path_check(
    name: str, subject: Subject, device: Any, prepare: Any, chunk_tokens: int | None
) -> Check:
    """Packed loss and gradients of ``prepare(model)`` (a fast path) vs plain eager, fp32."""
    try:
        model = copy.deepcopy(subject.model).to(device).train()
        isolate_packed_examples(model)
        batch = check_batch(subject, device)
        reference = _loss_and_grads(model, lambda m: compute_loss(m, batch, None), False, device)
        fast = prepare(model)
        candidate = _loss_and_grads(
            fast, lambda m: compute_loss(m, batch, chunk_tokens), False, device
        )
        return _compare(name, reference, candidate, TOLERANCES["fused_fp32"])
    except Exception as error:  # an optional fast path: reported, never fatal
        traceback.print_exc()
        return Check(name, f"ERROR: {type(error).__name__}: {str(error)[:120]}")


def compile_model(model: Any) -> Any:
    import torch

    return torch.compile(model)


def flex_model(model: Any) -> Any:
    """FlexAttention: transformers turns the packed position ids into a block mask, so blocks
    across examples are skipped rather than masked (SDPA gets a dense mask per row)."""
    model.set_attn_implementation("flex_attention")
    return model


def liger_model(model: Any) -> Any:
    """Liger kernels on this Llama instance (and, as Liger patches classes, on every Llama built
    after it in this process: the suite runs it last)."""
    from liger_kernel.transformers import apply_liger_kernel_to_llama

    apply_liger_kernel_to_llama(model=model)
    return model


#: Optional fast paths: variant -> (its check against plain eager, how the model is prepared).
FAST_PATH_CHECKS = {
    "full_flex": ("flex_vs_sdpa fp32", flex_model),
    "full_compile": ("compile_vs_eager fp32", compile_model),
    "full_liger": ("liger_vs_plain fp32", liger_model),
}


def liger_skip_reason(device: Any, dry_run: bool, subject: Subject, wanted: bool | None) -> str:
    if dry_run or device.type != "cuda":
        return SKIP_NO_CUDA
    if wanted is False:
        return "skipped (--no-liger)"
    if importlib.util.find_spec("liger_kernel") is None:
        return "skipped: liger-kernel not installed (pip install -e '.[gpu]')"
    if subject.model.config.model_type != "llama":
        return f"skipped: liger-kernel has no {subject.model.config.model_type} patch"
    return ""


def flex_skip_reason(device: Any, dry_run: bool, wanted: bool | None) -> str:
    if dry_run or device.type != "cuda":  # FlexAttention has no backward on the CPU
        return SKIP_NO_CUDA
    if wanted is False:
        return "skipped (--no-flex)"
    return ""


def compile_skip_reason(device: Any, dry_run: bool, wanted: bool | None) -> str:
    if dry_run:
        return SKIP_NO_CUDA
    if wanted is None and device.type != "cuda":
        return SKIP_NO_CUDA
    if wanted is False:
        return "skipped (--no-compile)"
    return ""


# ------------------------------------------------------------------------------------ throughput
def collate_to_length(length: int, pad_token_id: int) -> Any:
    """Rows padded to ``length`` tokens (a padding segment in the first row): fixed shapes for
    torch.compile; padding is never counted as a real token."""

    def collate(rows: list[dict]) -> dict[str, Any]:
        first, extra = rows[0], length - max(len(row["input_ids"]) for row in rows)
        if extra > 0:
            pad = length - len(first["input_ids"])
            first = {
                "input_ids": first["input_ids"] + [pad_token_id] * pad,
                "labels": first["labels"] + [IGNORE_INDEX] * pad,
                "position_ids": first["position_ids"] + list(range(pad)),
            }
        return collate_rows([first, *rows[1:]], pad_token_id)

    return collate


def throughput_variants(
    subject: Subject, params: dict, bf16: bool, budget: int, rows_per_step: int
) -> dict[str, dict[str, Any]]:
    lora = params["lora"]
    pad = subject.tokenizer.pad_token_id
    full = full_setup(params, bf16, pack_rows(subject.examples, None, budget, seed=0), pad)
    full["batch_size"] = min(rows_per_step, len(full["rows"]))
    return {
        "walkthrough": dict(
            rows=as_rows(subject.examples),
            collate=lambda rows: with_attention_mask(rows, pad),
            batch_size=1,
            grad_accum=4,
            optimizer_name="adafactor",
            lr=1e-5,
            bf16=False,
            chunk_tokens=None,
            lora=False,
            prepare=None,
        ),
        "full": full,
        "lora": {**full, "lora": lora, "lr": lora["learning_rate"]},
        # Rows padded to the budget: fixed shapes, so neither recompiles per batch.
        "full_flex": {**full, "collate": collate_to_length(budget, pad), "prepare": flex_model},
        "full_compile": {
            **full,
            "collate": collate_to_length(budget, pad),
            "prepare": compile_model,
        },
        "full_liger": {**full, "chunk_tokens": None, "prepare": liger_model},
    }


def full_setup(params: dict, bf16: bool, rows: list[dict], pad_token_id: int) -> dict[str, Any]:
    """The ``--env gpu`` training setup on token-budget ``rows``: collate with position ids,
    the configured batch, optimizer and learning rate, bf16 where fast, the chunked loss."""
    trainer, chunked = params["trainer"], params["chunked_loss"]
    return dict(
        rows=rows,
        collate=lambda batch_rows: collate_rows(batch_rows, pad_token_id),
        batch_size=trainer["per_device_train_batch_size"],
        grad_accum=trainer["gradient_accumulation_steps"],
        optimizer_name=trainer["optim"],
        lr=trainer["learning_rate"],
        bf16=bf16,
        chunk_tokens=chunked["chunk_tokens"] if chunked["enabled"] else None,
        lora=False,
        prepare=None,
    )


def measure(
    subject: Subject, variant: dict[str, Any], steps: int, repeats: int, device: Any
) -> tuple[float, float]:
    """(median real tokens/s, max peak MiB) over ``repeats`` runs from a fresh copy."""
    import torch

    runs = []
    for _ in range(repeats):
        model = copy.deepcopy(subject.model)
        isolate_packed_examples(model)
        if variant["lora"]:
            model = add_adapters(model, LoraSettings.from_params(variant["lora"]))
        if variant["prepare"]:
            model = variant["prepare"](model.to(device))
        settings = {k: v for k, v in variant.items() if k not in ("lora", "prepare")}
        runs.append(timed_steps(model, steps=steps, device=device, **settings))
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


# ------------------------------------------------------------------------------------ generation
def generation_comparison(
    subject: Subject,
    device: Any,
    texts: list[str],
    max_new_tokens: int,
    batch_size: int,
    max_batch_tokens: int | None = None,
) -> dict[str, Any]:
    """One prompt at a time vs batched (``batch_size`` prompts, ``max_batch_tokens`` of KV cache
    per call: the ``--env gpu`` evaluation settings), greedy, the same real prompts: answers/s
    and identity."""
    model = copy.deepcopy(subject.model).to(device)
    result: dict[str, Any] = {}
    outputs = {}
    warm_up = (("warm_up", batch_size),)  # first-call costs (kernels, caches) stay out of timing
    for name, size in (*warm_up, ("one_at_a_time", 1), ("batched", batch_size)):
        synchronize(device)
        started = time.perf_counter()
        answers = generate_answers(
            model,
            subject.tokenizer,
            texts[:size] if name == "warm_up" else texts,
            progress=False,
            max_new_tokens=max_new_tokens,
            batch_size=size,
            max_batch_tokens=max_batch_tokens if size > 1 else None,
            do_sample=False,
            repetition_penalty=1.0,
        )
        synchronize(device)
        seconds = time.perf_counter() - started
        outputs[name] = [answer.text for answer in answers]
        result[f"{name}_answers_s"] = len(texts) / seconds
        result[f"{name}_tok_s"] = sum(a.num_new_tokens for a in answers) / seconds
    result["identical"] = outputs["one_at_a_time"] == outputs["batched"]
    result["differing"] = sum(
        a != b for a, b in zip(outputs["one_at_a_time"], outputs["batched"], strict=True)
    )
    del model
    return result


# ----------------------------------------------------------------------------------------- epoch
EPOCH_TARGET_S = 180
DRY_EPOCH_ROWS = 2_000
TOKENIZE_CHUNK_ROWS = 4_096  # below MIN_ITEMS_FOR_A_BAR: the workers draw no bars of their own
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


def build_distinct_input(path: Path, rows: int) -> None:
    """``rows`` raw JSONL lines from the real rows, every one distinct after cleaning.

    As ``data_engineering_scale.build_input``: the real rows repeated in order, every third pass
    with messier whitespace in the answer (collapsed again by the cleaning). Unlike it, every
    question gets its row number (`` (case N)``): the real file holds 512 distinct pairs in 776
    rows and that builder's repeats are mostly exact duplicates after cleaning (56,873 of 256,916
    rows kept), while an epoch over the full-size dataset needs all of them.
    """
    real = [json.loads(line) for line in REAL_ROWS.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for index in range(rows):
            record = dict(real[index % len(real)])
            record["Description"] = f"{record['Description']} (case {index})"
            if (index // len(real)) % 3 == 2:
                record["Doctor"] = "  " + record["Doctor"].replace(". ", ".  ") + " "
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def engineer_train_qa(source: Path) -> tuple[Any, dict[str, Any]]:
    """The data_engineering pipeline's nodes with the ``conf/base`` parameters, up to the
    templated splits: (train_qa, data-quality report)."""
    from llm_finetune.datasets.raw_dialogues import RawDialoguesDataset
    from llm_finetune.pipelines.data_engineering import nodes

    config = project_parameters("base")
    settings, template = config["data_engineering"], config["prompt_template"]
    raw = RawDialoguesDataset(str(source)).load()
    dialogues, schema_drops = nodes.normalise_schema(
        raw, settings["include_patient_text"], settings["patient_text_separator"]
    )
    selected, not_selected = nodes.select_rows(dialogues, settings["max_rows"])
    clean, cleaning = nodes.clean_dialogues(
        selected,
        settings["question_prefix"],
        settings["min_question_chars"],
        settings["min_answer_chars"],
    )
    splits = nodes.split_by_question(
        clean, settings["validation_fraction"], settings["test_fraction"], settings["split_seed"]
    )
    *qa, _train_text = nodes.apply_prompt_template(*splits, template)
    report = nodes.build_data_quality_report(raw, schema_drops, not_selected, cleaning, *qa)
    return qa[0], report


def tokenize_parallel(
    qa: Any, tokenizer: Any, tokenization: dict, workers: int
) -> tuple[Any, dict[str, Any]]:
    """``tokenize_qa`` over ``qa``: in this process (its own progress bar) with one worker, else
    on chunks of :data:`TOKENIZE_CHUNK_ROWS` rows in ``workers`` spawned processes, in order,
    with one bar over all rows. Same frame and counts either way. Spawned: with fork the workers
    hung here (polars documents that its thread pool can deadlock in a forked child)."""
    import itertools
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import polars as pl

    from llm_finetune.progress import MIN_ITEMS_FOR_A_BAR, progress_bar

    if workers <= 1 or qa.height <= TOKENIZE_CHUNK_ROWS:
        return tokenize_qa(qa, tokenizer, tokenization)
    chunks = [
        qa.slice(start, TOKENIZE_CHUNK_ROWS) for start in range(0, qa.height, TOKENIZE_CHUNK_ROWS)
    ]
    frames, counts = [], []
    bar = progress_bar(
        qa.height,
        f"tokenizing ({workers} processes)",
        "row",
        enabled=qa.height >= MIN_ITEMS_FOR_A_BAR,
    )
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=context) as pool:
        results = pool.map(
            tokenize_qa, chunks, itertools.repeat(tokenizer), itertools.repeat(dict(tokenization))
        )
        for chunk, (frame, stats) in zip(chunks, results, strict=True):
            frames.append(frame)
            counts.append(stats)
            bar.update(chunk.height)
    bar.close()
    frame = pl.concat(frames)
    lengths = frame["input_ids"].list.len()
    stats = {
        key: sum(c[key] for c in counts)
        for key in ("examples", "truncated", "dropped_prompt_too_long", "tokens", "answer_tokens")
    }
    stats["mean_tokens_per_example"] = round(float(lengths.mean() or 0.0), 1)
    stats["max_tokens_per_example"] = int(lengths.max() or 0)
    return frame, stats


def train_epoch(
    model: Any,
    rows: list[dict],
    collate: Any,
    *,
    batch_size: int,
    grad_accum: int,
    optimizer_name: str,
    lr: float,
    bf16: bool,
    device: Any,
    chunk_tokens: int | None,
    scheduler: str,
    warmup_steps: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Every row exactly once, shuffled with ``seed``: the training step of ``timed_steps``
    (forward, loss / grad-accum, backward, optimizer step) with the Trainer's learning-rate
    schedule; the last batch and the last accumulation may be short. Batches are pinned and
    copied without blocking, so the next one is built while the device works."""
    import random

    import torch
    from transformers import get_scheduler

    model.to(device).train()
    optimizer = make_optimizer(
        optimizer_name, [p for p in model.parameters() if p.requires_grad], lr
    )
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    steps = -(-len(batches) // grad_accum)
    schedule = get_scheduler(
        scheduler, optimizer, num_warmup_steps=warmup_steps, num_training_steps=steps
    )
    pin = device.type == "cuda"
    losses = torch.zeros(len(batches), device=device)
    tokens = 0
    report_every = max(1, len(batches) // 10)  # progress: a run stopped at its limit keeps it
    with PeakMemory(device) as memory:
        synchronize(device)
        started = time.perf_counter()
        for index, batch_indices in enumerate(batches):
            if index and index % report_every == 0:
                synchronize(device)
                elapsed = time.perf_counter() - started
                print(
                    f"  progress: {index:,}/{len(batches):,} batches, {tokens:,} tokens in "
                    f"{elapsed:.1f} s, {tokens / elapsed:,.0f} tokens/s"
                )
            batch_rows = [rows[i] for i in batch_indices]
            tokens += sum(len(row["input_ids"]) for row in batch_rows)
            batch = {
                key: (value.pin_memory() if pin else value).to(device, non_blocking=pin)
                for key, value in collate(batch_rows).items()
            }
            in_step = min(grad_accum, len(batches) - index // grad_accum * grad_accum)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = compute_loss(model, batch, chunk_tokens)
            (loss / in_step).backward()
            losses[index] = loss.detach().float()
            if (index + 1) % grad_accum == 0 or index + 1 == len(batches):
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
        synchronize(device)
        seconds = time.perf_counter() - started
    window = max(1, min(10, len(batches) // 10))
    values = losses.cpu()
    return {
        "seconds": seconds,
        "tokens": tokens,
        "steps": steps,
        "batches": len(batches),
        "first_loss": float(values[:window].mean()),
        "last_loss": float(values[-window:].mean()),
        "peak_mib": memory.peak_mib,
    }


def epoch_variant(
    wanted: str, subject: Subject, device: Any, dry_run: bool, liger: bool | None
) -> tuple[str, list[Check]]:
    """The configuration to train with and the checks that allow it: the packed and chunked
    checks always; ``auto`` takes ``full_liger`` where Liger can run and its check passes,
    else ``full``; an explicitly asked fast path falls back to ``full`` when its check fails."""
    checks = correctness_checks(subject, device, chunk_tokens=64)
    if any(c.status != "PASS" for c in checks):
        return "", checks
    if wanted == "auto":
        skip = liger_skip_reason(device, dry_run, subject, liger)
        if skip:
            checks.append(Check("liger_vs_plain fp32", skip))
            return "full", checks
        wanted = "full_liger"
    if wanted == "full":
        return "full", checks
    name, prepare = FAST_PATH_CHECKS[wanted]
    check = fast_path_check(name, subject, device, prepare, None)
    checks.append(check)
    return (wanted if check.status == "PASS" else "full"), checks


def run_epoch(args: argparse.Namespace) -> int:
    """One epoch end to end: raw JSONL -> data engineering -> tokenize -> pack -> train -> save."""
    import os
    import tempfile

    import torch

    from llm_finetune.datasets.model_dirs import (
        ModelAndTokenizer,
        is_complete_model_dir,
        load_model_dir,
        save_model_atomically,
    )
    from llm_finetune.hardware import fast_bf16_supported, select_device

    dry = args.dry_run
    device = torch.device("cpu") if dry else select_device()
    if dry:
        torch.set_num_threads(1)
    rows = args.epoch_rows or (DRY_EPOCH_ROWS if dry else HUB_ROWS)
    workers = args.tokenize_workers or (1 if dry else min(os.cpu_count() or 1, 16))
    params = project_parameters("gpu")["training"]  # the `kedro run --env gpu` setup
    tokenization = {**params["tokenization"], **({"max_length": 128} if dry else {})}
    budget = 256 if dry else params["packing"]["max_tokens_per_row"]
    phases: dict[str, float] = {}
    clock = [time.perf_counter()]

    def phase(name: str) -> None:
        now = time.perf_counter()
        phases[name] = now - clock[0]
        clock[0] = now

    print(
        f"epoch: {rows:,} raw rows, device {device}, torch {torch.__version__}, "
        f"tokenize workers {workers}" + (" (dry run: tiny random-init Llama)" if dry else "")
    )
    with tempfile.TemporaryDirectory(prefix="gpu_suite_epoch_") as tmp:
        source = Path(tmp) / "dialogues.jsonl"
        build_distinct_input(source, rows)
        phase("build input")
        train_qa, report = engineer_train_qa(source)
        phase("data engineering")
        print(
            f"input {source.stat().st_size / 1e6:,.0f} MB; data engineering: read "
            f"{report['rows_read']:,}, kept {report['rows_kept']:,}, dropped "
            f"{report['dropped_by_reason']}, splits "
            + ", ".join(f"{k} {v['rows']:,}" for k, v in report["splits"].items())
        )
        if dry:
            pairs = real_qa_pairs()
            tokenizer = tiny_tokenizer([prompt + answer for prompt, answer in pairs])
            model, name = tiny_model("llama", tokenizer), "tiny-llama(random-init)"
        else:
            name, base = load_benchmark_model(args.base_model)
            tokenizer, model = base.tokenizer, base.model
        phase("load model")
        frame, stats = tokenize_parallel(train_qa, tokenizer, tokenization, workers)
        phase("tokenize")
        print(
            f"tokenized: {stats['examples']:,} examples, {stats['tokens']:,} tokens (mean "
            f"{stats['mean_tokens_per_example']}, max {stats['max_tokens_per_example']}), "
            f"{stats['truncated']:,} answers truncated, {stats['dropped_prompt_too_long']:,} "
            "prompts too long"
        )
        examples = [
            {"input_ids": ids, "labels": labels}
            for ids, labels in zip(
                frame["input_ids"].to_list(), frame["labels"].to_list(), strict=True
            )
        ]
        del frame
        packed = pack_rows(examples, None, budget, seed=0)
        phase("pack")
        print(f"packed: {len(packed):,} rows of <= {budget:,} tokens")

        isolate_packed_examples(model)
        subject = Subject(name, model, tokenizer, examples[:6])
        bf16 = fast_bf16_supported(device)
        variant_name, checks = epoch_variant(args.epoch_variant, subject, device, dry, args.liger)
        phase("checks")
        print_checks(checks)
        if not variant_name:
            print("FAILED: a packed or chunked check failed; no epoch trained", file=sys.stderr)
            return 1
        setup = full_setup(params, bf16, packed, tokenizer.pad_token_id)
        if dry:
            setup["batch_size"] = 2
        if variant_name == "full_liger":
            setup["chunk_tokens"], model = None, liger_model(model)
        trained = model
        if variant_name == "full_flex":
            setup["collate"] = collate_to_length(budget, tokenizer.pad_token_id)
            trained = flex_model(model)
        if variant_name == "full_compile":
            setup["collate"] = collate_to_length(budget, tokenizer.pad_token_id)
            trained = compile_model(model.to(device))
        settings = {k: v for k, v in setup.items() if k not in ("lora", "prepare")}
        result = train_epoch(
            trained,
            device=device,
            scheduler=params["trainer"]["lr_scheduler_type"],
            warmup_steps=params["trainer"]["warmup_steps"],
            **settings,
        )
        phase("train")
        print(
            f"trained ({variant_name}, bf16={bf16}, {setup['optimizer_name']}, "
            f"{setup['batch_size']} rows x {setup['grad_accum']} per step): {result['steps']:,} "
            f"optimizer steps, loss {result['first_loss']:.3f} (first batches) -> "
            f"{result['last_loss']:.3f} (last), peak {result['peak_mib']:,.0f} MiB"
        )

        model.config.use_cache = True  # as the training node leaves it: generation wants it
        output = Path(args.epoch_output) if args.epoch_output else Path(tmp) / "epoch_model"
        save_model_atomically(ModelAndTokenizer(model, tokenizer), output)
        phase("save")
        loads = is_complete_model_dir(output)
        if loads:  # outside the timed phases
            loaded = load_model_dir(output)
            loads = loaded.model.num_parameters() == model.num_parameters()
        print(f"saved model: {output if args.epoch_output else 'a temporary directory'}")

    total = sum(phases.values())
    print(f"\n{'phase':<18}{'seconds':>9}{'share':>8}")
    for key in EPOCH_PHASES:
        print(f"{key:<18}{phases[key]:>9.2f}{phases[key] / total:>8.1%}")
    print(f"{'total':<18}{total:>9.2f}")
    train_tok_s = result["tokens"] / result["seconds"]
    met = total <= EPOCH_TARGET_S and not dry
    print(
        f"device={device.type} epoch_rows={stats['examples']} epoch_tokens={result['tokens']} "
        f"epoch_s={total:.1f} train_tok_s={train_tok_s:.1f} target_s={EPOCH_TARGET_S} met={met} "
        f"model={name} variant={variant_name} input_rows={rows} train_s={result['seconds']:.1f} "
        f"steps={result['steps']} first_loss={result['first_loss']:.4f} "
        f"last_loss={result['last_loss']:.4f} saved_loads={loads}"
    )
    return 0 if loads else 1


# ------------------------------------------------------------------------------------------ main
def tokenized_examples(tokenizer: Any, pairs: list[tuple[str, str]], max_length: int) -> list:
    examples = []
    for prompt, answer in pairs:
        example = tokenize_pair(tokenizer, prompt, answer, max_length)
        if example is not None:
            examples.append({"input_ids": example.input_ids, "labels": example.labels})
    return examples


SUITE_MODELS = ("base", "pythia-70m")  # --models: dry run, a tiny Llama and a tiny GPT-NeoX


def subjects(
    dry_run: bool,
    pairs: list[tuple[str, str]],
    max_length: int,
    base_model: str | None = None,
    models: tuple[str, ...] = SUITE_MODELS,
) -> list[Subject]:
    if dry_run:
        texts = [f"{prompt}{answer}" for prompt, answer in pairs]
        tokenizer = tiny_tokenizer(texts)
        builders = {
            "base": lambda: ("tiny-llama(random-init)", tiny_model("llama", tokenizer)),
            "pythia-70m": lambda: ("tiny-gpt-neox(random-init)", tiny_model("gpt_neox", tokenizer)),
        }
    else:
        name, base = load_benchmark_model(base_model)  # pythia-70m borrows its tokenizer
        tokenizer = base.tokenizer
        builders = {
            "base": lambda: (name, base.model),
            "pythia-70m": lambda: (
                "pythia-70m(random-init)",
                random_init_pythia_70m(len(tokenizer)),
            ),
        }
    examples = tokenized_examples(tokenizer, pairs, max_length)
    return [Subject(*builders[model](), tokenizer, examples) for model in models]


def print_checks(checks: list[Check], header: bool = True) -> None:
    if header:
        print(f"{'check':<28}{'loss_rel':>10}{'grad_rel':>10}{'tolerance':>18}  result")
    for check in checks:
        if check.loss_rel is None:
            print(f"{check.name:<28}{'':>38}  {check.status}")
            continue
        tolerance = f"{check.tolerance[0]:.0e}/{check.tolerance[1]:.0e}"
        print(
            f"{check.name:<28}{check.loss_rel:>10.2e}{check.grad_rel:>10.2e}{tolerance:>18}"
            f"  {check.status}"
        )


def run_subject(subject: Subject, args: argparse.Namespace, device: Any, settings: dict) -> dict:
    import torch

    from llm_finetune.hardware import fast_bf16_supported

    model = subject.model
    lengths = [len(e["input_ids"]) for e in subject.examples]
    attention = getattr(model.config, "_attn_implementation", None)
    print(
        f"\n== model={subject.name} device={device.type} attention={attention} "
        f"parameters={model.num_parameters():,} examples={len(lengths)} "
        f"mean_tokens={statistics.mean(lengths):.0f}"
    )
    params = settings["params"]
    bf16 = fast_bf16_supported(device)
    timings: dict[str, float] = {}
    section = time.perf_counter()
    checks = correctness_checks(subject, device, chunk_tokens=settings["check_chunk_tokens"])
    timings["checks"] = time.perf_counter() - section
    print_checks(checks)  # each figure as soon as it exists: a run stopped at its limit keeps them

    skip = {
        "full_flex": flex_skip_reason(device, args.dry_run, args.flex),
        "full_compile": compile_skip_reason(device, args.dry_run, args.compile),
        "full_liger": liger_skip_reason(device, args.dry_run, subject, args.liger),
    }
    variants = throughput_variants(
        subject, params, bf16, settings["budget"], settings["rows_per_step"]
    )
    # Generation before Liger: Liger patches the Llama classes for the rest of the process.
    section = time.perf_counter()
    generation = generation_comparison(
        subject,
        device,
        settings["prompts"],
        settings["max_new_tokens"],
        settings["gen_batch"],
        settings["gen_max_batch_tokens"],
    )
    timings["generation"] = time.perf_counter() - section
    print(
        f"generation ({len(settings['prompts'])} prompts, <= {settings['max_new_tokens']} new "
        f"tokens, greedy; batches of <= {settings['gen_batch']} prompts and "
        f"{settings['gen_max_batch_tokens'] or 'unlimited'} KV-cache tokens): one_at_a_time "
        f"{generation['one_at_a_time_answers_s']:.2f} answers/s, batched "
        f"{generation['batched_answers_s']:.2f} answers/s, identical={generation['identical']} "
        f"differing={generation['differing']}"
    )
    section = time.perf_counter()
    results: dict[str, tuple[float, float] | str] = {}

    def measured(key: str) -> None:
        result = results[key]
        if not isinstance(result, str):
            result = f"{result[0]:,.0f} tokens/s, peak {result[1]:,.0f} MiB"
        print(f"{key} measured: {result} ({time.perf_counter() - section:.0f} s into training)")

    # The fast paths last (a first compile can take minutes), compile before Liger's patches.
    for key, variant in variants.items():
        if key in FAST_PATH_CHECKS and key != "full_liger":
            name, prepare = FAST_PATH_CHECKS[key]
            checks.append(
                Check(name, skip[key])
                if skip[key]
                else fast_path_check(name, subject, device, prepare, None)
            )
            print_checks(checks[-1:], header=False)
        if key == "full_liger":
            continue
        if skip.get(key):
            results[key] = skip[key]
            continue
        try:
            results[key] = measure(subject, variant, args.steps, args.repeats, device)
        except Exception as error:
            if key in FAST_PATH_CHECKS:  # optional fast path: reported, never fatal
                traceback.print_exc()
                results[key] = f"ERROR: {type(error).__name__}"
            else:
                raise
        measured(key)
    if skip["full_liger"]:
        checks.append(Check("liger_vs_plain fp32", skip["full_liger"]))
        results["full_liger"] = skip["full_liger"]
    else:
        checks.append(fast_path_check("liger_vs_plain fp32", subject, device, liger_model, None))
        try:
            results["full_liger"] = measure(
                subject, variants["full_liger"], args.steps, args.repeats, device
            )
        except Exception as error:
            traceback.print_exc()
            results["full_liger"] = f"ERROR: {type(error).__name__}"
        measured("full_liger")
    print_checks(checks[-1:], header=False)
    timings["training"] = time.perf_counter() - section

    # MFU: spec peak on a known GPU; otherwise the measured GEMM peak at the model's shapes.
    shapes = model_gemm_shapes(model.config, tokens=settings["gemm_tokens"])
    if device.type == "cuda":
        peak, gpu_name = gpu_peak_flops(device)
        measured = gemm_peak_flops(device, shapes, dtype=torch.bfloat16)
        peak_name = f"{gpu_name} dense bf16 spec"
        if peak is None:
            peak, peak_name = measured, f"{gpu_name} measured bf16 GEMM peak (not in the table)"
        print(f"measured bf16 GEMM peak at the model's shapes: {measured / 1e12:,.1f} TFLOP/s")
    else:
        peak = gemm_peak_flops(device, shapes)
        peak_name = f"measured fp32 GEMM peak ({torch.get_num_threads()} threads)"
    print(f"peak for MFU: {peak / 1e9:,.1f} GFLOP/s, {peak_name}")

    check_of = {"full": ("packed", "chunked")} | {
        key: name.split("_")[0] for key, (name, _) in FAST_PATH_CHECKS.items()
    }
    passed = {
        key: all(c.status == "PASS" for c in checks if c.name.startswith(prefix))
        for key, prefix in check_of.items()
    }
    seed = results["walkthrough"][0]
    print(
        f"{'variant':<14}{'tokens/s':>11}{'x walkthrough':>15}{'peak MiB':>10}"
        f"{'GFLOP/s':>10}{'MFU':>8}  check"
    )
    mfu = {}
    for key, result in results.items():
        if isinstance(result, str):
            print(f"{key:<14}  {result}")
            continue
        tok_s, memory = result
        achieved = tok_s * flops_per_token(model, lengths, lora=bool(variants[key]["lora"]))
        mfu[key] = achieved / peak
        check = ("passed" if passed[key] else "FAILED") if key in passed else ""
        print(
            f"{key:<14}{tok_s:>11,.0f}{tok_s / seed:>15.2f}{memory:>10,.0f}"
            f"{achieved / 1e9:>10,.2f}{mfu[key]:>8.1%}  {check}"
        )
    measured = {k: r[0] for k, r in results.items() if not isinstance(r, str)}
    candidates = [k for k in check_of if k in measured and passed[k]]
    fastest = max(candidates, key=measured.get, default="")
    print(f"fastest full-setup variant passing its checks: {fastest or 'none'}")
    print("section seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    line = (
        f"device={device.type} model={subject.name} seed_tok_s={seed:.1f} "
        f"full_tok_s={measured['full']:.1f} lora_tok_s={measured['lora']:.1f} "
        f"speedup={measured['full'] / seed:.2f} mfu={mfu['full']:.4f} "
        f"lora_speedup={measured['lora'] / seed:.2f} seed_mfu={mfu['walkthrough']:.4f} "
        f"fastest={fastest or 'none'} fastest_tok_s={measured.get(fastest, 0.0):.1f} "
        f"full_peak_mib={results['full'][1]:.0f} "
        f"checks_passed={all(c.status == 'PASS' for c in checks if c.status in ('PASS', 'FAIL'))} "
        f"gen_single_answers_s={generation['one_at_a_time_answers_s']:.3f} "
        f"gen_batched_answers_s={generation['batched_answers_s']:.3f} "
        f"identical={generation['identical']}"
    )
    core_failed = any(
        c.status != "PASS" for c in checks if c.name.startswith(("packed", "chunked"))
    )
    return {"line": line, "core_failed": core_failed}


def main() -> int:
    import torch

    from llm_finetune.hardware import select_device

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="CPU, tiny random-init models, 2 steps per variant"
    )
    parser.add_argument("--steps", type=int, default=None, help="timed steps (10; dry run 2)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per variant (2; dry 1)")
    parser.add_argument("--examples", type=int, default=None, help="real examples (all; dry 24)")
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure torch.compile (default: on CUDA)",
    )
    parser.add_argument(
        "--flex",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure FlexAttention (default: on CUDA; it has no backward on the CPU)",
    )
    parser.add_argument(
        "--liger",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure Liger kernels (default: on CUDA when liger-kernel is installed)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=SUITE_MODELS,
        default=list(SUITE_MODELS),
        help="the models measured, in this order (device_run.sh runs one per process)",
    )
    parser.add_argument(
        "--base-model",
        default=None,
        help="model directory instead of the converted base model; with only config.json and the "
        "tokenizer: that architecture, random init (the GPU machine, benchmarks/device_run.sh)",
    )
    parser.add_argument(
        "--epoch",
        action="store_true",
        help="instead of the suite: one epoch end to end, raw JSONL to a saved model",
    )
    parser.add_argument(
        "--epoch-rows",
        type=int,
        default=None,
        help=f"--epoch: raw rows built ({HUB_ROWS:,}; dry run {DRY_EPOCH_ROWS:,})",
    )
    parser.add_argument(
        "--epoch-variant",
        choices=("auto", "full", *FAST_PATH_CHECKS),
        default="auto",
        help="--epoch: training setup (auto: full_liger where it runs and passes, else full)",
    )
    parser.add_argument(
        "--epoch-output",
        default=None,
        help="--epoch: save the model here (must not exist; default: a temporary directory)",
    )
    parser.add_argument(
        "--tokenize-workers",
        type=int,
        default=None,
        help="--epoch: tokenizing processes (CPU count up to 16; dry run 1)",
    )
    args = parser.parse_args()
    if args.epoch:
        return run_epoch(args)

    device = torch.device("cpu") if args.dry_run else select_device()
    if args.dry_run:  # tiny models: threads only add synchronisation (and stall on a busy machine)
        torch.set_num_threads(1)
    dry = args.dry_run
    args.steps = args.steps or (2 if dry else 10)
    args.repeats = args.repeats or (1 if dry else 2)
    gpu = project_parameters("gpu")  # the `kedro run --env gpu` setup
    params, generation = gpu["training"], gpu["generation"]
    settings = {
        "params": params,
        "budget": 256 if dry else params["packing"]["max_tokens_per_row"],
        "rows_per_step": 2 if dry else params["trainer"]["per_device_train_batch_size"],
        "check_chunk_tokens": 64,  # several chunks even for the check's few examples
        "max_new_tokens": 8 if dry else 64,
        "gen_batch": 4 if dry else generation["batch_size"],
        "gen_max_batch_tokens": generation.get("max_batch_tokens"),
        "gemm_tokens": 1024 if dry else 4096,
    }
    max_length = 128 if dry else params["tokenization"]["max_length"]
    pairs = real_qa_pairs()[: args.examples or (24 if dry else None)]
    settings["prompts"] = [prompt for prompt, _ in pairs[: 4 if dry else 32]]
    started = time.perf_counter()
    if dry:
        print(f"dry run: CPU, tiny random-init models; CUDA-only parts: {SKIP_NO_CUDA}")
    print(f"torch {torch.__version__}, device {device}, {len(pairs)} real pairs")
    outcomes = []
    for subject in subjects(dry, pairs, max_length, args.base_model, tuple(args.models)):
        try:  # one model's failure must not cost the other model's figures
            outcomes.append(run_subject(subject, args, device, settings))
        except Exception as error:
            traceback.print_exc()
            line = f"FAILED device={device.type} model={subject.name} error={type(error).__name__}"
            outcomes.append({"line": line, "core_failed": True})
    print(f"\nsuite wall time: {time.perf_counter() - started:.1f} s")
    for outcome in outcomes:
        print(outcome["line"])
    return 1 if any(outcome["core_failed"] for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
