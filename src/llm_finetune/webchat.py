"""``python -m llm_finetune.webchat``: the doctor chat as a local web page (Gradio).

The same model loading, prompt building and streaming as the terminal chat
(:mod:`llm_finetune.chat`). The page is served on 127.0.0.1 only: no share link, no
analytics, no server-side rendering, and every asset it uses comes from the local server, so it
works offline. Open the printed address (default http://127.0.0.1:7860) in a browser.

A question that describes a red flag (:mod:`llm_finetune.safety.guard`) gets its notice first:
the first text streamed is the notice, and the answer follows it as it is generated. Read back
from the page, the notice is dropped from the history the model sees
(:func:`~llm_finetune.chat.history.messages_to_turns`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from llm_finetune.chat.bot import ChatModel
from llm_finetune.chat.cli import add_model_arguments, start_chat
from llm_finetune.chat.errors import ChatError
from llm_finetune.chat.history import NO_ANSWER, messages_to_turns
from llm_finetune.chat.options import describe
from llm_finetune.disclaimer import DISCLAIMER
from llm_finetune.safety.guard import notice_for, with_notice

HOST = "127.0.0.1"  # never another interface: the page is for the local user only
DEFAULT_PORT = 7860
TITLE = "Doctor chat (demo)"
# Gradio's bundled SourceSansPro-SemiBold.woff2 holds 55 glyphs, no capital "A" (it falls back to
# another font mid-word), so the bold disclaimer uses the system's sans-serif.
CSS = """
#disclaimer {
  border: 1px solid #f59e0b; background: #fffbeb; border-radius: 6px; padding: 8px 12px;
}
#disclaimer p { margin: 0; }
#disclaimer strong { color: #92400e; font-family: system-ui, "DejaVu Sans", sans-serif; }
"""

# Before gradio is imported anywhere: no usage statistics, no version check.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m llm_finetune.webchat",
        description="Chat with the fine-tuned model in a local web page. " + DISCLAIMER,
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})"
    )
    return parser.parse_args(argv)


def make_respond(bot: ChatModel):
    """The page's chat function: history from the page, one streamed answer (cumulative text),
    after the guard's notice when the question shows a red flag."""

    def respond(message: str, history: list[dict[str, Any]]) -> Iterator[str]:
        import gradio as gr

        question = (message or "").strip()
        if not question:
            yield "(type a question first)"
            return
        notice = notice_for(question)
        if notice:  # shown before the model starts, even if the question cannot be answered
            yield notice
        try:
            prompt = bot.prompt(messages_to_turns(history), question)
        except ChatError as error:
            raise gr.Error(str(error)) from error
        text = ""
        # closing(): when the user presses stop, generation stops too.
        with contextlib.closing(bot.stream(prompt)) as pieces:
            for piece in pieces:
                text += piece
                if text.strip():
                    yield with_notice(notice, text.strip())
        if not text.strip():
            yield with_notice(notice, NO_ANSWER)

    return respond


def build_app(bot: ChatModel) -> Any:
    """The Gradio page: title, the disclaimer, and a streaming chat."""
    import gradio as gr

    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as app:
        gr.Markdown(f"# {TITLE}")
        gr.Markdown(f"**{DISCLAIMER}**", elem_id="disclaimer")
        gr.Markdown(
            f"Model: `{bot.source}` · {describe(bot.settings)} · "
            f"context {bot.context_tokens} tokens",
            elem_id="model-info",
        )
        gr.ChatInterface(
            fn=make_respond(bot),
            # No "share" button: it would upload the conversation to Hugging Face.
            chatbot=gr.Chatbot(
                label="Conversation", elem_id="conversation", buttons=["copy", "copy_all"]
            ),
            textbox=gr.Textbox(
                placeholder="Ask a question and press Enter",
                elem_id="question",
                show_label=False,
                submit_btn=True,
            ),
            analytics_enabled=False,
            flagging_mode="never",
            save_history=False,
            autofocus=True,
            fill_height=True,
        )
    return app


def launch(app: Any, port: int, *, block: bool = True) -> Any:
    """Serve ``app`` on 127.0.0.1:``port`` only, with every network-facing extra off."""
    return app.launch(
        server_name=HOST,
        server_port=port,
        share=False,
        inbrowser=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        show_error=True,
        css=CSS,
        footer_links=["settings"],
        prevent_thread_lock=not block,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bot = start_chat(args)
    if bot is None:
        return 1
    print(f"Serving the chat on http://{HOST}:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        launch(build_app(bot), args.port)
    except KeyboardInterrupt:
        pass
    except OSError as error:  # e.g. the port is taken
        print(f"error: cannot serve on {HOST}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
