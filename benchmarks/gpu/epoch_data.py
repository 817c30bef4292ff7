"""The ``--epoch`` stretch's data: distinct raw rows built from the real ones, the
data_engineering nodes up to the templated train split, and ``tokenize_qa`` in processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common import REAL_ROWS, project_parameters, safety_sets

from llm_finetune.pipelines.training.tokenization import tokenize_qa

TOKENIZE_CHUNK_ROWS = 4_096  # below MIN_ITEMS_FOR_A_BAR: the workers draw no bars of their own
SUMMED_COUNTS = ("examples", "truncated", "dropped_prompt_too_long", "tokens", "answer_tokens")


def build_distinct_input(path: Path, rows: int) -> None:
    """``rows`` raw JSONL lines from the real rows, every one distinct after cleaning.

    As ``data_engineering_scale.build_input``: the real rows repeated in order, every third pass
    with messier whitespace in the answer (collapsed again by the cleaning). Unlike it, every
    question gets its row number (`` (case N)``): the real file holds 512 distinct pairs in 776
    rows and that builder's repeats are mostly exact duplicates after cleaning (56,873 of 256,916
    rows kept), while an epoch over the full-size dataset needs all of them.
    """
    real = [json.loads(line) for line in REAL_ROWS.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for index in range(rows):
            record = dict(real[index % len(real)])
            record["Description"] = f"{record['Description']} (case {index})"
            if (index // len(real)) % 3 == 2:
                record["Doctor"] = "  " + record["Doctor"].replace(". ", ".  ") + " "
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def engineer_train_qa(source: Path) -> tuple[Any, dict[str, Any]]:
    """The data_engineering pipeline's nodes with the ``conf/base`` parameters, up to the
    templated splits: (train_qa, data-quality report)."""
    from llm_finetune.datasets.raw_dialogues import RawDialoguesDataset
    from llm_finetune.pipelines.data_engineering import nodes

    config = project_parameters("base")
    settings, template = config["data_engineering"], config["prompt_template"]
    raw = RawDialoguesDataset(str(source)).load()
    dialogues, schema_drops = nodes.normalise_schema(
        raw, settings["include_patient_text"], settings["patient_text_separator"]
    )
    selected, not_selected = nodes.select_rows(dialogues, settings["max_rows"])
    clean, cleaning = nodes.clean_dialogues(
        selected,
        settings["question_prefix"],
        settings["min_question_chars"],
        settings["min_answer_chars"],
    )
    # The distinct copies repeat every real answer under many questions (as stock sentences
    # and reused answers they would all go) and an epoch needs the full dataset's size: the
    # answers are stripped, no row is dropped for its answer, no red-flag row is added.
    answered, answer_cleaning = nodes.clean_answers(
        clean,
        settings["strip_referral_lines"],
        settings["strip_greetings"],
        stock_sentence_min_answers=None,
        min_answer_words=0,
        max_questions_per_answer=None,
    )
    train, validation, test = nodes.split_by_question(
        answered, settings["validation_fraction"], settings["test_fraction"], settings["split_seed"]
    )
    mixed, safety_mix = nodes.mix_safety_training(train, *safety_sets(), 0, settings["split_seed"])
    *qa, _train_text = nodes.apply_prompt_template(mixed, validation, test, template)
    report = nodes.build_data_quality_report(
        raw, schema_drops, not_selected, cleaning, answer_cleaning, safety_mix, *qa
    )
    return qa[0], report


def tokenize_parallel(
    qa: Any, tokenizer: Any, tokenization: dict, workers: int
) -> tuple[Any, dict[str, Any]]:
    """``tokenize_qa`` over ``qa``: in this process (its own progress bar) with one worker, else
    on chunks of :data:`TOKENIZE_CHUNK_ROWS` rows in ``workers`` spawned processes, in order,
    with one bar over all rows. Same frame and counts either way. Spawned: with fork the workers
    hung here (polars documents that its thread pool can deadlock in a forked child)."""
    import itertools
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import polars as pl

    from llm_finetune.progress import MIN_ITEMS_FOR_A_BAR, progress_bar

    if workers <= 1 or qa.height <= TOKENIZE_CHUNK_ROWS:
        return tokenize_qa(qa, tokenizer, tokenization)
    chunks = [
        qa.slice(start, TOKENIZE_CHUNK_ROWS) for start in range(0, qa.height, TOKENIZE_CHUNK_ROWS)
    ]
    frames, counts = [], []
    bar = progress_bar(
        qa.height,
        f"tokenizing ({workers} processes)",
        "row",
        enabled=qa.height >= MIN_ITEMS_FOR_A_BAR,
    )
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=context) as pool:
        results = pool.map(
            tokenize_qa, chunks, itertools.repeat(tokenizer), itertools.repeat(dict(tokenization))
        )
        for chunk, (frame, stats) in zip(chunks, results, strict=True):
            frames.append(frame)
            counts.append(stats)
            bar.update(chunk.height)
    bar.close()
    frame = pl.concat(frames)
    return frame, _merged_counts(frame, counts)


def _merged_counts(frame: Any, counts: list[dict[str, Any]]) -> dict[str, Any]:
    """The chunks' counts summed, mean and max example length over the whole ``frame``."""
    lengths = frame["input_ids"].list.len()
    stats = {key: sum(c[key] for c in counts) for key in SUMMED_COUNTS}
    stats["mean_tokens_per_example"] = round(float(lengths.mean() or 0.0), 1)
    stats["max_tokens_per_example"] = int(lengths.max() or 0)
    return stats


def print_tokenized(stats: dict[str, Any]) -> None:
    print(
        f"tokenized: {stats['examples']:,} examples, {stats['tokens']:,} tokens (mean "
        f"{stats['mean_tokens_per_example']}, max {stats['max_tokens_per_example']}), "
        f"{stats['truncated']:,} answers truncated, {stats['dropped_prompt_too_long']:,} "
        "prompts too long"
    )


def print_engineered(source: Path, report: dict[str, Any]) -> None:
    print(
        f"input {source.stat().st_size / 1e6:,.0f} MB; data engineering: read "
        f"{report['rows_read']:,}, kept {report['rows_kept']:,}, dropped "
        f"{report['dropped_by_reason']}, splits "
        + ", ".join(f"{k} {v['rows']:,}" for k, v in report["splits"].items())
    )
