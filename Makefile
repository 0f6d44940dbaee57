# Every target works on a machine that has only python3 and make: the first run
# bootstraps uv into .tools/ and installs the locked dependencies into .venv/.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
RUN := $(UV) run --frozen

.PHONY: install lint format test test-fast demo bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: .venv/.installed

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

# The tests run under coverage (subprocesses included, see [tool.coverage.run]); the gate
# then checks the total and every module against the thresholds in pyproject.toml.
test: lint
	rm -f .coverage .coverage.* coverage.json
	$(RUN) coverage run -m pytest --durations=30
	$(RUN) coverage combine --quiet
	$(RUN) coverage json --quiet --fail-under=0 -o coverage.json
	$(RUN) python -m bench.coverage_gate

test-fast: install
	$(RUN) pytest -x -q -m "not slow"

demo: install
	$(RUN) stackspend demo

bench: install
	$(RUN) python -m bench

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* coverage.json
