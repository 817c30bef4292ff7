"""Infrastructure sizing against hand-computed values, with the project's own settings
(conf/base/parameters_infrastructure.yml: overhead 1.2, 40% MFU, 1e9 tokens, LoRA 1%)."""

from __future__ import annotations

import copy
import io
import logging
import math

import pandas as pd
import pytest

from llm_finetune.pipelines.training.sizing import size_infrastructure
from llm_finetune.pipelines.training.sizing_tables import render_infrastructure_sizing
from tests.conftest import PROJECT_ROOT

ARCHITECTURE = {
    "model_class": "LlamaForCausalLM",
    "name_or_path": "data/06_models/base_model/smollm2-135m-instruct",
    "parameters": {"total": 134_515_008},
}
HOUR = 3600


def project_settings() -> dict:
    """``params:infrastructure_sizing`` as a run sees it (the project's configuration loader)."""
    from kedro.config import OmegaConfigLoader

    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return copy.deepcopy(loader["parameters"]["infrastructure_sizing"])


@pytest.fixture(scope="module")
def settings() -> dict:
    return project_settings()


@pytest.fixture(scope="module")
def sizing(settings) -> pd.DataFrame:
    return size_infrastructure(ARCHITECTURE, settings)


def row(frame: pd.DataFrame, model: str, method: str) -> pd.Series:
    (index,) = frame.index[(frame["model"] == model) & (frame["method"] == method)]
    return frame.loc[index]


def test_seven_billion_by_hand(sizing):
    full = row(sizing, "7B", "full, AdamW")
    # 7e9 x 16 B (bf16 weights 2 + grads 2 + fp32 master 4 + moments 8) x 1.2 / 1e9 = 134.4 GB:
    # over 80 GB, within the H200's 141 GB.
    assert full["bytes_per_parameter"] == 16
    assert full["memory_gb"] == pytest.approx(7e9 * 16 * 1.2 / 1e9) == 134.4
    assert (full["smallest_gpu"], full["gpus"]) == ("H200", 1)
    assert math.isnan(full["train_hours_h100"])  # does not fit in 80 GB
    # 6 x 1e9 tokens x 7e9 / (989e12 x 0.4) / 3600 = 29.5 h on one H200.
    assert full["train_hours_h200"] == pytest.approx(6 * 1e9 * 7e9 / (989e12 * 0.4) / HOUR)
    assert full["train_hours_8x_h100"] == pytest.approx(6 * 1e9 * 7e9 / (8 * 989e12 * 0.4) / HOUR)

    adafactor = row(sizing, "7B", "full, Adafactor")
    # 7e9 x 8 B x 1.2 / 1e9 = 67.2 GB: the 80 GB GPUs, both named.
    assert adafactor["memory_gb"] == pytest.approx(67.2)
    assert adafactor["smallest_gpu"] == "A100 80GB / H100"
    assert "GCP a3-highgpu-1g" in adafactor["example_instances"]
    assert adafactor["train_hours_h100"] == pytest.approx(29.491, abs=1e-3)
    assert adafactor["train_hours_a100_80gb"] == pytest.approx(6e9 * 7e9 / (312e12 * 0.4) / HOUR)

    lora = row(sizing, "7B", "LoRA")
    # bf16 weights 2 + 1% adapters x 16 B = 2.16 B; 7e9 x 2.16 x 1.2 / 1e9 = 18.144 GB > T4's 16.
    assert lora["bytes_per_parameter"] == pytest.approx(2 + 0.01 * 16)
    assert lora["memory_gb"] == pytest.approx(18.144)
    assert lora["smallest_gpu"] == "L4 / A10G"
    assert math.isnan(lora["train_hours_t4"])
    # LoRA: 4 x N x tokens (no weight gradients); L4 121 TFLOPS: 160.7 h.
    assert lora["training_flops"] == pytest.approx(4 * 7e9 * 1e9)
    assert lora["train_hours_l4"] == pytest.approx(4e9 * 7e9 / (121e12 * 0.4) / HOUR)

    qlora = row(sizing, "7B", "QLoRA")
    # 4-bit NF4 0.5 B + double-quantized constants 0.127 bit / 8 + 0.16 = 0.675875 B -> 5.68 GB.
    assert qlora["memory_gb"] == pytest.approx(7e9 * (4.127 / 8 + 0.16) * 1.2 / 1e9)
    assert qlora["smallest_gpu"] == "T4" and "AWS g4dn.xlarge" in qlora["example_instances"]
    assert qlora["train_hours_t4"] == pytest.approx(4e9 * 7e9 / (65e12 * 0.4) / HOUR)  # 299 h


def test_seventy_billion_needs_nodes(sizing):
    serve = row(sizing, "70B", "bf16")
    # 70e9 x 2 B x 1.2 / 1e9 = 168 GB: over the H200's 141, the smallest node is 8 x A100 40GB.
    assert serve["memory_gb"] == pytest.approx(168)
    assert (serve["smallest_gpu"], serve["gpus"], serve["smallest_gpu_memory_gb"]) == (
        "8×A100 40GB",
        8,
        320,
    )
    assert "AWS p4d.24xlarge" in serve["example_instances"]
    assert math.isnan(serve["train_hours_8x_h200"])  # serving: no training time

    full = row(sizing, "70B", "full, AdamW")
    # 70e9 x 16 x 1.2 / 1e9 = 1344 GB > 8 x 141 = 1128 GB: ceil(1344 / 141) = 10 H200s.
    assert full["memory_gb"] == pytest.approx(1344)
    assert full["smallest_gpu"] == "multi-node: 10×H200" and pd.isna(full["gpus"])
    assert "1128 GB" in full["note"]
    hours = [c for c in sizing.columns if c.startswith("train_hours_")]
    assert full[hours].isna().all()


def test_pythia_and_the_base_model(sizing):
    pythia = row(sizing, "pythia-70m", "full, AdamW")
    assert pythia["parameters"] == 70_426_624  # its GPT-NeoX config, built on the meta device
    assert "GPTNeoXConfig" in pythia["parameters_source"]
    # 70,426,624 x 16 x 1.2 / 1e9 = 1.352 GB on a T4; 6 N tokens / (65e12 x 0.4) = 4.51 h.
    assert pythia["memory_gb"] == pytest.approx(1.3521912)
    assert pythia["smallest_gpu"] == "T4"
    assert pythia["train_hours_t4"] == pytest.approx(6e9 * 70_426_624 / (65e12 * 0.4) / HOUR)
    assert pythia["train_hours_t4"] == pytest.approx(4.5145, abs=1e-4)

    base = row(sizing, "base_model (smollm2-135m-instruct)", "bf16")
    assert base["parameters"] == 134_515_008
    assert "the loaded base model (LlamaForCausalLM)" in base["parameters_source"]
    assert base["memory_gb"] == pytest.approx(134_515_008 * 2 * 1.2 / 1e9)
    # 8 methods for each of the 8 models, in the listed order.
    assert len(sizing) == 8 * 8
    assert list(dict.fromkeys(sizing["model"]))[:3] == [
        "pythia-70m",
        "base_model (smollm2-135m-instruct)",
        "410M",
    ]


def test_unreadable_models_become_unavailable_rows(settings, caplog):
    broken = copy.deepcopy(settings)
    broken["models"].update(
        {
            "missing": {"config_path": "/no/such/config.json"},
            "misspelt": {"config": {"model_type": "gpt_neox", "hiden_size": 512}},
            "unknown_type": {"config": {"model_type": "no_such_model"}},
            "not_a_number": {"parameters": "seven billion"},
            "empty": {"source": "nothing to count"},
        }
    )
    with caplog.at_level(logging.WARNING):
        frame = size_infrastructure(ARCHITECTURE, broken)

    reasons = {
        "missing": "config_path '/no/such/config.json' does not exist",
        "misspelt": "unknown GPTNeoXConfig field(s) ['hiden_size']",
        "unknown_type": "unknown config model_type 'no_such_model'",
        "not_a_number": "parameters must be a positive number, got 'seven billion'",
        "empty": "needs exactly one of",
    }
    for name, reason in reasons.items():
        (note,) = frame.loc[frame["model"] == name, "note"]
        assert note.startswith("unavailable: ") and reason in note, note
        assert f"model {name!r} is unavailable" in caplog.text
    assert len(frame) == 8 * 8 + len(reasons)  # every other row is still built
    assert frame.loc[frame["model"] == "empty", "parameters_source"].item() == "nothing to count"

    _, markdown = render_infrastructure_sizing(frame, broken)
    unavailable = "unavailable: config_path '/no/such/config.json' does not exist"
    assert f"| missing | {unavailable} |" in markdown


@pytest.mark.parametrize(
    ("path", "key", "message"),
    [
        ((), "utilization", "infrastructure_sizing.utilization: unknown key \\(training"),
        (("models", "7B"), "paramters", "infrastructure_sizing.models.7B.paramters: unknown key"),
        (("gpus", "t4"), "memory", "infrastructure_sizing.gpus.t4.memory: unknown key"),
    ],
)
def test_unknown_keys_are_rejected(settings, path, key, message):
    bad = copy.deepcopy(settings)
    target = bad
    for part in path:
        target = target[part]
    target[key] = 1
    with pytest.raises(ValueError, match=message):
        size_infrastructure(ARCHITECTURE, bad)


def test_bad_settings_name_the_key(settings):
    bad = copy.deepcopy(settings)
    bad["utilisation"] = 1.5
    with pytest.raises(ValueError, match="infrastructure_sizing.utilisation must be a number at "):
        size_infrastructure(ARCHITECTURE, bad)


def test_rendered_tables_read_the_same_from_the_saved_csv(sizing, settings):
    html, markdown = render_infrastructure_sizing(sizing, settings)
    saved = io.StringIO()
    sizing.to_csv(saved, index=False, float_format="%.6g")  # as the catalog entry saves it
    saved.seek(0)
    assert render_infrastructure_sizing(pd.read_csv(saved), settings) == (html, markdown)

    # Models as rows: memory and the smallest GPU per method, hours per GPU.
    fine_tune = "134 GB · H200 | 67 GB · A100 80GB / H100 | 18 GB · L4 / A10G | 5.7 GB · T4"
    assert f"| 7B | 7B | {fine_tune} |" in markdown
    assert "| pythia-70m | 4.5 h | " in markdown
    assert "### Hours to train 1B tokens at 40% MFU" in markdown
    assert "bf16 weights 2 + bf16 gradients 2 + fp32 master weights 4" in markdown
    assert "| pythia-70m | 70,426,624 | GPTNeoXConfig" in markdown
    assert "<table>" in html and "T4 has no bf16" in html and "Assumptions" in html
