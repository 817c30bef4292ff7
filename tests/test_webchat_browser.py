"""The web chat in a real browser: Debian's headless Chromium, driven by Playwright.

``python -m llm_finetune.webchat`` serves the trained tiny model on a free 127.0.0.1 port; the
browser types a question, submits it and waits for the streamed answer, which must equal what the
shared generation function answers. A red-flag question gets the guard's notice before its
answer, and the next answer shows that the notice did not reach the model's history. The page
must show the disclaimer, fetch nothing from outside 127.0.0.1, and the server must listen on
127.0.0.1 only. The screenshot stays in pytest's tmp_path.

Chromium comes from Debian (``apt-get install -y chromium``): Playwright never downloads a browser
here. A missing /usr/bin/chromium fails the test: CI installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from llm_finetune.modeling.prompt_format import DEFAULT_PROMPT_TEMPLATE, render_prompt
from llm_finetune.safety.guard import EMERGENCY_NOTICE, with_notice
from tests.test_chat import QUESTION, RED_FLAG_QUESTION, trained_tiny_model_dir

CHROMIUM = Path("/usr/bin/chromium")
# --user-data-dir=<fresh temp dir> is passed as launch_persistent_context(user_data_dir=...):
# Playwright adds the flag itself and refuses it in args.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_NEW_TOKENS = 24
SECOND_QUESTION = "Is a fever of 39 degrees dangerous?"
LAST_QUESTION = "Why does my knee hurt when climbing stairs?"
QUESTIONS = (QUESTION, SECOND_QUESTION, RED_FLAG_QUESTION, LAST_QUESTION)
DISCLAIMER_TEXT = "answers come from a small demo model and are not medical advice"
LOCAL_HOSTS = {"127.0.0.1"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_served(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"webchat exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"webchat did not answer on {url} within {timeout:.0f} s:\n{log.read_text()}")


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


def comparable(text: str) -> str:
    """Letters and digits only: the page renders answers as Markdown, which may eat punctuation."""
    return "".join(char for char in text if char.isalnum())


def expected_answers(model_dir: Path) -> list[str]:
    """What the shared chat code shows for each of :data:`QUESTIONS`, after the turns before it:
    the red-flag question's answer after the guard's notice, and the history without it."""
    from llm_finetune.chat.bot import ChatModel
    from llm_finetune.chat.history import Turn
    from llm_finetune.chat.options import ChatOptions
    from llm_finetune.datasets.model_dirs import load_model_dir
    from llm_finetune.generation import generate_answers

    model, tokenizer = load_model_dir(model_dir)[:2]
    prompt = render_prompt(DEFAULT_PROMPT_TEMPLATE, QUESTION)
    (first,) = generate_answers(model, tokenizer, [prompt], max_new_tokens=MAX_NEW_TOKENS)
    assert first.text, "the tiny model should answer with visible text"
    bot = ChatModel(model, tokenizer, options=ChatOptions(MAX_NEW_TOKENS))
    turns = [Turn(QUESTION, first.text)]
    for question in QUESTIONS[1:]:
        turns.append(Turn(question, bot.answer(turns, question)))
    shown = [turn.answer for turn in turns]
    shown[QUESTIONS.index(RED_FLAG_QUESTION)] = with_notice(EMERGENCY_NOTICE, turns[2].answer)
    return [comparable(text) for text in shown]


WAIT_FOR_ANSWER = """([count, expected]) => {
    const bots = document.querySelectorAll('[data-testid="bot"]');
    if (bots.length !== count) return false;
    return bots[count - 1].innerText.replace(/[^\\p{L}\\p{N}]/gu, '') === expected;
}"""


def test_webchat_answers_in_headless_chromium(tmp_path, tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get update && apt-get install -y chromium` (CI does)"
        )
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: .venv/bin/pip install -e '.[dev]'")

    model_dir = trained_tiny_model_dir(tmp_path_factory)
    expected = expected_answers(model_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "webchat.log"
    screenshot = tmp_path / "webchat.png"
    external: list[str] = []

    with open(log, "w", encoding="utf-8") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "llm_finetune.webchat", "--model-dir", str(model_dir)]
            + ["--port", str(port), "--max-new-tokens", str(MAX_NEW_TOKENS)],
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_until_served(url, server, log, timeout=120)
        assert listening_addresses(port) == {"0100007F"}, "the server must listen on 127.0.0.1 only"

        def local_only(route) -> None:
            request_url = route.request.url
            if urlsplit(request_url).scheme in {"http", "https", "ws", "wss"} and (
                urlsplit(request_url).hostname not in LOCAL_HOSTS
            ):
                external.append(request_url)
                route.abort()
            else:
                route.continue_()

        with (
            tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch_persistent_context(
                user_data_dir=profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1100, "height": 720},
            )
            try:
                browser.route("**/*", local_only)
                page = browser.new_page()
                page.goto(url)
                page.get_by_placeholder("Ask a question and press Enter").wait_for(timeout=30_000)
                # Gradio clears the placeholder after the first question: find the box by id.
                question_box = page.locator("#question textarea")
                for turn, question in enumerate(QUESTIONS, start=1):
                    question_box.fill(question)
                    question_box.press("Enter")
                    page.get_by_test_id("user").filter(has_text=question).wait_for(timeout=10_000)
                    try:  # the streamed answer, equal to the shared code's (history included)
                        page.wait_for_function(
                            WAIT_FOR_ANSWER, arg=[turn, expected[turn - 1]], timeout=30_000
                        )
                    finally:  # the stream has ended before the next question is typed
                        expect(question_box).to_be_editable(timeout=10_000)
                        if turn == 1:
                            page.screenshot(path=str(screenshot), full_page=True)
                expect(page.locator("#question .submit-button")).to_be_visible(timeout=10_000)
                page.screenshot(path=str(tmp_path / "webchat_all_turns.png"), full_page=True)
                disclaimer = page.locator("#disclaimer").inner_text()
                assert DISCLAIMER_TEXT in " ".join(disclaimer.split()).lower()
                assert DISCLAIMER_TEXT in " ".join(page.inner_text("body").split()).lower()
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    assert not external, f"the page tried to fetch from outside 127.0.0.1: {external}"
    assert screenshot.stat().st_size > 10_000
    served = log.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{port}" in served and "Traceback" not in served, served
