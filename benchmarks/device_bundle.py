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
``../shared`` beside it: what is missing from the bundle fails there, not on the GPU's clock
(``device_rehearsal.py``). The image's package list: ``device_image.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from common import REAL_ROWS, ROOT, load_base_model
from device_image import (
    CARRY_ANYWAY,
    DEVICE_IMAGE_PACKAGES,
    DEVICE_IMAGE_VERSIONS,
    DEVICE_PYTHON,
    GPU_ONLY,
    NEVER_CARRY,
)

from llm_finetune.datasets.gguf import DEFAULT_MODEL_ALIAS

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


def dependency_requirements(imported: set[str]) -> dict[str, str]:
    """Canonical name -> the version specifiers the project and the ``imported`` distributions
    (as installed here, the versions that travel) put on it, combined: transformers 5.25 needs
    huggingface-hub >= 2.4, which the image's 1.33.0 is not, though the project names no hub."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    combined = dict(project_requirements())
    for name in sorted(imported):
        try:
            lines = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for requirement in map(Requirement, lines):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                key = canonical(requirement.name)
                both = SpecifierSet(combined.get(key, "")) & requirement.specifier
                combined[key] = str(both)
    return combined


def carried_distributions(
    imported: set[str],
    project: str = "llm-finetune",
    image: frozenset[str] = DEVICE_IMAGE_PACKAGES,
    image_versions: dict[str, str] = DEVICE_IMAGE_VERSIONS,
    requirements: dict[str, str] | None = None,
) -> dict[str, str]:
    """Canonical name -> why it travels: absent from the image, or there at an excluded version.

    ``requirements``: :func:`dependency_requirements` by default (what the project requires,
    directly or through what it imports). The project's own source travels with the tree;
    :data:`NEVER_CARRY` stays the image's.
    """
    from packaging.specifiers import SpecifierSet

    requirements = dependency_requirements(imported) if requirements is None else requirements
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
    if not args.verify:
        return 0
    from device_rehearsal import verify  # imports this module: loaded only when asked

    return verify(imported, carried, args.venv)


if __name__ == "__main__":
    sys.exit(main())
