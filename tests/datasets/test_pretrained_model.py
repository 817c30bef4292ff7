"""PretrainedModelDataset: base model sources, read-only, and errors that say what to do."""

from __future__ import annotations

import pytest
from kedro.io import DatasetError

from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer, PretrainedModelDataset
from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS
from tests.conftest import PROJECT_ROOT
from tests.datasets.model_checks import assert_same_model


def test_pretrained_from_local_directory(tmp_path, tiny_model, tiny_tokenizer):
    HFModelDataset(filepath=str(tmp_path / "base")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer)
    )
    dataset = PretrainedModelDataset(source=str(tmp_path / "base"), cache_dir=str(tmp_path / "c"))
    assert dataset.exists()
    loaded = dataset.load()
    assert_same_model(loaded, tiny_model, tiny_tokenizer)
    assert loaded.model.dtype.is_floating_point
    assert not (tmp_path / "c").exists()  # local directories are loaded in place
    assert dataset._describe()["source"] == str(tmp_path / "base")


def test_pretrained_is_read_only(tmp_path, tiny_model, tiny_tokenizer):
    dataset = PretrainedModelDataset(source=DEFAULT_MODEL_ALIAS, cache_dir=str(tmp_path))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))


def test_missing_gguf_path(tmp_path):
    dataset = PretrainedModelDataset(str(tmp_path / "absent.gguf"), cache_dir=str(tmp_path))
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="GGUF file not found"):
        dataset.load()


def test_directory_without_config_is_rejected(tmp_path):
    dataset = PretrainedModelDataset(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DatasetError, match="without config.json"):
        dataset.load()


def test_unknown_hub_id_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dataset = PretrainedModelDataset("no-such-org/no-such-model-xyz", cache_dir=str(tmp_path))
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="HF_HUB_OFFLINE=0") as info:
        dataset.load()
    assert "offline by default" in str(info.value)
    assert not any(tmp_path.iterdir())


def test_parts_read_one_source_the_weights_only_for_the_model(
    tmp_path, tiny_model, tiny_tokenizer, caplog
):
    """``part``: the tokenizer alone, the skeleton (no weights read) or the model, one source."""
    import logging

    from llm_finetune.pipelines.training.model_facts import summarize_architecture

    made_from = {"base_model": {"source": "older"}, "training_data": {"rows": 2}}
    HFModelDataset(filepath=str(tmp_path / "base")).save(
        ModelAndTokenizer(tiny_model, tiny_tokenizer, provenance=made_from)
    )

    def load(part: str):
        dataset = PretrainedModelDataset(str(tmp_path / "base"), str(tmp_path / "c"), part=part)
        return dataset.load()

    caplog.set_level(logging.INFO, logger="llm_finetune.datasets")
    model = load("model")
    tokenizer = load("tokenizer")
    skeleton = load("skeleton")
    loads = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Loaded")]
    assert [message.split(" from ")[0] for message in loads] == [
        f"Loaded base model {tmp_path / 'base'} (weights and tokenizer)",
        f"Loaded base model {tmp_path / 'base'} (tokenizer)",
        f"Loaded base model {tmp_path / 'base'} (skeleton)",
    ]
    assert_same_model(model, tiny_model, tiny_tokenizer)
    assert tokenizer.get_vocab() == model.tokenizer.get_vocab()
    assert tokenizer.pad_token == model.tokenizer.pad_token is not None
    assert {p.device.type for p in skeleton.model.parameters()} == {"meta"}  # nothing read
    assert summarize_architecture(skeleton) == summarize_architecture(model)
    identity = {"source": str(tmp_path / "base"), "revision": None, "kind": "local"}
    for loaded in (model, skeleton):
        assert loaded.provenance == {
            **identity,
            "location": str(tmp_path / "base"),
            **({"provenance": made_from} if loaded is model else {}),
        }
    with pytest.raises(DatasetError, match="part must be one of model, tokenizer, skeleton"):
        PretrainedModelDataset(str(tmp_path / "base"), str(tmp_path / "c"), part="weights")


def test_the_packaged_gguf_is_identified_by_its_package_version(tmp_path):
    import importlib.metadata

    from llm_finetune.datasets.gguf import MODEL_ALIASES

    dataset = PretrainedModelDataset(DEFAULT_MODEL_ALIAS, cache_dir=str(tmp_path))
    identity = dataset._identity(dataset._resolve())
    distribution = MODEL_ALIASES[DEFAULT_MODEL_ALIAS][0]
    assert identity["kind"] == "gguf" and identity["source"] == DEFAULT_MODEL_ALIAS
    assert identity["package"] == f"{distribution}=={importlib.metadata.version(distribution)}"
    assert identity["gguf_file"].endswith(".gguf") and identity["gguf_size"] > 0


@pytest.mark.parametrize(
    "env", sorted(p.name for p in (PROJECT_ROOT / "conf").iterdir() if p.name != "base") + [None]
)
def test_every_environment_reads_the_base_model_parts_from_one_source(env):
    from llm_finetune.config_loader import LayeredConfigLoader
    from llm_finetune.settings import CONFIG_LOADER_ARGS

    catalog = LayeredConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS
    )["catalog"]
    model = catalog["base_model"]
    assert model.get("part", "model") == "model"
    for name, part in (("base_tokenizer", "tokenizer"), ("base_model_skeleton", "skeleton")):
        assert catalog[name] == {**model, "part": part}, f"{name} of env {env} is not base_model's"
