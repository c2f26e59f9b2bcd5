# Every target creates or reuses .venv from uv.lock by itself; the only prerequisites are
# python3, git and make. uv is fetched once into .tools/ unless one is already on PATH.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo .tools/uv)
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
export UV_PYTHON_DOWNLOADS := never

.PHONY: help run test lint typecheck pytest e2e bench fork clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/uv:
	python3 tools/bootstrap_uv.py $@

# python-hcl2 is reinstalled on every sync: removing checkov's bc-python-hcl2 from a venv that had
# both (before checkov moved to its own venv) deletes files the two packages share.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python python3 --reinstall-package python-hcl2
	@touch $@

# checkov's own venv, from the same lock (see the `checkov` group in pyproject.toml for why).
$(CHECKOV_VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) venv --allow-existing --python python3 $(CHECKOV_VENV)
	$(UV) export --quiet --locked --only-group checkov --no-emit-project -o $(CHECKOV_VENV)/requirements.txt
	$(UV) pip sync --python $(CHECKOV_VENV)/bin/python --require-hashes $(CHECKOV_VENV)/requirements.txt
	@touch $@

run: $(VENV)/.synced ## run the service on localhost:8080 (HOST=0.0.0.0 for the LAN; docs/configuration.md)
	HOST="$${HOST:-127.0.0.1}" $(VENV)/bin/argo-python

test: lint typecheck pytest ## ruff, mypy --strict and every test

lint: $(VENV)/.synced ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced ## mypy --strict on src/
	$(VENV)/bin/mypy

pytest: $(VENV)/.synced $(CHECKOV_VENV)/.synced ## every test (PYTEST_ARGS=... to pass options)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

e2e: $(VENV)/.synced ## build the image, run it and check it from outside (docker or podman)
	$(VENV)/bin/pytest tests/image $(PYTEST_ARGS)

bench: $(VENV)/.synced ## load and memory benchmarks (needs wrk)
	$(PY) bench/run.py --rounds 5 --duration 5

# Only what is given on the command line counts: HOSTNAME, NAME and the like are often set in the
# environment of a shell or a container. Values are single-quoted for the shell.
fork_arg = $(if $(filter command line,$(origin $(1))),--$(2)='$(subst ','\'',$($(1)))')

fork: $(VENV)/.synced ## OWNER=.. NAME=.. [REPO= NODE_PORT= HOSTNAME=]: make this clone your fork
	$(VENV)/bin/argo-gitops fork $(call fork_arg,OWNER,owner) $(call fork_arg,NAME,name) \
	  $(call fork_arg,REPO,repo) $(call fork_arg,NODE_PORT,node-port) $(call fork_arg,HOSTNAME,hostname)

clean: ## remove the virtual environments, the fetched uv and the caches
	rm -rf $(VENV) $(CHECKOV_VENV) .tools .mypy_cache .pytest_cache .ruff_cache
