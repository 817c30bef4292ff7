"""``GenerationSettings``: how every answer is decoded (``params:generation``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm_finetune.config.base import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    POSITIVE_INT_OR_NULL,
    POSITIVE_NUMBER,
    Settings,
    is_number,
    rule,
)


@dataclass(frozen=True)
class GenerationSettings(Settings):
    """How every answer is decoded: evaluation (base and fine-tuned with the same settings), the
    terminal and the web chat; the fine-tuned model carries them in its generation_config.json.
    The defaults (max_new_tokens 384, greedy, repetition_penalty 1.1) were chosen by measurement
    on real validation questions: docs/quality.md. Override any field in conf or on the command
    line, e.g. kedro run --params generation.repetition_penalty=1.0
    """

    SECTION = "generation"
    PIPELINE = "evaluation"
    RULES = {
        "max_new_tokens": POSITIVE_INT,
        "batch_size": POSITIVE_INT,
        "max_batch_tokens": POSITIVE_INT_OR_NULL,
        "temperature": POSITIVE_NUMBER,
        "top_p": rule((is_number, "a number"), (lambda v: 0 < v <= 1, "a number in (0, 1]")),
        "top_k": NON_NEGATIVE_INT,
        "repetition_penalty": POSITIVE_NUMBER,
        "no_repeat_ngram_size": NON_NEGATIVE_INT,
        "seed": NON_NEGATIVE_INT,
    }

    #: Most tokens generated per answer (prompt excluded). The 512 real doctor answers, in SmolLM2
    #: tokens with EOS: median 122, p95 300, p99 400; 384 lets 98.8% of them end (128: 54.7%)
    #: while bounding a runaway answer.
    max_new_tokens: int = 384
    #: Prompts per decoding batch in evaluation (left-padded, longest first; a row leaves its
    #: batch when its answer ends). 128 rather than 32: a step of SmolLM2-135M on 2 CPU cores
    #: costs ~60 ms plus ~4 ms a row, so fuller batches take fewer steps; the 84 probe questions
    #: (base, 128 new tokens) took 39 s in one batch, 57 s in batches of 32 (RESULTS.md).
    batch_size: int = 128
    #: Token budget per decoding batch: prompts x (longest prompt + max_new_tokens), what the
    #: KV cache may hold; a batch closes before it would pass it (a longer prompt goes alone).
    #: None: ``batch_size`` alone decides.
    max_batch_tokens: int | None = None
    #: False: greedy decoding (deterministic); True: sample with the three knobs below.
    do_sample: bool = False
    #: Sampling temperature (only when ``do_sample``).
    temperature: float = 1.0
    #: Nucleus sampling mass (only when ``do_sample``; 1.0 disables it).
    top_p: float = 1.0
    #: Top-k sampling (only when ``do_sample``; 0 disables it).
    top_k: int = 0
    #: Above 1.0 penalises tokens already in the prompt or answer: stops the greedy loops of a
    #: lightly tuned small model (1.0 disables it). On the 51 validation questions: 1.0 loops on
    #: 92% of answers; 1.1 none, with the best token F1 and ROUGE-L (docs/quality.md).
    repetition_penalty: float = 1.1
    #: Forbid repeating any n-gram of this size (0 disables it).
    no_repeat_ngram_size: int = 0
    #: Seed for sampling (greedy decoding does not use it).
    seed: int = 0

    def decoding(self) -> dict[str, Any]:
        """The ``model.generate`` / ``GenerationConfig`` fields (sampling knobs only when
        sampling; :data:`NOT_DECODING` are not decoding settings)."""
        decoding: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "repetition_penalty": float(self.repetition_penalty),
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
        }
        if self.do_sample:
            decoding.update(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        return decoding


#: Fields that say how answers are batched and seeded, not how they are decoded: a model's
#: ``generation_config.json`` does not carry them.
NOT_DECODING = frozenset({"batch_size", "max_batch_tokens", "seed"})
