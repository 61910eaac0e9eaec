"""ProcessingJobs: role, network placement and settings of Beacon's SageMaker Processing jobs."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import bucket_statements, database_secret_statement, service_role
from infra.constructs.experiment_tracking import ExperimentTracking
from infra.constructs.service_images import pull_statements
from infra.nag import AWS_SOLUTIONS, acknowledge
from infra.naming import bucket_name, objects_finding
from infra.runtime_env import processing_environment

# SageMaker writes every processing job's logs to this fixed, account-wide log group.
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
JOB_BUCKETS = ("data", "models", "reports")


def processing_log_group_arn() -> str:
    """ARN (with streams) of SageMaker's processing-job log group."""
    return (
        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{PROCESSING_LOG_GROUP}:*"
    )


PROCESSING_LOG_FINDING = (
    f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
    f"<AWS::AccountId>:log-group:{PROCESSING_LOG_GROUP}:*]"
)


class ProcessingJobs(Construct):
    """Everything a DAG needs to start a Beacon job as a SageMaker Processing job."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        image: ecr_assets.DockerImageAsset,
        key: kms.IKey,
        db_secret: secretsmanager.ISecret,
        tracking: ExperimentTracking,
    ) -> None:
        super().__init__(scope, construct_id)
        self.image_uri = image.image_uri
        self.instance_type = config.processing_instance_type
        self.refresh_instance_count = config.refresh_instance_count
        self.hpo_instance_count = config.hpo_instance_count
        # `embed refresh --workers`: a count, or auto (one per vCPU the instance has).
        self.refresh_workers = str(config.refresh_workers_per_instance or "auto")
        # The jobs' ML storage volumes (VolumeKmsKeyId) use the data key, like every bucket.
        self.volume_key_arn = key.key_arn
        self.environment = processing_environment(config, db_secret_arn=db_secret.secret_arn)
        self.job_name_prefix = f"{config.prefix}-"
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} SageMaker Processing jobs (egress only)",
            allow_all_outbound=True,
        )
        self.subnet_ids = vpc.select_subnets(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
        ).subnet_ids
        self.role = self._execution_role(
            config, image=image, key=key, db_secret=db_secret, tracking=tracking
        )

    def _execution_role(
        self,
        config: EnvironmentConfig,
        *,
        image: ecr_assets.DockerImageAsset,
        key: kms.IKey,
        db_secret: secretsmanager.ISecret,
        tracking: ExperimentTracking,
    ) -> iam.Role:
        """The role SageMaker runs every job as, and the cdk-nag findings its policy accepts."""
        names = [bucket_name(config, b) for b in JOB_BUCKETS]
        role, policy = service_role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{config.prefix} SageMaker Processing jobs",
            policy_id="Policy",
            statements=_job_statements(
                names, image=image, key=key, db_secret=db_secret, tracking=tracking
            ),
        )
        acknowledge(
            policy,
            [
                f"{AWS_SOLUTIONS}-IAM5[Resource::*]",
                PROCESSING_LOG_FINDING,
                f"{AWS_SOLUTIONS}-IAM5[Action::sagemaker-mlflow:*]",
                *(objects_finding(n) for n in names),
            ],
            "Resource '*' only for ECR auth tokens and VPC ENI actions, which have no resource "
            "ARNs; log streams and objects are created per job under named groups/buckets; "
            "the MLflow API is versioned by MLflow and scoped to this env's app ARN.",
        )
        return role


def _job_statements(
    names: list[str],
    *,
    image: ecr_assets.DockerImageAsset,
    key: kms.IKey,
    db_secret: secretsmanager.ISecret,
    tracking: ExperimentTracking,
) -> list[iam.PolicyStatement]:
    """What a job does: pull its image, log, use the job buckets, key, database and MLflow."""
    return [
        *pull_statements(image.repository.repository_arn),
        iam.PolicyStatement(
            sid="JobLogs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[processing_log_group_arn()],
        ),
        *bucket_statements(
            names,
            bucket_sid="JobBuckets",
            objects_sid="JobObjects",
            object_actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        ),
        database_secret_statement(db_secret.secret_arn),
        iam.PolicyStatement(
            sid="DataKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
        ),
        # SageMaker attaches the encrypted ML storage volume on the role's behalf.
        iam.PolicyStatement(
            sid="VolumeKey",
            actions=["kms:CreateGrant", "kms:DescribeKey"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        # SageMaker attaches the job's ENIs in our subnets with these (no resource ARNs).
        iam.PolicyStatement(
            sid="VpcPlacement",
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            resources=["*"],
        ),
        *tracking.client_statements(write=True),
    ]
