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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ANSWER_PLACEHOLDER = "{answer}"
QUESTION_PLACEHOLDER = "{question}"
DEFAULT_PROMPT_TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"
#: The record a saved model keeps of its prompt format.
PROMPT_FORMAT_FILE = "prompt_format.json"
#: ``kind`` of a plain text template (the walkthrough's by default).
TEMPLATE_KIND = "template"
#: ``kind`` of the base tokenizer's own chat template (:func:`chat_prompt_format`).
CHAT_KIND = "chat"
KINDS = (TEMPLATE_KIND, CHAT_KIND)
SYSTEM_PLACEHOLDER = "{system}"


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
    """How a model is prompted, turn by turn.

    ``kind`` is :data:`TEMPLATE_KIND` (a text template, the walkthrough's by default) or
    :data:`CHAT_KIND` (the base tokenizer's chat template, reduced to text templates by
    :func:`chat_prompt_format`). ``template`` renders a conversation's first turn,
    ``next_turn_template`` every later one (it follows the previous answer's EOS),
    ``system_template`` a first turn whose conversation brings its own system turn (a
    ``{system}`` slot). All three contain ``{question}`` and end with ``{answer}``.
    """

    template: str
    kind: str = TEMPLATE_KIND
    next_turn_template: str | None = None
    system_template: str | None = None
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown prompt format kind {self.kind!r}; known: {KINDS}")
        for template in (self.template, self.next_turn_template, self.system_template):
            if template is not None:
                prompt_prefix(template)  # fails for a template without {question} / {answer}
        if self.system_template is not None and SYSTEM_PLACEHOLDER not in self.system_template:
            raise ValueError(f"system_template must contain {SYSTEM_PLACEHOLDER!r}")

    @classmethod
    def from_template(cls, template: str | None) -> PromptFormat:
        return cls(resolve_template(template))

    def render(self, question: str) -> str:
        """The prompt of a conversation's first (or only) turn."""
        return render_prompt(self.template, question)

    def render_turn(self, question: str, first: bool) -> str:
        """The prompt of one turn: the first turn's, or a later turn's (after an answer's EOS)."""
        if first:
            return self.render(question)
        return render_prompt(self.next_turn_template or self.template, question)

    def render_with_system(self, question: str, system: str) -> str:
        """The first turn's prompt in a conversation with its own ``system`` turn."""
        template = self.system_template or SYSTEM_PLACEHOLDER + "\n\n" + self.template
        before, after = split_prompt_prefix(template)
        return before.replace(SYSTEM_PLACEHOLDER, system) + question + after

    def conversation_turns(
        self, history: Sequence[Mapping[str, str]], question: str
    ) -> tuple[list[tuple[str, str]], str]:
        """The finished turns of ``history`` (an optional system turn, then user and assistant
        turns alternating, as :func:`~llm_finetune.conversations.check_messages` leaves them) as
        (prompt, answer) pairs, and the prompt of the final ``question``."""
        system = None
        turns = list(history)
        if turns and turns[0]["role"] == "system":
            system = turns.pop(0)["content"]
        users = [turn["content"] for turn in turns[0::2]]
        answers = [turn["content"] for turn in turns[1::2]]
        prompts = []
        for index, user in enumerate([*users, question]):
            if index == 0 and system is not None:
                prompts.append(self.render_with_system(user, system))
            else:
                prompts.append(self.render_turn(user, first=index == 0))
        return list(zip(prompts[:-1], answers, strict=True)), prompts[-1]

    def to_record(self) -> dict[str, Any]:
        """The fields as a JSON-able dict (:data:`PROMPT_FORMAT_FILE`, the ``prompt_format``
        dataset); fields left None are left out."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def to_json(self) -> str:
        return json.dumps(self.to_record(), indent=2) + "\n"


def as_prompt_format(value: PromptFormat | Mapping[str, Any] | str | None) -> PromptFormat:
    """A run's prompt format from what a node is given: the resolved ``prompt_format`` record,
    or a bare ``prompt_template`` (None: the default template)."""
    if isinstance(value, PromptFormat):
        return value
    if isinstance(value, Mapping):
        try:
            return PromptFormat(**value)
        except TypeError as error:
            raise ValueError(f"not a prompt format record: {dict(value)!r} ({error})") from error
    return PromptFormat.from_template(value)


def read_prompt_format(directory: str | Path) -> PromptFormat | None:
    """The format a model directory records, or None when it has no :data:`PROMPT_FORMAT_FILE`.

    Raises ``ValueError`` naming the file for an unreadable or invalid record.
    """
    path = Path(directory) / PROMPT_FORMAT_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return PromptFormat(**record)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a valid prompt format record: {error!r}") from error


def prompt_format_of(
    model_and_tokenizer: Any,
    what: str = "the model",
    fallback: PromptFormat | Mapping[str, Any] | str | None = None,
) -> PromptFormat:
    """The format ``model_and_tokenizer`` (a ``ModelAndTokenizer``) was saved with; for a model
    that records none (a bare base model, an older version), ``fallback`` (the run's
    ``prompt_format``, or a ``prompt_template``; None: the default template), logged."""
    recorded = getattr(model_and_tokenizer, "prompt_format", None)
    if recorded is not None:
        return recorded
    resolved = as_prompt_format(fallback)
    logger.info(
        "%s records no prompt format (%s); prompting it in %s %s format %r",
        what,
        PROMPT_FORMAT_FILE,
        "the project's default" if fallback is None else "the run's",
        resolved.kind,
        resolved.template,
    )
    return resolved


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


# Stand-ins rendered through a chat template to find where its text goes; plain words, so no
# template escapes or trims them.
_SENTINELS = {
    "system": "SYSTEMSENTINELTEXT",
    "first": "FIRSTQUESTIONSENTINEL",
    "answer": "FIRSTANSWERSENTINEL",
    "next": "NEXTQUESTIONSENTINEL",
}


def chat_prompt_format(
    tokenizer: Any, system_prompt: str | None, what: str = "the base model"
) -> PromptFormat:
    """``tokenizer``'s chat template as a :class:`PromptFormat` of kind :data:`CHAT_KIND`.

    The template is rendered with stand-in texts for a two-turn conversation, and cut where they
    sit. An answer is followed by the EOS token, as training lays out every answer
    (:func:`~llm_finetune.modeling.examples.tokenize_pair`); a chat template that ends an
    assistant turn otherwise, or that does not render a conversation as the first turn's
    text followed by the next turn's, cannot be trained turn by turn and is refused.
    ``system_prompt`` None: the template's own default system message.

    Raises ``ValueError`` naming ``what`` and the reason.
    """
    if not has_chat_template(tokenizer):
        raise ValueError(
            f"{what}: its tokenizer has no chat template; use "
            "data_engineering.prompt_format: template"
        )
    s = _SENTINELS
    eos = tokenizer.eos_token
    system = [] if system_prompt is None else [{"role": "system", "content": system_prompt}]
    first = [{"role": "user", "content": s["first"]}]
    answered = [*first, {"role": "assistant", "content": s["answer"]}]
    second = [*answered, {"role": "user", "content": s["next"]}]

    def render(messages: list[dict[str, str]]) -> str:
        try:
            text = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        except Exception as error:  # jinja errors, a template expecting other roles, ...
            raise ValueError(f"{what}: its chat template failed to render: {error}") from error
        if not isinstance(text, str):
            raise ValueError(f"{what}: its chat template rendered {text!r}, not a string")
        return text

    opening = render(system + first)
    conversation = render(system + second)
    own_system = render([{"role": "system", "content": s["system"]}, *first])
    expected = opening + s["answer"] + (eos or "")
    if not eos or not conversation.startswith(expected) or opening.count(s["first"]) != 1:
        raise ValueError(
            f"{what}: its chat template does not render a conversation as turns this project "
            f"can train (each answer followed by the EOS token {eos!r}); rendered "
            f"{conversation!r}. Use data_engineering.prompt_format: template"
        )
    next_turn = conversation[len(expected) :]
    if next_turn.count(s["next"]) != 1 or own_system.count(s["system"]) != 1:
        raise ValueError(f"{what}: its chat template rendered {conversation!r}; cannot cut turns")
    return PromptFormat(
        template=opening.replace(s["first"], QUESTION_PLACEHOLDER) + ANSWER_PLACEHOLDER,
        kind=CHAT_KIND,
        next_turn_template=next_turn.replace(s["next"], QUESTION_PLACEHOLDER) + ANSWER_PLACEHOLDER,
        system_template=own_system.replace(s["system"], SYSTEM_PLACEHOLDER).replace(
            s["first"], QUESTION_PLACEHOLDER
        )
        + ANSWER_PLACEHOLDER,
        system_prompt=system_prompt,
    )


def prompt_format_for(
    kind: str, template: str | None, tokenizer: Any, system_prompt: str | None
) -> PromptFormat:
    """The run's prompt format: ``template`` (``prompt_template``) for :data:`TEMPLATE_KIND`, the
    tokenizer's chat template with ``system_prompt`` for :data:`CHAT_KIND`."""
    if kind == TEMPLATE_KIND:
        return PromptFormat.from_template(template)
    if kind == CHAT_KIND:
        return chat_prompt_format(tokenizer, system_prompt)
    raise ValueError(f"data_engineering.prompt_format must be one of {KINDS}, got {kind!r}")
