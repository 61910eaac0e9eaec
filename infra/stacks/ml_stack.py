"""MlStack: images, SageMaker Processing, MLflow and MWAA: the pipeline layer."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.experiment_tracking import ExperimentTracking
from infra.constructs.network import Network
from infra.constructs.orchestration import Orchestration
from infra.constructs.processing_jobs import ProcessingJobs
from infra.constructs.service_images import ServiceImages
from infra.constructs.studio_domain import StudioDomain
from infra.retention import stateful_removal
from infra.stacks.data_stack import DataStack


class MlStack(Stack):
    """Where models are built: jobs, experiment tracking and their orchestration."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        data: DataStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.images = ServiceImages(self, "Images")
        self.tracking = ExperimentTracking(self, "Mlflow", config=config, key=data.key)
        self.processing = ProcessingJobs(
            self,
            "Processing",
            config=config,
            vpc=network.vpc,
            image=self.images.processing,
            key=data.key,
            db_secret=data.database.app_secret,
            tracking=self.tracking,
        )
        data.database.allow_from(self.processing.security_group, "processing jobs")
        # Left out in the idle state (config switch orchestration.enabled, `make idle`).
        self.orchestration: Orchestration | None = None
        if config.orchestration.enabled:
            self.orchestration = Orchestration(
                self,
                "Airflow",
                config=config,
                network=network,
                key=data.key,
                processing=self.processing,
                tracking=self.tracking,
                serving_image_uri=self.images.serving.image_uri,
                db_secret_arn=data.database.app_secret.secret_arn,
                removal_policy=stateful_removal(config),
            )
        self.studio: StudioDomain | None = None
        if config.studio_domain:
            self.studio = StudioDomain(
                self,
                "Studio",
                config=config,
                vpc=network.vpc,
                key=data.key,
                tracking=self.tracking,
            )
