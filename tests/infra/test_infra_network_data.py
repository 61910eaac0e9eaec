"""Template assertions for the network and data stacks."""

from __future__ import annotations

import json

from infra_support import ENVIRONMENTS, BuiltEnvironment, as_list, function_by_handler, statements

from infra.config import ENVIRONMENTS as ENVIRONMENT_CONFIGS


def test_vpc_spans_two_named_azs_with_three_subnet_tiers(env: BuiltEnvironment) -> None:
    subnets = env.resources("AWS::EC2::Subnet", "Network")
    assert len(subnets) == 6
    azs = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert azs == {"us-east-1a", "us-east-1b"}
    assert not any(s["Properties"].get("MapPublicIpOnLaunch") for s in subnets.values())
    tiers = {
        next(t["Value"] for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-name")
        for s in subnets.values()
    }
    assert tiers == {"public", "private", "isolated"}


def test_nat_gateways_follow_the_environment(built: dict[str, BuiltEnvironment]) -> None:
    counts = {n: len(built[n].resources("AWS::EC2::NatGateway")) for n in ENVIRONMENTS}
    # dev: one NAT instance instead of a gateway (config nat="instance", docs/cost.md).
    assert counts == {"dev": 0, "staging": 1, "prod": 2}
    assert len(built["dev"].resources("AWS::EC2::Instance", "Network")) == 1


def test_endpoints_and_flow_logs(env: BuiltEnvironment) -> None:
    endpoints = env.resources("AWS::EC2::VPCEndpoint", "Network").values()
    services = {json.dumps(e["Properties"]["ServiceName"]) for e in endpoints}
    interface = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "sagemaker.api")
    # dev leaves the interface endpoints out (their traffic takes the NAT instance).
    wanted = ("s3", *interface) if ENVIRONMENT_CONFIGS[env.name].interface_endpoints else ("s3",)
    for name in wanted:
        assert any(f".{name}" in s for s in services), name
    if not ENVIRONMENT_CONFIGS[env.name].interface_endpoints:
        assert not any(f".{name}" in s for s in services for name in interface)
    flow = env.one("AWS::EC2::FlowLog", "Network")["Properties"]
    assert flow["ResourceType"] == "VPC" and flow["TrafficType"] == "ALL"
    assert flow["LogDestinationType"] == "cloud-watch-logs"


def test_database_is_private_encrypted_tls_only_postgres_17(env: BuiltEnvironment) -> None:
    db = env.one("AWS::RDS::DBInstance", "Data")["Properties"]
    assert db["Engine"] == "postgres" and db["EngineVersion"].startswith("17.")
    assert db["StorageEncrypted"] is True and "KmsKeyId" in db
    assert db["PubliclyAccessible"] is False
    assert db["Port"] == "5433"
    group = env.one("AWS::RDS::DBSubnetGroup", "Data")["Properties"]
    assert all("isolated" in json.dumps(s) for s in group["SubnetIds"])
    params = env.one("AWS::RDS::DBParameterGroup", "Data")["Properties"]
    assert params["Parameters"]["rds.force_ssl"] == "1"
    assert set(db["EnableCloudwatchLogsExports"]) == {"postgresql", "upgrade"}


def test_database_protection_per_environment(built: dict[str, BuiltEnvironment]) -> None:
    dev = built["dev"].one("AWS::RDS::DBInstance", "Data")
    prod = built["prod"].one("AWS::RDS::DBInstance", "Data")
    assert dev["DeletionPolicy"] == "Delete" and dev["Properties"]["DeletionProtection"] is False
    assert prod["DeletionPolicy"] == "Snapshot" and prod["Properties"]["DeletionProtection"]
    assert prod["Properties"]["MultiAZ"] is True and dev["Properties"]["MultiAZ"] is False
    assert built["prod"].resources("AWS::Backup::BackupSelection", "Data")


def test_database_ingress_only_from_named_security_groups(env: BuiltEnvironment) -> None:
    ingress = [
        r["Properties"]
        for r in env.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("FromPort") == 5433
    ]
    assert len(ingress) >= 4  # bootstrap, rotation, processing jobs, API
    assert all("SourceSecurityGroupId" in rule for rule in ingress)
    assert not any("CidrIp" in rule for rule in ingress)


def test_secrets_are_kms_encrypted_and_rotated(env: BuiltEnvironment) -> None:
    secrets = env.resources("AWS::SecretsManager::Secret", "Data")
    assert len(secrets) == 2
    assert all("KmsKeyId" in s["Properties"] for s in secrets.values())
    schedules = env.resources("AWS::SecretsManager::RotationSchedule", "Data")
    assert len(schedules) == 2
    for schedule in schedules.values():
        assert (
            schedule["Properties"]["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
        )


def test_buckets_are_encrypted_versioned_private_logged(env: BuiltEnvironment) -> None:
    buckets = env.resources("AWS::S3::Bucket", "Data")
    kms_buckets = 0
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"]["Status"] == "Enabled", logical_id
        assert all(props["PublicAccessBlockConfiguration"].values()), logical_id
        assert props["LifecycleConfiguration"]["Rules"], logical_id
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        algorithm = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        kms_buckets += algorithm == "aws:kms"
        if not props["BucketName"].endswith("-logs") or "alb" in props["BucketName"]:
            assert "LoggingConfiguration" in props, logical_id
    assert kms_buckets == 5  # data, models, reports, pipelines, logs; ALB logs need SSE-S3
    for policy in env.resources("AWS::S3::BucketPolicy", "Data").values():
        denies = [s for s in statements(policy) if s["Effect"] == "Deny"]
        assert any(
            s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies
        )


def test_bootstrap_custom_resource_runs_the_migrations(env: BuiltEnvironment) -> None:
    resource = env.one("Custom::BeaconDatabaseBootstrap", "Data")["Properties"]
    assert len(resource["MigrationsFingerprint"]) == 64
    function = function_by_handler(env, "lambdas.db_bootstrap.handler.handler")
    assert function is not None
    assert function["ReservedConcurrentExecutions"] == 1
    assert "DeadLetterConfig" in function and "VpcConfig" in function
    policy = next(
        p
        for lid, p in env.resources("AWS::IAM::ManagedPolicy", "Data").items()
        if lid.startswith("BootstrapHandlerPolicy")
    )
    secret_read = next(s for s in statements(policy) if s.get("Sid") == "ReadDatabaseSecrets")
    assert len(as_list(secret_read["Resource"])) == 2
