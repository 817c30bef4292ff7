"""The data_engineering pipeline end to end through Kedro, on the real dev rows and on the sample.

Each run happens in a temporary copy of the project (conf/base, pyproject.toml, the sample), so
the repository's data/ folder is never written. The package itself is the editable install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from llm_finetune.datasets import RawDialoguesDataset
from llm_finetune.modeling.prompt_format import PromptFormat
from llm_finetune.pipelines.data_engineering.nodes import normalise_schema, split_by_question
from tests.conftest import PROJECT_ROOT

SAMPLE = Path("data") / "01_raw" / "medical_dialogues_sample.jsonl"
SAFETY_SETS = Path("data") / "01_raw" / "safety"  # the red-flag training set and the probe
OUTPUTS = (
    "raw_dialogues",
    "train_qa",
    "validation_qa",
    "test_qa",
    "train_text",
    "data_quality_report",
    "prompt_format",
)
PREFIX = "Q. "
SAVED_OUTPUTS = (
    "data/03_primary/train_qa.jsonl",
    "data/03_primary/validation_qa.jsonl",
    "data/03_primary/test_qa.jsonl",
    "data/03_primary/train_text.jsonl",
    "data/05_model_input/prompt_format.json",
    "data/08_reporting/data_quality_report.json",
)


def copy_project(dest: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "conf" / "base", dest / "conf" / "base")
    (dest / "conf" / "local").mkdir()
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / SAMPLE).parent.mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / SAMPLE, dest / SAMPLE)
    shutil.copytree(PROJECT_ROOT / SAFETY_SETS, dest / SAFETY_SETS)
    (dest / "src").mkdir()  # bootstrap_project checks that the source folder exists
    return dest


def run_pipeline(project: Path, runtime_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run data_engineering with KedroSession and load every output back through the catalog."""
    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path and PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        bootstrap_project(project)
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            session.run(pipeline_names=["data_engineering"])
            catalog = session.load_context().catalog
            outputs = {name: catalog.load(name) for name in OUTPUTS}
    files = (p for p in (project / "data").rglob("*") if p.is_file())
    saved = sorted(p.relative_to(project).as_posix() for p in files)
    outputs["saved_files"] = [p for p in saved if not p.startswith("data/01_raw")]
    return outputs


def clean_text(text: str) -> str:
    """Independent re-statement of the cleaning rule: collapse whitespace, trim."""
    return " ".join(text.split())


def expected_question(description: str) -> str:
    cleaned = clean_text(description)
    return cleaned[len(PREFIX) :] if cleaned.startswith(PREFIX) else cleaned


def raw_records(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def source_rows(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The rows of ``frames`` read from the raw file (the training split's red-flag examples,
    with negative line numbers, left out)."""
    return pl.concat(frames, how="vertical_relaxed").filter(pl.col("line_number") > 0)


def safety_questions(report: dict[str, Any]) -> int:
    """The distinct red-flag training questions in the training split (each example once, until
    more rows are asked for than there are examples)."""
    mix = report["safety_examples"]
    return min(mix["safety_rows_added"], mix["safety_examples_available"])


def check_outputs_are_consistent(outputs: dict[str, Any], raw: list[dict[str, Any]]) -> None:
    """Invariants every run must satisfy, whatever its input."""
    report = outputs["data_quality_report"]
    train_qa, train_text = outputs["train_qa"], outputs["train_text"]
    splits = {name: outputs[f"{name}_qa"] for name in ("train", "validation", "test")}
    everything = pl.concat(list(splits.values()), how="vertical_relaxed")
    # The red-flag training examples (negative line numbers) are added to the training split.
    safety = everything.filter(pl.col("line_number") < 0)
    kept = everything.filter(pl.col("line_number") > 0)
    assert safety.height == report["safety_examples"]["safety_rows_added"]
    assert safety.height == round(0.1 * (train_qa.height - safety.height))
    assert set(safety["line_number"]) <= set(train_qa["line_number"])

    # row accounting, per split
    assert report["rows_read"] == len(raw) == outputs["raw_dialogues"].height
    assert report["rows_kept"] + sum(report["dropped_by_reason"].values()) == report["rows_read"]
    assert report["rows_kept"] == kept.height
    for name, frame in splits.items():
        assert report["splits"][name] == {
            "rows": frame.height,
            "questions": frame["plain_question"].n_unique(),
        }
        assert frame.height > 0

    # deduplicated: every kept (question, answer) pair is unique
    assert kept.select("plain_question", "answer").n_unique() == kept.height

    # grouped split: no question in two splits
    questions = {name: set(frame["plain_question"]) for name, frame in splits.items()}
    assert questions["train"].isdisjoint(questions["validation"] | questions["test"])
    assert questions["validation"].isdisjoint(questions["test"])
    assert set(report["questions_in_two_splits"].values()) == {0}

    # prompt form (by default the base tokenizer's chat template) and training text
    fmt = PromptFormat(**outputs["prompt_format"])
    assert fmt.kind == "chat" and fmt.template.startswith("<|im_start|>system\nYou are a doctor")
    for frame in splits.values():
        assert frame["question"].to_list() == [fmt.render(q) for q in frame["plain_question"]]
    assert train_text.columns == ["text"]
    assert train_text.height == train_qa.height
    assert train_text["text"].to_list() == [
        q + a for q, a in zip(train_qa["question"], train_qa["answer"], strict=True)
    ]

    # every kept row traces back to its raw line, cleaned exactly as specified: the answer is
    # the raw one less whole sentences (a greeting word may go from its first), and no arrow
    for line_number, question, answer in kept.select(
        "line_number", "plain_question", "answer"
    ).iter_rows():
        record = raw[line_number - 1]
        assert question == expected_question(record["Description"])
        assert not question.startswith(("Q.", " "))
        raw_answer = clean_text(record["Doctor"])
        assert "-->" not in answer and len(answer.split()) >= 8
        for sentence in re.split(r"(?<=[.!?]) ", answer):
            assert sentence.lower() in raw_answer.lower(), (sentence, raw_answer)

    # exactly one saved version of each output, written inside the temporary copy
    saved = outputs["saved_files"]
    assert len(saved) == len(SAVED_OUTPUTS), saved
    for dataset in SAVED_OUTPUTS:  # <filepath>/<version>/<file name>
        versions = [p for p in saved if p.startswith(f"{dataset}/")]
        assert len(versions) == 1 and versions[0].endswith(f"/{Path(dataset).name}"), saved


# ---------- the real dev rows ----------


@pytest.fixture(scope="module")
def real_run(real_dev_data, tmp_path_factory) -> dict[str, Any]:
    project = copy_project(tmp_path_factory.mktemp("real_project"))
    return run_pipeline(project, runtime_params={"raw_data_path": str(real_dev_data)})


@pytest.fixture(scope="module")
def real_raw(real_dev_data) -> list[dict[str, Any]]:
    records = raw_records(real_dev_data)
    assert len(records) == 776
    return records


def test_real_run_is_consistent(real_run, real_raw):
    check_outputs_are_consistent(real_run, real_raw)
    assert real_run["raw_dialogues"]["Description"].to_list() == [
        r["Description"] for r in real_raw
    ]


def test_real_run_accounts_for_all_776_rows(real_run):
    report = real_run["data_quality_report"]

    assert report["schema"] == "ai_medical_chatbot"
    assert report["rows_read"] == 776
    assert report["rows_kept"] + sum(report["dropped_by_reason"].values()) == 776
    assert report["rows_dropped"] == 776 - report["rows_kept"]


def test_real_run_removes_the_many_exact_duplicates(real_run, real_raw):
    report = real_run["data_quality_report"]
    usable = [
        (expected_question(r["Description"]), clean_text(r["Doctor"]))
        for r in real_raw
        if len(expected_question(r["Description"])) >= 10 and len(clean_text(r["Doctor"])) >= 20
    ]
    unique_pairs = set(usable)

    assert report["duplicates_removed"] > 0
    assert report["duplicates_removed"] == report["dropped_by_reason"]["duplicate"]
    assert report["duplicates_removed"] == len(usable) - len(unique_pairs)
    dropped = report["dropped_by_reason"]
    after_cleaning = ("low_content", "reused_answer", "duplicate_after_cleaning")
    assert report["rows_kept"] == len(unique_pairs) - sum(dropped[k] for k in after_cleaning)
    assert report["dropped_by_reason"]["empty_or_too_short"] == len(real_raw) - len(usable)
    # one pair repeats dozens of times in the raw rows, once in the output
    pair, copies = Counter(usable).most_common(1)[0]
    assert copies >= 20
    kept = source_rows([real_run["train_qa"], real_run["validation_qa"], real_run["test_qa"]])
    assert kept.filter(pl.col("plain_question") == pair[0]).height <= 1  # or dropped as boilerplate


def test_real_run_strips_the_sites_boilerplate(real_run, real_raw):
    """47% of the raw answers end in the site's referral line; none of the kept ones does, and
    the answers that were little else are gone, each counted."""
    report = real_run["data_quality_report"]
    cleaning, dropped = report["answer_cleaning"], report["dropped_by_reason"]
    kept = source_rows([real_run[f"{name}_qa"] for name in ("train", "validation", "test")])

    assert sum("-->" in r["Doctor"] for r in real_raw) > 300
    assert not kept.filter(pl.col("answer").str.contains("-->", literal=True)).height
    assert not kept.filter(pl.col("answer").str.contains(r"^(Hi|Hello)\b")).height
    assert cleaning["rows_changed"]["referral_line"] > 150
    assert dropped["low_content"] >= 40  # "Hi. For further information consult a dentist ..."
    # the stock sentences were found by counting, and each is gone from every kept answer
    stock = [item["sentence"] for item in cleaning["stock_sentences"]]
    assert "I understand your concern." in stock
    assert all(item["answers"] >= 3 for item in cleaning["stock_sentences"])
    for answer in kept["answer"]:
        assert not set(re.split(r"(?<=[.!?]) ", answer)) & set(stock)
        assert not re.search(r"-->|icliniq", answer, re.IGNORECASE)


def test_real_run_removes_the_prefix_without_eating_letters(real_run, real_raw):
    report = real_run["data_quality_report"]
    kept = source_rows([real_run["train_qa"], real_run["test_qa"]])

    assert all(r["Description"].startswith(PREFIX) for r in real_raw)
    assert report["prefix_removed"] == 776
    assert not kept.filter(pl.col("plain_question").str.starts_with("Q.")).height
    for line_number, question in kept.select("line_number", "plain_question").iter_rows():
        description = real_raw[line_number - 1]["Description"]
        assert question == clean_text(description.removeprefix(PREFIX))
        assert question == clean_text(description)[3:]  # exactly "Q. " went, not one char more


def test_real_run_split_is_grouped_and_sized(real_run):
    report = real_run["data_quality_report"]
    splits = report["splits"]
    questions = sum(split["questions"] for split in splits.values()) - safety_questions(report)

    assert splits["test"]["questions"] == round(0.1 * questions) >= 40
    assert splits["validation"]["questions"] == round(0.1 * questions)
    assert splits["test"]["questions"] == real_run["test_qa"]["plain_question"].n_unique()


def test_real_duplicated_rows_split_without_leakage(real_dev_data, real_raw):
    """The raw rows repeat questions; a grouped split keeps every copy on one side."""
    dialogues, _ = normalise_schema(RawDialoguesDataset(filepath=str(real_dev_data)).load())
    repeated = dialogues.group_by("question").len().filter(pl.col("len") > 1)
    assert repeated.height > 0

    train, validation, test = split_by_question(dialogues, 0.1, 0.1, seed=123)

    assert set(train["question"]).isdisjoint(set(test["question"]) | set(validation["question"]))
    assert set(validation["question"]).isdisjoint(set(test["question"]))
    assert train.height + validation.height + test.height == len(real_raw)


# ---------- the embedded sample (default path) ----------


@pytest.fixture(scope="module")
def sample_raw() -> list[dict[str, Any]]:
    return raw_records(PROJECT_ROOT / SAMPLE)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> dict[str, Any]:
    return run_pipeline(copy_project(tmp_path_factory.mktemp("sample_project")))


def test_sample_run_is_consistent(sample_run, sample_raw):
    check_outputs_are_consistent(sample_run, sample_raw)


def test_sample_run_counts_the_deliberate_messiness(sample_run, sample_raw):
    report = sample_run["data_quality_report"]

    assert report["rows_read"] == 185
    assert report["dropped_by_reason"] == {
        "missing_value": 1,  # null Doctor
        # the numeric Patient sits in a column the default config does not use: row kept
        "non_string_value": 0,
        "not_selected": 0,
        "empty_or_too_short": 4,  # empty Doctor, "Ok.", "Thank you.", bare "Q. "
        "duplicate": 8,  # 2 rows x 2 extra copies + 4 rows x 1 extra copy
        "low_content": 0,
        "reused_answer": 0,
        "duplicate_after_cleaning": 0,
    }
    assert report["rows_kept"] == 185 - 13 == 172
    assert report["prefix_removed"] == 184  # every row that reached cleaning
    whitespace_rows = sum(
        1
        for r in sample_raw
        if r["Doctor"] is not None
        and any(clean_text(r[c]) != r[c] for c in ("Description", "Doctor"))
    )
    assert report["whitespace_normalised"] == whitespace_rows > 0
    questions = sum(split["questions"] for split in report["splits"].values())
    assert questions - safety_questions(report) == 172


def test_sample_run_keeps_the_numeric_patient_row_and_q_words(sample_run, sample_raw):
    kept = source_rows([sample_run["train_qa"], sample_run["test_qa"]])
    numeric_patient = [
        i for i, r in enumerate(sample_raw, start=1) if not isinstance(r["Patient"], str)
    ]

    assert len(numeric_patient) == 1
    assert numeric_patient[0] in kept["line_number"].to_list()
    questions = set(kept["plain_question"])
    for question in (
        "Quinsy after tonsillitis - what now?",
        "QT interval prolonged on my ECG - what does it mean?",
        "Q fever exposure on a farm?",
        ".5% hydrocortisone cream on my face - is it safe?",
    ):
        assert question in questions


def test_sample_run_with_patient_text_drops_the_numeric_patient(tmp_path):
    project = copy_project(tmp_path)
    runtime_params = {"data_engineering": {"include_patient_text": True}}

    outputs = run_pipeline(project, runtime_params=runtime_params)

    report = outputs["data_quality_report"]
    assert report["dropped_by_reason"]["non_string_value"] == 1
    assert report["dropped_by_reason"]["missing_value"] == 1
    assert report["rows_kept"] + sum(report["dropped_by_reason"].values()) == 185
    # the other parameters kept their configured values (soft merge)
    questions = sum(split["questions"] for split in report["splits"].values())
    questions -= safety_questions(report)
    assert report["splits"]["test"]["questions"] == round(0.1 * questions)
    # the bare "Q. " title row now has a question (its patient message), so it is kept
    assert report["dropped_by_reason"]["empty_or_too_short"] == 3
    # each question is "<title> | Patient: <patient message>" (the configured separator), then
    # cleaned like any question
    raw = raw_records(PROJECT_ROOT / SAMPLE)
    kept = source_rows([outputs["train_qa"], outputs["test_qa"]])
    for line_number, question in kept.select("line_number", "plain_question").rows():
        record = raw[line_number - 1]
        folded = f"{record['Description']} | Patient: {record['Patient']}"
        assert question == expected_question(folded)


# ---------- the CLI on a broken file ----------


def test_cli_run_on_malformed_json_names_file_and_line(tmp_path):
    project = copy_project(tmp_path / "project")
    broken = tmp_path / "broken_dialogues.jsonl"
    good = {"Description": "Q. A good question?", "Patient": "Hi.", "Doctor": "A fine answer here."}
    broken.write_text(json.dumps(good) + "\n\n" + '{"Description": "Q. Cut", "Doctor": \n')
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "DO_NOT_TRACK": "1", "COLUMNS": "400", "NO_COLOR": "1"}

    result = subprocess.run(
        [
            str(kedro),
            "run",
            "--pipelines",
            "data_engineering",
            "--params",
            f"raw_data_path={broken}",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(rf"{re.escape(str(broken))}, line 3: malformed JSON", output), output
    assert not (project / "data" / "03_primary").exists()  # nothing was written
