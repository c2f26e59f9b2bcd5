# Every target creates or reuses .venv from uv.lock by itself; the only prerequisites are
# python3, git and make. uv is fetched once into .tools/ unless one is already on PATH.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo .tools/uv)
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never

.PHONY: help run test lint typecheck pytest e2e bench clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/uv:
	python3 tools/bootstrap_uv.py $@

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python python3
	@touch $@

run: $(VENV)/.synced ## run the service on :8080 (configure with HOST, PORT, ... see README)
	$(VENV)/bin/argo-python

test: lint typecheck pytest ## ruff, mypy --strict and every test

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

pytest: $(VENV)/.synced
	$(VENV)/bin/pytest $(PYTEST_ARGS)

e2e: $(VENV)/.synced ## build the image, run it and check it from outside (docker or podman)
	$(VENV)/bin/pytest tests/image $(PYTEST_ARGS)

bench: $(VENV)/.synced ## load and memory benchmarks (needs wrk)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache
