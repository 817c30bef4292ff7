"""Loading the chat's model and prompt template, from the project's catalog or a directory, with
Kedro's and transformers' logs kept quiet.

The prompt template comes from the project's parameters (``prompt_template``), so the chat prompts
the model exactly as training did; :data:`~llm_finetune.prompting.DEFAULT_PROMPT_TEMPLATE` only
when no project is at hand.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_finetune.chat.errors import ChatError
from llm_finetune.prompting import DEFAULT_PROMPT_TEMPLATE

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
    """The model the chat talks to, and the prompt template it was trained with.

    ``model_dir`` given: load that directory; the template comes from ``project`` (or the current
    directory) when that is a Kedro project, else :data:`DEFAULT_PROMPT_TEMPLATE`. Otherwise
    load ``fine_tuned_model`` (``version``, or the latest) from the project's catalog.
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
        model, tokenizer = _load_model_dir(model_dir)
        template = _project_template(project_path, env) if is_project else DEFAULT_PROMPT_TEMPLATE
        return LoadedChatModel(model, tokenizer, template, str(model_dir))
    if not is_project:
        raise ChatError(
            f"{project_path} is not a Kedro project: pass --project PATH (the project root) or "
            "--model-dir DIR (a saved model)"
        )
    return _load_from_catalog(project_path, version, env)


def _load_model_dir(model_dir: Path) -> tuple[Any, Any]:
    from llm_finetune.datasets.model_dirs import is_complete_model_dir, load_model_dir

    if not is_complete_model_dir(model_dir):
        raise ChatError(
            f"no saved model in {model_dir} (config.json and model.safetensors expected): "
            f"{TRAINING_HINT}, or point --model-dir at a save_pretrained directory"
        )
    try:
        return tuple(load_model_dir(model_dir))  # type: ignore[return-value]
    except (OSError, ValueError) as error:
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


def _template_from(parameters: Mapping[str, Any]) -> str:
    template = parameters.get("prompt_template", DEFAULT_PROMPT_TEMPLATE)
    if not isinstance(template, str):
        raise ChatError(f"parameter prompt_template must be a string, got {template!r}")
    return template


def _project_template(project_path: Path, env: str | None) -> str:
    with _session(project_path, env) as session:
        return _template_from(session.load_context().config_loader["parameters"])


def _load_from_catalog(project_path: Path, version: str | None, env: str | None) -> LoadedChatModel:
    from kedro.io import DatasetError

    with _session(project_path, env) as session:
        context = session.load_context()
        template = _template_from(context.config_loader["parameters"])
        catalog = context.catalog
        if MODEL_ENTRY not in catalog:
            raise ChatError(f"the catalog of {project_path} has no {MODEL_ENTRY!r} entry")
        try:
            if version is None:  # pin "latest" once, so the label names what was loaded
                dataset = catalog.get(MODEL_ENTRY)
                version = getattr(dataset, "resolve_load_version", lambda: None)()
            model, tokenizer = catalog.load(MODEL_ENTRY, version=version)
        except DatasetError as error:
            what = f"version {version}" if version else "no version yet"
            detail = " ".join(str(error).split())
            raise ChatError(
                f"cannot load {MODEL_ENTRY} ({what}) from {project_path}: {TRAINING_HINT} "
                f"(or pick an existing --version). [{detail}]"
            ) from error
    label = f"{MODEL_ENTRY} version {version}" if version else MODEL_ENTRY
    return LoadedChatModel(model, tokenizer, template, f"{label} of {project_path}")
