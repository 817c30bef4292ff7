"""The user's decoding options (``--max-new-tokens``, ``--temperature``, ``--top-p``) as the
:class:`~llm_finetune.generation.GenerationSettings` every answer of the chat uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from llm_finetune.chat.errors import ChatError
from llm_finetune.generation import GenerationSettings, carried_settings


@dataclass(frozen=True)
class ChatOptions:
    """What the user chose on the command line; unset options keep the decoding settings the
    model carries (its ``generation_config.json``, written from ``params:generation``), so the
    chat answers exactly as evaluation did. Sampling when a temperature > 0 or a top-p < 1."""

    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ChatError(f"--max-new-tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature is not None and self.temperature < 0:
            raise ChatError(f"--temperature must be >= 0, got {self.temperature}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ChatError(f"--top-p must be in (0, 1], got {self.top_p}")

    @property
    def do_sample(self) -> bool:
        return bool(self.temperature) or (self.top_p is not None and self.top_p < 1)

    def resolve(self, model: Any) -> GenerationSettings:
        """The model's decoding settings with these options applied."""
        settings = carried_settings(model)
        if self.max_new_tokens is not None:
            settings = replace(settings, max_new_tokens=self.max_new_tokens)
        if self.do_sample:
            settings = replace(
                settings,
                do_sample=True,
                temperature=self.temperature or 1.0,
                top_p=1.0 if self.top_p is None else self.top_p,
                top_k=0,
            )
        return settings


def describe(settings: GenerationSettings) -> str:
    """One line for the chat's header: how answers are decoded."""
    how = (
        f"sampling (temperature {settings.temperature}, top-p {settings.top_p})"
        if settings.do_sample
        else "greedy"
    )
    if settings.repetition_penalty != 1.0:
        how += f", repetition penalty {settings.repetition_penalty}"
    if settings.no_repeat_ngram_size:
        how += f", no repeated {settings.no_repeat_ngram_size}-grams"
    return f"{how}, at most {settings.max_new_tokens} new tokens"
