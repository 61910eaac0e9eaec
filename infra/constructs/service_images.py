"""ServiceImages: the serving and processing container images (ECR assets, built at deploy)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.images import image_asset


class ServiceImages(Construct):
    """Images from docker/serving.Dockerfile and docker/processing.Dockerfile."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.serving = image_asset(self, "Serving", dockerfile="serving.Dockerfile")
        self.processing = image_asset(self, "Processing", dockerfile="processing.Dockerfile")


def pull_statements(*repository_arns: str) -> list[iam.PolicyStatement]:
    """What a role needs to pull images from the named repositories (and nothing else)."""
    return [
        iam.PolicyStatement(
            sid="EcrPullFromAssetRepository",
            actions=[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            resources=list(dict.fromkeys(repository_arns)),
        ),
        # GetAuthorizationToken is account-wide: it has no resource-level permissions.
        iam.PolicyStatement(
            sid="EcrAuthorizationToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]
        ),
    ]
