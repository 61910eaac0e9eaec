"""StudioDomain: an optional SageMaker Studio domain for exploration (config studio_domain)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import bucket_statements, service_role
from infra.constructs.experiment_tracking import ExperimentTracking
from infra.nag import acknowledge
from infra.naming import bucket_name, objects_finding

# What a notebook may read: the data the jobs read and the reports they write. Models come
# through MLflow, never straight from the bucket.
STUDIO_BUCKETS = ("data", "reports")


class StudioDomain(Construct):
    """Studio with IAM users, inside the VPC only, volumes under the data key, read-only data."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        key: kms.IKey,
        tracking: ExperimentTracking,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} SageMaker Studio apps (egress only)",
            allow_all_outbound=True,
        )
        names = [bucket_name(config, b) for b in STUDIO_BUCKETS]
        self.role, policy = service_role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{config.prefix} SageMaker Studio users: read data, read MLflow",
            policy_id="Policy",
            statements=[
                *bucket_statements(
                    names,
                    bucket_sid="StudioBuckets",
                    objects_sid="StudioObjects",
                    object_actions=["s3:GetObject"],
                ),
                iam.PolicyStatement(
                    sid="DataKey", actions=["kms:Decrypt"], resources=[key.key_arn]
                ),
                *tracking.client_statements(write=False),
            ],
        )
        acknowledge(
            policy,
            [*(objects_finding(n) for n in names)],
            "Notebooks read any object of this environment's data and reports buckets (read "
            "only); object keys carry partitions and run ids, so they cannot be listed ahead.",
        )
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.domain = sagemaker.CfnDomain(
            self,
            "Domain",
            domain_name=f"{config.prefix}-studio",
            auth_mode="IAM",
            # No direct internet from notebooks: traffic leaves through the VPC (NAT, endpoints).
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=subnets.subnet_ids,
            kms_key_id=key.key_arn,
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self.role.role_arn,
                security_groups=[self.security_group.security_group_id],
            ),
        )
