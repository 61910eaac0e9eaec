"""AWS mode of the executor seam: the Amazon provider's Processing operator, Beacon-flavoured."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerProcessingOperator

from beacon_pipelines.arguments import present


class BeaconProcessingOperator(SageMakerProcessingOperator):
    """Start `beacon ...` as a SageMaker Processing job and wait for it.

    Optional flags render empty when their param is unset; they are dropped before the job is
    created, exactly as the local executor drops them.
    """

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        spec = self.config["AppSpecification"]
        spec["ContainerEntrypoint"] = present(spec["ContainerEntrypoint"])
