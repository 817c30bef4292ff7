"""The sweep's configurations, settings, summary rows and wiring, without training anything."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog
from matplotlib.figure import Figure

from llm_finetune.pipeline_registry import register_pipelines
from llm_finetune.pipelines.sweep import create_pipeline
from llm_finetune.pipelines.sweep.grid import (
    Configuration,
    configured_sweep,
    expand,
    namespace_of,
    training_for,
)
from llm_finetune.pipelines.sweep.nodes import (
    build_sweep_results,
    configure_evaluation,
    configure_training,
    expand_sweep,
    plot_sweep,
    summarize_configuration,
)
from tests.conftest import PROJECT_ROOT
from tests.pipelines.evaluation.test_pipeline import project_parameters

TRAINING = {
    "tokenization": {"max_length": 64, "answer_only_loss": True},
    "trainer": {"learning_rate": 1e-5, "max_steps": 60},
    "lora": {"enabled": False, "r": 16, "learning_rate": 1e-4, "target_modules": None},
    "checkpoint_dir": "data/06_models/checkpoints",
}


def test_the_grid_is_the_product_of_its_value_lists_named_after_the_overrides():
    sweep = {"grid": {"lora": {"learning_rate": [1e-5, 1e-4]}, "lora.r": [8, 16]}}
    configurations = expand(sweep)
    assert [c.overrides for c in configurations] == [
        {"lora.learning_rate": 1e-5, "lora.r": 8},
        {"lora.learning_rate": 1e-5, "lora.r": 16},
        {"lora.learning_rate": 1e-4, "lora.r": 8},
        {"lora.learning_rate": 1e-4, "lora.r": 16},
    ]
    assert [c.name for c in configurations] == [
        "learning_rate_1e-05__r_8",
        "learning_rate_1e-05__r_16",
        "learning_rate_0p0001__r_8",
        "learning_rate_0p0001__r_16",
    ]
    assert configurations[0].namespace == "sweep.learning_rate_1e-05__r_8"


def test_named_configurations_come_first_and_null_grid_keys_are_not_swept():
    sweep = {
        "configurations": [{"name": "full", "lora": {"enabled": False}}, {"lora.r": 4}],
        "grid": {"lora.r": None, "trainer.learning_rate": [1e-5]},
    }
    configurations = expand(sweep)
    assert configurations == [
        Configuration("full", {"lora.enabled": False}),
        Configuration("r_4", {"lora.r": 4}),
        Configuration("learning_rate_1e-05", {"trainer.learning_rate": 1e-5}),
    ]
    assert [c.name for c in expand({"configurations": [{"name": "a"}], "grid": None})] == ["a"]


def test_clashing_key_names_use_the_whole_path():
    grid = {"trainer.learning_rate": [1], "lora.learning_rate": [2]}
    names = [c.name for c in expand({"grid": grid})]
    assert names == ["trainer_learning_rate_1__lora_learning_rate_2"]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"grid": {}, "configurations": []}, "no configuration"),
        ({"grid": [{"lora.r": 8}]}, "sweep.configurations"),
        ({"grid": {"lora.r": 8}}, "non-empty list"),
        ({"configurations": [{"name": "a b"}]}, "letters, digits"),
        ({"configurations": [{"name": "a"}, {"name": "a"}]}, "unique"),
        ({"configurations": {"a": {}}}, "list of override mappings"),
    ],
)
def test_invalid_sweeps_are_explained(sweep, message):
    with pytest.raises(ValueError, match=message):
        expand(sweep)


def test_a_configuration_applies_the_sweep_overrides_then_its_own():
    sweep_training = {"lora": {"enabled": True}, "trainer": {"max_steps": 20, "eval_steps": 5}}
    configuration = Configuration("c", {"lora.r": 8, "tokenization.max_length": 32})
    settings = training_for(configuration, TRAINING, sweep_training)
    assert settings["lora"] == {**TRAINING["lora"], "enabled": True, "r": 8}
    assert settings["trainer"] == {"learning_rate": 1e-5, "max_steps": 20, "eval_steps": 5}
    assert settings["tokenization"]["max_length"] == 32
    assert TRAINING["lora"]["r"] == 16, "the parameters themselves are not changed"


@pytest.mark.parametrize("key", ["lora.rank", "lorax.r", "trainer.learning_rate.x", "epochs"])
def test_unknown_training_keys_fail(key):
    with pytest.raises(ValueError, match="configuration 'c'"):
        training_for(Configuration("c", {key: 1}), TRAINING, {})


def test_expand_sweep_and_configure_training_nodes():
    sweep = {"grid": {"lora.r": [8, 16]}, "training": {"lora": {"enabled": True}}}
    configurations = expand_sweep(sweep)
    assert configurations == [
        {"name": "r_8", "overrides": {"lora.r": 8}},
        {"name": "r_16", "overrides": {"lora.r": 16}},
    ]
    settings, tokenization = configure_training(TRAINING, sweep, configurations[1])
    assert settings["lora"]["r"] == 16 and settings["lora"]["enabled"] is True
    assert tokenization == TRAINING["tokenization"]


def test_configure_evaluation_overrides_the_evaluation_settings():
    evaluation = project_parameters()["evaluation"]
    settings, off_topic = configure_evaluation(
        evaluation, {"num_questions": 3, "perplexity_batch_size": 2}
    )
    assert settings["num_questions"] == 3 and settings["perplexity_batch_size"] == 2
    assert off_topic == evaluation["off_topic_prompts"]
    with pytest.raises(ValueError, match="unknown key"):
        configure_evaluation(evaluation, {"num_question": 3})


def _summary(name: str, losses: list[float]) -> dict:
    history = [{"step": 5 * (i + 1), "eval_loss": loss} for i, loss in enumerate(losses)]
    scores = {"perplexity": 10.0, "token_f1": 0.2, "rouge_l": 0.1, "bleu": 1.0}
    return summarize_configuration(
        {"name": name, "overrides": {"lora.r": 8}},
        {"log_history": history, "summary": {"train_loss": 2.0, "global_step": 10}},
        {"base": {**scores, "perplexity": 30.0}, "fine_tuned": scores, "num_questions": 5},
    )


def test_summary_rows_make_the_results_table_and_plot():
    summaries = [_summary("a", [3.0, 2.5]), _summary("b", [2.0, 2.4])]
    assert summaries[1]["best_eval_loss"] == 2.0 and summaries[1]["best_eval_step"] == 5
    assert summaries[1]["final_eval_loss"] == 2.4
    table = build_sweep_results(*summaries)
    assert isinstance(table, pd.DataFrame)
    assert table["configuration"].tolist() == ["a", "b"]
    assert table["lora.r"].tolist() == [8, 8]
    assert table["answer_perplexity"].tolist() == [10.0, 10.0]
    assert table["base_answer_perplexity"].tolist() == [30.0, 30.0]
    assert "eval_loss_curve" not in table.columns
    assert isinstance(plot_sweep(*summaries), Figure)


def test_namespace_of_a_configurations_dataset():
    assert namespace_of("sweep.lr_1.training_metrics") == "sweep.lr_1"
    assert namespace_of("sweep.base_answers") is None
    assert namespace_of("training_metrics") is None


# ---------- wiring ----------


def test_each_configuration_is_a_namespace_sharing_one_base_evaluation():
    pipe = create_pipeline(configurations=["a", "b"])
    names = {node.name for node in pipe.nodes}
    assert {"sweep.evaluate_base_model", "sweep.tokenize_test"} <= names
    for config in ("a", "b"):
        assert {
            f"sweep.{config}.configure_training",
            f"sweep.{config}.fine_tune",
            f"sweep.{config}.evaluate_fine_tuned_model",
            f"sweep.{config}.build_evaluation_metrics",
        } <= names
        assert f"sweep.{config}.evaluate_base_model" not in names
    assert pipe.outputs() >= {"sweep_results", "sweep_plot"}
    # The sweep makes choices, so it reads the validation split and never the test split.
    assert {n for n in pipe.inputs() if not n.startswith("params:")} == {
        "train_qa",
        "validation_qa",
        "base_model",
        "base_tokenizer",
        "base_model_skeleton",
        "prompt_format",  # the run's, saved with every configuration's model
        "red_flag_questions",  # the probe sets, asked once to the base model and per configuration
        "bias_question_pairs",
    }
    table = next(n for n in pipe.nodes if n.name == "sweep.a.build_comparison_table")
    assert "sweep.base_answers" in table.inputs and "sweep.a.fine_tuned_answers" in table.inputs
    metrics = next(n for n in pipe.nodes if n.name == "sweep.a.build_evaluation_metrics")
    assert "sweep.base_perplexity" in metrics.inputs
    evaluate = next(n for n in pipe.nodes if n.name == "sweep.a.evaluate_fine_tuned_model")
    # The same validation tokens as the base model.
    assert "sweep.tokenized_test" in evaluate.inputs


def test_registered_sweep_follows_the_configuration_files_and_default_excludes_it():
    pipelines = register_pipelines()
    expected = [c.name for c in expand(configured_sweep(PROJECT_ROOT))]
    fine_tunes = sorted(n.name for n in pipelines["sweep"].nodes if n.name.endswith(".fine_tune"))
    assert fine_tunes == sorted(f"sweep.{name}.fine_tune" for name in expected)
    default = {node.name for node in pipelines["__default__"].nodes}
    assert default == {
        node.name
        for name in ("data_engineering", "training", "evaluation")
        for node in pipelines[name].nodes
    }


def test_an_invalid_sweep_fails_only_the_sweep(tmp_path, monkeypatch):
    shutil_copy_conf(tmp_path)
    (tmp_path / "conf" / "local" / "parameters_sweep.yml").write_text(
        yaml.safe_dump({"sweep": {"grid": {"lora.r": 8}}})
    )
    (tmp_path / "pyproject.toml").write_text((PROJECT_ROOT / "pyproject.toml").read_text())
    monkeypatch.chdir(tmp_path)
    pipelines = register_pipelines()
    assert [node.name for node in pipelines["sweep"].nodes] == ["sweep.expand_sweep"]
    with pytest.raises(ValueError, match="non-empty list"):
        pipelines["sweep"].nodes[0].run({"params:sweep": {"grid": {"lora.r": 8}}})
    assert pipelines["__default__"].nodes


def shutil_copy_conf(destination):
    import shutil

    shutil.copytree(PROJECT_ROOT / "conf" / "base", destination / "conf" / "base")
    (destination / "conf" / "local").mkdir()


def test_catalog_factories_resolve_the_configurations_datasets():
    conf = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog_sweep.yml").read_text())
    catalog = DataCatalog.from_config(conf)
    model = catalog.get("sweep.lr_1.fine_tuned_model")
    assert type(model).__name__ == "MemoryDataset" and model._copy_mode == "assign"
    metrics = catalog.get("sweep.lr_1.evaluation_metrics")
    assert str(metrics._filepath).endswith("data/08_reporting/sweep/lr_1/evaluation_metrics.json")
    assert {"sweep_results", "sweep_plot"} <= set(conf)


def _registered_fine_tunes(project, env=None, runtime_params=None) -> set[str]:
    """The sweep's fine-tune nodes as a session in ``project`` builds them."""
    import os
    import sys

    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path, PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        bootstrap_project(project)
        with KedroSession.create(
            project_path=project, env=env, runtime_params=runtime_params
        ) as session:
            session.load_context()  # what `kedro run` does before it builds the pipelines
            return {n.name for n in pipelines["sweep"].nodes if n.name.endswith(".fine_tune")}


def test_the_runs_env_and_params_choose_the_configurations(tmp_path):
    from tests.mlflow_support import copy_project

    project = copy_project(tmp_path / "project", experiment="test_sweep_env")
    (project / "conf" / "mysweep").mkdir()
    (project / "conf" / "mysweep" / "parameters.yml").write_text(
        yaml.safe_dump({"sweep": {"configurations": [{"name": "from_env"}], "grid": None}})
    )
    assert _registered_fine_tunes(project, env="mysweep") == {"sweep.from_env.fine_tune"}
    params = {"sweep": {"grid": {"lora.r": [2, 3], "lora.learning_rate": None}}}
    assert _registered_fine_tunes(project, runtime_params=params) == {
        "sweep.r_2.fine_tune",
        "sweep.r_3.fine_tune",
    }


def test_a_configurations_bad_value_is_named_with_its_configuration():
    sweep = {"configurations": [{"name": "bad", "lora.r": 0}], "training": {}}
    [configuration] = expand_sweep(sweep)
    with pytest.raises(ValueError, match="sweep.bad.training.lora.r must be a positive integer"):
        configure_training(TRAINING, sweep, configuration)
