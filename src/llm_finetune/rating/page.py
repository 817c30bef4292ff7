"""The rating page (Gradio): one question, its reference answer behind a toggle, two answers as
A and B, blind. Served on 127.0.0.1 only, like the web chat (:func:`llm_finetune.webchat.launch`).

The page's session holds only the ticket of the pair it shows (server side, in ``gr.State``);
which model version wrote A and which wrote B never reaches the browser. Every text is shown in
a read-only text box: a note or an answer holding HTML or a script is shown as text.
"""

from __future__ import annotations

import os
from typing import Any

from llm_finetune.rating.board import RatingBoard, Shown
from llm_finetune.rating.votes import CHOICES, MAX_NOTE_CHARS, TAGS, VoteError

TITLE = "Rate answers (blind)"
INTRO = (
    "Which answer is better for this patient? The two answers come from two model versions, "
    "shown in random order as A and B; which is which is not shown. Pick one, optionally tag "
    "each answer's errors and add a note, then the next pair comes."
)
#: (label shown, stored value) of the tag checkboxes.
TAG_CHOICES = [(label, name) for name, label in TAGS.items()]

# Before gradio is imported anywhere: no usage statistics, no version check.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def _shown_values(shown: Shown) -> tuple[str, str, str, str, str]:
    return shown.ticket, shown.question, shown.reference, shown.answer_a, shown.answer_b


def make_handlers(board: RatingBoard) -> tuple[Any, Any]:
    """The page's two functions: a new pair on load, and a vote (then the next pair)."""

    def new_pair() -> tuple[str, str, str, str, str]:
        return _shown_values(board.next_pair())

    def vote(choice: str, ticket: str, rater: str, tags_a, tags_b, note: str):
        try:
            board.vote(ticket, choice, rater, tags_a, tags_b, note)
        except VoteError as error:
            status = f"Not saved: {error}"
            if board.is_open(ticket):  # the same pair stays, the rater's input too
                return (ticket, *_unchanged(7), status)
            return (*_shown_values(board.next_pair()), [], [], "", status)
        saved = f"Vote {board.votes_counted} saved. Next pair:"
        return (*_shown_values(board.next_pair()), [], [], "", saved)

    return new_pair, vote


def _unchanged(count: int) -> list[Any]:
    import gradio as gr

    return [gr.skip()] * count


def build_app(board: RatingBoard) -> Any:
    import gradio as gr

    new_pair, vote = make_handlers(board)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        ticket = gr.State("")
        gr.Markdown(f"# {TITLE}")
        gr.Markdown(INTRO, elem_id="intro")
        rater = gr.Textbox(label="Your name (rater, required)", elem_id="rater", max_lines=1)
        question = gr.Textbox(label="Question", elem_id="question", interactive=False)
        with gr.Accordion("Reference answer (show / hide)", open=False, elem_id="reference-toggle"):
            reference = gr.Textbox(label="Reference answer", elem_id="reference", interactive=False)
        with gr.Row():
            with gr.Column():
                answer_a = gr.Textbox(label="Answer A", elem_id="answer-a", interactive=False)
                tags_a = gr.CheckboxGroup(TAG_CHOICES, label="Errors in A", elem_id="tags-a")
            with gr.Column():
                answer_b = gr.Textbox(label="Answer B", elem_id="answer-b", interactive=False)
                tags_b = gr.CheckboxGroup(TAG_CHOICES, label="Errors in B", elem_id="tags-b")
        note = gr.Textbox(
            label=f"Note (optional, at most {MAX_NOTE_CHARS:,} characters)",
            elem_id="note",
            lines=2,
        )
        with gr.Row():
            buttons = {
                name: gr.Button(label, elem_id=f"vote-{name.replace('_', '-')}")
                for name, label in CHOICES.items()
            }
        status = gr.Textbox(label="Status", elem_id="status", interactive=False)

        shown = [ticket, question, reference, answer_a, answer_b]
        app.load(new_pair, outputs=shown)
        for name, button in buttons.items():
            button.click(
                lambda *args, choice=name: vote(choice, *args),
                inputs=[ticket, rater, tags_a, tags_b, note],
                outputs=[*shown, tags_a, tags_b, note, status],
                api_name=f"vote_{name}",
                concurrency_limit=None,  # the vote is a file append: no queue behind another
                queue=False,
            )
    return app
