"""The prompt format: how a question becomes a model prompt, and the record a saved model keeps of
it (:data:`PROMPT_FORMAT_FILE`, beside ``generation_config.json``).

:data:`DEFAULT_PROMPT_TEMPLATE` is the one place the project's template is written. The parameter
``prompt_template`` is null by default, which means this template (:func:`resolve_template`).
Evaluation and the chats prompt a model in the format its directory records, so an older model
keeps its own format when the project's template changes; a model without the record (saved
before it existed, a bare base model) gets the default, said in a log line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ANSWER_PLACEHOLDER = "{answer}"
QUESTION_PLACEHOLDER = "{question}"
DEFAULT_PROMPT_TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"
#: The record a saved model keeps of its prompt format.
PROMPT_FORMAT_FILE = "prompt_format.json"
#: ``kind`` of a plain text template; a tokenizer's chat template (with its system prompt) can
#: be recorded later under another kind.
TEMPLATE_KIND = "template"


def resolve_template(template: str | None) -> str:
    """``template``, or :data:`DEFAULT_PROMPT_TEMPLATE` for None (``prompt_template: null``)."""
    if template is None:
        return DEFAULT_PROMPT_TEMPLATE
    if not isinstance(template, str):
        raise ValueError(f"prompt_template must be a string or null, got {template!r}")
    return template


def prompt_prefix(template: str | None) -> str:
    """The part of ``template`` before ``{answer}``: what the model sees at inference time."""
    template = resolve_template(template)
    if not template.endswith(ANSWER_PLACEHOLDER) or QUESTION_PLACEHOLDER not in template:
        raise ValueError(
            f"prompt_template must contain '{QUESTION_PLACEHOLDER}' and end with "
            f"'{ANSWER_PLACEHOLDER}', got {template!r}"
        )
    return template[: -len(ANSWER_PLACEHOLDER)]


def split_prompt_prefix(template: str | None) -> tuple[str, str]:
    """The text before and after ``{question}`` in the prompt prefix."""
    before, _, after = prompt_prefix(template).partition(QUESTION_PLACEHOLDER)
    return before, after


def render_prompt(template: str | None, question: str) -> str:
    """The prompt for one question (no answer), e.g. ``### Question:\\n...\\n### Answer:\\n``."""
    before, after = split_prompt_prefix(template)
    return f"{before}{question}{after}"


@dataclass(frozen=True)
class PromptFormat:
    """How a model is prompted: ``kind`` (only :data:`TEMPLATE_KIND` so far) and its template."""

    template: str
    kind: str = TEMPLATE_KIND

    def __post_init__(self) -> None:
        if self.kind != TEMPLATE_KIND:
            raise ValueError(f"unknown prompt format kind {self.kind!r}; known: {TEMPLATE_KIND!r}")
        prompt_prefix(self.template)  # fails for a template without {question} / {answer}

    @classmethod
    def from_template(cls, template: str | None) -> PromptFormat:
        return cls(resolve_template(template))

    def render(self, question: str) -> str:
        return render_prompt(self.template, question)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, **asdict(self)}, indent=2) + "\n"


def read_prompt_format(directory: str | Path) -> PromptFormat | None:
    """The format a model directory records, or None when it has no :data:`PROMPT_FORMAT_FILE`.

    Raises ``ValueError`` naming the file for an unreadable or invalid record.
    """
    path = Path(directory) / PROMPT_FORMAT_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return PromptFormat(template=record["template"], kind=record["kind"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a valid prompt format record: {error!r}") from error


def prompt_format_of(
    model_and_tokenizer: Any, what: str = "the model", fallback_template: str | None = None
) -> PromptFormat:
    """The format ``model_and_tokenizer`` (a ``ModelAndTokenizer``) was saved with; for a model
    that records none (a bare base model, an older version), ``fallback_template`` (a run's
    ``prompt_template``; None: the default template), logged."""
    recorded = getattr(model_and_tokenizer, "prompt_format", None)
    if recorded is not None:
        return recorded
    fallback = PromptFormat.from_template(fallback_template)
    logger.info(
        "%s records no prompt format (%s); prompting it with %s template %r",
        what,
        PROMPT_FORMAT_FILE,
        "the project's default" if fallback_template is None else "the run's",
        fallback.template,
    )
    return fallback


def prompt_format_files(prompt_format: PromptFormat | None) -> dict[str, str]:
    """File name -> text to save with a model (``extra_files`` of ``save_model_atomically``)."""
    return {} if prompt_format is None else {PROMPT_FORMAT_FILE: prompt_format.to_json()}


def has_chat_template(tokenizer: Any) -> bool:
    """True when ``tokenizer`` carries a chat template (an instruct model's own format)."""
    return bool(getattr(tokenizer, "chat_template", None))


def render_chat_prompt(
    tokenizer: Any, question: str, system_prompt: str | None, what: str = "the model"
) -> str:
    """``question`` as one user turn of ``tokenizer``'s own chat template, the assistant's turn
    opened: how an instruct model is meant to be asked. ``system_prompt`` None: the template's
    default system message (SmolLM2's names itself), else that one.

    Raises ``ValueError`` naming ``what`` when the tokenizer has no chat template or it fails to
    render."""
    if not has_chat_template(tokenizer):
        raise ValueError(f"{what}: its tokenizer has no chat template to ask it in")
    messages = [{"role": "user", "content": question}]
    if system_prompt is not None:
        messages.insert(0, {"role": "system", "content": system_prompt})
    try:
        rendered = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
    except Exception as error:  # jinja errors, a template expecting other roles, ...
        raise ValueError(f"{what}: its chat template failed to render: {error}") from error
    if not isinstance(rendered, str) or question not in rendered:
        raise ValueError(
            f"{what}: its chat template rendered {rendered!r}, which does not hold the question"
        )
    return rendered
