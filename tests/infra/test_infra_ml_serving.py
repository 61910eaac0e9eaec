"""Template assertions for the ML, serving and observability stacks."""

from __future__ import annotations

import json

from infra_support import (
    BuiltEnvironment,
    as_list,
    example_config,
    function_by_handler,
    statements,
)

from infra.config import ENVIRONMENTS


def test_mwaa_runs_airflow_3_0_6_in_private_subnets(env: BuiltEnvironment) -> None:
    mwaa = env.one("AWS::MWAA::Environment", "Ml")["Properties"]
    config = ENVIRONMENTS[env.name].orchestration
    assert mwaa["AirflowVersion"] == "3.0.6"
    assert mwaa["EnvironmentClass"] == config.environment_class
    assert mwaa["MaxWorkers"] == config.max_workers
    assert mwaa["DagS3Path"] == "dags" and mwaa["RequirementsS3Path"] == "requirements.txt"
    assert "Fn::GetAtt" in mwaa["RequirementsS3ObjectVersion"]
    subnets = json.dumps(mwaa["NetworkConfiguration"]["SubnetIds"])
    assert "privateSubnet1" in subnets and "privateSubnet2" in subnets
    options = mwaa["AirflowConfigurationOptions"]
    for name in (
        "processing_image_uri",
        "processing_role_arn",
        "data_bucket",
        "models_bucket",
        "reports_bucket",
        "db_secret_arn",
        "mlflow_tracking_uri",
        "processing_subnet_ids",
        "processing_security_group_ids",
    ):
        assert f"beacon.{name}" in options, name
    parameters = env.resources("AWS::SSM::Parameter", "Ml")
    assert len(parameters) == len(options)


def test_mwaa_role_starts_and_watches_only_beacon_jobs(env: BuiltEnvironment) -> None:
    policy = next(
        p
        for lid, p in env.resources("AWS::IAM::ManagedPolicy", "Ml").items()
        if lid.startswith("AirflowExecutionPolicy")
    )
    by_sid = {s["Sid"]: s for s in statements(policy)}
    jobs = by_sid["RunProcessingJobs"]
    assert "sagemaker:CreateProcessingJob" in jobs["Action"]
    assert "sagemaker:DescribeProcessingJob" in jobs["Action"]
    assert f"processing-job/beacon-{env.name}-*" in json.dumps(jobs["Resource"])
    passing = by_sid["PassProcessingRole"]
    assert passing["Condition"]["StringEquals"]["iam:PassedToService"] == "sagemaker.amazonaws.com"


def test_processing_role_is_scoped_to_named_buckets_and_secret(env: BuiltEnvironment) -> None:
    policy = next(
        p
        for lid, p in env.resources("AWS::IAM::ManagedPolicy", "Ml").items()
        if lid.startswith("ProcessingPolicy")
    )
    by_sid = {s["Sid"]: s for s in statements(policy)}
    objects = json.dumps(by_sid["JobObjects"]["Resource"])
    for purpose in ("data", "models", "reports"):
        assert f"beacon-{env.name}-111111111111-us-east-1-{purpose}/*" in objects
    assert "pipelines" not in objects
    assert len(as_list(by_sid["DatabaseSecret"]["Resource"])) == 1


def test_mlflow_is_the_serverless_app(env: BuiltEnvironment) -> None:
    app = env.one("AWS::SageMaker::MlflowApp", "Ml")["Properties"]
    assert (
        app["ArtifactStoreUri"] == f"s3://beacon-{env.name}-111111111111-us-east-1-models/mlflow/"
    )
    assert not env.resources("AWS::SageMaker::MlflowTrackingServer")


def test_fargate_service_behind_alb_with_ready_health_check(prod: BuiltEnvironment) -> None:
    service = prod.one("AWS::ECS::Service", "Serving")["Properties"]
    breaker = service["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    groups = prod.resources("AWS::ElasticLoadBalancingV2::TargetGroup", "Serving").values()
    assert len(groups) == 2  # blue and green
    for group in groups:
        assert group["Properties"]["HealthCheckPath"] == "/ready"
        assert group["Properties"]["Port"] == 8000
    alb = prod.one("AWS::ElasticLoadBalancingV2::LoadBalancer", "Serving")["Properties"]
    assert alb["Scheme"] == "internal"
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    task = prod.one("AWS::ECS::TaskDefinition", "Serving")["Properties"]
    container = task["ContainerDefinitions"][0]
    assert container["PortMappings"][0]["ContainerPort"] == 8000
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert container["User"] == "10001:10001"


def test_fargate_task_reads_the_admin_key_from_its_own_secret(env: BuiltEnvironment) -> None:
    if ENVIRONMENTS[env.name].serving.mode != "fargate":
        assert not env.resources("AWS::SecretsManager::Secret", "Serving")
        return
    secrets = env.resources("AWS::SecretsManager::Secret", "Serving")
    assert len(secrets) == 1
    ((secret_id, secret),) = secrets.items()
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["ExcludePunctuation"] is True and "GenerateStringKey" not in generated
    assert "KmsKeyId" in secret["Properties"]
    destroyed = ENVIRONMENTS[env.name].database.removal == "destroy"
    assert secret["DeletionPolicy"] == ("Delete" if destroyed else "Retain")
    task = env.one("AWS::ECS::TaskDefinition", "Serving")["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["Secrets"] == [
        {"Name": "BEACON_ADMIN_API_KEY", "ValueFrom": {"Ref": secret_id}}
    ]
    assert "BEACON_ADMIN_API_KEY" not in {v["Name"] for v in container["Environment"]}
    # Only the execution role (which injects container secrets) reads it, and only this one.
    readers = [
        (policy_id, statement)
        for policy_id, policy in env.resources("AWS::IAM::ManagedPolicy", "Serving").items()
        for statement in statements(policy)
        if json.dumps({"Ref": secret_id}) in json.dumps(statement)
    ]
    assert {policy_id.startswith("ServiceExecutionPolicy") for policy_id, _ in readers} == {True}
    actions = {a for _, statement in readers for a in as_list(statement["Action"])}
    assert actions == {"secretsmanager:GetSecretValue", "kms:Decrypt"}
    output = env.template("Serving")["Outputs"]["AdminKeySecretArn"]
    assert output["Value"] == {"Ref": secret_id}


def test_lambda_api_leaves_the_admin_endpoints_disabled(dev: BuiltEnvironment) -> None:
    function = function_by_handler(dev, "lambdas.api.handler.handler")
    assert function is not None
    assert "BEACON_ADMIN_API_KEY" not in function["Environment"]["Variables"]
    assert "AdminKeySecretArn" not in dev.template("Serving")["Outputs"]


def test_scaling_bounds_and_policies(built: dict[str, BuiltEnvironment]) -> None:
    for name in ("staging", "prod"):
        serving = ENVIRONMENTS[name].serving
        target = built[name].one("AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
        assert (target["MinCapacity"], target["MaxCapacity"]) == (
            serving.min_tasks,
            serving.max_tasks,
        )
        policies = built[name].resources("AWS::ApplicationAutoScaling::ScalingPolicy")
        metrics = {
            p["Properties"]["TargetTrackingScalingPolicyConfiguration"][
                "PredefinedMetricSpecification"
            ]["PredefinedMetricType"]
            for p in policies.values()
        }
        expected = {"ECSServiceAverageCPUUtilization"}
        if not serving.blue_green:  # request counts follow one target group; blue/green has two
            expected.add("ALBRequestCountPerTarget")
        assert metrics == expected


def test_dev_serves_from_lambda_through_mangum(dev: BuiltEnvironment) -> None:
    assert not dev.resources("AWS::ECS::Service")
    assert not dev.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")
    function = function_by_handler(dev, "lambdas.api.handler.handler")
    assert function is not None and function["Timeout"] == 29
    permissions = dev.resources("AWS::Lambda::Permission", "Serving").values()
    assert all(p["Properties"]["Principal"] == "apigateway.amazonaws.com" for p in permissions)


def test_api_gateway_has_waf_keys_throttling_and_access_logs(env: BuiltEnvironment) -> None:
    stage = env.one("AWS::ApiGateway::Stage", "Serving")["Properties"]
    assert stage["TracingEnabled"] is True and "ClientCertificateId" in stage
    assert "DestinationArn" in stage["AccessLogSetting"]
    throttle = stage["MethodSettings"][0]
    assert throttle["ThrottlingRateLimit"] == ENVIRONMENTS[env.name].serving.throttle_rate_limit
    methods = env.resources("AWS::ApiGateway::Method", "Serving").values()
    assert methods and all(m["Properties"]["ApiKeyRequired"] for m in methods)
    assert all(m["Properties"]["AuthorizationType"] == "AWS_IAM" for m in methods)
    plans = env.resources("AWS::ApiGateway::UsagePlan", "Serving").values()
    # One plan per client (its own quota and throttle).
    assert len(plans) == len(example_config(env.name).serving.clients)
    assert all(p["Properties"]["Quota"]["Period"] == "DAY" for p in plans)
    acl = env.one("AWS::WAFv2::WebACL", "Serving")["Properties"]
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert "AWSManagedRulesCommonRuleSet" in groups
    # One association, the stage: the internal ALB is reached only through it.
    (association,) = env.resources("AWS::WAFv2::WebACLAssociation", "Serving").values()
    assert "/stages/" in json.dumps(association["Properties"]["ResourceArn"])
    assert env.resources("AWS::WAFv2::LoggingConfiguration", "Serving")


def test_fargate_api_uses_vpc_link_v2_to_the_alb(prod: BuiltEnvironment) -> None:
    for method in prod.resources("AWS::ApiGateway::Method", "Serving").values():
        integration = method["Properties"]["Integration"]
        assert integration["ConnectionType"] == "VPC_LINK"
        assert integration["Type"] == "HTTP_PROXY"
        assert "IntegrationTarget" in integration


def test_dashboard_alarms_and_budget(env: BuiltEnvironment) -> None:
    dashboard = env.one("AWS::CloudWatch::Dashboard", "Observability")["Properties"]
    body = json.dumps(dashboard["DashboardBody"])
    for metric in ("ModelRocAuc", "DriftShareOfDriftedColumns", "EmbeddingsRefreshed"):
        assert metric in body
    assert f"Beacon/{env.name}" in body and "p99" in body
    alarms = env.resources("AWS::CloudWatch::Alarm", "Observability").values()
    assert len(alarms) >= 8
    assert all(a["Properties"]["AlarmActions"] for a in alarms)
    budget = env.one("AWS::Budgets::Budget", "Observability")["Properties"]
    limit = budget["Budget"]["BudgetLimit"]
    assert limit["Amount"] == ENVIRONMENTS[env.name].monthly_budget_usd
    topics = env.resources("AWS::SNS::Topic", "Observability").values()
    assert all("KmsMasterKeyId" in t["Properties"] for t in topics)
    rules = env.resources("AWS::Events::Rule", "Observability").values()
    sources = {json.dumps(r["Properties"]["EventPattern"]["source"]) for r in rules}
    assert sources == {'["aws.sagemaker"]', '["beacon.pipelines"]'}


def test_every_lambda_is_hardened(env: BuiltEnvironment) -> None:
    functions = [
        f["Properties"]
        for f in env.resources("AWS::Lambda::Function").values()
        if "ImageConfig" in f["Properties"]
    ]
    # Bootstrap, DAG sync, notifier; dev adds the API on Lambda, blue/green prod its check.
    config = example_config(env.name)
    expected = 3 + (config.serving.mode == "lambda") + config.serving.blue_green
    assert len(functions) == expected
    for function in functions:
        assert "VpcConfig" in function and "DeadLetterConfig" in function
        assert function["ReservedConcurrentExecutions"] >= 1
        assert function["TracingConfig"]["Mode"] == "Active"
