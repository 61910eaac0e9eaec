# Infrastructure targets; the main Makefile does `include infra/infra.mk` and defines PY and venv.
# Usage: make synth ENV=dev | make deploy ENV=staging | make destroy ENV=dev | make cost ENV=prod
ifeq ($(origin PY),undefined)
# Standalone use (`make -f infra/infra.mk ...`): the main Makefile normally provides these.
PY := .venv/bin/python
venv:
	@test -x $(PY) || { echo "create the venv first: make venv (main Makefile)"; exit 1; }
tools:
	@test -x tools/node_modules/.bin/cdk || { echo "install the CDK CLI first: make tools"; exit 1; }
endif
ENV ?= dev
# IDLE=1: the idle state of ENV (no MWAA, no API task, database stopped; see docs/cost.md).
IDLE ?=
CDK_OUT ?= cdk.out/$(ENV)$(if $(IDLE),-idle)
# STEPS=1: `make cost` also prices each 10x step (traffic, postings) next to today's bill.
STEPS ?=
# Certificate, alert subscribers and API clients of ENV (required for staging and prod):
# make synth ENV=prod OPERATOR_VALUES=infra/operator-values.example.json
OPERATOR_VALUES ?=
# Node 20 is past end-of-life for jsii; the warning is noise here.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# The CLI pinned by tools/package-lock.json (`make tools`), never whatever npx finds.
CDK ?= tools/node_modules/.bin/cdk
CDK_OPERATOR = $(if $(OPERATOR_VALUES),-c operator_values=$(OPERATOR_VALUES))

.PHONY: synth deploy diff destroy cost idle wake infra-test

## synth: write CloudFormation for ENV to cdk.out/ENV (no AWS credentials, no Docker needed)
synth: venv
	@rm -rf $(CDK_OUT)
	@echo "synthesizing $(ENV) into $(CDK_OUT) (cdk-nag packs run as validation plugins)"
	@CDK_OUTDIR=$(CDK_OUT) CDK_CONTEXT_JSON='$(shell $(PY) -m infra.cdk_context $(ENV) "$(OPERATOR_VALUES)" $(IDLE))' $(PY) app.py
	@ls $(CDK_OUT)/*.template.json

## deploy: cdk deploy every stack of ENV (needs credentials, a bootstrapped account and Docker)
deploy: venv tools
	$(CDK) deploy --all -c env=$(ENV) $(CDK_OPERATOR) --require-approval broadening --output $(CDK_OUT)

## diff: what a deploy of ENV would change
diff: venv tools
	$(CDK) diff --all -c env=$(ENV) $(CDK_OPERATOR) --output $(CDK_OUT)

## destroy: delete ENV's stacks (prod keeps its data: see docs/infrastructure.md)
destroy: venv tools
	$(CDK) destroy --all -c env=$(ENV) $(CDK_OPERATOR) --output $(CDK_OUT)

## cost: estimated monthly cost of ENV per resource, from the synthesized templates
## (IDLE=1 prices the idle state, STEPS=1 adds the 10x traffic and postings steps)
cost: synth
	$(PY) -m infra.cost --env $(ENV) --templates $(CDK_OUT) $(if $(STEPS),--steps)

# The database identifier VectorDatabase gives the instance (infra/constructs/vector_database.py).
DB_INSTANCE = beacon-$(ENV)-postgres
AWS ?= aws

## idle: ENV's running costs off (MWAA removed, API at zero tasks, database stopped); not prod
idle: venv tools
	@test "$(ENV)" != prod || { echo "prod has no idle state"; exit 1; }
	$(MAKE) synth ENV=$(ENV) IDLE=1
	$(CDK) deploy --app cdk.out/$(ENV)-idle --all --require-approval never
	# RDS stops only by API call (CloudFormation has no 'stopped' state); a daily schedule in
	# the idle stack stops it again after RDS's automatic restart on day 7.
	$(AWS) rds stop-db-instance --db-instance-identifier $(DB_INSTANCE) || true

## wake: undo `make idle`: start the database, then deploy ENV as configured
wake: venv tools
	$(AWS) rds start-db-instance --db-instance-identifier $(DB_INSTANCE) || true
	$(AWS) rds wait db-instance-available --db-instance-identifier $(DB_INSTANCE)
	$(MAKE) synth ENV=$(ENV)
	$(CDK) deploy --app cdk.out/$(ENV) --all --require-approval never

## infra-test: template, cdk-nag, cfn-lint, contract and snapshot tests plus Lambda unit tests
infra-test: venv
	$(PY) -m pytest tests/infra tests/lambdas -q
