"""Loading the chat's model and prompt template, from the project's catalog or a directory, with
Kedro's and transformers' logs kept quiet.

The prompt template comes from the model's directory (``prompt_format.json``, saved by training),
so the chat prompts every model version exactly as it was trained, whatever the project's
template is now; a model without the record gets
:data:`~llm_finetune.modeling.prompt_format.DEFAULT_PROMPT_TEMPLATE`, and its source says so.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_finetune.chat.errors import ChatError
from llm_finetune.modeling.prompt_format import PROMPT_FORMAT_FILE, PromptFormat, prompt_format_of

MODEL_ENTRY = "fine_tuned_model"
TRAINING_HINT = "run `kedro run --pipelines training` first"
#: Logger -> level without ``--verbose`` ("py.warnings": Python warnings, which Kedro logs).
QUIET_LOGGERS = {
    "kedro": logging.WARNING,
    "llm_finetune": logging.WARNING,
    "transformers": logging.ERROR,
    "py.warnings": logging.ERROR,
}


@dataclass(frozen=True)
class LoadedChatModel:
    model: Any
    tokenizer: Any
    prompt_template: str
    source: str
    #: The whole format (a conversation's later turns, a chat template's): the chats' turns.
    prompt_format: PromptFormat | None = None


def quiet_logs(verbose: bool) -> None:
    """Keep the chat readable: Kedro's INFO logs, library warnings and progress bars are shown
    only with ``--verbose``."""
    if verbose:
        return
    logging.disable(logging.INFO)  # Kedro logs which logging config it uses when first imported
    try:
        import kedro.framework.project  # noqa: F401  (configures Kedro's logging on import)
    finally:
        logging.disable(logging.NOTSET)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    with contextlib.suppress(ImportError):
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


def load_chat_model(
    *,
    project: Path | None = None,
    model_dir: Path | None = None,
    version: str | None = None,
    env: str | None = None,
) -> LoadedChatModel:
    """The model the chat talks to, and the prompt template it was trained with (its directory's
    record, else the default template).

    ``model_dir`` given: load that directory. Otherwise load ``fine_tuned_model`` (``version``, or
    the latest) from the catalog of ``project`` (or the current directory).
    """
    from kedro.utils import is_kedro_project

    project_path = (project or Path.cwd()).expanduser().resolve()
    is_project = is_kedro_project(project_path)
    if project is not None and not is_project:
        raise ChatError(
            f"{project_path} is not a Kedro project (no pyproject.toml with [tool.kedro])"
        )
    if model_dir is not None:
        if version is not None:
            raise ChatError("--version picks a catalog version; it cannot be used with --model-dir")
        return _with_prompt_format(_load_model_dir(model_dir), str(model_dir))
    if not is_project:
        raise ChatError(
            f"{project_path} is not a Kedro project: pass --project PATH (the project root) or "
            "--model-dir DIR (a saved model)"
        )
    return _load_from_catalog(project_path, version, env)


def _with_prompt_format(data: Any, source: str) -> LoadedChatModel:
    """The loaded model with the template its directory records (the default when none)."""
    prompt_format = prompt_format_of(data, source)
    if data.prompt_format is None:
        source += f" (no {PROMPT_FORMAT_FILE}: the default prompt template)"
    return LoadedChatModel(
        data.model, data.tokenizer, prompt_format.template, source, prompt_format
    )


def _load_model_dir(model_dir: Path) -> Any:
    from kedro.io import DatasetError

    from llm_finetune.datasets.model_dirs import is_complete_model_dir, load_model_dir

    if not is_complete_model_dir(model_dir):
        raise ChatError(
            f"no saved model in {model_dir} (config.json and model.safetensors expected): "
            f"{TRAINING_HINT}, or point --model-dir at a save_pretrained directory"
        )
    try:
        return load_model_dir(model_dir)
    except (OSError, ValueError, DatasetError) as error:
        raise ChatError(f"cannot load the model in {model_dir}: {error}") from error


def _session(project_path: Path, env: str | None) -> Any:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    # bootstrap_project reconfigures logging; keep the levels quiet_logs chose.
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    bootstrap_project(project_path)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    return KedroSession.create(project_path=project_path, env=env, save_on_close=False)


def _load_from_catalog(project_path: Path, version: str | None, env: str | None) -> LoadedChatModel:
    from kedro.io import DatasetError

    with _session(project_path, env) as session:
        catalog = session.load_context().catalog
        if MODEL_ENTRY not in catalog:
            raise ChatError(f"the catalog of {project_path} has no {MODEL_ENTRY!r} entry")
        try:
            if version is None:  # pin "latest" once, so the label names what was loaded
                dataset = catalog.get(MODEL_ENTRY)
                version = getattr(dataset, "resolve_load_version", lambda: None)()
            data = catalog.load(MODEL_ENTRY, version=version)
        except DatasetError as error:
            what = f"version {version}" if version else "no version yet"
            detail = " ".join(str(error).split())
            raise ChatError(
                f"cannot load {MODEL_ENTRY} ({what}) from {project_path}: {TRAINING_HINT} "
                f"(or pick an existing --version). [{detail}]"
            ) from error
    label = f"{MODEL_ENTRY} version {version}" if version else MODEL_ENTRY
    return _with_prompt_format(data, f"{label} of {project_path}")
