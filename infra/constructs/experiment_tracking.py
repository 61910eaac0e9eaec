"""ExperimentTracking: SageMaker's serverless MLflow app with its artifact store in S3."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import bucket_statements, service_role
from infra.nag import acknowledge
from infra.naming import bucket_name, objects_finding

ARTIFACT_PREFIX = "mlflow/"
# Clients of a serverless MLflow app call it through SageMaker; the MLflow REST actions
# themselves are authorised per action in the `sagemaker-mlflow` namespace.
READ_ACTIONS = [
    "sagemaker-mlflow:GetExperiment",
    "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:SearchExperiments",
    "sagemaker-mlflow:GetRun",
    "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:ListArtifacts",
    "sagemaker-mlflow:GetMetricHistory",
    "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchRegisteredModels",
    "sagemaker-mlflow:GetLatestModelVersions",
    "sagemaker-mlflow:GetModelVersion",
    "sagemaker-mlflow:SearchModelVersions",
    "sagemaker-mlflow:GetModelVersionByAlias",
    "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts",
]


class ExperimentTracking(Construct):
    """One MLflow app per environment; its ARN is the tracking URI for the MLflow client."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        models = bucket_name(config, "models")
        role, policy = service_role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{config.prefix} MLflow app: artifact store access",
            policy_id="Policy",
            statements=[
                *bucket_statements(
                    [models],
                    bucket_sid="ArtifactBucket",
                    objects_sid="ArtifactObjects",
                    object_actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    prefix=ARTIFACT_PREFIX,
                ),
                iam.PolicyStatement(
                    sid="ArtifactEncryption",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                ),
            ],
        )
        acknowledge(
            policy,
            [objects_finding(models, ARTIFACT_PREFIX)],
            "MLflow writes artifacts under run-specific keys that do not exist yet; access is "
            "limited to the mlflow/ prefix of this environment's models bucket.",
        )
        self.app = sagemaker.CfnMlflowApp(
            self,
            "App",
            name=f"{config.prefix}-mlflow",
            artifact_store_uri=f"s3://{models}/{ARTIFACT_PREFIX}",
            role_arn=role.role_arn,
            model_registration_mode="AutoModelRegistrationDisabled",
            weekly_maintenance_window_start="Sun:03:00",
        )
        self.app.node.add_dependency(policy)
        self.tracking_uri = self.app.attr_arn

    def client_statements(self, *, write: bool) -> list[iam.PolicyStatement]:
        """Permissions for an MLflow client (jobs write; the API only reads)."""
        actions = ["sagemaker-mlflow:*"] if write else READ_ACTIONS
        return [
            iam.PolicyStatement(
                sid="MlflowApp" + ("ReadWrite" if write else "Read"),
                actions=["sagemaker:CallMlflowAppApi", *actions],
                resources=[self.tracking_uri],
            )
        ]
