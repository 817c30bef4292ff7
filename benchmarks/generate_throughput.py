"""Evaluation generation: one prompt at a time vs batched (the project's ``generate_answers``).

Both variants greedy-decode the same real test prompts (``../shared/data``) with the same
``max_new_tokens``, in this process, alternating, ``--repeats`` times; the outputs must be
identical. Throughput counts generated tokens (EOS included).

    .venv/bin/python benchmarks/generate_throughput.py [--prompts 32] [--max-new-tokens 64]
        [--batch-size 32] [--repeats 2]

The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import load_base_model, real_qa_pairs, synchronize

from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from llm_finetune.generation import generate_answers
from llm_finetune.hardware import select_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL_ALIAS)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    device = select_device()
    base = load_base_model(args.model)
    model = base.model.to(device)
    prompts = [prompt for prompt, _ in real_qa_pairs()[: args.prompts]]
    variants = {"one_at_a_time": 1, "batched": args.batch_size}
    speeds: dict[str, list[float]] = {name: [] for name in variants}
    outputs = {}
    for _ in range(args.repeats):
        for name, batch_size in variants.items():
            synchronize(device)
            started = time.perf_counter()
            answers = generate_answers(
                model,
                base.tokenizer,
                prompts,
                max_new_tokens=args.max_new_tokens,
                batch_size=batch_size,
            )
            synchronize(device)
            seconds = time.perf_counter() - started
            speeds[name].append(sum(a.num_new_tokens for a in answers) / seconds)
            outputs[name] = [a.text for a in answers]
    identical = outputs["one_at_a_time"] == outputs["batched"]
    differing = sum(
        a != b for a, b in zip(outputs["one_at_a_time"], outputs["batched"], strict=True)
    )
    print(f"{args.prompts} prompts x up to {args.max_new_tokens} new tokens, greedy, {device}")
    print(f"{'variant':<15}{'tokens/s':>10}")
    for name in variants:
        print(f"{name:<15}{statistics.median(speeds[name]):>10.1f}")
    single, batched = (statistics.median(speeds[n]) for n in variants)
    print(f"identical_outputs={identical} differing_answers={differing}")
    print(
        f"device={device.type} model={args.model} single_tok_s={single:.1f} "
        f"batched_tok_s={batched:.1f} speedup={batched / single:.2f} identical={identical}"
    )


if __name__ == "__main__":
    main()
