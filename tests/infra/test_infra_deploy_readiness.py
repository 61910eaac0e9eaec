"""The synthesized prod (and staging) templates carry what a real deploy needs: TLS to the task,
SigV4 per client, only workload routes, the path sent as the service serves it, a WAF fit for
the API, alarms that reach a person, MWAA sized as AWS accepts."""

from __future__ import annotations

import json

import pytest
from infra_support import BuiltEnvironment, example_config, function_by_handler

from infra.constructs.api_service import TEST_LISTENER_PORT
from infra.constructs.bluegreen_check import HANDLER as CHECK_HANDLER
from infra.constructs.orchestration import MWAA_LOG_KINDS
from infra.constructs.public_api import (
    CLIENT_HEADER,
    COUNT_ONLY_RULES,
    PUBLIC_ROUTES,
)

# Routes the service serves that must stay inside the VPC.
OPERATIONS = {"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
ADMIN_HEADER = "x-admin-key"
# Admin-only reads: what a retrain job is doing is for operators, not clients.
ADMIN_READS = {("GET", "/v1/model/retrain/{job_id}")}


def _paths(env: BuiltEnvironment) -> dict[str, str]:
    """Logical id -> full public path of every API Gateway resource."""
    resources = env.resources("AWS::ApiGateway::Resource", "Serving")
    paths: dict[str, str] = {}

    def full(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = full(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        full(logical_id)
    return paths


def _methods(env: BuiltEnvironment) -> dict[tuple[str, str], dict]:
    paths = _paths(env)
    methods = {}
    for method in env.resources("AWS::ApiGateway::Method", "Serving").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        methods[(props["HttpMethod"], path)] = props
    return methods


def test_public_routes_are_exactly_the_workload_routes_of_the_app() -> None:
    from services.serving.app import create_app

    spec = create_app().openapi()
    served = set()
    admin = set(ADMIN_READS)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = {
                p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
            }
            if ADMIN_HEADER in headers:
                admin.add((method.upper(), path))
            elif path not in OPERATIONS:
                served.add((method.upper(), path))
    public = set(PUBLIC_ROUTES)
    assert public == served - ADMIN_READS, "classify the new route: public, operations or admin"
    assert not public & admin


def test_prod_methods_are_sigv4_with_a_key_and_only_the_public_routes(
    prod: BuiltEnvironment,
) -> None:
    methods = _methods(prod)
    expected = set(PUBLIC_ROUTES)
    assert set(methods) == expected
    for props in methods.values():
        assert props["AuthorizationType"] == "AWS_IAM" and props["ApiKeyRequired"] is True
    for blocked in ("/metrics", "/docs", "/openapi.json", "/", "/v1/model/retrain/{job_id}"):
        assert ("GET", blocked) not in methods
    assert ("POST", "/v1/experiments") not in methods
    assert ("POST", "/v1/model/retrain") not in methods


def test_prod_integrations_call_the_service_path_over_https(prod: BuiltEnvironment) -> None:
    config = example_config("prod")
    by_route = _methods(prod)
    for method, path in PUBLIC_ROUTES:
        integration = by_route[(method, path)]["Integration"]
        # The stage and the public path never reach the service: the URI names its own path.
        assert integration["Uri"] == f"https://{config.serving.backend_domain_name}{path}"
        assert integration["ConnectionType"] == "VPC_LINK"
        params = integration["RequestParameters"]
        assert params[f"integration.request.header.{CLIENT_HEADER}"] == "context.identity.userArn"
        for name in ("experiment_id",):
            if f"{{{name}}}" in path:
                assert params[f"integration.request.path.{name}"] == f"method.request.path.{name}"


def test_prod_api_admits_only_the_configured_clients(prod: BuiltEnvironment) -> None:
    api = prod.one("AWS::ApiGateway::RestApi", "Serving")["Properties"]
    allow, deny = api["Policy"]["Statement"]
    assert allow["Effect"] == "Allow" and deny["Effect"] == "Deny"
    principals = deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
    clients = example_config("prod").serving.clients
    assert len(principals) == len(clients) == len(prod.resources("AWS::ApiGateway::ApiKey"))
    roles = [
        r["Properties"]["RoleName"]
        for r in prod.resources("AWS::IAM::Role", "Serving").values()
        if "client" in r["Properties"].get("RoleName", "")
    ]
    assert sorted(roles) == sorted(f"beacon-prod-client-{c.name}" for c in clients)


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_alb_listens_on_https_only_with_the_configured_certificate(
    name: str, built: dict[str, BuiltEnvironment]
) -> None:
    env = built[name]
    listeners = env.resources("AWS::ElasticLoadBalancingV2::Listener", "Serving").values()
    # prod adds blue/green's test listener on 8443; nothing listens on plain HTTP.
    assert sorted(listener["Properties"]["Port"] for listener in listeners) == (
        [443, 8443] if example_config(name).serving.blue_green else [443]
    )
    for listener in listeners:
        props = listener["Properties"]
        assert props["Protocol"] == "HTTPS"
        assert props["Certificates"] == [
            {"CertificateArn": example_config(name).serving.certificate_arn}
        ]
        assert props["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    task = env.one("AWS::ECS::TaskDefinition", "Serving")["Properties"]
    variables = {v["Name"]: v["Value"] for v in task["ContainerDefinitions"][0]["Environment"]}
    assert variables["BEACON_REQUIRE_CLIENT_IDENTITY"] == "true"


def test_waf_rate_limits_ips_and_lets_documented_bodies_through(env: BuiltEnvironment) -> None:
    acl = env.one("AWS::WAFv2::WebACL", "Serving")["Properties"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    rate = rules["RatePerClientIp"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == example_config(env.name).serving.waf_requests_per_ip_5min
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    overrides = {o["Name"]: o["ActionToUse"] for o in common["RuleActionOverrides"]}
    assert {name: {"Count": {}} for name in COUNT_ONLY_RULES} == overrides
    assert len(env.resources("AWS::WAFv2::WebACLAssociation")) == 1


def test_prod_alarms_reach_a_person(prod: BuiltEnvironment) -> None:
    config = example_config("prod")
    subscriptions = prod.resources("AWS::SNS::Subscription", "Observability").values()
    emails = {
        s["Properties"]["Endpoint"] for s in subscriptions if s["Properties"]["Protocol"] == "email"
    }
    assert emails == set(config.alert_emails)
    notifier = [
        f["Properties"]
        for f in prod.resources("AWS::Lambda::Function", "Observability").values()
        if "BEACON_NOTIFIER_WEBHOOK_SECRET_ID" in json.dumps(f["Properties"])
    ]
    assert notifier, "the webhook secret reaches the notifier"
    budget = prod.one("AWS::Budgets::Budget", "Observability")["Properties"]
    for notification in budget["NotificationsWithSubscribers"]:
        kinds = {s["SubscriptionType"] for s in notification["Subscribers"]}
        assert kinds == {"SNS", "EMAIL"}
    alarms = {
        a["Properties"]["AlarmName"].removeprefix("beacon-prod-"): a["Properties"]
        for a in prod.resources("AWS::CloudWatch::Alarm", "Observability").values()
    }
    for name in (
        "Alb5xx",
        "AlbUnhealthyHosts",
        "RdsFreeableMemory",
        "RdsReadLatency",
        "RdsWriteLatency",
        "NotifierErrors",
        "NotifierDeadLetters",
        "MwaaSchedulerHeartbeat",
    ):
        assert name in alarms, name
    assert alarms["Api5xx"]["DatapointsToAlarm"] == config.alarms.datapoints_to_alarm
    assert alarms["Api5xx"]["EvaluationPeriods"] == config.alarms.evaluation_periods
    # The notifier's own failures skip the notifier.
    assert "NotificationTopic" in json.dumps(alarms["NotifierErrors"]["AlarmActions"])


def test_prod_mwaa_is_sized_as_aws_accepts_and_logs_with_the_key(prod: BuiltEnvironment) -> None:
    mwaa = prod.one("AWS::MWAA::Environment", "Ml")["Properties"]
    assert mwaa["EnvironmentClass"] == "mw1.small" and mwaa["Schedulers"] >= 2
    assert mwaa["WebserverAccessMode"] == "PRIVATE_ONLY"
    groups = {
        g["Properties"]["LogGroupName"]: g["Properties"]
        for g in prod.resources("AWS::Logs::LogGroup", "Ml").values()
        if str(g["Properties"].get("LogGroupName", "")).startswith("airflow-")
    }
    assert sorted(groups) == sorted(f"airflow-{mwaa['Name']}-{kind}" for kind in MWAA_LOG_KINDS)
    assert all("KmsKeyId" in g and g["RetentionInDays"] == 365 for g in groups.values())


def test_prod_deploys_blue_green_and_rolls_back_on_the_alarms(
    built: dict[str, BuiltEnvironment],
) -> None:
    prod = built["prod"]
    service = prod.one("AWS::ECS::Service", "Serving")["Properties"]
    deployment = service["DeploymentConfiguration"]
    assert deployment["Strategy"] == "BLUE_GREEN" and deployment["BakeTimeInMinutes"] >= 5
    alarms = deployment["Alarms"]
    assert alarms["Enable"] and alarms["Rollback"]
    created = {
        a["Properties"]["AlarmName"]
        for a in prod.resources("AWS::CloudWatch::Alarm", "Observability").values()
    }
    assert set(alarms["AlarmNames"]) <= created  # rollback watches alarms that exist
    (balancer,) = service["LoadBalancers"]
    advanced = balancer["AdvancedConfiguration"]
    assert {"AlternateTargetGroupArn", "ProductionListenerRule", "TestListenerRule"} <= set(
        advanced
    )
    rules = prod.resources("AWS::ElasticLoadBalancingV2::ListenerRule", "Serving")
    assert advanced["TestListenerRule"]["Ref"] in rules
    staging = built["staging"].one("AWS::ECS::Service", "Serving")["Properties"]
    assert "Strategy" not in staging["DeploymentConfiguration"]  # staging stays rolling


def test_prod_tests_green_through_the_test_listener_before_traffic_shifts(
    built: dict[str, BuiltEnvironment],
) -> None:
    prod = built["prod"]
    service = prod.one("AWS::ECS::Service", "Serving")["Properties"]
    (hook,) = service["DeploymentConfiguration"]["LifecycleHooks"]
    assert hook["LifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    functions = prod.resources("AWS::Lambda::Function", "Serving")
    target = hook["HookTargetArn"]["Fn::GetAtt"][0]
    check = functions[target]["Properties"]
    assert check["ImageConfig"]["Command"] == [CHECK_HANDLER]
    variables = check["Environment"]["Variables"]
    assert (
        variables["BEACON_BLUEGREEN_SERVER_NAME"]
        == example_config("prod").serving.backend_domain_name
    )
    url = json.dumps(variables["BEACON_BLUEGREEN_TEST_URL"])
    assert "https://" in url and f":{TEST_LISTENER_PORT}" in url and "DNSName" in url
    assert json.loads(variables["BEACON_BLUEGREEN_PATHS"]) == ["/ready", "/health"]
    assert check["VpcConfig"]["SubnetIds"] and check["ReservedConcurrentExecutions"] == 1
    # The role ECS assumes may invoke this function and nothing else.
    role_id = hook["RoleArn"]["Fn::GetAtt"][0]
    role = prod.resources("AWS::IAM::Role", "Serving")[role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    grants = [
        statement
        for policy in prod.resources("AWS::IAM::ManagedPolicy", "Serving").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert [(g["Action"], g["Resource"]) for g in grants] == [
        ("lambda:InvokeFunction", {"Fn::GetAtt": [target, "Arn"]})
    ]
    # Its security group reaches only the test listener, and the listener admits only it.
    check_group = check["VpcConfig"]["SecurityGroupIds"][0]["Fn::GetAtt"][0]
    groups = prod.resources("AWS::EC2::SecurityGroup", "Serving")
    # No inline "all traffic" egress: the only way out is the rule below.
    assert "SecurityGroupEgress" not in groups[check_group]["Properties"]
    rules = [
        r["Properties"]
        for r in prod.resources("AWS::EC2::SecurityGroupEgress", "Serving").values()
        if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == check_group
    ]
    assert [(r["FromPort"], r["ToPort"]) for r in rules] == [(TEST_LISTENER_PORT,) * 2]
    sources = [
        r["Properties"]
        for r in prod.resources("AWS::EC2::SecurityGroupIngress", "Serving").values()
        if r["Properties"].get("FromPort") == TEST_LISTENER_PORT
    ]
    assert [s["SourceSecurityGroupId"]["Fn::GetAtt"][0] for s in sources] == [check_group]
    assert not any("CidrIp" in s for s in sources)
    # Staging deploys rolling: no hook, no check function.
    staging = built["staging"]
    staging_service = staging.one("AWS::ECS::Service", "Serving")["Properties"]
    assert "LifecycleHooks" not in staging_service["DeploymentConfiguration"]
    assert function_by_handler(staging, CHECK_HANDLER) is None
