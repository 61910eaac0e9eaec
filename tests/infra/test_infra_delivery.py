"""The GitHub OIDC deploy role: trust, least privilege, cdk-nag, and what deploy.yml relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import App
from infra_support import BuiltEnvironment, as_list, example_config

from infra.app_builder import build_app
from infra.cdk_context import context_for
from infra.config import GITHUB_ENVIRONMENTS, get_config
from infra.constructs.github_deploy_role import deploy_role_name
from infra.nag import PACK_PREFIXES, nag_packs, recorded_instead

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "deploy.yml"
REPOSITORY = "example-org/beacon-fork"
PROVIDER_ARN = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
DEPLOYED = ("staging", "prod")


class Delivered:
    """One environment synthesized with a deploy role: its app and templates by stack name."""

    def __init__(self, name: str, outdir: Path, provider_arn: str | None = None) -> None:
        self.name = name
        self.config = example_config(name).with_delivery(REPOSITORY, provider_arn)
        self.app = App(context=context_for(name), outdir=str(outdir))
        _, self.stacks = build_app(self.config, app=self.app, with_nag=False)
        self.app.synth()
        self.templates = {
            p.name.removesuffix(".template.json"): json.loads(p.read_text())
            for p in outdir.glob("*.template.json")
        }

    def resources(self, stack: str, resource_type: str) -> list[dict[str, Any]]:
        template = self.templates[f"Beacon-{self.name}-{stack}"]
        return [r for r in template["Resources"].values() if r["Type"] == resource_type]

    def outputs(self, stack: str) -> set[str]:
        return set(self.templates[f"Beacon-{self.name}-{stack}"].get("Outputs", {}))


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Delivered]:
    """staging and prod with a deploy role for REPOSITORY (the provider created in the stack)."""
    return {n: Delivered(n, tmp_path_factory.mktemp(f"delivery-{n}")) for n in DEPLOYED}


def deploy_jobs() -> dict[str, dict[str, Any]]:
    """deploy.yml's jobs."""
    return yaml.safe_load(DEPLOY_WORKFLOW.read_text())["jobs"]


def test_no_delivery_stack_without_a_repository(built: dict[str, BuiltEnvironment]) -> None:
    assert get_config("staging").delivery is None
    assert not any(name.endswith("-Delivery") for name in built["staging"].templates)


def test_repository_must_be_owner_and_name() -> None:
    for bad in ("beacon", "owner/name/extra", "owner/na me", "-owner/name"):
        with pytest.raises(ValueError, match="owner/name"):
            get_config("staging", github_repository=bad)


@pytest.mark.parametrize("name", DEPLOYED)
def test_trust_is_one_repository_in_one_github_environment(
    name: str, delivered: dict[str, Delivered]
) -> None:
    env = delivered[name]
    (role,) = env.resources("Delivery", "AWS::IAM::Role")
    props = role["Properties"]
    assert props["RoleName"] == f"beacon-{name}-github-deploy"
    assert props["MaxSessionDuration"] <= 7200
    (statement,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Effect"] == "Allow"
    assert "Ref" in statement["Principal"]["Federated"]
    # Exact matches only: a StringLike wildcard would let any branch or pull request in.
    assert set(statement["Condition"]) == {"StringEquals"}
    assert statement["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": (
            f"repo:{REPOSITORY}:environment:{GITHUB_ENVIRONMENTS[name]}"
        ),
    }
    (provider,) = env.resources("Delivery", "AWS::IAM::OIDCProvider")
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("name", DEPLOYED)
def test_permissions_stop_at_the_cdk_bootstrap_roles(
    name: str, delivered: dict[str, Delivered]
) -> None:
    (policy,) = delivered[name].resources("Delivery", "AWS::IAM::ManagedPolicy")
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {
        "HandOverToCdkBootstrapRoles",
        "ReadThisEnvironmentsApiKeys",
        "AssumeThisEnvironmentsApiClients",
    }
    clients = statements["AssumeThisEnvironmentsApiClients"]
    assert as_list(clients["Action"]) == ["sts:AssumeRole"]
    assert f":role/beacon-{name}-client-*" in json.dumps(clients["Resource"])
    handover = statements["HandOverToCdkBootstrapRoles"]
    assert as_list(handover["Action"]) == ["sts:AssumeRole"]
    roles = [json.dumps(r) for r in as_list(handover["Resource"])]
    assert len(roles) == 3
    for kind in ("deploy", "file-publishing", "image-publishing"):
        assert sum(f"cdk-hnb659fds-{kind}-role-" in r for r in roles) == 1, kind
    assert not any("*" in r for r in roles)
    keys = statements["ReadThisEnvironmentsApiKeys"]
    assert as_list(keys["Action"]) == ["apigateway:GET"]
    assert keys["Condition"] == {
        "StringEquals": {"aws:ResourceTag/project": "beacon", "aws:ResourceTag/environment": name}
    }
    assert not delivered[name].resources("Delivery", "AWS::IAM::Policy"), "no inline policies"


@pytest.mark.parametrize("name", DEPLOYED)
def test_api_keys_carry_the_tags_the_deploy_role_reads_by(
    name: str, delivered: dict[str, Delivered]
) -> None:
    keys = delivered[name].resources("Serving", "AWS::ApiGateway::ApiKey")
    assert len(keys) == len(delivered[name].config.serving.clients)  # one key per client
    for key in keys:
        tags = {t["Key"]: t["Value"] for t in key["Properties"]["Tags"]}
        assert tags["project"] == "beacon" and tags["environment"] == name


def test_an_existing_provider_is_reused_not_created(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = Delivered("prod", tmp_path_factory.mktemp("delivery-reuse"), PROVIDER_ARN)
    assert not env.resources("Delivery", "AWS::IAM::OIDCProvider")
    (role,) = env.resources("Delivery", "AWS::IAM::Role")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["Federated"] == PROVIDER_ARN


def test_delivery_stack_passes_the_nag_packs_with_real_acknowledgements(
    delivered: dict[str, Delivered], tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in DEPLOYED:
        for pack in nag_packs():
            report = pack.validate_scope(delivered[name].app)
            found = [
                f"{v.rule_name} @ {r.construct_path}"
                for v in report.violations
                for r in v.violating_resources
            ]
            assert found == [], found
    # Built again with acknowledgements only recorded: each must match a finding that occurs.
    with recorded_instead() as acks:
        raw = Delivered("staging", tmp_path_factory.mktemp("delivery-raw"))
    delivery_acks = [(p, r) for p, r in acks if "/DeployRole/" in p + "/"]
    assert delivery_acks, "the API key wildcard is acknowledged on the deploy role"
    findings = [
        (r.construct_path, v.rule_name)
        for pack in nag_packs()
        for v in pack.validate_scope(raw.app).violations
        for r in v.violating_resources
    ]
    for scope, rule in delivery_acks:
        assert rule.startswith(PACK_PREFIXES)
        assert any(path.startswith(scope) and found == rule for path, found in findings), rule


def test_deploy_workflow_assumes_the_role_the_app_defines(
    delivered: dict[str, Delivered],
) -> None:
    """Each deploy job's GitHub environment is the one the role trusts, and the role exists."""
    assuming = 0
    for job in deploy_jobs().values():
        for step in job.get("steps", []):
            role = step.get("with", {}).get("role-to-assume")
            if role is None:
                continue
            assuming += 1
            env_name = job["env"]["DEPLOY_ENV"]
            config = delivered[env_name].config
            assert role.endswith(f":role/{deploy_role_name(config)}"), role
            roles = delivered[env_name].resources("Delivery", "AWS::IAM::Role")
            assert [r["Properties"]["RoleName"] for r in roles] == [deploy_role_name(config)]
            assert job["environment"]["name"] == GITHUB_ENVIRONMENTS[env_name]
            assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert assuming == 2


def test_workflow_stacks_and_outputs_exist(delivered: dict[str, Delivered]) -> None:
    from tests.e2e.stack_outputs import (
        API_KEY_OUTPUT,
        API_URL_OUTPUT,
        CLIENT_ROLE_OUTPUT,
        serving_stack,
    )

    for name in DEPLOYED:
        env = delivered[name]
        names = {s.stack_name for s in env.stacks.all()}
        assert serving_stack(name) in names
        assert f"Beacon-{name}-Delivery" in names  # `make delivery-role` deploys it by name
        assert {API_URL_OUTPUT, API_KEY_OUTPUT, CLIENT_ROLE_OUTPUT} <= env.outputs("Serving")
        assert {"DeployRoleArn", "OidcProviderArn"} <= env.outputs("Delivery")


@pytest.mark.parametrize("name", DEPLOYED)
def test_api_rolls_out_with_circuit_breaker_rollback(
    name: str, built: dict[str, BuiltEnvironment]
) -> None:
    """deploy.yml relies on ECS to stop and roll back a release whose tasks never get healthy."""
    service = built[name].one("AWS::ECS::Service", "Serving")["Properties"]
    deployment = service["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    # Rolling: new tasks start beside the old ones; capacity never drops during a release.
    assert deployment["MinimumHealthyPercent"] == 100
    assert deployment["MaximumPercent"] == 200
    assert service.get("DeploymentController", {"Type": "ECS"})["Type"] == "ECS"
