"""The doctor chat: prompts as in training, history within the context, streaming, the CLI.

The model is the tiny Llama of ``conftest``, trained for a few seconds on the tiny corpus so that
it answers with visible text ("Hi. Eye strain ...") instead of random whitespace.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llm_finetune.chat.bot import ChatModel
from llm_finetune.chat.errors import ChatError
from llm_finetune.chat.history import NO_ANSWER, Turn, messages_to_turns
from llm_finetune.chat.loading import QUIET_LOGGERS, load_chat_model
from llm_finetune.chat.options import ChatOptions, describe
from llm_finetune.chat.prompt import build_prompt, prompt_ids, turn_ids
from llm_finetune.disclaimer import DISCLAIMER
from llm_finetune.generation import stream_answer
from llm_finetune.modeling.prompt_format import DEFAULT_PROMPT_TEMPLATE, PromptFormat, render_prompt
from llm_finetune.safety.guard import EMERGENCY_NOTICE, NOTICES, notice_for, with_notice
from tests.conftest import (
    PROJECT_ROOT,
    TINY_CORPUS,
    build_tiny_model,
    build_tiny_tokenizer,
    record_decoded_prompts,
)

QUESTION = "What causes a headache behind the eyes?"
RED_FLAG_QUESTION = "I have crushing chest pain and I am sweating a lot"
TRAINING_HINT = "kedro run --pipelines training"
_TRAINED: dict[str, Path] = {}


# --------------------------------------------------------------------------------------------------
# A tiny model that answers (shared with the browser test)
# --------------------------------------------------------------------------------------------------


def train_tiny_model(tokenizer, max_steps: int = 300, target_loss: float = 0.3):
    """The conftest Llama overfitted on the tiny corpus's first Q/A example (ending with EOS).

    Trains until the loss is below ``target_loss``: a fixed step count is not enough on every
    machine, because float results (and so the trajectory) depend on the thread count.
    """
    import torch

    model = build_tiny_model(tokenizer)
    batch = tokenizer(TINY_CORPUS[0] + tokenizer.eos_token, return_tensors="pt")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster on a busy 2-core machine
    try:
        model.train()
        for _ in range(max_steps):
            loss = model(**batch, labels=batch["input_ids"]).loss
            if loss.item() < target_loss:
                break
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    assert loss.item() < target_loss, f"the tiny model did not learn its example: {loss.item()}"
    return model.eval()


def trained_tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``save_pretrained`` directory of the trained tiny model, built once per test session."""
    if "dir" not in _TRAINED:
        from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer

        tokenizer = build_tiny_tokenizer()
        target = tmp_path_factory.mktemp("chat_model") / "tiny_doctor"
        HFModelDataset(filepath=str(target)).save(
            ModelAndTokenizer(train_tiny_model(tokenizer), tokenizer)
        )
        _TRAINED["dir"] = target
    return _TRAINED["dir"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return trained_tiny_model_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def trained(model_dir):
    from llm_finetune.datasets.model_dirs import load_model_dir

    return load_model_dir(model_dir)


@pytest.fixture
def restore_logging():
    """main() quiets Kedro's and transformers' logs; give the other tests theirs back."""
    from transformers.utils import logging as hf_logging

    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    verbosity = hf_logging.get_verbosity()
    progress = hf_logging.is_progress_bar_enabled()
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    hf_logging.set_verbosity(verbosity)
    (hf_logging.enable_progress_bar if progress else hf_logging.disable_progress_bar)()


# --------------------------------------------------------------------------------------------------
# Prompts and history
# --------------------------------------------------------------------------------------------------


def test_single_turn_prompt_is_the_training_prompt(tiny_tokenizer):
    prompt = build_prompt(
        tiny_tokenizer, DEFAULT_PROMPT_TEMPLATE, [], QUESTION, max_prompt_tokens=400
    )

    expected_text = DEFAULT_PROMPT_TEMPLATE.format(question=QUESTION, answer="")
    assert expected_text == f"### Question:\n{QUESTION}\n### Answer:\n"
    assert tiny_tokenizer.decode(prompt.input_ids) == expected_text
    assert prompt.input_ids == tiny_tokenizer(expected_text)["input_ids"]
    assert (prompt.turns_kept, prompt.turns_dropped) == (0, 0)


def test_a_finished_turn_is_tokenized_like_a_training_example(tiny_tokenizer):
    from llm_finetune.modeling.examples import IGNORE_INDEX, tokenize_pair

    turn = Turn(QUESTION, "Hi. Eye strain or sinus congestion are common causes.")
    example = tokenize_pair(
        tiny_tokenizer, render_prompt(DEFAULT_PROMPT_TEMPLATE, turn.question), turn.answer, 10_000
    )

    assert turn_ids(tiny_tokenizer, DEFAULT_PROMPT_TEMPLATE, turn) == example.input_ids
    assert example.input_ids[-1] == tiny_tokenizer.eos_token_id
    # The new question's prompt is the start of that same training example.
    new_prompt = prompt_ids(tiny_tokenizer, DEFAULT_PROMPT_TEMPLATE, turn.question)
    assert example.input_ids[: len(new_prompt)] == new_prompt
    assert example.labels[: len(new_prompt)] == [IGNORE_INDEX] * len(new_prompt)
    assert example.labels[len(new_prompt)] != IGNORE_INDEX


def test_the_disclaimer_is_written_once():
    assert "not medical advice" in DISCLAIMER  # the HTML report's tests look for it
    package = PROJECT_ROOT / "src" / "llm_finetune"
    holders = [
        path.relative_to(package).as_posix()
        for path in sorted(package.rglob("*.py"))
        if "medical advice" in path.read_text(encoding="utf-8").lower()
    ]
    assert holders == ["disclaimer.py"]  # the chats and the HTML report import it


def test_history_truncation_keeps_the_newest_turns_within_the_budget(tiny_tokenizer):
    template = DEFAULT_PROMPT_TEMPLATE
    history = [
        Turn(f"Question number {i} about my knee?", f"Answer {i}: rest it.") for i in range(5)
    ]
    question = "And what about my ankle?"
    new = prompt_ids(tiny_tokenizer, template, question)
    blocks = [turn_ids(tiny_tokenizer, template, turn) for turn in history]

    budget = len(new) + len(blocks[3]) + len(blocks[4])  # room for exactly the two newest turns
    prompt = build_prompt(tiny_tokenizer, template, history, question, max_prompt_tokens=budget)
    assert (prompt.turns_kept, prompt.turns_dropped) == (2, 3)
    assert prompt.input_ids == blocks[3] + blocks[4] + new
    assert len(prompt.input_ids) <= budget

    tighter = build_prompt(
        tiny_tokenizer, template, history, question, max_prompt_tokens=budget - 1
    )
    assert (tighter.turns_kept, tighter.turns_dropped) == (1, 4)
    assert tighter.input_ids == blocks[4] + new

    everything = build_prompt(tiny_tokenizer, template, history, question, max_prompt_tokens=10**6)
    assert everything.input_ids == [token for block in blocks for token in block] + new
    decoded = tiny_tokenizer.decode(everything.input_ids, skip_special_tokens=True)
    assert decoded.endswith(render_prompt(template, question))

    with pytest.raises(ChatError, match="shorten it"):
        build_prompt(tiny_tokenizer, template, history, question, max_prompt_tokens=len(new) - 1)


def test_context_budget_is_the_model_context_minus_the_answer(tiny_tokenizer, tiny_model):
    bot = ChatModel(tiny_model, tiny_tokenizer, options=ChatOptions(max_new_tokens=100))
    assert bot.context_tokens == tiny_model.config.max_position_embeddings == 512
    assert bot.max_prompt_tokens == 412

    short = ChatModel(tiny_model, tiny_tokenizer, options=ChatOptions(16), context_override=64)
    assert short.max_prompt_tokens == 48
    history = [Turn(f"Old question {i}?", "An old answer of some length.") for i in range(10)]
    prompt = short.prompt(history, "New question?")
    assert len(prompt.input_ids) <= 48 and prompt.turns_dropped > 0

    with pytest.raises(ChatError, match="no room"):
        ChatModel(tiny_model, tiny_tokenizer, options=ChatOptions(512))
    with pytest.raises(ChatError, match="answer"):
        ChatModel(tiny_model, tiny_tokenizer, prompt_template="Q: {question}")


def test_the_chat_decodes_with_the_settings_the_model_carries(tiny_model, tiny_tokenizer):
    from llm_finetune.generation import GenerationSettings, attach_generation_config

    # A model without settings of its own: the project's defaults, as evaluation decodes.
    assert ChatOptions().resolve(tiny_model) == GenerationSettings()
    model = copy.deepcopy(tiny_model)
    carried = GenerationSettings(max_new_tokens=40, repetition_penalty=1.3, no_repeat_ngram_size=3)
    attach_generation_config(model, tiny_tokenizer, carried)
    assert ChatOptions().resolve(model) == carried
    bot = ChatModel(model, tiny_tokenizer)
    assert bot.settings == carried and bot.max_prompt_tokens == 512 - 40
    assert describe(bot.settings) == (
        "greedy, repetition penalty 1.3, no repeated 3-grams, at most 40 new tokens"
    )


def test_chat_options_are_greedy_unless_asked(tiny_model):
    assert ChatOptions(8).resolve(tiny_model).decoding()["do_sample"] is False
    sampled = ChatOptions(8, temperature=0.7).resolve(tiny_model)
    assert sampled.do_sample and sampled.temperature == 0.7 and sampled.top_p == 1.0
    assert sampled.max_new_tokens == 8
    assert ChatOptions(8, top_p=0.9).resolve(tiny_model).temperature == 1.0
    assert not ChatOptions(8, temperature=0.0).do_sample
    for bad in ({"max_new_tokens": 0}, {"temperature": -1.0}, {"top_p": 0.0}, {"top_p": 1.5}):
        with pytest.raises(ChatError):
            ChatOptions(**bad)


def test_web_messages_become_turns():
    messages = [
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": [{"type": "text", "text": "Second?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Two."}]},
        {"role": "user", "content": "Unanswered?"},
        {"role": "user", "content": "Third?"},
        {"role": "assistant", "content": NO_ANSWER},
    ]
    assert messages_to_turns(messages) == [Turn("First?", "One."), Turn("Second?", "Two.")]


# --------------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------------


def test_streamed_answer_equals_the_shared_generation_function(trained):
    from llm_finetune.generation import generate_answers

    model, tokenizer = trained.model, trained.tokenizer
    prompt = render_prompt(DEFAULT_PROMPT_TEMPLATE, QUESTION)
    settings = ChatOptions(max_new_tokens=12).resolve(model)
    pieces = list(stream_answer(model, tokenizer, tokenizer(prompt)["input_ids"], settings))

    # The evaluation's generation with the project's settings: the same answer.
    (reference,) = generate_answers(model, tokenizer, [prompt], max_new_tokens=12)
    assert len(pieces) > 1, "the answer should arrive in several pieces"
    assert "".join(pieces).strip() == reference.text
    assert reference.text.startswith("Hi.")


def test_closing_the_stream_stops_generation(trained):
    import threading

    model, tokenizer = trained.model, trained.tokenizer
    stop = threading.Event()
    ids = tokenizer(render_prompt(DEFAULT_PROMPT_TEMPLATE, QUESTION))["input_ids"]
    settings = ChatOptions(400).resolve(model)
    stream = stream_answer(model, tokenizer, ids, settings, stop_event=stop)
    next(stream)
    stream.close()  # joins the generate thread, which must stop at the next token
    assert stop.is_set()
    assert not any(t.name == "chat-generate" and t.is_alive() for t in threading.enumerate())


def test_the_chat_model_keeps_answering_with_history(trained):
    model, tokenizer = trained.model, trained.tokenizer
    bot = ChatModel(model, tokenizer, options=ChatOptions(8))
    first = bot.answer([], QUESTION)
    second = bot.answer([Turn(QUESTION, first)], "Is a fever of 39 degrees dangerous?")
    assert first and second


# --------------------------------------------------------------------------------------------------
# The red-flag guard: its notice before the answer, never in the history the model sees
# --------------------------------------------------------------------------------------------------


def test_the_page_history_drops_the_guard_notice():
    assert notice_for(RED_FLAG_QUESTION) == EMERGENCY_NOTICE and notice_for(QUESTION) is None
    messages = [
        {"role": "user", "content": RED_FLAG_QUESTION},
        {"role": "assistant", "content": with_notice(EMERGENCY_NOTICE, "Rest.")},
        {"role": "user", "content": "Stopped at once?"},
        {"role": "assistant", "content": [{"type": "text", "text": EMERGENCY_NOTICE}]},
        {"role": "user", "content": "And now?"},
        {"role": "assistant", "content": with_notice(EMERGENCY_NOTICE, NO_ANSWER)},
    ]
    assert messages_to_turns(messages) == [Turn(RED_FLAG_QUESTION, "Rest.")]


def test_the_terminal_prints_the_notice_before_the_answer(trained, monkeypatch):
    import io

    from llm_finetune.chat.terminal import MODEL_LABEL, chat_loop

    bot = ChatModel(trained.model, trained.tokenizer, options=ChatOptions(8))
    answer = bot.answer([], RED_FLAG_QUESTION)
    calls = record_decoded_prompts(bot.model, monkeypatch)
    stdout = io.StringIO()
    chat_loop(bot, io.StringIO(f"{RED_FLAG_QUESTION}\n{QUESTION}\n/quit\n"), stdout)

    printed = stdout.getvalue()
    # The question, the notice, a blank line, then the streamed answer.
    assert f"You: {RED_FLAG_QUESTION}\n{EMERGENCY_NOTICE}\n\n{MODEL_LABEL}{answer}\n" in printed
    assert f"You: {QUESTION}\n{MODEL_LABEL}" in printed  # no notice for an everyday question
    assert sum(printed.count(notice) for notice in NOTICES) == 1
    # The second prompt holds the first turn as the model answered it, without the notice.
    first_turn = turn_ids(bot.tokenizer, DEFAULT_PROMPT_TEMPLATE, Turn(RED_FLAG_QUESTION, answer))
    assert calls[1] == first_turn + prompt_ids(bot.tokenizer, DEFAULT_PROMPT_TEMPLATE, QUESTION)


def test_the_web_chat_streams_the_notice_first_then_the_answer(trained, monkeypatch):
    from llm_finetune import webchat

    bot = ChatModel(trained.model, trained.tokenizer, options=ChatOptions(8))
    respond = webchat.make_respond(bot)
    answer = bot.answer([], RED_FLAG_QUESTION)

    shown = list(respond(RED_FLAG_QUESTION, []))
    assert shown[0] == EMERGENCY_NOTICE  # before the model has produced anything
    assert len(shown) > 2 and all(text.startswith(EMERGENCY_NOTICE + "\n\n") for text in shown[1:])
    assert shown[-1] == with_notice(EMERGENCY_NOTICE, answer)
    assert not any(notice in text for text in list(respond(QUESTION, [])) for notice in NOTICES)

    # The page sends the shown text back as history: the model gets the answer alone.
    calls = record_decoded_prompts(bot.model, monkeypatch)
    history = [
        {"role": "user", "content": RED_FLAG_QUESTION},
        {"role": "assistant", "content": shown[-1]},
    ]
    list(respond(QUESTION, history))
    (given,) = calls
    first_turn = turn_ids(bot.tokenizer, DEFAULT_PROMPT_TEMPLATE, Turn(RED_FLAG_QUESTION, answer))
    assert given == first_turn + prompt_ids(bot.tokenizer, DEFAULT_PROMPT_TEMPLATE, QUESTION)


# --------------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------------


def run_cli(*args: str, stdin: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llm_finetune.chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_cli_round_trip_with_piped_input(model_dir, tmp_path):
    done = run_cli(
        "--model-dir",
        str(model_dir),
        "--max-new-tokens",
        "8",
        stdin=f"{QUESTION}\n/quit\n",
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == DISCLAIMER
    assert f"You: {QUESTION}" in lines
    answers = [line.removeprefix("Doctor: ") for line in lines if line.startswith("Doctor: ")]
    assert len(answers) == 1
    assert answers[0].startswith("Hi.") and answers[0] != NO_ANSWER
    assert "Traceback" not in done.stderr


def test_cli_reports_a_missing_model_dir_in_one_line(tmp_path, capsys, restore_logging):
    from llm_finetune.chat.terminal import main

    assert main(["--model-dir", str(tmp_path / "nothing_here")]) == 1
    captured = capsys.readouterr()
    assert DISCLAIMER in captured.out
    error_lines = captured.err.strip().splitlines()
    assert len(error_lines) == 1 and error_lines[0].startswith("error: no saved model in")
    assert TRAINING_HINT in error_lines[0]


def test_cli_rejects_a_folder_that_is_not_a_project(tmp_path, capsys, restore_logging):
    from llm_finetune.chat.terminal import main

    assert main(["--project", str(tmp_path)]) == 1
    assert "is not a Kedro project" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# Loading through a project's catalog
# --------------------------------------------------------------------------------------------------

OLD, NEW = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"
PROJECT_TEMPLATE = "Patient asks: {question}\nDoctor says: {answer}"
OLD_TEMPLATE = "Q: {question}\nA: {answer}"  # the format OLD was trained (and saved) with


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration, with a local prompt_template override (which the
    chat must not use: it prompts a model in the format the model was saved with)."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    dest = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "conf" / "base", dest / "conf" / "base")
    (dest / "conf" / "local").mkdir()
    (dest / "conf" / "local" / "parameters.yml").write_text(
        f"prompt_template: {json.dumps(PROJECT_TEMPLATE)}\n", encoding="utf-8"
    )
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / "src").mkdir()  # bootstrap_project checks that the source folder exists
    return dest


def _save_version(project: Path, version: str, model, tokenizer, prompt_format=None) -> None:
    from kedro.io import Version

    from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer

    dataset = HFModelDataset(
        filepath=str(project / "data" / "06_models" / "fine_tuned_model"),
        version=Version(None, version),
    )
    dataset.save(ModelAndTokenizer(model, tokenizer, prompt_format))


def _ids_given_to_the_model(loaded, question: str, monkeypatch) -> list[int]:
    """The prompt ids the chat hands to the model's ``generate`` for ``question``."""
    bot = ChatModel(loaded.model, loaded.tokenizer, loaded.prompt_template, ChatOptions(2))
    calls = record_decoded_prompts(bot.model, monkeypatch)
    bot.answer([], question)
    (ids,) = calls
    return ids


def _same_weights(a, b) -> bool:
    import torch

    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def test_catalog_loading_latest_and_chosen_versions(
    project, trained, capsys, monkeypatch, restore_logging
):
    from llm_finetune.chat.terminal import main

    # No version saved yet: one clear line, exit code 1.
    assert main(["--project", str(project)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "no version yet" in error and TRAINING_HINT in error
    assert "Traceback" not in error

    model, tokenizer = trained.model, trained.tokenizer
    other = build_tiny_model(tokenizer, seed=1)
    _save_version(project, OLD, model, tokenizer, PromptFormat(OLD_TEMPLATE))
    _save_version(project, NEW, other, tokenizer)  # saved before models recorded their format

    latest = load_chat_model(project=project)
    assert latest.prompt_template == DEFAULT_PROMPT_TEMPLATE  # not the project's current one
    assert "no prompt_format.json: the default prompt template" in latest.source
    assert NEW in latest.source and _same_weights(latest.model, other)

    chosen = load_chat_model(project=project, version=OLD)
    assert OLD in chosen.source and _same_weights(chosen.model, model)
    assert chosen.prompt_template == OLD_TEMPLATE
    given = _ids_given_to_the_model(chosen, QUESTION, monkeypatch)
    assert tokenizer.decode(given) == f"Q: {QUESTION}\nA: "
    assert given == tokenizer(f"Q: {QUESTION}\nA: ")["input_ids"]
    default = _ids_given_to_the_model(latest, QUESTION, monkeypatch)
    assert tokenizer.decode(default) == f"### Question:\n{QUESTION}\n### Answer:\n"

    with pytest.raises(ChatError, match=TRAINING_HINT):
        load_chat_model(project=project, version="1999-01-01T00.00.00.000Z")

    # --model-dir, with a project or without one: that directory, in its own format.
    plain = load_chat_model(project=project, model_dir=_only_model_dir(project, OLD))
    assert plain.prompt_template == OLD_TEMPLATE and _same_weights(plain.model, model)
    monkeypatch.chdir(project.parent)
    bare = load_chat_model(model_dir=_only_model_dir(project, OLD))
    assert bare.prompt_template == OLD_TEMPLATE
    older = load_chat_model(model_dir=_only_model_dir(project, NEW))
    assert older.prompt_template == DEFAULT_PROMPT_TEMPLATE


def test_the_web_chat_prompts_a_model_in_its_saved_format(
    tmp_path, tiny_model, tiny_tokenizer, monkeypatch, restore_logging
):
    from llm_finetune import webchat
    from llm_finetune.chat.cli import chat_model_from_args
    from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer

    saved = tmp_path / "model"
    HFModelDataset(filepath=str(saved)).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer, PromptFormat(OLD_TEMPLATE))
    )
    args = webchat.parse_args(["--model-dir", str(saved), "--max-new-tokens", "2"])
    bot = chat_model_from_args(args)
    assert bot.prompt_template == OLD_TEMPLATE
    calls = record_decoded_prompts(bot.model, monkeypatch)
    history = [
        {"role": "user", "content": "Earlier?"},
        {"role": "assistant", "content": "Rest."},
    ]
    list(webchat.make_respond(bot)(QUESTION, history))

    (given,) = calls
    earlier = turn_ids(bot.tokenizer, OLD_TEMPLATE, Turn("Earlier?", "Rest."))
    assert given == earlier + prompt_ids(bot.tokenizer, OLD_TEMPLATE, QUESTION)
    assert bot.tokenizer.decode(given).endswith(
        f"Q: Earlier?\nA: Rest.<|endoftext|>Q: {QUESTION}\nA: "
    )


def _only_model_dir(project: Path, version: str) -> Path:
    return project / "data" / "06_models" / "fine_tuned_model" / version / "fine_tuned_model"
