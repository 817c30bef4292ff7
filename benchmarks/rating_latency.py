"""How long the rating page takes to answer a vote (target: under 300 ms on this CPU).

Builds a tiny project in a temporary folder (tests/rating/tiny.py) with ``--models`` model
versions x ``--questions`` questions of saved answers and ``--prefilled`` votes already in
``human_votes``, serves it with ``python -m llm_finetune.rating`` on a free 127.0.0.1 port, and
times ``--votes`` votes through Gradio's own client (HTTP, the queue, the server-sent answer: what
a click costs, without the browser's rendering): each vote appends a line (fsync) and returns the
next pair. It also times the same in-process (``RatingBoard.vote`` + ``next_pair``).

    .venv/bin/python benchmarks/rating_latency.py [--votes 200] [--models 8] [--questions 200]

Exit code 1 when the 95th percentile through the server is over the target.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.rating.tiny builds the project

TARGET_MS = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summary(name: str, seconds: list[float]) -> float:
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(
        f"{name}: {len(ms)} votes, median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ms[-1]:.1f} ms"
    )
    return p95


def prefill(project: Path, count: int) -> None:
    from llm_finetune.rating.__main__ import load_board

    board = load_board(project, None, seed=1)
    for _ in range(count):
        board.vote(board.next_pair().ticket, "tie", "prefill", note="x" * 200)


def in_process(project: Path, votes: int) -> list[float]:
    from llm_finetune.rating.__main__ import load_board

    board = load_board(project, None, seed=2)
    shown = board.next_pair()
    times = []
    for _ in range(votes):
        start = time.perf_counter()
        board.vote(shown.ticket, "a_better", "bench", ["unsafe"], [], "a note")
        shown = board.next_pair()
        times.append(time.perf_counter() - start)
    return times


def through_server(project: Path, votes: int) -> list[float]:
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [sys.executable, "-m", "llm_finetune.rating", "--project-path", str(project)]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the rating page did not start") from None
                time.sleep(0.5)
        client = Client(url, verbose=False)
        # The client's session starts without a pair: its first vote is refused and gets one.
        client.predict("bench", [], [], "", api_name="/vote_tie")
        times = []
        for _ in range(votes):
            start = time.perf_counter()
            result = client.predict("bench", ["unsafe"], [], "a note", api_name="/vote_a_better")
            times.append(time.perf_counter() - start)
            assert str(result[-1]).startswith("Vote "), result
        return times
    finally:
        server.terminate()
        server.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=200)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--prefilled", type=int, default=5000)
    args = parser.parse_args()

    from tests.rating.tiny import make_project

    models = [
        (name, f"2026-01-{day:02d}T00.00.00.000Z")
        for day in range(2, 2 + args.models)
        for name in ("fine_tuned_answers",)
    ]
    with tempfile.TemporaryDirectory(prefix="rating-bench-") as folder:
        project = make_project(Path(folder) / "project", args.questions, models)
        prefill(project, args.prefilled)
        pairs = args.questions * args.models * (args.models - 1) // 2
        print(
            f"{args.models} model versions x {args.questions} questions ({pairs} pairs), "
            f"{args.prefilled} votes already saved; {os.cpu_count()} CPUs"
        )
        summary("in process (vote + next pair)", in_process(project, args.votes))
        p95 = summary("through the server (Gradio client)", through_server(project, args.votes))
    ok = p95 < TARGET_MS
    print(f"target p95 < {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
