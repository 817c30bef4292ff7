"""``notebooks/results.ipynb`` runs headless against a project copy holding real pipeline outputs.

The outputs are produced by actually running the data_engineering and evaluation pipelines in a
temporary copy of the project, with tiny models standing in for the base and fine-tuned models.

The README's notebook commands (the ```bash block after ``<!-- notebook-commands``) are run
exactly as written, in a project copy: ``jupyter nbconvert --execute`` and the two JupyterLab
servers (``kedro jupyter lab``, ``jupyter lab``), headless on a free port, with Jupyter's and
IPython's user directories in tmp_path so nothing lands in the real ``~/.local`` or ``~/.jupyter``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import nbformat
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

from llm_finetune.pipelines.training.nodes import plot_learning_rate, plot_loss
from tests.conftest import PROJECT_ROOT, build_tiny_model, build_tiny_tokenizer

NOTEBOOK = "notebooks/results.ipynb"
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")


def copy_project(destination: Path) -> Path:
    """The project's code, configuration, notebook and raw data; no other data, no venv."""
    # .telemetry: kedro-telemetry's recorded "no" (the CLI runs in the copy, too).
    for name in ("pyproject.toml", ".telemetry", "conf", "src", "notebooks", "data/01_raw"):
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        else:
            shutil.copy2(source, destination / name)
    return destination


def tokenize_test_qa(tokenizer, test_qa) -> object:
    """``tokenized_test`` by its contract: prompt labels -100, answer tokens and EOS labelled."""
    import polars as pl

    rows = {"input_ids": [], "labels": [], "attention_mask": []}
    for prompt, answer in zip(test_qa["question"], test_qa["answer"], strict=True):
        prompt_ids = tokenizer(prompt)["input_ids"]
        target = tokenizer(answer, add_special_tokens=False)["input_ids"][:40]
        target.append(tokenizer.eos_token_id)
        rows["input_ids"].append(prompt_ids + target)
        rows["labels"].append([-100] * len(prompt_ids) + target)
        rows["attention_mask"].append([1] * (len(prompt_ids) + len(target)))
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def project_with_results(tmp_path_factory) -> Path:
    """A project copy whose data/ holds the outputs of a real (tiny) evaluation run."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    saved_path = list(sys.path)
    try:
        bootstrap_project(project)
        runtime_params = {"evaluation": {"num_questions": 3}, "generation": {"max_new_tokens": 8}}
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            context = session.load_context()
            catalog = context.catalog
            pipelines = _registered_pipelines()
            runner = SequentialRunner()
            runner.run(pipelines["data_engineering"], catalog)

            tokenizer = build_tiny_tokenizer()
            history = [{"step": s, "loss": 4.0 / s, "learning_rate": 1e-5} for s in range(1, 9)]
            history += [{"step": 4, "eval_loss": 2.5}, {"step": 8, "eval_loss": 2.2}]
            stand_ins = {
                "base_model": (build_tiny_model(tokenizer, seed=0), tokenizer),
                "base_tokenizer": tokenizer,
                "base_model_skeleton": (build_tiny_model(tokenizer, seed=0), tokenizer),
                "fine_tuned_model": (build_tiny_model(tokenizer, seed=1), tokenizer),
                "tokenized_test": tokenize_test_qa(tokenizer, catalog.load("test_qa")),
                "training_metrics": {"log_history": history},
            }
            for name, data in stand_ins.items():
                catalog[name] = MemoryDataset(data, copy_mode="assign")
            runner.run(pipelines["evaluation"], catalog)
            # The training pipeline's plots, drawn from the same stand-in metrics.
            catalog.save("loss_plot", plot_loss(stand_ins["training_metrics"]))
            catalog.save("learning_rate_plot", plot_learning_rate(stand_ins["training_metrics"]))
            # The training pipeline's model facts (architecture, infrastructure sizing), from the
            # stand-in base model and the project's sizing parameters.
            facts = pipelines["training"].only_nodes(
                "summarize_architecture", "size_infrastructure", "render_infrastructure_sizing"
            )
            runner.run(facts, catalog)
    finally:
        sys.path[:] = saved_path
    return project


def _registered_pipelines():
    from llm_finetune.pipeline_registry import register_pipelines

    return register_pipelines()


def test_results_notebook_runs_headless(project_with_results):
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    notebook = nbformat.read(project_with_results / NOTEBOOK, as_version=4)
    kernel_name = notebook.metadata["kernelspec"]["name"]
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    # jupyter_client replaces a bare "python" with the running interpreter: the venv's python.
    assert spec.argv[0] in {"python", "python3", sys.executable}, spec.argv

    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        resources={"metadata": {"path": str(project_with_results / "notebooks")}},
    )
    client.execute()

    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert str(Path(sys.executable)) in text, "the kernel is not the project's venv python"
    assert "3 test questions" in text
    assert '"rows_read"' in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3, "metrics_plot, loss_plot and learning_rate_plot"
    html = "\n".join(o["data"].get("text/html", "") for o in outputs if "data" in o)
    assert "fine_tuned" in html and "perplexity" in html
    assert "ci_low" in html and "wins" in html  # the paired differences table
    assert "questions: an interval that contains 0" in text
    assert "What do you think of Mars?" in html
    # The safety probe (every red-flag answer), the error categories beside the training
    # answers, and the bias probe.
    assert "Blind spots:" in text and "alarms on" in text
    assert "A vein is blocked in heart" in html
    assert "Training answers" in html and "site_artifact" in html
    assert "pairs_changed" in html


# --- The README's notebook commands, run exactly as written ---------------------------------------

README = PROJECT_ROOT / "README.md"
COMMANDS_MARKER = "<!-- notebook-commands"
BIN = Path(sys.executable).parent  # what the README calls .venv/bin (not resolved: a venv symlink)
KEDRO_KERNEL = "kedro_llm_finetune"  # `kedro jupyter lab`: f"kedro_{package_name}"
START_TIMEOUT = 120  # seconds for a server to answer (about 10 s for `kedro jupyter lab`)
SHUTDOWN_TIMEOUT = 30
NBCONVERT_TIMEOUT = 300  # nbconvert has no cell timeout of its own: a hang must fail, not block


def readme_notebook_commands() -> list[str]:
    """The lines of the ```bash block right after the README's notebook-commands marker."""
    text = README.read_text(encoding="utf-8")
    _, marker, after = text.partition(COMMANDS_MARKER)
    assert marker, f"README.md has no {COMMANDS_MARKER} ... --> marker"
    block = re.match(r"[^\n]*-->\n```bash\n(.*?)\n```", after, re.DOTALL)
    assert block, "the marker must be followed by a ```bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def readme_command(words: str) -> str:
    """The one README notebook command that starts with ``.venv/bin/<words>``."""
    matches = [c for c in readme_notebook_commands() if c.startswith(f".venv/bin/{words}")]
    assert len(matches) == 1, (words, readme_notebook_commands())
    return matches[0]


def readme_argv(command: str) -> list[str]:
    """``command`` as argv; only its ``.venv/bin/`` changes, to this interpreter's bin dir."""
    argv = shlex.split(command)
    assert argv[0].startswith(".venv/bin/"), command
    argv[0] = str(BIN / argv[0].removeprefix(".venv/bin/"))
    return argv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyter_env(tmp_path) -> dict[str, str]:
    """The environment the README commands run in: headless, private Jupyter dirs, no telemetry."""
    config = tmp_path / "jupyter_config"
    config.mkdir()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Jupyter refuses root (containers, CI) without --allow-root: config, not the command.
        server_config = {"ServerApp": {"allow_root": True}}
        (config / "jupyter_server_config.json").write_text(json.dumps(server_config))
    return dict(
        os.environ,
        DO_NOT_TRACK="1",  # kedro-telemetry stays off (the copy's .telemetry says so, too)
        # `kedro jupyter lab` installs its kernel "for the user": here, not in ~/.local/share.
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter_data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter_runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_PORT=str(free_port()),
        JUPYTER_PORT_RETRIES="0",  # that port or fail, never another one
        JUPYTER_TOKEN=secrets.token_hex(16),
        BROWSER="true",  # the server's "open a browser" runs /bin/true
    )


def option_value(argv: list[str], option: str) -> str:
    for i, arg in enumerate(argv):
        if arg == option:
            return argv[i + 1]
        if arg.startswith(f"{option}="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{option} not in {argv}")


def test_readme_lists_the_tested_notebook_commands():
    commands = readme_notebook_commands()
    assert len(commands) == 3, commands
    for words in ("kedro jupyter lab", "jupyter lab ", "jupyter nbconvert "):
        readme_command(words)


def test_readme_nbconvert_command_executes_the_notebook(project_with_results, jupyter_env):
    command = readme_command("jupyter nbconvert ")
    argv = readme_argv(command)
    committed = (project_with_results / NOTEBOOK).read_bytes()
    executed_path = project_with_results / option_value(argv, "--output-dir") / Path(NOTEBOOK).name
    executed_path.unlink(missing_ok=True)

    result = subprocess.run(
        argv,
        cwd=project_with_results,
        env=jupyter_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=NBCONVERT_TIMEOUT,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"

    assert (project_with_results / NOTEBOOK).read_bytes() == committed, "overwrote the notebook"
    executed = nbformat.read(executed_path, as_version=4)
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.execution_count for cell in code_cells), "not every cell ran"
    outputs = [output for cell in code_cells for output in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert str(Path(sys.executable)) in text, "the kernel is not the project's venv python"
    assert "3 test questions" in text  # it read the copy's evaluation_metrics


class JupyterServer:
    """A server started from a README command: its runtime info and its REST API (with token)."""

    def __init__(self, port: int, token: str, info: dict) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.token = token
        self.info = info
        # Straight to 127.0.0.1, whatever http_proxy says.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with self._opener.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_until_serving(process, env, log: Path) -> JupyterServer:
    port, token = int(env["JUPYTER_PORT"]), env["JUPYTER_TOKEN"]
    runtime = Path(env["JUPYTER_RUNTIME_DIR"])
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before serving:\n{_log_tail(log)}")
        infos = [json.loads(p.read_text()) for p in runtime.glob("jpserver-*.json")]
        if infos:
            server = JupyterServer(port, token, infos[0])
            try:
                if "started" in server.api("/api/status"):
                    return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.25)
    pytest.fail(f"no server on 127.0.0.1:{port} after {START_TIMEOUT} s:\n{_log_tail(log)}")


def _stop_group(process) -> None:
    """SIGTERM, then SIGKILL, to whatever is left of the command's process group."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if not _group_alive(process.pid):
            break
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    if process.poll() is None:
        process.wait(timeout=5)


@contextmanager
def readme_server(
    command: str, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[JupyterServer]:
    """Runs ``command`` (a README line) in ``cwd`` in its own process group until it serves.

    Afterwards the server is shut down as a user would (``/api/shutdown``, like Ctrl-C): it must
    exit 0 and leave no process behind. Whatever happens, the process group is killed.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            readme_argv(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = _wait_until_serving(process, env, log)
        yield server
        server.api("/api/shutdown", method="POST")
        try:
            returncode = process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"still running {SHUTDOWN_TIMEOUT} s after /api/shutdown:\n{_log_tail(log)}"
            )
        assert returncode == 0, _log_tail(log)
        deadline = time.monotonic() + 10
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(process.pid), "processes left behind after the shutdown"
    finally:
        _stop_group(process)


def assert_serves_notebook(server: JupyterServer, project: Path) -> None:
    """The server's file browser holds notebooks/results.ipynb under its root directory."""
    root = Path(server.info["root_dir"]).resolve()
    relative = (project / NOTEBOOK).resolve().relative_to(root).as_posix()
    folder = relative.rpartition("/")[0]
    listing = server.api(f"/api/contents/{folder}?content=1")
    assert relative in {item["path"] for item in listing["content"]}, listing
    assert server.api(f"/api/contents/{relative}?content=0")["type"] == "notebook"


def test_readme_kedro_jupyter_lab_serves_the_project(tmp_path, jupyter_env):
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    command = readme_command("kedro jupyter lab")
    with readme_server(command, project, jupyter_env, tmp_path / "server.log") as server:
        assert Path(server.info["root_dir"]).resolve() == project.resolve()
        assert server.info["port"] == int(jupyter_env["JUPYTER_PORT"])
        assert_serves_notebook(server, project)
        kernelspecs = server.api("/api/kernelspecs")
        assert kernelspecs["default"] == KEDRO_KERNEL, kernelspecs["default"]
        spec = kernelspecs["kernelspecs"][KEDRO_KERNEL]["spec"]
        assert spec["display_name"] == "Kedro (llm_finetune)"
        assert os.path.samefile(spec["argv"][0], sys.executable), spec["argv"]
        assert spec["argv"][-2:] == ["--ext", "kedro.ipython"], spec["argv"]
    # Registered in the test's Jupyter data dir, so not in the user's ~/.local/share/jupyter.
    kernel_json = Path(jupyter_env["JUPYTER_DATA_DIR"]) / "kernels" / KEDRO_KERNEL / "kernel.json"
    assert kernel_json.is_file()


def test_readme_jupyter_lab_opens_the_notebook(tmp_path, jupyter_env):
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    command = readme_command("jupyter lab ")
    with readme_server(command, project, jupyter_env, tmp_path / "server.log") as server:
        # Given a file, the server's root is the file's folder (the README says so).
        assert Path(server.info["root_dir"]).resolve() == (project / NOTEBOOK).resolve().parent
        assert server.info["port"] == int(jupyter_env["JUPYTER_PORT"])
        assert_serves_notebook(server, project)
        # The notebook's own kernel, the venv's python3, is there; no kernel was registered.
        kernelspecs = server.api("/api/kernelspecs")
        assert "python3" in kernelspecs["kernelspecs"]
        assert KEDRO_KERNEL not in kernelspecs["kernelspecs"]
