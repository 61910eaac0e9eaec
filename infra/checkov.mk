# checkov in its own venv (its pins clash with the main stack): `make checkov ENV=prod` scans
# cdk.out/ENV; tests/infra/test_infra_checkov.py runs it over every environment in `make test`.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_SPEC ?= checkov>=3.2,<4

.PHONY: checkov-venv checkov

$(CHECKOV_VENV)/.installed:
	$(install_started)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "$(CHECKOV_SPEC)"
	$(install_finished)

checkov-venv: $(CHECKOV_VENV)/.installed ## Create .venv-checkov (checkov for the CloudFormation scan)

checkov: checkov-venv synth ## checkov over cdk.out/ENV with Beacon's reasoned skips (infra/checkov_skips.py)
	$(PY) -m infra.checkov_skips --checkov $(CHECKOV_VENV)/bin/checkov --templates $(CDK_OUT)
