"""Progress bars (counts and rates) on the long steps, and none where the user is chatting."""

from __future__ import annotations

import polars as pl

from llm_finetune.generation import generate_answers
from llm_finetune.pipelines.evaluation.perplexity import answer_perplexity
from llm_finetune.pipelines.training.tokenization import tokenize_qa
from llm_finetune.progress import MIN_ITEMS_FOR_A_BAR

PROMPTS = ["### Question:\nHi\n### Answer:\n", "What do you think of Mars?", "Why?"]


def last_bar_line(stderr: str) -> str:
    """The final redraw of a tqdm bar (redraws are separated by carriage returns)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()][-1]


def test_generation_shows_answers_done_and_rate(tiny_model, tiny_tokenizer, capsys):
    generate_answers(tiny_model, tiny_tokenizer, PROMPTS, max_new_tokens=2, batch_size=2)
    line = last_bar_line(capsys.readouterr().err)
    assert line.startswith("generating answers: 100%")
    assert "3/3" in line and "answer/s" in line


def test_generation_is_quiet_when_asked(tiny_model, tiny_tokenizer, capsys):
    generate_answers(tiny_model, tiny_tokenizer, PROMPTS, max_new_tokens=2, progress=False)
    assert "generating" not in capsys.readouterr().err


def test_perplexity_shows_answers_scored(tiny_model, tiny_tokenizer, capsys):
    ids = tiny_tokenizer("a question and its answer")["input_ids"]
    rows = pl.DataFrame({"input_ids": [ids] * 3, "labels": [ids] * 3})
    answer_perplexity(tiny_model, tiny_tokenizer, rows, batch_size=2)
    line = last_bar_line(capsys.readouterr().err)
    assert line.startswith("answer perplexity: 100%") and "3/3" in line


def test_tokenizing_a_large_file_shows_rows_done(tiny_tokenizer, capsys):
    settings = {"max_length": 64, "answer_only_loss": True}
    small = pl.DataFrame({"question": ["Q: hi\n"] * 10, "answer": ["fine"] * 10})
    tokenize_qa(small, tiny_tokenizer, settings)
    assert "tokenizing" not in capsys.readouterr().err  # a second's work: no bar
    rows = MIN_ITEMS_FOR_A_BAR
    large = pl.DataFrame({"question": ["Q: hi\n"] * rows, "answer": ["fine"] * rows})
    tokenize_qa(large, tiny_tokenizer, settings)
    line = last_bar_line(capsys.readouterr().err)
    assert line.startswith("tokenizing: 100%") and f"{rows}/{rows}" in line
