"""The terminal chat (``python -m llm_finetune.chat``): questions in, streamed answers out.

Loads the latest ``fine_tuned_model`` of the project's catalog (``--version`` for another one, or
``--model-dir DIR`` for any saved model directory), prompts it in the format it was saved with
(its ``prompt_format.json``) and streams each answer as it is generated. Earlier turns stay in
the prompt while they fit the model's context. Works with piped input too::

    printf 'What causes a headache?\\n/quit\\n' | python -m llm_finetune.chat

When a question describes a red flag (:mod:`llm_finetune.safety.guard`), its notice is printed
before the answer; it is not part of the history the model sees.

Commands: an empty line or ``/quit`` exits, ``/reset`` clears the history.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import TextIO

from llm_finetune.chat.bot import ChatModel
from llm_finetune.chat.cli import add_model_arguments, start_chat
from llm_finetune.chat.errors import ChatError
from llm_finetune.chat.history import NO_ANSWER, Turn
from llm_finetune.chat.options import describe
from llm_finetune.chat.prompt import ChatPrompt
from llm_finetune.disclaimer import DISCLAIMER
from llm_finetune.safety.guard import notice_for

QUIT_COMMANDS = {"/quit", "/exit", ""}
RESET_COMMAND = "/reset"
USER_LABEL = "You: "
MODEL_LABEL = "Doctor: "


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m llm_finetune.chat",
        description="Chat in the terminal with the fine-tuned model. " + DISCLAIMER,
        epilog="Commands: an empty line or /quit exits, /reset clears the history.",
    )
    add_model_arguments(parser)
    return parser.parse_args(argv)


def read_question(stdin: TextIO, stdout: TextIO) -> str | None:
    """One line from the user; None at end of input. Piped input is echoed for a readable log."""
    if stdin is sys.stdin and stdin.isatty():
        try:
            return input(USER_LABEL)
        except EOFError:
            stdout.write("\n")
            return None
    stdout.write(USER_LABEL)
    line = stdin.readline()
    if not line:
        stdout.write("\n")
        return None
    line = line.rstrip("\r\n")
    stdout.write(line + "\n")
    stdout.flush()
    return line


def chat_loop(bot: ChatModel, stdin: TextIO, stdout: TextIO) -> None:
    """Read questions and stream answers until ``/quit``, an empty line or the end of input."""
    history: list[Turn] = []
    while True:
        question = read_question(stdin, stdout)
        if question is None or question.strip() in QUIT_COMMANDS:
            return
        question = question.strip()
        if question == RESET_COMMAND:
            history.clear()
            stdout.write("(history cleared)\n")
            continue
        if question.startswith("/"):
            stdout.write("(unknown command; /reset clears the history, /quit exits)\n")
            continue
        notice = notice_for(question)
        if notice:  # before anything else, even an error about the question
            stdout.write(notice + "\n\n")
        try:
            prompt = bot.prompt(history, question)
        except ChatError as error:
            stdout.write(f"({error})\n")
            continue
        if prompt.turns_dropped:
            stdout.write(
                f"(the {prompt.turns_dropped} oldest turn(s) no longer fit the model's "
                f"{bot.context_tokens}-token context and were left out)\n"
            )
        answer = _stream_to(bot, prompt, stdout)
        if answer:
            history.append(Turn(question, answer))


def _stream_to(bot: ChatModel, prompt: ChatPrompt, stdout: TextIO) -> str:
    """Print the answer as it streams; return it (empty when interrupted or empty)."""
    stdout.write(MODEL_LABEL)
    stdout.flush()
    pieces: list[str] = []
    try:
        with contextlib.closing(bot.stream(prompt)) as stream:
            for piece in stream:
                if not pieces:  # the answer starts at its first visible character
                    piece = piece.lstrip()
                    if not piece:
                        continue
                pieces.append(piece)
                stdout.write(piece)
                stdout.flush()
    except KeyboardInterrupt:
        stdout.write(" [interrupted]\n")
        stdout.flush()
        return ""
    answer = "".join(pieces).strip()
    stdout.write("\n" if answer else NO_ANSWER + "\n")
    stdout.flush()
    return answer


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bot = start_chat(args)
    if bot is None:
        return 1
    print(f"Generation: {describe(bot.settings)}; context {bot.context_tokens} tokens")
    print(
        "Type a question and press Enter. /reset clears the history; an empty line or /quit exits."
    )
    sys.stdout.flush()
    try:
        chat_loop(bot, sys.stdin, sys.stdout)
    except KeyboardInterrupt:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
