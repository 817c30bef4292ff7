"""What the lent GPU machine needs to run the GPU suite, beyond its image: one file, built here.

The device tool sends the working tree (not ``.venv``, not ``../shared``) to a machine whose image
has CUDA PyTorch and most of what the project imports, no network, and at most 64 MiB per call.
This script builds ``.device/bundle.tar.xz`` (git-ignored) holding:

- ``site/``: every distribution the suite imports that the image lacks, or has at a version the
  project excludes, pre-installed here for the image's Python (``pip install --target
  --platform``), found by running the suite's two dry runs under an import tracer;
- ``data/``: the real rows (``../shared/data``; they travel, they are never committed);
- ``base_model/<alias>/``: the base model's config and tokenizer. Its weights do not fit (the
  GGUF alone is 94 MiB), so the suite trains that architecture from random init there, as the
  issue's own H200 baselines did; the report names it ``<alias>(random-init)``;
- ``manifest.json``: Python version, carried distributions with versions and reasons, git HEAD.

    .venv/bin/python benchmarks/device_bundle.py           # build, check the size, print the call
    .venv/bin/python benchmarks/device_bundle.py --verify  # and rehearse it on a simulated image

``--verify`` builds the same bundle for this machine's Python, makes a virtual environment with
only the image's packages (at the versions the device README lists; torch: the CPU build on disk),
and runs ``benchmarks/device_run.sh`` in dry-run mode from a copy of the tracked tree with no
``../shared`` beside it: what is missing from the bundle fails there, not on the GPU's clock.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from common import REAL_ROWS, ROOT, load_base_model

from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS

#: Read off the image of the device tool's ``nvidia-h200`` kind (its KINDS.md, 2026-11-17).
DEVICE_PYTHON = "3.12"
# fmt: off
DEVICE_IMAGE_PACKAGES = frozenset({
    "absl-py", "accelerate", "aiofiles", "aiohappyeyeballs", "aiohttp", "aiosignal",
    "annotated-doc", "anyio", "attrs", "botorch", "build", "certifi", "charset-normalizer", "chex",
    "click", "cloudpickle", "cmake", "colorama", "contourpy", "coverage", "cuda-bindings",
    "cuda-core", "cuda-pathfinder", "cuda-toolkit", "cupy-cuda13x", "cycler", "cython", "diffrax",
    "e3nn", "einops", "equinox", "etils", "execnet", "filelock", "flatbuffers", "flax", "fonttools",
    "formulaic", "frozenlist", "fsspec", "gpytorch", "grpcio", "h11", "h5py", "hf-xet", "httpcore",
    "httpx", "huggingface-hub", "humanize", "hypothesis", "idna", "imageio", "iniconfig",
    "interface-meta", "jax", "jax-cuda13-pjrt", "jax-cuda13-plugin", "jaxlib", "jaxtyping",
    "jinja2", "joblib", "kiwisolver", "lazy-loader", "lightning", "lightning-utilities",
    "linear-operator", "lineax", "llvmlite", "lxml", "markdown", "markdown-it-py", "markupsafe",
    "matplotlib", "mdurl", "meson", "ml-dtypes", "mpi4py", "mpmath", "msgpack", "multidict",
    "multipledispatch", "mypy-extensions", "nanobind", "narwhals", "networkx", "ninja", "numba",
    "numba-cuda", "numpy", "numpyro", "nvidia-cublas", "nvidia-cuda-cupti", "nvidia-cuda-nvrtc",
    "nvidia-cuda-runtime", "nvidia-cudnn-cu13", "nvidia-cufft", "nvidia-cufile", "nvidia-curand",
    "nvidia-cusolver", "nvidia-cusparse", "nvidia-cusparselt-cu13", "nvidia-ml-py",
    "nvidia-nccl-cu13", "nvidia-nvjitlink", "nvidia-nvshmem-cu13", "nvidia-nvtx", "onnx",
    "onnx-ir", "onnxruntime", "onnxscript", "opencv-python-headless", "optax", "opt-einsum",
    "opt-einsum-fx", "optimistix", "orbax-checkpoint", "packaging", "pandas", "pathspec", "patsy",
    "peft", "pillow", "pip", "pluggy", "portalocker", "prometheus-client", "propcache",
    "protobuf", "psutil", "pyarrow", "pybind11", "py-cpuinfo", "pygments", "pyparsing",
    "pyproject-hooks", "pyre-extensions", "pytest", "pytest-benchmark", "pytest-cov",
    "pytest-mock", "pytest-timeout", "pytest-xdist", "python-dateutil", "pytorch-lightning",
    "pyyaml", "regex", "requests", "rich", "sacrebleu", "safetensors", "scikit-build-core",
    "scikit-image", "scikit-learn", "scipy", "seaborn", "sentencepiece", "sentence-transformers",
    "setuptools", "shellingham", "simplejson", "six", "sortedcontainers", "statsmodels", "sympy",
    "tabulate", "tensorboard", "tensorboard-data-server", "tensorstore", "threadpoolctl",
    "tifffile", "tiktoken", "timm", "tokenizers", "toolz", "torch", "torchaudio", "torchdiffeq",
    "torch-geometric", "torchmetrics", "torchvision", "tqdm", "transformers", "treescope",
    "triton", "typer", "typing-extensions", "typing-inspect", "urllib3", "uvloop",
    "wadler-lindig", "werkzeug", "wheel", "wrapt", "xarray", "xxhash", "yarl", "zipp",
})
# fmt: on
#: The versions the device README's pip list gives (the rest of the image: versions unknown).
DEVICE_IMAGE_VERSIONS = {
    "accelerate": "1.15.0",
    "huggingface-hub": "1.33.0",
    "numpy": "2.5.2",
    "safetensors": "0.8.0",
    "tokenizers": "0.23.2",
    "torch": "2.11.0",
    "transformers": "5.17.0",
    "triton": "3.6.0",
}
#: On the image but carried all the same, because their version there is unknown.
CARRY_ANYWAY = {
    "regex": "transformers checks regex>=2025.10.22 when imported",
    "peft": "the project requires peft>=0.17",
    "typing-extensions": "pydantic (for Kedro) requires typing-extensions>=4.16.0",
}
#: Never carried: the image's CUDA build of torch (and its kernels' compiler) is the point.
NEVER_CARRY = frozenset({"torch", "triton"})
#: Distributions the suite needs on a GPU that its CPU dry runs never import.
GPU_ONLY = {"liger-kernel": "pyproject extra `gpu`: Liger-Kernel's fused kernels"}
TRAVEL_LIMIT_BYTES = 64 * 2**20  # the device tool's limit on what travels in one call
BUNDLE = ROOT / ".device" / "bundle.tar.xz"
RUN_CALL = {"command": "bash benchmarks/device_run.sh", "carry": [".device"], "timeout_s": 590}
MODEL_FILES = (  # a base model directory without its weights
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "special_tokens_map.json",
)
# One tracer run per dry run; each writes the top-level modules it imported, at exit.
TRACER = """
import atexit, json, os, runpy, sys
def dump():
    with open(os.environ["TRACE_OUT"], "a") as out:
        out.write(json.dumps(sorted({m.split(".")[0] for m in sys.modules})) + "\\n")
atexit.register(dump)
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name="__main__")
"""
DRY_RUNS = (("--dry-run",), ("--dry-run", "--epoch"))


def canonical(name: str) -> str:
    """PEP 503 name: ``PyYAML`` -> ``pyyaml``, ``typing_extensions`` -> ``typing-extensions``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def traced_distributions(python: str = sys.executable) -> set[str]:
    """Canonical names of the distributions the suite's dry runs import (spawned workers too)."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "modules.jsonl"
        tracer = Path(tmp) / "tracer.py"
        tracer.write_text(TRACER)
        for args in DRY_RUNS:
            subprocess.run(
                [python, str(tracer), str(ROOT / "benchmarks" / "gpu_suite.py"), *args],
                cwd=ROOT,
                env={**os.environ, "TRACE_OUT": str(trace)},
                check=True,
                capture_output=True,
            )
        modules = set().union(*(json.loads(line) for line in trace.read_text().splitlines()))
    owners = importlib.metadata.packages_distributions()
    return {canonical(dist) for module in modules for dist in owners.get(module, ())}


def project_requirements() -> dict[str, str]:
    """Canonical name -> version specifier of the project's own dependencies (pyproject)."""
    from packaging.requirements import Requirement

    requirements = {}
    for line in importlib.metadata.requires("llm_finetune") or []:
        requirement = Requirement(line)
        if requirement.marker is None:  # extras (dev, gpu) carry a marker
            requirements[canonical(requirement.name)] = str(requirement.specifier)
    return requirements


def carried_distributions(
    imported: set[str],
    project: str = "llm-finetune",
    image: frozenset[str] = DEVICE_IMAGE_PACKAGES,
    image_versions: dict[str, str] = DEVICE_IMAGE_VERSIONS,
    requirements: dict[str, str] | None = None,
) -> dict[str, str]:
    """Canonical name -> why it travels: absent from the image, or there at an excluded version.

    The project's own source travels with the tree; :data:`NEVER_CARRY` stays the image's.
    """
    from packaging.specifiers import SpecifierSet

    requirements = project_requirements() if requirements is None else requirements
    carried: dict[str, str] = {}
    for name in sorted(imported - {project} - NEVER_CARRY):
        specifier = SpecifierSet(requirements.get(name, ""))
        version = image_versions.get(name)
        if name not in image:
            carried[name] = "not on the image"
        elif version is not None and version not in specifier:
            carried[name] = f"the image has {version}; the project requires {specifier}"
        elif name in CARRY_ANYWAY:
            carried[name] = CARRY_ANYWAY[name]
    for name, reason in GPU_ONLY.items():
        carried.setdefault(name, reason)
    return carried


def pinned(name: str) -> str:
    """``name==version`` of the distribution installed here (what the project is tested with)."""
    try:
        return f"{name}=={importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return name  # a GPU-only extra not installed on this CPU machine: the newest release


def install_for(python_version: str, requirements: list[str], target: Path) -> None:
    """Pre-install ``requirements`` (no dependencies: each is listed) for another interpreter."""
    platforms = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile"]
    command += ["--only-binary=:all:", "--implementation", "cp", "--python-version"]
    command += [python_version, *(f"--platform={p}" for p in platforms)]
    subprocess.run([*command, "--target", str(target), *requirements], check=True)


def base_model_files(alias: str = DEFAULT_MODEL_ALIAS) -> list[Path]:
    """Config and tokenizer files of the converted base model (converted first if needed)."""
    directory = ROOT / "data/06_models/base_model" / alias
    if not (directory / "config.json").is_file():
        load_base_model(alias)
    return [directory / name for name in MODEL_FILES if (directory / name).is_file()]


def git_head() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def build_bundle(output: Path, python_version: str, carried: dict[str, str]) -> dict:
    """Write the bundle (xz, the smallest that Python's own tarfile reads) and its manifest."""
    manifest = {
        "python": python_version,
        "git_head": git_head(),
        "built": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "carried": {},
        "real_rows": f"data/{REAL_ROWS.name}",
        "base_model": f"base_model/{DEFAULT_MODEL_ALIAS}",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        install_for(python_version, [pinned(name) for name in carried], site)
        for dist in importlib.metadata.distributions(path=[str(site)]):
            name = canonical(dist.metadata["Name"])
            manifest["carried"][f"{name}=={dist.version}"] = carried[name]
        manifest["carried"] = dict(sorted(manifest["carried"].items()))
        partial = output.with_suffix(".partial")
        with tarfile.open(partial, "w:xz", preset=9) as bundle:
            bundle.add(site, arcname="site")
            bundle.add(REAL_ROWS, arcname=manifest["real_rows"])
            for path in base_model_files():
                bundle.add(path, arcname=f"{manifest['base_model']}/{path.name}")
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
        partial.replace(output)
    return manifest


def travelling_bytes(root: Path = ROOT, carried: tuple[str, ...] = (".device",)) -> int:
    """Bytes the device tool sends: tracked and untracked-not-ignored files plus carried paths."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    files = [root / name.decode() for name in listed if name]
    for path in carried:
        files += [p for p in (root / path).rglob("*") if p.is_file()]
    return sum(path.stat().st_size for path in files if path.is_file())


def check_travel_size(total: int, limit: int = TRAVEL_LIMIT_BYTES) -> None:
    if total > limit:
        raise SystemExit(
            f"{total / 2**20:.1f} MiB would travel, over the device tool's limit of "
            f"{limit / 2**20:.0f} MiB: drop a carried distribution or untracked files"
        )


# ----------------------------------------------------------------------------- the rehearsal
def simulated_image(venv: Path, imported: set[str]) -> Path:
    """A virtual environment with the image's packages that the suite imports, at the versions
    the device README lists (the others: the project's)."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The rehearsal runs this machine's Python (3.11: the CPU build of torch on this disk is for
    # 3.11), so torch is that build and numpy, whose 2.5 needs Python 3.12, is the project's.
    substitutes = {"torch", "numpy"}
    wanted = []
    for name in sorted(imported & DEVICE_IMAGE_PACKAGES):
        version = None if name in substitutes else DEVICE_IMAGE_VERSIONS.get(name)
        wanted.append(f"{name}=={version}" if version else pinned(name))
    # With their dependencies: the image has what its own packages need (httpx for its hub).
    subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)
    return python


def verify(imported: set[str], carried: dict[str, str], venv: Path) -> int:
    """Run device_run.sh's dry run on a simulated image from a copy of the tracked tree."""
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = simulated_image(venv, imported)
    with tempfile.TemporaryDirectory(prefix="device_rehearsal_") as tmp:
        tree = Path(tmp) / "checkout"  # no ../shared beside it, as on the device
        tree.mkdir()
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True)
        if archive.returncode != 0:
            raise SystemExit(archive.stderr.decode())
        tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(tree, filter="data")
        for name in ("src", "benchmarks", "conf"):  # the working tree, committed or not
            shutil.rmtree(tree / name)
            shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        build_bundle(tree / ".device" / "bundle.tar.xz", python_version, carried)
        env = {  # `python3` is the simulated image's, as on the device
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
            "PATH": f"{python.parent}:{os.environ['PATH']}",
            "DEVICE_RUN_DRY": "1",
            "OUT": str(Path(tmp) / "out"),
            "DEVICE_WORK": str(Path(tmp) / "work"),
        }
        result = subprocess.run(["bash", "benchmarks/device_run.sh"], cwd=tree, env=env)
    print(f"rehearsal on the simulated image: exit {result.returncode}")
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=DEVICE_PYTHON, help="the device image's Python")
    parser.add_argument("--verify", action="store_true", help="rehearse on a simulated image")
    parser.add_argument(
        "--venv", type=Path, default=Path("/tmp/device-image-venv"), help="--verify's environment"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    imported = traced_distributions()
    carried = carried_distributions(imported)
    print(f"the suite imports {len(imported)} distributions; {len(carried)} travel:")
    for name, reason in carried.items():
        print(f"  {pinned(name):<32} {reason}")
    manifest = build_bundle(BUNDLE, args.python, carried)
    total = travelling_bytes()
    print(
        f"{BUNDLE.relative_to(ROOT)}: {BUNDLE.stat().st_size / 2**20:.1f} MiB "
        f"(Python {manifest['python']}, HEAD {manifest['git_head'][:8]}); "
        f"{total / 2**20:.1f} MiB travel in all (limit {TRAVEL_LIMIT_BYTES / 2**20:.0f} MiB); "
        f"built in {time.perf_counter() - started:.0f} s"
    )
    check_travel_size(total)
    print("device tool call: run(" + json.dumps(RUN_CALL) + ")")
    return verify(imported, carried, args.venv) if args.verify else 0


if __name__ == "__main__":
    sys.exit(main())
