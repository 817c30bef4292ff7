"""The chat model both interfaces drive: a loaded model with its template, settings and budget."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_finetune.chat.errors import ChatError
from llm_finetune.chat.history import Turn
from llm_finetune.chat.options import ChatOptions
from llm_finetune.chat.prompt import ChatPrompt, build_prompt, context_tokens
from llm_finetune.generation import stream_answer
from llm_finetune.modeling.prompt_format import (
    DEFAULT_PROMPT_TEMPLATE,
    PromptFormat,
    prompt_prefix,
)


@dataclass
class ChatModel:
    """A loaded model with its template, generation settings and context budget."""

    model: Any
    tokenizer: Any
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    options: ChatOptions = field(default_factory=ChatOptions)
    context_override: int | None = None
    source: str = "model"
    #: The model's whole format (its later turns differ from the first in a chat template);
    #: None: ``prompt_template`` for every turn.
    prompt_format: PromptFormat | None = None

    def __post_init__(self) -> None:
        try:
            prompt_prefix(self.prompt_template)
        except ValueError as error:
            raise ChatError(str(error)) from error
        if self.tokenizer.eos_token_id is None:
            raise ChatError("the tokenizer has no EOS token: answers could never stop")
        self.context_tokens = context_tokens(self.model, self.context_override)
        #: The decoding settings every answer uses: the model's own, with the user's options.
        self.settings = self.options.resolve(self.model)
        if self.settings.max_new_tokens >= self.context_tokens:
            raise ChatError(
                f"--max-new-tokens {self.settings.max_new_tokens} leaves no room for the question "
                f"in the model's {self.context_tokens}-token context"
            )
        self.model.eval()

    @property
    def max_prompt_tokens(self) -> int:
        return self.context_tokens - self.settings.max_new_tokens

    def prompt(self, history: Sequence[Turn], question: str) -> ChatPrompt:
        return build_prompt(
            self.tokenizer,
            self.prompt_format or self.prompt_template,
            history,
            question,
            max_prompt_tokens=self.max_prompt_tokens,
        )

    def stream(
        self, prompt: ChatPrompt, *, stop_event: threading.Event | None = None
    ) -> Iterator[str]:
        """The answer's text as it is generated (:func:`~llm_finetune.generation.stream_answer`);
        closing the iterator stops generation."""
        return stream_answer(
            self.model, self.tokenizer, prompt.input_ids, self.settings, stop_event=stop_event
        )

    def answer(self, history: Sequence[Turn], question: str) -> str:
        """The whole answer at once (no streaming), stripped."""
        with contextlib.closing(self.stream(self.prompt(history, question))) as pieces:
            return "".join(pieces).strip()
