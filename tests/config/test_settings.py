"""The typed settings (``llm_finetune.config``): every environment's parameters build them, their
defaults are conf/base's, the derived settings are the ones the nodes used to compute, and a bad
key fails naming the full key and its pipeline."""

from __future__ import annotations

import dataclasses

import pytest

from llm_finetune.config import (
    ChunkedLossSettings,
    DataEngineeringSettings,
    EvaluationSettings,
    GenerationSettings,
    GpuSettings,
    HumanEvaluationSettings,
    InfrastructureSizingSettings,
    LoraSettings,
    PackingSettings,
    SettingsError,
    SizedModelSettings,
    SweepSettings,
    TokenizationSettings,
    TrainerSettings,
    TrainingSettings,
)
from llm_finetune.config.trainer_arguments import check_trainer_keys
from tests.conftest import PROJECT_ROOT

ENVIRONMENTS = ["base", "walkthrough", "hub", "gpu", "quality"]
#: Each top-level settings class and the parameters block it is built from.
BLOCKS = {
    "data_engineering": DataEngineeringSettings,
    "training": TrainingSettings,
    "evaluation": EvaluationSettings,
    "generation": GenerationSettings,
    "infrastructure_sizing": InfrastructureSizingSettings,
    "sweep": SweepSettings,
    "human_evaluation": HumanEvaluationSettings,
}


def resolved_parameters(env: str) -> dict:
    from llm_finetune.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    loader = CONFIG_LOADER_CLASS(
        conf_source=str(PROJECT_ROOT / "conf"),
        env=None if env == "base" else env,
        **CONFIG_LOADER_ARGS,
    )
    return loader["parameters"]


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def parameters(request) -> dict:
    return resolved_parameters(request.param)


def test_every_environment_builds_every_settings_class(parameters):
    for block, settings_class in BLOCKS.items():
        settings = settings_class.from_params(parameters[block], where=block)
        # Nothing is lost or changed on the way: the run key hashes this very layout.
        assert settings.to_dict() == parameters[block]
    check_trainer_keys(TrainingSettings.from_params(parameters["training"]))


def test_every_sweep_configuration_builds_the_training_settings(parameters):
    from llm_finetune.pipelines.sweep.grid import expand, training_for

    sweep = parameters["sweep"]
    for configuration in expand(sweep):
        training = training_for(configuration, parameters["training"], sweep.get("training") or {})
        settings = TrainingSettings.from_params(training, where=f"sweep.{configuration.name}")
        assert settings.to_dict() == training


def test_the_defaults_are_conf_base():
    parameters = resolved_parameters("base")
    for block, settings_class in BLOCKS.items():
        assert settings_class.from_params(parameters[block]) == settings_class(), block


def test_every_field_has_a_default_and_a_doc_comment():
    import inspect

    classes = [
        TokenizationSettings,
        TrainerSettings,
        LoraSettings,
        PackingSettings,
        ChunkedLossSettings,
        TrainingSettings,
        EvaluationSettings,
        DataEngineeringSettings,
        GenerationSettings,
        InfrastructureSizingSettings,
        SizedModelSettings,
        GpuSettings,
        SweepSettings,
        HumanEvaluationSettings,
    ]
    for settings_class in classes:
        if settings_class is not GpuSettings:  # a GPU entry names its own GPU
            settings_class()  # every field has a default
        source = inspect.getsource(settings_class)
        for item in dataclasses.fields(settings_class):
            before = source.split(f"\n    {item.name}:", 1)[0].rstrip().splitlines()[-1]
            assert before.strip().startswith("#:"), f"{settings_class.__name__}.{item.name}"


def test_the_trainer_fields_are_training_arguments_fields():
    from transformers import TrainingArguments

    defined = {item.name for item in dataclasses.fields(TrainingArguments) if item.init}
    assert set(TrainerSettings.known_keys()) <= defined


@pytest.mark.parametrize("env", ["base", "walkthrough", "gpu"])
@pytest.mark.parametrize("lora", [False, True])
def test_training_arguments_are_those_of_the_parameters(env, lora, tmp_path):
    """The arguments the settings yield are the ones the parameters gave before: the trainer
    block, with LoRA's learning rate when LoRA is on."""
    from transformers import TrainingArguments

    from llm_finetune.config.trainer_arguments import training_arguments

    training = resolved_parameters(env)["training"]
    training = {**training, "lora": {**training["lora"], "enabled": lora}}
    settings = TrainingSettings.from_params(training)
    expected_kwargs = dict(training["trainer"])
    if lora:
        expected_kwargs["learning_rate"] = training["lora"]["learning_rate"]
    assert settings.trainer_kwargs() == expected_kwargs
    expected = TrainingArguments(
        output_dir=str(tmp_path),
        eval_strategy="steps",
        save_strategy="steps",
        bf16=False,
        report_to="none",
        remove_unused_columns=False,
        dataloader_pin_memory=False,
        **expected_kwargs,
    )
    actual = training_arguments(settings, str(tmp_path), "cpu")
    assert actual.to_dict() == expected.to_dict()
    assert training_arguments(training, str(tmp_path), "cpu").to_dict() == expected.to_dict()


def test_the_learning_rate_is_derived_not_overwritten():
    settings = TrainingSettings.from_params(
        {"trainer": {"learning_rate": 1e-5}, "lora": {"enabled": True, "learning_rate": 2e-4}}
    )
    assert settings.effective_learning_rate == 2e-4
    assert settings.trainer.learning_rate == 1e-5  # the setting itself is left as given
    assert settings.trainer_kwargs()["learning_rate"] == 2e-4
    full = dataclasses.replace(settings, lora=dataclasses.replace(settings.lora, enabled=False))
    assert full.effective_learning_rate == full.trainer_kwargs()["learning_rate"] == 1e-5


def test_the_chunk_size_is_derived_from_the_chunked_loss_settings():
    assert TrainingSettings().chunk_tokens == 4096
    off = TrainingSettings.from_params({"chunked_loss": {"enabled": False, "chunk_tokens": 16}})
    assert off.chunk_tokens is None


def test_run_key_hashes_the_same_content_as_the_parameters(tiny_tokenizer):
    import polars as pl

    from llm_finetune.datasets import ModelAndTokenizer
    from llm_finetune.pipelines.training.checkpoints import run_key
    from tests.conftest import build_tiny_model

    base = ModelAndTokenizer(build_tiny_model(tiny_tokenizer), tiny_tokenizer)
    train = pl.DataFrame({"input_ids": [[1, 2]], "labels": [[1, 2]]})
    for env in ENVIRONMENTS:
        training = resolved_parameters(env)["training"]
        settings = TrainingSettings.from_params(training)
        assert run_key(settings, base, train) == run_key(training, base, train), env
    lora = {"lora": {"target_modules": ["q_proj", "v_proj"]}, "trainer": {"use_cpu": True}}
    training = TrainingSettings().to_dict()
    training["lora"].update(lora["lora"])
    training["trainer"].update(lora["trainer"])
    settings = TrainingSettings.from_params(training)
    assert settings.lora.target_modules == ("q_proj", "v_proj")
    assert run_key(settings, base, train) == run_key(training, base, train)
    changed = dataclasses.replace(settings, torch_threads=2)
    assert run_key(changed, base, train) != run_key(settings, base, train)


def test_trainer_keys_beyond_the_fields_are_kept_as_given():
    trainer = TrainerSettings.from_params({"max_steps": 4, "torch_compile": False, "use_cpu": True})
    assert trainer.max_steps == 4
    assert trainer.extra == {"torch_compile": False, "use_cpu": True}
    assert trainer.to_dict()["use_cpu"] is True and "extra" not in trainer.to_dict()
    check_trainer_keys(TrainingSettings(trainer=trainer))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"lora": {"rnk": 8}},
            "training.lora.rnk: unknown key (training pipeline; known: enabled, r, alpha, "
            "dropout, target_modules, learning_rate)",
        ),
        (
            {"lora": {"r": 0}},
            "training.lora.r must be a positive integer, got 0 (training pipeline)",
        ),
        ({"lora": {"r": "8"}}, "training.lora.r must be a positive integer, got '8'"),
        ({"lora": {"dropout": 1.5}}, "training.lora.dropout must be in [0, 1), got 1.5"),
        ({"lora": {"target_modules": ["q", 1]}}, "training.lora.target_modules must be a string"),
        ({"lora": 8}, "training.lora must be a mapping of settings, got 8 (training pipeline)"),
        ({"lora": {"enabled": "yes"}}, "training.lora.enabled must be true or false, got 'yes'"),
        ({"tokenization": {"max_lenght": 9}}, "training.tokenization.max_lenght: unknown key"),
        ({"tokenization": {"max_length": 0}}, "training.tokenization.max_length must be a posi"),
        ({"trainer": {"learning_rate": "1e-4"}}, "training.trainer.learning_rate must be a number"),
        ({"trainer": {"max_steps": 2.5}}, "training.trainer.max_steps must be an integer, got 2.5"),
        ({"packing": {"examples_per_row": None}}, "training.packing needs examples_per_row and/or"),
        ({"chunked_loss": {"chunk_tokens": 0}}, "training.chunked_loss.chunk_tokens must be a pos"),
        ({"torch_threads": -1}, "training.torch_threads must be an integer >= 0 or null, got -1"),
        (
            {"attn_implementation": "flash"},
            "training.attn_implementation must be one of sdpa, eager, flex_attention or null",
        ),
        ({"checkpoints": "x"}, "training.checkpoints: unknown key (training pipeline; known: tok"),
    ],
)
def test_bad_training_settings_are_named(params, message):
    with pytest.raises(SettingsError) as error:
        TrainingSettings.from_params(params)
    assert str(error.value).startswith(message)


def test_errors_name_the_block_where_it_was_found():
    with pytest.raises(ValueError, match=r"^sweep\.lr_1\.training\.lora\.rnk: unknown key"):
        TrainingSettings.from_params({"lora": {"rnk": 8}}, where="sweep.lr_1.training")
    with pytest.raises(ValueError, match=r"^sweep\.training\.lora\.r must be a positive integer"):
        TrainingSettings.from_params({"lora": {"r": 0}}, where="sweep.training")
    # Built directly, the settings name their usual key.
    with pytest.raises(ValueError, match=r"^training\.lora\.r must be a positive integer"):
        LoraSettings(r=0)


def test_unknown_trainer_keys_are_checked_against_training_arguments():
    settings = TrainingSettings.from_params({"trainer": {"warmup_step": 1, "learning_rat": 1}})
    with pytest.raises(
        ValueError,
        match=r"^training\.trainer: learning_rat, warmup_step are not fields of Hugging Face "
        r"TrainingArguments \(training pipeline; check the spelling",
    ):
        check_trainer_keys(settings)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_row": 5}, "data_engineering.max_row: unknown key (data_engineering pipeline; known"),
        ({"max_rows": 0}, "data_engineering.max_rows must be a positive integer or null, got 0"),
        ({"test_fraction": 0}, "data_engineering.test_fraction must be between 0 and 1, got 0"),
        ({"split_seed": -1}, "data_engineering.split_seed must be an integer >= 0, got -1"),
        ({"question_prefix": None}, "data_engineering.question_prefix must be a string, got None"),
        (
            {"validation_fraction": 0.6, "test_fraction": 0.4},
            "data_engineering.validation_fraction + data_engineering.test_fraction must be below 1",
        ),
    ],
)
def test_bad_data_engineering_settings_are_named(params, message):
    with pytest.raises(SettingsError) as error:
        DataEngineeringSettings.from_params(params)
    assert str(error.value).startswith(message)
    assert "(data_engineering pipeline" in str(error.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"num_questions": 0},
            "evaluation.num_questions must be a positive integer or null, got 0",
        ),
        ({"perplexity_batch_size": None}, "evaluation.perplexity_batch_size must be a positive"),
        ({"off_topic_prompts": "Mars?"}, "evaluation.off_topic_prompts must be a list of strings"),
        ({"num_question": 5}, "evaluation.num_question: unknown key (evaluation pipeline; known"),
    ],
)
def test_bad_evaluation_settings_are_named(params, message):
    with pytest.raises(SettingsError) as error:
        EvaluationSettings.from_params(params)
    assert str(error.value).startswith(message)


def test_from_params_takes_none_a_mapping_or_the_settings_themselves():
    assert TrainingSettings.from_params(None) == TrainingSettings()
    assert EvaluationSettings.from_params({"off_topic_prompts": None}).off_topic_prompts is None
    settings = TrainingSettings.from_params({"lora": {"enabled": True}})
    assert TrainingSettings.from_params(settings) is settings
    # Frozen, and lists become tuples: the settings cannot change under a node.
    prompts = EvaluationSettings.from_params({"off_topic_prompts": ["a", "b"]}).off_topic_prompts
    assert prompts == ("a", "b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.torch_threads = 2  # type: ignore[misc]


def test_importing_the_settings_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys; import llm_finetune.config; "
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_flex_attention_is_refused_where_it_cannot_train():
    settings = TrainingSettings.from_params({"attn_implementation": "flex_attention"})
    settings.check_device("cuda")
    with pytest.raises(SettingsError, match=r"^training.attn_implementation: flex_attention"):
        settings.check_device("cpu")
    TrainingSettings.from_params({"attn_implementation": "eager"}).check_device("cpu")
