"""``python -m llm_finetune.rating``: the blind rating page of the project's model versions.

Reads every saved version of the answers datasets, of the sweep's comparison tables and of
``test_qa`` through the project's catalog (no model is loaded: the answers are those the
evaluation and sweep pipelines saved), appends the
votes to the catalog entry ``human_votes``, and serves the page on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llm_finetune.rating.pairs import ANSWER_DATASETS, QUESTIONS_DATASET, SWEEP_TABLE

HOST = "127.0.0.1"
DEFAULT_PORT = 7861  # the web chat has 7860
VOTES_DATASET = "human_votes"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m llm_finetune.rating",
        description="Rate pairs of saved answers of two model versions, blind, in a local page.",
    )
    parser.add_argument("--project-path", type=Path, default=Path.cwd(), help="Kedro project")
    parser.add_argument("--env", default=None, help="Kedro environment (default: local)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the pair choice")
    return parser.parse_args(argv)


def load_board(project_path: Path, env: str | None, seed: int | None = None) -> Any:
    """The rating board of the project's saved answers and its ``human_votes`` dataset."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from llm_finetune.rating.board import RatingBoard
    from llm_finetune.rating.pairs import load_from_catalog, sweep_tables

    project_path = project_path.resolve()
    bootstrap_project(project_path)
    with KedroSession.create(project_path=project_path, env=env, save_on_close=False) as session:
        context = session.load_context()
        logging.getLogger("kedro").setLevel(logging.WARNING)  # no "Loading data from" per version
        catalog = context.catalog
        entries = context.config_loader["catalog"]
        names = [*ANSWER_DATASETS, QUESTIONS_DATASET]
        filepaths = {name: _local(project_path, entries[name]["filepath"]) for name in names}
        pattern = entries.get(SWEEP_TABLE, {}).get("filepath", "")
        tables = sweep_tables(pattern, project_path)
        questions, answer_sets = load_from_catalog(catalog, filepaths, tables=tables)
        store = catalog.get(VOTES_DATASET)
    return RatingBoard(questions, answer_sets, store, seed=seed)


def _local(project_path: Path, filepath: str) -> Path:
    path = Path(filepath)
    return path if path.is_absolute() else project_path / path


def main(argv: Sequence[str] | None = None) -> int:
    from llm_finetune.rating.page import build_app
    from llm_finetune.webchat import launch

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    board = load_board(args.project_path, args.env, args.seed)
    if not board.chooser.pairs:
        print(
            "error: nothing to rate: run the evaluation pipeline (kedro run) so that at least two "
            "model versions have saved answers to the same test questions",
            file=sys.stderr,
        )
        return 1
    models = len(board.models)
    print(
        f"{models} model versions, {len(board.chooser.pairs)} pairs; votes go to "
        f"{board.store.filepath}",
        flush=True,
    )
    print(f"Serving the rating page on http://{HOST}:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        launch(build_app(board), args.port)
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"error: cannot serve on {HOST}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
