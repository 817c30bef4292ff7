"""Offline-by-default switches for the Hugging Face libraries.

The machines this project targets cannot reach the Hugging Face Hub, and ``datasets`` and
``transformers`` ping it even for local files unless told not to. Each variable is only set when the
user has not set it, so ``HF_HUB_OFFLINE=0 kedro run --env hub`` goes online.
"""

import os

OFFLINE_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    # The tokenizers' Rust thread pool deadlocks after a fork (DataLoader workers, torchrun).
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_defaults() -> None:
    """Set each offline variable unless the user already chose a value."""
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
