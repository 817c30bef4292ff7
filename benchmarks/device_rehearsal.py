"""``device_bundle.py --verify``: the device call rehearsed here, on a simulated image.

A virtual environment holds only the image's packages that the suite imports (at the versions the
device README lists; torch: the CPU build on disk), and ``benchmarks/device_run.sh`` runs in
dry-run mode from a copy of the tracked tree with no ``../shared`` beside it, the bundle built
for this machine's Python: what is missing from the bundle fails here, not on the GPU's clock.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from common import ROOT
from device_bundle import build_bundle, pinned
from device_image import DEVICE_IMAGE_PACKAGES, DEVICE_IMAGE_VERSIONS


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
