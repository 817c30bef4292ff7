"""``GenerationSettings``: how every answer is decoded (``params:generation``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class GenerationSettings:
    """How every answer is decoded: evaluation (base and fine-tuned alike), the terminal and the
    web chat. The defaults were chosen by measurement on real validation questions
    (``docs/quality.md``); ``params:generation`` overrides them, and the fine-tuned model carries
    them in its ``generation_config.json``.
    """

    #: Most tokens generated per answer (prompt excluded). The 512 real doctor answers, in SmolLM2
    #: tokens with EOS: median 122, p95 300, p99 400; 384 lets 98.8% of them end (128: 54.7%)
    #: while bounding a runaway answer.
    max_new_tokens: int = 384
    #: Prompts per ``generate`` call in evaluation (left-padded, sorted by length).
    batch_size: int = 8
    #: Token budget per ``generate`` call: prompts x (longest prompt + max_new_tokens), what the
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

    def __post_init__(self) -> None:
        if not isinstance(self.do_sample, bool):
            raise ValueError(f"generation.do_sample must be true or false, got {self.do_sample!r}")
        positive = {"max_new_tokens": self.max_new_tokens, "batch_size": self.batch_size}
        if self.max_batch_tokens is not None:  # null: no token budget
            positive["max_batch_tokens"] = self.max_batch_tokens
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"generation.{name} must be a positive integer, got {value!r}")
        at_least_zero = {
            "top_k": self.top_k,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "seed": self.seed,
        }
        for name, value in at_least_zero.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"generation.{name} must be an integer >= 0, got {value!r}")
        for name in ("temperature", "repetition_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"generation.{name} must be a number > 0, got {value!r}")
        if isinstance(self.top_p, bool) or not isinstance(self.top_p, int | float):
            raise ValueError(f"generation.top_p must be a number in (0, 1], got {self.top_p!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"generation.top_p must be in (0, 1], got {self.top_p!r}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> GenerationSettings:
        """Settings from ``params:generation``; unknown keys fail, naming the key."""
        params = dict(params or {})
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown generation settings {unknown}; known: {sorted(known)}")
        return cls(**params)

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Fields that say how answers are batched and seeded, not how they are decoded: a model's
#: ``generation_config.json`` does not carry them.
NOT_DECODING = frozenset({"batch_size", "max_batch_tokens", "seed"})
