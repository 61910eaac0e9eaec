# Pipelines: a local Airflow 3.0.6 (MWAA's version) in its own venv, and `make pipeline DAG=<id>`.
AIRFLOW_VENV ?= .venv-airflow
AIRFLOW_PY := $(AIRFLOW_VENV)/bin/python
# Airflow keeps its own SQLite metadata here; DAG tasks run `beacon` from $(VENV) on the
# embedded defaults, so the storage root must be the one `beacon` itself uses.
PIPELINE_HOME ?= $(CURDIR)/.beacon/airflow
PIPELINE_STORAGE ?= $(abspath $(or $(BEACON_STORAGE_URI),$(or $(BEACON_HOME),.beacon)/storage))
PIPELINE_ENV = AIRFLOW_HOME=$(PIPELINE_HOME) \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/pipelines/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__BEACON__CLI=$(CURDIR)/$(VENV)/bin/beacon \
	AIRFLOW__BEACON__STORAGE_URI=$(PIPELINE_STORAGE) \
	PYTHONPATH=$(CURDIR)/pipelines/dags \
	BEACON_LOG_FORMAT=$${BEACON_LOG_FORMAT:-text}

.PHONY: airflow-venv pipeline pipeline-inspect

$(AIRFLOW_VENV)/.installed: pipelines/requirements.txt pipelines/requirements-local.txt
	$(install_started)
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_PY) -m pip install --quiet --upgrade pip
	$(AIRFLOW_PY) -m pip install --quiet -r pipelines/requirements-local.txt
	$(install_finished)

airflow-venv: $(AIRFLOW_VENV)/.installed ## Create .venv-airflow: Airflow 3.0.6 + Amazon provider

pipeline: venv airflow-venv ## Run a DAG locally end to end: make pipeline DAG=<id> [DATE=iso] [CONF=json]
	@test -n "$(DAG)" || { echo "usage: make pipeline DAG=nightly_embedding_refresh|training_pipeline|monitoring_retraining"; exit 2; }
	@mkdir -p $(PIPELINE_HOME)
	$(PIPELINE_ENV) $(AIRFLOW_PY) -m beacon_pipelines.run test $(DAG) \
		$(if $(DATE),--logical-date $(DATE)) $(if $(CONF),--conf '$(CONF)')

pipeline-inspect: airflow-venv ## Print every DAG's structure (tags, schedule, tasks) as JSON
	@mkdir -p $(PIPELINE_HOME)
	@$(PIPELINE_ENV) $(AIRFLOW_PY) -m beacon_pipelines.run inspect
