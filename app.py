"""CDK entry point: picks the environment (-c env=dev|staging|prod) and builds its stacks."""

from __future__ import annotations

import os
import sys

from aws_cdk import App

from infra.app_builder import build_app
from infra.config import OPERATOR_KEYS, get_config
from infra.operator_values import from_context
from infra.service_rules import ConfigError

app = App()
# The only place that reads context or CDK_DEFAULT_*: everything below gets a frozen config.
env_name = app.node.try_get_context("env") or "dev"
account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")
with_nag = str(app.node.try_get_context("nag") or "true").lower() != "false"
# Only `make delivery-role` passes these: the pipeline never deploys its own deploy role.
github_repository = app.node.try_get_context("github_repository")
github_oidc_provider_arn = app.node.try_get_context("github_oidc_provider_arn")
try:
    # Operator values: `-c operator_values=FILE` and/or `-c certificate_arn=...` (see docs).
    config = get_config(
        env_name,
        account,
        region,
        github_repository=github_repository,
        github_oidc_provider_arn=github_oidc_provider_arn,
        operator_values=from_context(
            {k: app.node.try_get_context(k) for k in ("operator_values", *OPERATOR_KEYS)}, env_name
        ),
    )
    # `make idle`: the same environment with its running costs off (docs/cost.md).
    if str(app.node.try_get_context("idle") or "false").lower() == "true":
        config = config.with_idle()
    build_app(config, app=app, with_nag=with_nag)
except ConfigError as error:
    sys.exit(f"beacon: cannot synthesize {env_name}: {error}")
app.synth()
