"""The GPU machine's bundle: what travels and why, its size limit, and the runner's refusals."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "benchmarks" / "device_run.sh"


@pytest.fixture
def bundle(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import device_bundle

    return device_bundle


def test_canonical_names_follow_pep_503(bundle):
    assert bundle.canonical("PyYAML") == "pyyaml"
    assert bundle.canonical("typing_extensions") == "typing-extensions"
    assert bundle.canonical("huggingface_hub") == "huggingface-hub"


def test_what_travels_absent_excluded_version_carried_anyway_and_gpu_only(bundle):
    image = frozenset({"numpy", "transformers", "torch", "regex", "pandas"})
    versions = {"numpy": "2.5.2", "transformers": "5.17.0", "torch": "2.11.0"}
    requirements = {"numpy": "", "transformers": ">=5.23,<6", "torch": "==2.13.0", "kedro": ""}
    imported = {"llm-finetune", "numpy", "transformers", "torch", "regex", "pandas", "kedro"}

    carried = bundle.carried_distributions(imported, "llm-finetune", image, versions, requirements)

    assert carried["kedro"] == "not on the image"
    assert carried["transformers"] == "the image has 5.17.0; the project requires <6,>=5.23"
    assert carried["regex"] == bundle.CARRY_ANYWAY["regex"]  # on the image, version unknown
    assert carried["liger-kernel"] == bundle.GPU_ONLY["liger-kernel"]  # never imported on a CPU
    # Satisfied, unknown-but-unconstrained, the image's torch and the project's own source stay.
    for stays in ("numpy", "pandas", "torch", "llm-finetune"):
        assert stays not in carried


def test_the_image_versions_are_ones_the_image_lists(bundle):
    assert set(bundle.DEVICE_IMAGE_VERSIONS) <= bundle.DEVICE_IMAGE_PACKAGES
    assert set(bundle.CARRY_ANYWAY) <= bundle.DEVICE_IMAGE_PACKAGES
    assert bundle.NEVER_CARRY <= bundle.DEVICE_IMAGE_PACKAGES
    assert all(name == bundle.canonical(name) for name in bundle.DEVICE_IMAGE_PACKAGES)


def test_project_requirements_are_read_from_the_installed_project(bundle):
    requirements = bundle.project_requirements()
    assert "5.17.0" not in SpecifierSet(requirements["transformers"])  # the image's is too old


def test_what_imported_distributions_require_is_checked_against_the_image_too(bundle):
    """The project names no huggingface-hub, but the transformers it requires does: the image's
    hub must satisfy the transformers that travels, or it travels too."""
    import importlib.metadata

    from packaging.requirements import Requirement

    requirements = bundle.dependency_requirements({"llm-finetune", "transformers"})
    assert requirements["transformers"] == bundle.project_requirements()["transformers"]
    hub = [
        Requirement(line)
        for line in importlib.metadata.requires("transformers")
        if bundle.canonical(Requirement(line).name) == "huggingface-hub"
        and Requirement(line).marker is None
    ]
    assert hub and SpecifierSet(requirements["huggingface-hub"]) == hub[0].specifier
    carried = bundle.carried_distributions(
        {"llm-finetune", "transformers", "huggingface-hub"},
        requirements={"huggingface-hub": ">=2.4"},
        image=frozenset({"huggingface-hub", "transformers"}),
        image_versions={"huggingface-hub": "1.33.0"},
    )
    assert carried["huggingface-hub"] == "the image has 1.33.0; the project requires >=2.4"
    assert requirements["kedro"] == "==1.7.0"
    assert "pytest" not in requirements  # the dev extra is not what runs on the device


def test_travelling_bytes_count_tracked_untracked_and_carried_not_ignored(bundle, tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / ".gitignore").write_text("/ignored/\n/.device/\n")
    (tmp_path / "tracked.txt").write_bytes(b"x" * 100)
    git("add", ".")
    (tmp_path / "untracked.txt").write_bytes(b"y" * 10)
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "big.bin").write_bytes(b"z" * 10_000)
    (tmp_path / ".device").mkdir()
    (tmp_path / ".device" / "bundle.tar.xz").write_bytes(b"w" * 1_000)

    gitignore = len((tmp_path / ".gitignore").read_bytes())
    assert bundle.travelling_bytes(tmp_path) == gitignore + 100 + 10 + 1_000
    assert bundle.travelling_bytes(tmp_path, carried=()) == gitignore + 100 + 10


def test_a_bundle_over_the_limit_is_refused_with_its_size(bundle):
    bundle.check_travel_size(bundle.TRAVEL_LIMIT_BYTES)
    with pytest.raises(SystemExit, match=r"65\.0 MiB would travel.*limit of 64 MiB"):
        bundle.check_travel_size(65 * 2**20)


def run_runner(tmp_path: Path, bundle_path: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "BUNDLE": str(bundle_path),
        "OUT": str(tmp_path / "out"),
        "DEVICE_WORK": str(tmp_path / "work"),
    }
    return subprocess.run(
        ["bash", str(RUNNER)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_runner_parses_and_without_a_bundle_says_how_to_build_one(tmp_path):
    assert subprocess.run(["bash", "-n", str(RUNNER)]).returncode == 0
    result = run_runner(tmp_path, tmp_path / "missing.tar.xz")
    assert result.returncode == 2
    assert "missing.tar.xz" in result.stderr
    assert "benchmarks/device_bundle.py" in result.stderr


def test_runner_refuses_a_bundle_built_for_another_python_before_timing_anything(tmp_path):
    manifest = {"python": "2.7", "built": "then", "git_head": "0" * 40, "carried": {}}
    path = tmp_path / "bundle.tar.xz"
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w:xz") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    result = run_runner(tmp_path, path)

    assert result.returncode == 2
    assert "built for Python 2.7" in result.stderr
    assert "--python" in result.stderr
    assert "gpu_suite" not in result.stdout  # nothing timed ran


def test_a_model_directory_without_weights_gives_its_architecture_random_init(
    monkeypatch, tmp_path
):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import common
    from gpu.models import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer(["### Question:\nfever?\n### Answer:\nrest"] * 8)
    model = tiny_model("llama", tokenizer)
    full = tmp_path / "tiny-llama"
    model.save_pretrained(full)
    tokenizer.save_pretrained(full)
    bare = tmp_path / "bare"
    bare.mkdir()
    for path in full.iterdir():
        if not path.name.endswith(".safetensors"):
            (bare / path.name).write_bytes(path.read_bytes())

    name, loaded = common.load_benchmark_model(str(full))
    assert name == "tiny-llama"
    assert all(
        (a == b).all() for a, b in zip(model.parameters(), loaded.model.parameters(), strict=True)
    )

    name, random_init = common.load_benchmark_model(str(bare))
    assert name == "bare(random-init)"

    def architecture(config):
        return {k: v for k, v in config.to_dict().items() if k != "_name_or_path"}

    assert architecture(random_init.model.config) == architecture(loaded.model.config)
    assert random_init.model.num_parameters() == model.num_parameters()
    assert random_init.tokenizer.get_vocab() == tokenizer.get_vocab()

    with pytest.raises(FileNotFoundError, match="no config.json"):
        common.load_benchmark_model(str(tmp_path / "nothing"))


@pytest.mark.slow
def test_the_bundle_rehearsed_on_a_simulated_image_runs_the_dry_runs():
    """Builds the real bundle (PyPI, ~3 min of xz) and runs device_run.sh's dry run on a virtual
    environment holding only the image's packages, from a tree with no ../shared (~7 min)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "device_bundle.py"), "--verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "device_run: suite_rc=0 epoch_rc=0" in result.stdout
    assert "rehearsal on the simulated image: exit 0" in result.stdout
    assert (ROOT / ".device" / "bundle.tar.xz").stat().st_size < 64 * 2**20
