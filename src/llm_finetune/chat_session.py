"""The doctor chat's one implementation, shared by the terminal (``llm_finetune.chat``) and the web
page (``llm_finetune.webchat``).

- **Loading**: the latest (or a chosen) ``fine_tuned_model`` version from the project's catalog,
  or a plain ``save_pretrained`` directory; the prompt template comes from the project's
  parameters, so the chat prompts the model exactly as training did.
- **Prompting**: earlier turns are rendered as completed training examples (prompt, answer, EOS:
  the token sequence :func:`~llm_finetune.pipelines.training.tokenization.tokenize_pair` builds),
  followed by the new prompt. The oldest turns are dropped until the prompt plus
  ``max_new_tokens`` fits the model's context.
- **Streaming**: ``model.generate`` runs in a thread and feeds a ``TextIteratorStreamer``; closing
  the stream (Ctrl-C, the page's stop button) stops generation at the next token.

``torch``, ``transformers`` and ``kedro``'s session are imported inside functions, so that
``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llm_finetune.generation import GenerationSettings, carried_settings, eos_token_ids
from llm_finetune.prompting import prompt_prefix, render_prompt

#: Shown on start by the terminal chat and on the web page.
DISCLAIMER = "Answers come from a small demo model and are NOT medical advice."
#: The walkthrough's template, used when no project supplies ``prompt_template``.
DEFAULT_PROMPT_TEMPLATE = "### Question:\n{question}\n### Answer:\n{answer}"
MODEL_ENTRY = "fine_tuned_model"
TRAINING_HINT = "run `kedro run --pipelines training` first"
NO_ANSWER = "(no answer: the model stopped at once)"
#: Logger -> level without ``--verbose`` ("py.warnings": Python warnings, which Kedro logs).
QUIET_LOGGERS = {
    "kedro": logging.WARNING,
    "llm_finetune": logging.WARNING,
    "transformers": logging.ERROR,
    "py.warnings": logging.ERROR,
}


class ChatError(Exception):
    """A problem the user can fix; the command line reports it as one line, without traceback."""


# --------------------------------------------------------------------------------------------------
# Settings and prompts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One finished exchange of the conversation."""

    question: str
    answer: str


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


@dataclass(frozen=True)
class ChatPrompt:
    """The token ids given to the model, and how much of the history they hold."""

    input_ids: list[int]
    turns_kept: int
    turns_dropped: int


def prompt_ids(tokenizer: Any, template: str, question: str) -> list[int]:
    """The new question's prompt, tokenized as training tokenizes prompts (special tokens on)."""
    return list(tokenizer(render_prompt(template, question), add_special_tokens=True)["input_ids"])


def turn_ids(tokenizer: Any, template: str, turn: Turn) -> list[int]:
    """A finished turn as a completed training example: prompt ids, answer ids, EOS."""
    answer = tokenizer(turn.answer, add_special_tokens=False)["input_ids"]
    return prompt_ids(tokenizer, template, turn.question) + list(answer) + [tokenizer.eos_token_id]


def build_prompt(
    tokenizer: Any,
    template: str,
    history: Sequence[Turn],
    question: str,
    *,
    max_prompt_tokens: int,
) -> ChatPrompt:
    """Previous turns (newest kept first) and the new prompt, in at most ``max_prompt_tokens``.

    Turns are dropped oldest first; the kept ones are always the most recent, contiguous. Raises
    :class:`ChatError` when the question alone does not fit.
    """
    new_prompt = prompt_ids(tokenizer, template, question)
    if len(new_prompt) > max_prompt_tokens:
        raise ChatError(
            f"the question is {len(new_prompt)} tokens long; at most {max_prompt_tokens} fit the "
            "model's context next to the answer: shorten it (or lower --max-new-tokens)"
        )
    kept: list[list[int]] = []
    used = len(new_prompt)
    for turn in reversed(history):
        ids = turn_ids(tokenizer, template, turn)
        if used + len(ids) > max_prompt_tokens:
            break
        kept.append(ids)
        used += len(ids)
    input_ids = [token for ids in reversed(kept) for token in ids] + new_prompt
    return ChatPrompt(input_ids, turns_kept=len(kept), turns_dropped=len(history) - len(kept))


def context_tokens(model: Any, override: int | None = None) -> int:
    """Tokens the model can attend to: ``override``, else its config's position limit."""
    if override is not None:
        if override < 2:
            raise ChatError(f"--context-tokens must be >= 2, got {override}")
        return override
    config = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ChatError("the model's config states no context length: pass --context-tokens N")


def messages_to_turns(messages: Sequence[Mapping[str, Any]]) -> list[Turn]:
    """Chat messages (``{"role": "user" | "assistant", "content": ...}``) as finished turns.

    A user message followed by an assistant message makes a turn; anything else (a question left
    unanswered, an empty answer) is skipped.
    """
    turns: list[Turn] = []
    question: str | None = None
    for message in messages:
        text = message_text(message.get("content"))
        if message.get("role") == "user":
            question = text
        elif message.get("role") == "assistant" and question is not None:
            if text and text != NO_ANSWER:
                turns.append(Turn(question, text))
            question = None
    return turns


def message_text(content: Any) -> str:
    """The text of a chat message's content: a string, ``{"text": ...}`` or a list of those."""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, Mapping):
        text = content.get("text")
        return text.strip() if isinstance(text, str) else ""
    if isinstance(content, list | tuple):
        return " ".join(part for part in (message_text(item) for item in content) if part)
    return ""


# --------------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------------


def stream_answer(
    model: Any,
    tokenizer: Any,
    input_ids: Sequence[int],
    settings: GenerationSettings,
    *,
    stop_event: threading.Event | None = None,
) -> Iterator[str]:
    """Yield the answer's text as it is generated with ``settings`` (the decoding fields of
    :class:`~llm_finetune.generation.GenerationSettings`, as in evaluation), stopping at EOS or
    ``max_new_tokens``.

    ``generate`` runs in a thread. Closing the iterator early (or setting ``stop_event``) ends
    generation at the next token; an error raised by ``generate`` is raised here.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    stop = stop_event or threading.Event()

    class _StopWhenAsked(StoppingCriteria):
        def __call__(self, ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((ids.shape[0],), stop.is_set(), dtype=torch.bool, device=ids.device)

    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    failures: list[BaseException] = []

    def generate() -> None:
        try:
            with torch.inference_mode():
                model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_StopWhenAsked()]),
                    eos_token_id=eos_token_ids(model, tokenizer),
                    pad_token_id=tokenizer.pad_token_id,
                    use_cache=True,
                    **settings.decoding(),
                )
        except BaseException as error:  # reported by the consuming thread
            failures.append(error)
            streamer.end()  # unblock the consumer

    worker = threading.Thread(target=generate, name="chat-generate", daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield piece
    finally:
        stop.set()
        worker.join()
    if failures:
        raise failures[0]


# --------------------------------------------------------------------------------------------------
# The chat model: one object that both user interfaces drive
# --------------------------------------------------------------------------------------------------


@dataclass
class ChatModel:
    """A loaded model with its template, generation settings and context budget."""

    model: Any
    tokenizer: Any
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    options: ChatOptions = field(default_factory=ChatOptions)
    context_override: int | None = None
    source: str = "model"

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
            self.prompt_template,
            history,
            question,
            max_prompt_tokens=self.max_prompt_tokens,
        )

    def stream(
        self, prompt: ChatPrompt, *, stop_event: threading.Event | None = None
    ) -> Iterator[str]:
        return stream_answer(
            self.model, self.tokenizer, prompt.input_ids, self.settings, stop_event=stop_event
        )

    def answer(self, history: Sequence[Turn], question: str) -> str:
        """The whole answer at once (no streaming), stripped."""
        with contextlib.closing(self.stream(self.prompt(history, question))) as pieces:
            return "".join(pieces).strip()


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedChatModel:
    model: Any
    tokenizer: Any
    prompt_template: str
    source: str


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both user interfaces share: where the model comes from, how it generates."""
    where = parser.add_argument_group("model")
    where.add_argument(
        "--project",
        type=Path,
        default=None,
        help="Kedro project whose catalog holds fine_tuned_model (default: the current directory)",
    )
    where.add_argument("--env", default=None, help="Kedro configuration environment, e.g. local")
    where.add_argument(
        "--version",
        default=None,
        help="fine_tuned_model catalog version, e.g. 2026-11-28T09.22.07.678Z (default: latest)",
    )
    where.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="a plain save_pretrained directory instead of the catalog",
    )
    gen = parser.add_argument_group("generation")
    gen.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="answer length limit (default: the model's generation_config.json)",
    )
    gen.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sample with this temperature (default: greedy)",
    )
    gen.add_argument(
        "--top-p", type=float, default=None, help="sample from this nucleus mass (default: greedy)"
    )
    gen.add_argument(
        "--context-tokens",
        type=int,
        default=None,
        help="context length override (default: the model config's max_position_embeddings)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Kedro and transformers logs")


def chat_model_from_args(args: argparse.Namespace) -> ChatModel:
    """Validate the generation options, load the model and wrap it in a :class:`ChatModel`."""
    options = ChatOptions(args.max_new_tokens, args.temperature, args.top_p)
    quiet_logs(args.verbose)
    loaded = load_chat_model(
        project=args.project, model_dir=args.model_dir, version=args.version, env=args.env
    )
    quiet_logs(args.verbose)  # bootstrap_project may have reconfigured logging
    return ChatModel(
        loaded.model,
        loaded.tokenizer,
        loaded.prompt_template,
        options,
        context_override=args.context_tokens,
        source=loaded.source,
    )


def quiet_logs(verbose: bool) -> None:
    """Keep the chat readable: Kedro's INFO logs, library warnings and progress bars are shown
    only with ``--verbose``."""
    if verbose:
        return
    logging.disable(logging.INFO)  # Kedro logs which logging config it uses when first imported
    try:
        import kedro.framework.project  # noqa: F401  (configures Kedro's logging on import)
    finally:
        logging.disable(logging.NOTSET)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    with contextlib.suppress(ImportError):
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


def load_chat_model(
    *,
    project: Path | None = None,
    model_dir: Path | None = None,
    version: str | None = None,
    env: str | None = None,
) -> LoadedChatModel:
    """The model the chat talks to, and the prompt template it was trained with.

    ``model_dir`` given: load that directory; the template comes from ``project`` (or the current
    directory) when that is a Kedro project, else :data:`DEFAULT_PROMPT_TEMPLATE`. Otherwise
    load ``fine_tuned_model`` (``version``, or the latest) from the project's catalog.
    """
    from kedro.utils import is_kedro_project

    project_path = (project or Path.cwd()).expanduser().resolve()
    is_project = is_kedro_project(project_path)
    if project is not None and not is_project:
        raise ChatError(
            f"{project_path} is not a Kedro project (no pyproject.toml with [tool.kedro])"
        )
    if model_dir is not None:
        if version is not None:
            raise ChatError("--version picks a catalog version; it cannot be used with --model-dir")
        model, tokenizer = _load_model_dir(model_dir)
        template = _project_template(project_path, env) if is_project else DEFAULT_PROMPT_TEMPLATE
        return LoadedChatModel(model, tokenizer, template, str(model_dir))
    if not is_project:
        raise ChatError(
            f"{project_path} is not a Kedro project: pass --project PATH (the project root) or "
            "--model-dir DIR (a saved model)"
        )
    return _load_from_catalog(project_path, version, env)


def _load_model_dir(model_dir: Path) -> tuple[Any, Any]:
    from llm_finetune.datasets.hf_model import is_complete_model_dir, load_model_dir

    if not is_complete_model_dir(model_dir):
        raise ChatError(
            f"no saved model in {model_dir} (config.json and model.safetensors expected): "
            f"{TRAINING_HINT}, or point --model-dir at a save_pretrained directory"
        )
    try:
        return tuple(load_model_dir(model_dir))  # type: ignore[return-value]
    except (OSError, ValueError) as error:
        raise ChatError(f"cannot load the model in {model_dir}: {error}") from error


def _session(project_path: Path, env: str | None) -> Any:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    # bootstrap_project reconfigures logging; keep the levels quiet_logs chose.
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    bootstrap_project(project_path)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    return KedroSession.create(project_path=project_path, env=env, save_on_close=False)


def _template_from(parameters: Mapping[str, Any]) -> str:
    template = parameters.get("prompt_template", DEFAULT_PROMPT_TEMPLATE)
    if not isinstance(template, str):
        raise ChatError(f"parameter prompt_template must be a string, got {template!r}")
    return template


def _project_template(project_path: Path, env: str | None) -> str:
    with _session(project_path, env) as session:
        return _template_from(session.load_context().config_loader["parameters"])


def _load_from_catalog(project_path: Path, version: str | None, env: str | None) -> LoadedChatModel:
    from kedro.io import DatasetError

    with _session(project_path, env) as session:
        context = session.load_context()
        template = _template_from(context.config_loader["parameters"])
        catalog = context.catalog
        if MODEL_ENTRY not in catalog:
            raise ChatError(f"the catalog of {project_path} has no {MODEL_ENTRY!r} entry")
        try:
            if version is None:  # pin "latest" once, so the label names what was loaded
                dataset = catalog.get(MODEL_ENTRY)
                version = getattr(dataset, "resolve_load_version", lambda: None)()
            model, tokenizer = catalog.load(MODEL_ENTRY, version=version)
        except DatasetError as error:
            what = f"version {version}" if version else "no version yet"
            detail = " ".join(str(error).split())
            raise ChatError(
                f"cannot load {MODEL_ENTRY} ({what}) from {project_path}: {TRAINING_HINT} "
                f"(or pick an existing --version). [{detail}]"
            ) from error
    label = f"{MODEL_ENTRY} version {version}" if version else MODEL_ENTRY
    return LoadedChatModel(model, tokenizer, template, f"{label} of {project_path}")


def start_chat(args: argparse.Namespace) -> ChatModel | None:
    """The start of every chat UI: show the disclaimer, load the model, print its source.

    Returns None (after a one-line error on stderr) when the model cannot be loaded.
    """
    print(DISCLAIMER, flush=True)
    try:
        bot = chat_model_from_args(args)
    except ChatError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    print(f"Model: {bot.source}", flush=True)
    return bot
