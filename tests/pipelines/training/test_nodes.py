import json
import math
from pathlib import Path

import polars as pl
import pytest
import torch

from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer
from llm_finetune.modeling.examples import IGNORE_INDEX
from llm_finetune.modeling.prompt_format import PromptFormat
from llm_finetune.modeling.provenance import data_fingerprint
from llm_finetune.pipelines.training import accounting, model_facts, nodes
from tests.conftest import build_tiny_model

QA = pl.DataFrame(
    {
        "question": [f"### Question:\nWhat helps symptom {i}?\n### Answer:\n" for i in range(8)],
        "answer": [f"Hi. Rest and fluids help with symptom {i}. See a doctor." for i in range(8)],
    }
)
TOKENIZATION = {"max_length": 256, "answer_only_loss": True}
OTHER_TEMPLATE = "Q: {question}\nA: {answer}"  # not the project's: it must travel with the model
# Decoding settings the fine-tuned model must carry into its generation_config.json.
GENERATION = {"max_new_tokens": 24, "repetition_penalty": 1.3, "no_repeat_ngram_size": 4}


def training_params(checkpoint_dir: Path, **trainer_overrides) -> dict:
    trainer = {
        "learning_rate": 1.0e-3,
        "per_device_train_batch_size": 1,
        "gradient_accumulation_steps": 2,
        "optim": "adafactor",
        "warmup_steps": 1,
        "max_steps": 2,
        "logging_steps": 1,
        "eval_steps": 1,
        "save_steps": 1,
        "save_total_limit": 1,
        "per_device_eval_batch_size": 2,
        "load_best_model_at_end": True,
        "metric_for_best_model": "eval_loss",
        "greater_is_better": False,
        "seed": 0,
        "dataloader_num_workers": 0,
        "use_cpu": True,
    }
    trainer.update(trainer_overrides)
    return {
        "tokenization": TOKENIZATION,
        "trainer": trainer,
        "early_stopping_patience": None,
        "lora": {
            "enabled": False,
            "r": 4,
            "alpha": 8,
            "dropout": 0.0,
            "target_modules": None,
            "learning_rate": 1.0e-2,
        },
        "packing": {"enabled": True, "examples_per_row": 2, "max_tokens_per_row": None},
        "chunked_loss": {"enabled": False, "chunk_tokens": 16},
        "checkpoint_dir": str(checkpoint_dir),
        "torch_threads": None,
    }


@pytest.fixture
def base(tiny_tokenizer):
    return ModelAndTokenizer(build_tiny_model(tiny_tokenizer), tiny_tokenizer)


@pytest.fixture
def tokenized(base):
    train, test, stats = nodes.tokenize_datasets(
        QA.head(6), QA.tail(2), base.tokenizer, TOKENIZATION
    )
    return train, test, stats


def test_tokenize_datasets_counts_and_labels(tokenized, tiny_tokenizer):
    train, test, stats = tokenized
    assert (train.height, test.height) == (6, 2)
    assert stats["train"]["examples"] == 6 and stats["train"]["truncated"] == 0
    columns = (train["input_ids"], train["labels"], train["attention_mask"])
    for ids, labels, mask in zip(*columns, strict=True):
        assert ids[-1] == labels[-1] == tiny_tokenizer.eos_token_id
        assert labels[0] == IGNORE_INDEX
        assert len(ids) == len(labels) == len(mask) and set(mask) == {1}


def test_tokenize_datasets_reports_truncation_and_drops(base):
    prompt_lengths = [len(base.tokenizer(q)["input_ids"]) for q in QA["question"]]
    tight = {"max_length": max(prompt_lengths) + 2, "answer_only_loss": True}
    train, _, stats = nodes.tokenize_datasets(QA, QA, base.tokenizer, tight)
    assert stats["train"]["truncated"] == 8 and stats["train"]["dropped_prompt_too_long"] == 0
    assert train["input_ids"].list.len().max() == tight["max_length"]

    too_tight = {"max_length": min(prompt_lengths), "answer_only_loss": True}
    with pytest.raises(ValueError, match="no train example fits"):
        nodes.tokenize_datasets(QA, QA, base.tokenizer, too_tight)


def test_two_steps_train_reload_and_generate(base, tokenized, tmp_path):
    train, test, stats = tokenized
    before = {k: v.clone() for k, v in base.model.state_dict().items()}
    identity = {"source": "tiny", "revision": None, "kind": "local", "location": "/models/tiny"}
    base = base._replace(provenance=identity)  # what PretrainedModelDataset attaches

    fine_tuned, metrics = nodes.fine_tune(
        base, train, test, training_params(tmp_path / "ckpt"), GENERATION, OTHER_TEMPLATE
    )

    losses = [e["loss"] for e in metrics["log_history"] if "loss" in e]
    eval_losses = [e["eval_loss"] for e in metrics["log_history"] if "eval_loss" in e]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses + eval_losses)
    assert all(torch.isfinite(p).all() for p in fine_tuned.model.parameters())
    changed = [k for k, v in fine_tuned.model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "two optimizer steps changed no weight"
    summary = metrics["summary"]
    assert summary["global_step"] == 2
    # 6 examples in 3 rows of 2; grad-accum 2 makes an epoch 2 optimizer steps (2 rows + 1 row),
    # so 2 steps train on every example exactly once, and no padding is counted.
    assert summary["tokens_trained"] == sum(train["input_ids"].list.len())
    assert summary["trainable_parameters"] == summary["total_parameters"]

    # A finished run leaves no checkpoints behind (hundreds of MB each on the real model).
    assert list((tmp_path / "ckpt").iterdir()) == []
    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(fine_tuned)
    reloaded = dataset.load()
    # The decoding settings travel with the model: plain transformers users get them.
    saved = json.loads((tmp_path / "model" / "generation_config.json").read_text())
    assert {key: saved[key] for key in GENERATION} == GENERATION
    assert saved["do_sample"] is False
    assert reloaded.model.generation_config.repetition_penalty == 1.3
    # So do its prompt format and what it was made from, beside generation_config.json.
    record = json.loads((tmp_path / "model" / "prompt_format.json").read_text())
    assert record == {"kind": "template", "template": OTHER_TEMPLATE}
    assert reloaded.prompt_format == PromptFormat(OTHER_TEMPLATE)
    made_from = json.loads((tmp_path / "model" / "provenance.json").read_text())
    assert made_from["base_model"] == identity
    assert made_from["training_data"] == data_fingerprint(train, "tokenized_train")
    assert made_from["training_data"]["rows"] == 6
    assert reloaded.provenance == made_from
    prompt = reloaded.tokenizer(QA["question"][0], return_tensors="pt")
    output = reloaded.model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert output.shape[1] > prompt["input_ids"].shape[1]

    architecture = model_facts.summarize_architecture(base)
    report = model_facts.build_model_report(metrics, stats, architecture)
    assert report["tokenization"] == stats
    # The architecture without print(model); memory sizing is infrastructure_sizing's alone.
    assert report["model_architecture"]["parameters"]["total"] == summary["total_parameters"]
    assert "module_tree" not in report["model_architecture"]
    assert not [key for key in report if "sizing" in key]
    # 6 examples over 2 optimizer steps, every token of them.
    assert report["examples_per_optimizer_step"] == 3.0
    assert report["tokens_per_optimizer_step"] == summary["tokens_trained"] / 2
    lengths = train["input_ids"].list.len().to_list()
    config = base.model.config
    expected = (
        6 * accounting.matmul_parameters(fine_tuned.model) * sum(lengths)
        + 12 * config.num_hidden_layers * config.hidden_size * sum(n * n for n in lengths)
    ) / 2
    assert report["flops_per_optimizer_step"] == pytest.approx(expected)
    for figure in (nodes.plot_loss(metrics), nodes.plot_learning_rate(metrics)):
        assert figure.axes[0].lines


def test_chunked_loss_training_matches_the_standard_loss(base, tokenized, tmp_path, tiny_tokenizer):
    train, test, _ = tokenized
    params = training_params(tmp_path / "standard", max_steps=1)
    _, standard = nodes.fine_tune(base, train, test, params, GENERATION)

    chunked_params = training_params(tmp_path / "chunked", max_steps=1)
    chunked_params["chunked_loss"]["enabled"] = True
    fresh = ModelAndTokenizer(build_tiny_model(tiny_tokenizer), tiny_tokenizer)
    _, chunked = nodes.fine_tune(fresh, train, test, chunked_params, GENERATION)

    first_loss = [e["loss"] for e in standard["log_history"] if "loss" in e][0]
    chunked_loss = [e["loss"] for e in chunked["log_history"] if "loss" in e][0]
    assert chunked_loss == pytest.approx(first_loss, rel=1e-4)
    assert chunked["summary"]["chunked_loss"] == {"enabled": True, "chunk_tokens": 16}


def test_attention_implementation_is_the_one_asked_and_trains_the_same(
    base, tokenized, tmp_path, tiny_tokenizer
):
    train, test, _ = tokenized
    params = training_params(tmp_path / "sdpa", max_steps=1)
    _, sdpa = nodes.fine_tune(base, train, test, params, GENERATION)

    eager_params = training_params(tmp_path / "eager", max_steps=1)
    eager_params["attn_implementation"] = "eager"
    fresh = ModelAndTokenizer(build_tiny_model(tiny_tokenizer), tiny_tokenizer)
    eager_model, eager = nodes.fine_tune(fresh, train, test, eager_params, GENERATION)

    assert eager_model.model.config._attn_implementation == "eager"
    first = [[e["loss"] for e in m["log_history"] if "loss" in e][0] for m in (sdpa, eager)]
    assert first[1] == pytest.approx(first[0], rel=1e-4)  # packed rows isolated either way

    flex_params = training_params(tmp_path / "flex", max_steps=1)
    flex_params["attn_implementation"] = "flex_attention"
    with pytest.raises(ValueError, match="flex_attention has no backward on cpu"):
        nodes.fine_tune(base, train, test, flex_params, GENERATION)
    assert not (tmp_path / "flex").exists()


def test_tokens_trained_counts_only_batches_trained_on(base, tokenized, tmp_path):
    train, test, _ = tokenized
    lengths = set(train["input_ids"].list.len().to_list())
    assert len(lengths) == 1, "every example has the same length here"
    params = training_params(tmp_path / "ckpt", max_steps=2, gradient_accumulation_steps=1)
    params["packing"]["enabled"] = False
    _, metrics = nodes.fine_tune(base, train, test, params, GENERATION)
    # 2 of the 6 one-example rows: the DataLoader's look-ahead batch is not counted.
    length = lengths.pop()
    summary = metrics["summary"]
    assert summary["tokens_trained"] == 2 * length and summary["examples_trained"] == 2
    assert summary["examples_per_optimizer_step"] == 1.0
    assert summary["tokens_per_optimizer_step"] == length


def test_training_flops_by_hand():
    """The issue's own example: 4 examples of ~86 tokens, 134.5M parameters, ~280 GFLOP."""
    assert accounting.training_flops(134_500_000, 345, 0, 30, 576) == 6 * 134_500_000 * 345
    # 6 N T + 12 L d sum(t^2): N=10, two examples of 3 and 4 tokens, L=2, d=5.
    assert accounting.training_flops(10, 7, 3 * 3 + 4 * 4, 2, 5) == 6 * 10 * 7 + 12 * 2 * 5 * 25


def test_matmul_parameters_count_a_tied_output_projection(base):
    model = base.model
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    vocabulary, width = model.get_output_embeddings().weight.shape
    body = model.num_parameters(exclude_embeddings=True)
    assert accounting.matmul_parameters(model) == body + vocabulary * width


def test_bad_generation_settings_fail_before_training(base, tokenized, tmp_path):
    train, test, _ = tokenized
    with pytest.raises(ValueError, match="generation.max_new_tokens must be a positive integer"):
        nodes.fine_tune(
            base, train, test, training_params(tmp_path / "ckpt"), {"max_new_tokens": -1}
        )
    with pytest.raises(ValueError, match="generation.max_lenght: unknown key"):
        nodes.fine_tune(base, train, test, training_params(tmp_path / "ckpt"), {"max_lenght": 9})
    assert not (tmp_path / "ckpt").exists()


def test_bad_training_settings_fail_before_training_naming_the_key(base, tokenized, tmp_path):
    train, test, _ = tokenized
    params = training_params(tmp_path / "ckpt")
    params["lora"] = {**params["lora"], "rnk": 8}
    with pytest.raises(ValueError, match=r"^training\.lora\.rnk: unknown key \(training pipeline"):
        nodes.fine_tune(base, train, test, params, GENERATION)
    params = training_params(tmp_path / "ckpt", warmup_step=1)
    with pytest.raises(ValueError, match="training.trainer: warmup_step is not a field"):
        nodes.fine_tune(base, train, test, params, GENERATION)
    assert not (tmp_path / "ckpt").exists()
    with pytest.raises(ValueError, match="training.tokenization.max_length must be a positive"):
        nodes.tokenize_datasets(QA, QA, base, {**TOKENIZATION, "max_length": 0})


def test_lora_trains_adapters_and_merges(base, tokenized, tmp_path):
    train, test, _ = tokenized
    params = training_params(tmp_path / "ckpt")
    params["lora"]["enabled"] = True
    base_weights = {k: v.clone() for k, v in base.model.state_dict().items()}

    fine_tuned, metrics = nodes.fine_tune(base, train, test, params, GENERATION)

    summary = metrics["summary"]
    assert summary["method"] == "lora"
    assert 0 < summary["trainable_parameters"] < summary["total_parameters"]
    merged = fine_tuned.model.state_dict()
    assert not any("lora" in key for key in merged), "adapters must be merged away"
    assert set(merged) == set(base_weights)
    assert any(not torch.equal(merged[k], base_weights[k]) for k in merged)


def test_interrupted_run_resumes_from_last_complete_checkpoint(
    base, tokenized, tmp_path, monkeypatch, caplog
):
    from transformers import Trainer

    train, test, _ = tokenized
    params = training_params(tmp_path / "ckpt", max_steps=4, save_steps=2, eval_steps=2)
    original_step = Trainer.training_step

    def power_loss(self, *args, **kwargs):
        if self.state.global_step == 3:
            raise KeyboardInterrupt("power loss")
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "training_step", power_loss)
    with pytest.raises(KeyboardInterrupt):
        nodes.fine_tune(base, train, test, params, GENERATION)
    monkeypatch.setattr(Trainer, "training_step", original_step)
    (run_dir,) = (tmp_path / "ckpt").iterdir()
    assert (run_dir / "checkpoint-2" / "trainer_state.json").is_file()
    (run_dir / "checkpoint-3").mkdir()  # a checkpoint cut off mid-write: no trainer_state.json

    with caplog.at_level("INFO"):
        _, metrics = nodes.fine_tune(base, train, test, params, GENERATION)

    assert metrics["summary"]["resumed_from_checkpoint"] == str(run_dir / "checkpoint-2")
    assert metrics["summary"]["global_step"] == 4
    assert "Resuming the interrupted run" in caplog.text
    steps = [e["step"] for e in metrics["log_history"] if "loss" in e]
    assert steps == [1, 2, 3, 4]


@pytest.mark.slow
def test_real_default_model_trains_a_few_steps(tmp_path):
    """SmolLM2-135M from the bundled GGUF: a few steps lower nothing to NaN and it still answers."""
    from llm_finetune.datasets import PretrainedModelDataset

    base_model = PretrainedModelDataset(
        source="smollm2-135m-instruct", cache_dir=str(Path("data/06_models/base_model"))
    ).load()
    train, test, _ = nodes.tokenize_datasets(
        QA.head(6), QA.tail(2), base_model.tokenizer, TOKENIZATION
    )
    params = training_params(tmp_path / "ckpt", max_steps=2, learning_rate=1.0e-5)
    fine_tuned, metrics = nodes.fine_tune(base_model, train, test, params, GENERATION)
    assert all(math.isfinite(e.get("loss", 0.0)) for e in metrics["log_history"])
    prompt = fine_tuned.tokenizer(QA["question"][0], return_tensors="pt")
    output = fine_tuned.model.generate(**prompt, max_new_tokens=8, do_sample=False)
    answer = fine_tuned.tokenizer.decode(output[0, prompt["input_ids"].shape[1] :])
    assert answer.strip()
