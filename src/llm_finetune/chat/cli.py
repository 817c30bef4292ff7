"""The command line both chat interfaces share: model and generation options, and the start-up
(disclaimer, loading, the model's source)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llm_finetune.chat.bot import ChatModel
from llm_finetune.chat.errors import ChatError
from llm_finetune.chat.loading import load_chat_model, quiet_logs
from llm_finetune.chat.options import ChatOptions
from llm_finetune.disclaimer import DISCLAIMER


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
        prompt_format=loaded.prompt_format,
    )


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
