"""Evaluation generation: ``generate_answers`` one prompt at a time vs batched, greedy, on the
same real prompts: answers/s and whether the answers are identical."""

from __future__ import annotations

import copy
import time
from typing import Any

from common import synchronize

from gpu.models import Subject
from llm_finetune.generation import generate_answers


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


def print_generation(generation: dict[str, Any], settings: dict[str, Any]) -> None:
    print(
        f"generation ({len(settings['prompts'])} prompts, <= {settings['max_new_tokens']} new "
        f"tokens, greedy; batches of <= {settings['gen_batch']} prompts and "
        f"{settings['gen_max_batch_tokens'] or 'unlimited'} KV-cache tokens): one_at_a_time "
        f"{generation['one_at_a_time_answers_s']:.2f} answers/s, batched "
        f"{generation['batched_answers_s']:.2f} answers/s, identical={generation['identical']} "
        f"differing={generation['differing']}"
    )
