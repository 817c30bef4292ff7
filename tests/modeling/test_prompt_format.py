"""The prompt format: one template literal, and the record a saved model keeps of its format."""

from __future__ import annotations

import json
import logging

import pytest
from kedro.io import DatasetError, Version

from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer
from llm_finetune.datasets.model_dirs import load_model_dir
from llm_finetune.modeling.prompt_format import (
    DEFAULT_PROMPT_TEMPLATE,
    PROMPT_FORMAT_FILE,
    PromptFormat,
    prompt_format_of,
    read_prompt_format,
    render_prompt,
    resolve_template,
)
from tests.conftest import PROJECT_ROOT

OTHER_TEMPLATE = "Q: {question}\nA: {answer}"


def test_the_template_literal_is_written_in_one_file():
    literal = "### Question:\\n{question}\\n### Answer:\\n{answer}"  # as the source spells it
    places = [
        path.relative_to(PROJECT_ROOT).as_posix()
        for root in ("src", "conf")
        for path in sorted((PROJECT_ROOT / root).rglob("*"))
        if path.suffix in {".py", ".yml", ".yaml"} and literal in path.read_text(encoding="utf-8")
    ]
    assert places == ["src/llm_finetune/modeling/prompt_format.py"]
    assert DEFAULT_PROMPT_TEMPLATE == literal.replace("\\n", "\n")


def test_the_parameter_defaults_to_the_template_here():
    import yaml

    parameters = PROJECT_ROOT / "conf" / "base" / "parameters_data_engineering.yml"
    configured = yaml.safe_load(parameters.read_text(encoding="utf-8"))["prompt_template"]
    assert configured is None and resolve_template(configured) == DEFAULT_PROMPT_TEMPLATE
    assert render_prompt(None, "Why?") == "### Question:\nWhy?\n### Answer:\n"
    assert resolve_template(OTHER_TEMPLATE) == OTHER_TEMPLATE
    with pytest.raises(ValueError, match="string or null"):
        resolve_template(3)


def test_a_prompt_format_checks_its_template_and_kind():
    assert PromptFormat(OTHER_TEMPLATE).render("Why?") == "Q: Why?\nA: "
    assert PromptFormat.from_template(None).template == DEFAULT_PROMPT_TEMPLATE
    with pytest.raises(ValueError, match="must contain"):
        PromptFormat("Q: {question}")
    with pytest.raises(ValueError, match="unknown prompt format kind 'chat_template'"):
        PromptFormat(OTHER_TEMPLATE, kind="chat_template")


def test_the_format_round_trips_through_the_versioned_model_dataset(
    tmp_path, tiny_model, tiny_tokenizer
):
    provenance = {"base_model": {"source": "tiny"}, "training_data": {"rows": 3, "sha256": "ab"}}
    saved = HFModelDataset(filepath=str(tmp_path / "model"), version=Version(None, None))
    saved.save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer, PromptFormat(OTHER_TEMPLATE), provenance)
    )

    (directory,) = (tmp_path / "model").glob("*/model")
    assert (directory / "generation_config.json").is_file()  # the records sit beside it
    record = json.loads((directory / PROMPT_FORMAT_FILE).read_text(encoding="utf-8"))
    assert record == {"kind": "template", "template": OTHER_TEMPLATE}
    loaded = HFModelDataset(filepath=str(tmp_path / "model"), version=Version(None, None)).load()
    assert loaded.prompt_format == PromptFormat(OTHER_TEMPLATE)
    assert loaded.provenance == provenance


def test_an_older_model_without_the_record_gets_the_default_said_in_a_log_line(
    tmp_path, tiny_model, tiny_tokenizer, caplog
):
    HFModelDataset(filepath=str(tmp_path / "old")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer)
    )
    assert not (tmp_path / "old" / PROMPT_FORMAT_FILE).exists()
    loaded = load_model_dir(tmp_path / "old")
    assert loaded.prompt_format is None and loaded.provenance is None

    caplog.set_level(logging.INFO, logger="llm_finetune.modeling")
    assert prompt_format_of(loaded, "the old model").template == DEFAULT_PROMPT_TEMPLATE
    (line,) = [r.getMessage() for r in caplog.records if r.name.endswith("prompt_format")]
    assert "the old model records no prompt format" in line and "default template" in line


def test_a_damaged_record_is_an_error_naming_the_file(tmp_path, tiny_model, tiny_tokenizer):
    HFModelDataset(filepath=str(tmp_path / "m")).save(ModelAndTokenizer(tiny_model, tiny_tokenizer))
    (tmp_path / "m" / PROMPT_FORMAT_FILE).write_text('{"kind": "template"}', encoding="utf-8")
    assert read_prompt_format(tmp_path / "nothing") is None
    with pytest.raises(DatasetError, match=f"m/{PROMPT_FORMAT_FILE}: not a valid prompt format"):
        load_model_dir(tmp_path / "m")
