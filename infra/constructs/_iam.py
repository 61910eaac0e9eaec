"""IAM pieces constructs share: service roles, bucket and secret access, the serving runtime."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.nag import acknowledge
from infra.naming import bucket_arn, bucket_name, objects_arn, objects_finding

SERVING_READ_BUCKETS = ("data", "models")


def service_role(
    scope: Construct,
    role_id: str,
    *,
    assumed_by: iam.IPrincipal,
    description: str,
    policy_id: str,
    statements: Sequence[iam.PolicyStatement],
) -> tuple[iam.Role, iam.ManagedPolicy]:
    """A role and the one customer-managed policy that holds all of its permissions.

    Reviews and cdk-nag acknowledgements then address a single, named document per role
    instead of CDK's generated default policies.
    """
    role = iam.Role(scope, role_id, assumed_by=assumed_by, description=description)
    policy = iam.ManagedPolicy(scope, policy_id, roles=[role], statements=list(statements))
    return role, policy


def bucket_statements(
    names: Sequence[str],
    *,
    bucket_sid: str,
    objects_sid: str,
    object_actions: Sequence[str],
    prefix: str = "",
) -> list[iam.PolicyStatement]:
    """List the named buckets and apply `object_actions` to their objects (under `prefix`)."""
    return [
        iam.PolicyStatement(
            sid=bucket_sid,
            actions=["s3:ListBucket", "s3:GetBucketLocation"],
            resources=[bucket_arn(n) for n in names],
        ),
        iam.PolicyStatement(
            sid=objects_sid,
            actions=list(object_actions),
            resources=[objects_arn(n, prefix) for n in names],
        ),
    ]


def database_secret_statement(secret_arn: str) -> iam.PolicyStatement:
    """Read the application's database credentials."""
    return iam.PolicyStatement(
        sid="DatabaseSecret", actions=["secretsmanager:GetSecretValue"], resources=[secret_arn]
    )


def serving_runtime_statements(
    config: EnvironmentConfig,
    *,
    db_secret_arn: str,
    tracking_statements: Sequence[iam.PolicyStatement],
    key: kms.IKey | None = None,
) -> list[iam.PolicyStatement]:
    """What the serving app calls at runtime, the same on Fargate and on Lambda.

    `key` adds a decrypt grant for a runtime whose role has none yet (the Fargate task role;
    a ContainerFunction's own policy already covers its key). `tracking_statements` are the
    MLflow client's read grants (`ExperimentTracking.client_statements(write=False)`), passed in
    so this module does not import the construct that builds its own roles with it.
    """
    names = [bucket_name(config, b) for b in SERVING_READ_BUCKETS]
    statements = [
        database_secret_statement(db_secret_arn),
        *bucket_statements(
            names,
            bucket_sid="ListBuckets",
            objects_sid="ReadObjects",
            object_actions=["s3:GetObject"],
        ),
    ]
    if key is not None:
        statements.append(
            iam.PolicyStatement(sid="DataKey", actions=["kms:Decrypt"], resources=[key.key_arn])
        )
    return [*statements, *tracking_statements]


def acknowledge_serving_reads(policy: iam.ManagedPolicy, config: EnvironmentConfig) -> None:
    """Accept the object wildcards of `serving_runtime_statements` on the policy holding them."""
    acknowledge(
        policy,
        [objects_finding(bucket_name(config, b)) for b in SERVING_READ_BUCKETS],
        "The API reads model artifacts and stored objects whose keys carry run ids and "
        "versions; access is read-only and limited to this environment's named buckets.",
    )
