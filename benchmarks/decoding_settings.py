"""Decoding settings compared on the validation split: which one becomes the project default.

Loads the latest ``fine_tuned_model`` and ``validation_qa`` of the project's catalog (run the
pipelines on the real rows first), answers the validation questions once per setting with the
project's ``generate_answers``, and scores each setting as the evaluation does: answers ending
with EOS before the cap, answers that loop (the evaluation's detector), token F1, ROUGE-L and
length. It also prints the training answers' token-length distribution, which sizes
``max_new_tokens``.

    .venv/bin/python benchmarks/decoding_settings.py [--questions 51] [--max-new-tokens 384]
        [--settings greedy rep_penalty_1.1 ...]

Choice rule: among the settings with EOS rate >= 0.90 and loop rate <= 0.05 (the quality targets),
the highest mean of token F1 and ROUGE-L; if none qualifies, the highest EOS rate minus loop
rate. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from common import ROOT

from llm_finetune.generation import GenerationSettings, generate_answers
from llm_finetune.pipelines.evaluation import metrics

#: name -> overrides of the project's settings (greedy decoding throughout).
SETTINGS = {
    "greedy": {"repetition_penalty": 1.0},
    "rep_penalty_1.1": {"repetition_penalty": 1.1},
    "rep_penalty_1.2": {"repetition_penalty": 1.2},
    "rep_penalty_1.3": {"repetition_penalty": 1.3},
    "no_repeat_4gram": {"repetition_penalty": 1.0, "no_repeat_ngram_size": 4},
}


def load_from_catalog(*names: str) -> list:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(ROOT)
    with KedroSession.create(project_path=ROOT) as session:
        catalog = session.load_context().catalog
        return [catalog.load(name) for name in names]


def answer_token_quantiles(tokenizer, answers: list[str]) -> dict[str, int]:
    import numpy as np

    lengths = [len(tokenizer(a, add_special_tokens=False)["input_ids"]) + 1 for a in answers]
    return {f"p{q}": int(np.percentile(lengths, q, method="nearest")) for q in (50, 90, 95, 99)} | {
        "max": max(lengths)
    }


def choose(rows: dict[str, dict[str, float]]) -> str:
    qualified = [n for n, r in rows.items() if r["eos_rate"] >= 0.9 and r["loop_rate"] <= 0.05]
    if qualified:
        return max(qualified, key=lambda n: rows[n]["token_f1"] + rows[n]["rouge_l"])
    return max(rows, key=lambda n: rows[n]["eos_rate"] - rows[n]["loop_rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=51, help="validation rows answered")
    parser.add_argument("--max-new-tokens", type=int, default=GenerationSettings.max_new_tokens)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS), help="a subset"
    )
    args = parser.parse_args()

    model, validation, train = load_from_catalog("fine_tuned_model", "validation_qa", "train_qa")
    tokenizer = model.tokenizer
    print("training answers, tokens incl. EOS:", answer_token_quantiles(tokenizer, train["answer"]))
    validation = validation.head(args.questions)
    prompts, references = validation["question"].to_list(), validation["answer"].to_list()
    base = GenerationSettings(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    rows: dict[str, dict[str, float]] = {}
    print(f"{len(prompts)} validation questions, max_new_tokens={args.max_new_tokens}")
    header = "setting            eos_rate  loop_rate  token_f1  rouge_l  mean_tokens  seconds"
    print(header)
    for name in args.settings:
        overrides = SETTINGS[name]
        started = time.perf_counter()
        answers = generate_answers(model.model, tokenizer, prompts, replace(base, **overrides))
        texts = [answer.text for answer in answers]
        rows[name] = {
            "eos_rate": sum(a.ended_with_eos for a in answers) / len(answers),
            "loop_rate": sum(metrics.has_repetition_loop(t) for t in texts) / len(texts),
            "token_f1": sum(map(metrics.token_f1, texts, references)) / len(texts),
            "rouge_l": sum(map(metrics.rouge_l, texts, references)) / len(texts),
            "mean_tokens": sum(a.num_new_tokens for a in answers) / len(answers),
            "seconds": time.perf_counter() - started,
        }
        row = rows[name]
        print(
            f"{name:<18} {row['eos_rate']:8.3f} {row['loop_rate']:10.3f} {row['token_f1']:9.3f} "
            f"{row['rouge_l']:8.3f} {row['mean_tokens']:12.1f} {row['seconds']:8.0f}",
            flush=True,
        )
    chosen = choose(rows)
    print(f"chosen: {chosen} ({SETTINGS[chosen]})")
    rates = (f"{n}_eos={r['eos_rate']:.3f} {n}_loop={r['loop_rate']:.3f}" for n, r in rows.items())
    print(
        f"questions={len(prompts)} max_new_tokens={args.max_new_tokens} chosen={chosen} "
        + " ".join(rates)
    )


if __name__ == "__main__":
    main()
