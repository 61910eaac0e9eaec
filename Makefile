# Beacon: `make demo` runs the jobs workload on embedded defaults; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of PyTorch; installed before the rest so nothing pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0

# Models load from the packaged copy only; Beacon never downloads weights at run time.
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint format bench-embeddings bench-predict clean

help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e '.[all,dev]'
	touch $@

venv: $(VENV)/.installed ## Create .venv and install Beacon with every dependency group

demo: venv ## Embedded PostgreSQL + sample corpus + embeddings refresh + API on :8000
	BEACON_LOG_FORMAT=$${BEACON_LOG_FORMAT:-text} $(VENV)/bin/beacon demo

test: venv ## Lint, format check and the whole test suite (real PostgreSQL, real model)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: venv ## ruff lint only
	$(VENV)/bin/ruff check .

format: venv ## Apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-embeddings: venv ## Refresh throughput, incremental refresh, /recommend_jobs latency, HNSW recall
	$(PY) -m bench.bench_embeddings

bench-predict: venv ## /predict/readmission latency and throughput vs `mlflow models serve`, same model
	$(PY) -m bench.bench_predict

clean: ## Remove the local state folder (embedded database, reports) and caches
	rm -rf .beacon cdk.out .pytest_cache .ruff_cache

-include infra/infra.mk
