"""conf/base/parameters_*.yml is generated from the settings classes (the one source of the
defaults): the committed files are what the classes generate, and they read back as the classes'
values, each field with its doc comment."""

from __future__ import annotations

import yaml

from llm_finetune.config import TrainingSettings
from llm_finetune.config.defaults import CONF_BASE, FILES, field_docs, render, write_defaults
from tests.conftest import PROJECT_ROOT


def test_the_committed_defaults_are_what_the_classes_generate():
    assert CONF_BASE == PROJECT_ROOT / "conf" / "base"
    for name in FILES:
        committed = (CONF_BASE / name).read_text(encoding="utf-8")
        assert committed == render(name), (
            f"conf/base/{name} differs from the settings classes: change the default in its class "
            "and run `python -m llm_finetune.config write-defaults`"
        )


def test_the_generated_files_read_back_as_the_classes_defaults(tmp_path):
    written = write_defaults(tmp_path)
    assert sorted(path.name for path in written) == sorted(FILES)
    for name, (_, blocks) in FILES.items():
        values = yaml.safe_load((tmp_path / name).read_text(encoding="utf-8"))
        for block in blocks:
            assert values[block.SECTION] == block().to_dict(), name
    assert write_defaults(tmp_path) == []  # nothing changes on a second write


def test_each_field_doc_is_its_comment_in_the_yaml():
    text = render("parameters_training.yml")
    doc = field_docs(TrainingSettings)["checkpoint_dir"].splitlines()
    expected = "\n".join(f"  # {line}" for line in doc) + "\n  checkpoint_dir: "
    assert expected in text
    trainer_doc = field_docs(type(TrainingSettings().trainer))["max_steps"].splitlines()[0]
    assert f"    # {trainer_doc}\n" in text
