"""Evaluation generation: ``model.generate`` vs the project's ``decode``, which drops a row from
its batch as soon as the row's answer ends.

``model.generate`` computes every row of a batch until the longest answer ends, so on a CPU a
batch of short answers costs as much as its longest one. Both variants greedy-decode the same
prompts with the same settings (the project's ``generation`` defaults, ``--max-new-tokens`` as
evaluation's probes use) and the same batches (``prompt_batches``), in this process, one after
the other: the red-flag and bias probe questions (84 prompts), asked in the walkthrough's
template and in the base model's chat format with evaluation's system prompt, as ``make run``
asks them. Prints seconds, the speed-up and how many answers are identical (a row's arithmetic
changes with its batch's size, so a near tie between two tokens may break the other way).

    .venv/bin/python benchmarks/generation_row_dropping.py [--model-dir DIR] [--max-new-tokens 128]

The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import yaml
from common import ROOT, load_benchmark_model, project_parameters

from llm_finetune.config.generation import GenerationSettings
from llm_finetune.generation import (
    _finish,
    eos_token_ids,
    generate_answers,
    generate_kwargs,
    prompt_batches,
)
from llm_finetune.modeling.prompt_format import render_chat_prompt, render_prompt
from llm_finetune.pipelines.evaluation.probes import probe_prompts, select_probe_questions


def generate_with_transformers(
    model: Any, tokenizer: Any, prompts: list[str], settings: GenerationSettings
) -> list[Any]:
    """The answers of ``model.generate`` over the batches ``generate_answers`` makes."""
    import torch

    lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
    kwargs = generate_kwargs(model, tokenizer, settings)
    answers: list[Any] = [None] * len(prompts)
    with torch.inference_mode():
        for indices in prompt_batches(lengths, settings):
            batch = tokenizer(
                [prompts[i] for i in indices],
                return_tensors="pt",
                padding=True,
                padding_side="left",
            )
            output = model.generate(**batch, **kwargs)
            for index, ids in zip(indices, output[:, batch["input_ids"].shape[1] :], strict=True):
                answers[index] = _finish(tokenizer, ids.tolist(), eos_token_ids(model, tokenizer))
    return answers


def step_costs(model: Any, rows_list: list[int], cached: int = 120) -> dict[int, float]:
    """Seconds of one decoding step (one new token per row, ``cached`` tokens in the KV cache)
    for each number of rows: what a row still going in a batch costs, and what a step costs."""
    import torch

    costs = {}
    with torch.inference_mode():
        for rows in rows_list:
            cache = model(input_ids=torch.randint(100, 1000, (rows, cached)), use_cache=True).cache
            step = torch.randint(100, 1000, (rows, 1))
            started = time.perf_counter()
            for _ in range(10):
                model(input_ids=step, cache=cache, use_cache=True)
            costs[rows] = (time.perf_counter() - started) / 10
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=None, help="a saved model; default: the base")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the project's")
    args = parser.parse_args()

    params = project_parameters("base")
    name, loaded = load_benchmark_model(args.model_dir)
    model, tokenizer = loaded.model.eval(), loaded.tokenizer
    raw = ROOT / "data/01_raw/safety"
    probes = select_probe_questions(
        yaml.safe_load((raw / "red_flag_questions.yml").read_text()),
        yaml.safe_load((raw / "bias_question_pairs.yml").read_text()),
    )
    questions = probe_prompts(probes)
    formats = {
        "template": [render_prompt(None, q) for q in questions],
        "chat": [
            render_chat_prompt(tokenizer, q, params["evaluation"]["system_prompt"])
            for q in questions
        ],
    }
    batch_size = args.batch_size or params["generation"]["batch_size"]
    settings = GenerationSettings(
        **{**params["generation"], "max_new_tokens": args.max_new_tokens, "batch_size": batch_size}
    )
    costs = step_costs(model, [1, 8, 32, 84, 128])
    print(
        "one decoding step: " + ", ".join(f"{r} rows {s * 1000:.0f} ms" for r, s in costs.items())
    )
    print(
        f"{name}: {len(questions)} probe prompts per format, {settings.max_new_tokens} new max, "
        f"batches of {settings.batch_size}"
    )
    print(f"{'format':<10}{'generate s':>12}{'decode s':>10}{'speed-up':>10}{'identical':>11}")
    totals = {"generate": 0.0, "decode": 0.0}
    same_total = 0
    for fmt, prompts in formats.items():
        started = time.perf_counter()
        reference = generate_with_transformers(model, tokenizer, prompts, settings)
        generate_s = time.perf_counter() - started
        started = time.perf_counter()
        answers = generate_answers(model, tokenizer, prompts, settings, progress=False)
        decode_s = time.perf_counter() - started
        same = sum(a == b for a, b in zip(answers, reference, strict=True))
        same_total += same
        totals["generate"] += generate_s
        totals["decode"] += decode_s
        print(
            f"{fmt:<10}{generate_s:>12.1f}{decode_s:>10.1f}{generate_s / decode_s:>9.2f}x"
            f"{same:>6}/{len(prompts)}"
        )
    count = sum(len(p) for p in formats.values())
    print(
        f"model={name} prompts={count} max_new_tokens={settings.max_new_tokens} "
        f"batch_size={settings.batch_size} "
        f"generate_s={totals['generate']:.1f} decode_s={totals['decode']:.1f} "
        f"speedup={totals['generate'] / totals['decode']:.2f} identical={same_total}/{count}"
    )


if __name__ == "__main__":
    main()
