"""CDK entry point: picks the environment (-c env=dev|staging|prod) and builds its stacks."""

from __future__ import annotations

import os

from aws_cdk import App

from infra.app_builder import build_app
from infra.config import get_config

app = App()
# The only place that reads context or CDK_DEFAULT_*: everything below gets a frozen config.
env_name = app.node.try_get_context("env") or "dev"
account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")
with_nag = str(app.node.try_get_context("nag") or "true").lower() != "false"
# Only `make delivery-role` passes these: the pipeline never deploys its own deploy role.
github_repository = app.node.try_get_context("github_repository")
github_oidc_provider_arn = app.node.try_get_context("github_oidc_provider_arn")
config = get_config(
    env_name,
    account,
    region,
    github_repository=github_repository,
    github_oidc_provider_arn=github_oidc_provider_arn,
)
build_app(config, app=app, with_nag=with_nag)
app.synth()
