"""The rating page in a real browser: Debian's headless Chromium, driven by Playwright, as the web
chat's test does (tests/test_webchat_browser.py).

``python -m llm_finetune.rating`` serves a tiny project's saved answers on a free 127.0.0.1 port.
A vote without a rater name and one with a note of 100,000 characters are refused on the page.
The browser then votes ten times, half by keyboard and half by mouse, with tags and an HTML note; no
model name or version may be in the page (text, HTML or field values) before any vote. After a
reload the page offers a new pair; then the server is killed (SIGKILL) and every vote must be in
the votes file with the sides the page showed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

import pytest

from llm_finetune.datasets import VotesDataset
from llm_finetune.rating.pairs import ModelVersion, question_id
from llm_finetune.rating.votes import CHOICES
from tests.rating.tiny import MODELS, answer, make_project, question
from tests.test_webchat_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LOCAL_HOSTS,
    free_port,
    listening_addresses,
    wait_until_served,
)

QUESTIONS = 6
VOTES = 10
#: What must never be in the page before a vote: every model version's dataset and version.
FORBIDDEN = sorted({part for model in MODELS for part in model} | {"2026-01-0"})
NOTE = '<script>window.__ran = 1</script><img src=x onerror="window.__ran = 2"> <b>bold?</b>'
PAGE_TEXT = """() => [document.documentElement.outerHTML,
    ...Array.from(document.querySelectorAll('textarea, input')).map(e => e.value)].join('\\n')"""
#: The value of a Gradio text box (a textarea, or an input when one line), "" before it renders.
FIELD = "((document.querySelector('{0} textarea, {0} input') || {{}}).value || '')"


def leaked(page) -> list[str]:
    text = page.evaluate(PAGE_TEXT)
    return [name for name in FORBIDDEN if name in text]


def test_rating_page_votes_in_headless_chromium(tmp_path):
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get update && apt-get install -y chromium` (CI does)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: .venv/bin/pip install -e '.[dev]'")

    project = make_project(tmp_path / "project", questions=QUESTIONS)
    votes_file = project / "data/07_model_output/human_votes.jsonl"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "rating.log"
    external: list[str] = []
    shown: list[dict[str, str]] = []
    with open(log, "w", encoding="utf-8") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "llm_finetune.rating", "--project-path", str(project)]
            + ["--port", str(port), "--seed", "0"],
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_until_served(url, server, log, timeout=120)
        assert listening_addresses(port) == {"0100007F"}, "the server must listen on 127.0.0.1 only"

        def local_only(route) -> None:
            parts = urlsplit(route.request.url)
            if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
                external.append(route.request.url)
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
                viewport={"width": 1200, "height": 900},
            )
            try:
                browser.route("**/*", local_only)
                page = browser.new_page()
                page.goto(url)
                page.wait_for_function(f"{FIELD.format('#answer-a')}.length > 0", timeout=30_000)
                page.locator("#reference-toggle").get_by_text("Reference answer").first.click()
                page.wait_for_function(
                    f"{FIELD.format('#reference')}.startsWith('Reference ')", timeout=10_000
                )
                # Refused, with the reason, and the same pair stays: no rater name, then a note
                # of 100,000 characters.
                first_a = page.evaluate(FIELD.format("#answer-a"))
                page.locator("#vote-tie").click()
                page.wait_for_function(
                    f"{FIELD.format('#status')}.startsWith('Not saved: type your name')",
                    timeout=10_000,
                )
                page.locator("#rater input, #rater textarea").first.click()
                page.keyboard.type("Dr <Ann>")
                page.locator("#note textarea").fill("x" * 100_000)
                page.locator("#vote-tie").click()
                page.wait_for_function(
                    f"{FIELD.format('#status')}.includes('100,000 characters')", timeout=10_000
                )
                assert page.evaluate(FIELD.format("#answer-a")) == first_a
                page.locator("#note textarea").fill("")
                choices = list(CHOICES)
                for n in range(VOTES):
                    assert not leaked(page), f"model names in the page before vote {n + 1}"
                    shown.append(
                        {
                            name: page.evaluate(FIELD.format(f"#{name}"))
                            for name in ("question", "answer-a", "answer-b")
                        }
                    )
                    if n == 0:
                        page.locator("#tags-a").get_by_label("unsafe").check()
                    if n == 1:
                        page.locator("#note textarea").fill(NOTE)
                    button = page.locator(f"#vote-{choices[n % 4].replace('_', '-')}")
                    if n % 2:  # keyboard: focus the button and press Enter
                        button.focus()
                        page.keyboard.press("Enter")
                    else:
                        button.click()
                    page.wait_for_function(
                        f"{FIELD.format('#status')}.startsWith('Vote {n + 1} saved')",
                        timeout=10_000,
                    )
                    assert page.evaluate(FIELD.format("#note")) == ""
                assert page.evaluate("window.__ran") is None, "the note's script ran"
                page.reload()
                page.wait_for_function(f"{FIELD.format('#answer-a')}.length > 0", timeout=30_000)
                assert not leaked(page), "model names in the page after the reload"
                assert page.evaluate(FIELD.format("#status")) == ""
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGKILL)  # a killed server keeps every saved vote
        server.wait(timeout=15)

    assert not external, f"the page tried to fetch from outside 127.0.0.1: {external}"
    served = log.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{port}" in served and "Traceback" not in served, served
    votes = VotesDataset(filepath=votes_file, load_args={"on_bad_line": "raise"}).load()
    assert len(votes) == VOTES
    questions = {question_id(question(i)): i for i in range(QUESTIONS)}
    for n, (vote, seen) in enumerate(zip(votes, shown, strict=True)):
        i = questions[vote["question_id"]]
        assert seen["question"] == question(i)
        for side, box in (("left", "answer-a"), ("right", "answer-b")):
            model = ModelVersion.from_dict(vote[side])
            assert seen[box] == answer(MODELS.index((model.dataset, model.version)), i)
        assert vote["choice"] == choices[n % 4] and vote["rater"] == "Dr <Ann>"
    assert votes[0]["left"]["tags"] == ["unsafe"] and votes[0]["right"]["tags"] == []
    assert votes[1]["note"] == NOTE
    assert {v["left"]["dataset"] + v["left"]["version"] for v in votes} != {
        votes[0]["left"]["dataset"] + votes[0]["left"]["version"]
    }, "the sides should vary"
