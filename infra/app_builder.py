"""Builds the Beacon CDK app for one environment: the stacks, their order, tags and checks."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Stack, Tags, Validations

from infra.config import EnvironmentConfig
from infra.nag import nag_packs
from infra.stacks.data_stack import DataStack
from infra.stacks.delivery_stack import DeliveryStack
from infra.stacks.ml_stack import MlStack
from infra.stacks.network_stack import NetworkStack
from infra.stacks.observability_stack import ObservabilityStack
from infra.stacks.serving_stack import ServingStack


@dataclass(frozen=True)
class BeaconStacks:
    """The stacks of one environment, in deployment order."""

    network: NetworkStack
    data: DataStack
    ml: MlStack
    serving: ServingStack
    observability: ObservabilityStack
    # Only with a delivery configuration (`-c github_repository=owner/name`).
    delivery: DeliveryStack | None = None

    def all(self) -> list[Stack]:
        """Every stack, dependencies first."""
        stacks: list[Stack] = [self.network, self.data, self.ml, self.serving, self.observability]
        return [*stacks, self.delivery] if self.delivery else stacks


def build_app(
    config: EnvironmentConfig, *, app: App | None = None, with_nag: bool = True
) -> tuple[App, BeaconStacks]:
    """Add one environment's stacks to `app` (a new App by default).

    Raises ConfigError when the config lacks an operator value it needs to deploy.
    With `with_nag`, the three cdk-nag packs run during synthesis and any unacknowledged
    finding fails it, so `cdk synth` and `cdk deploy` enforce the checks too.
    """
    # Before any construct exists: a missing certificate or subscriber is named, not half-built.
    config.check_deployable()
    app = app or App()
    env = Environment(account=config.account, region=config.region)
    prefix = f"Beacon-{config.name}"

    def stack_kwargs(name: str, description: str) -> dict[str, object]:
        return {
            "env": env,
            "stack_name": f"{prefix}-{name}",
            "description": f"Beacon {config.name}: {description}",
            "termination_protection": config.is_production,
        }

    network = NetworkStack(
        app, f"{prefix}-Network", config=config, **stack_kwargs("Network", "VPC and endpoints")
    )
    data = DataStack(
        app,
        f"{prefix}-Data",
        config=config,
        network=network.network,
        **stack_kwargs("Data", "key, buckets, PostgreSQL and its bootstrap (stateful)"),
    )
    ml = MlStack(
        app,
        f"{prefix}-Ml",
        config=config,
        network=network.network,
        data=data,
        **stack_kwargs("Ml", "images, SageMaker Processing, MLflow, MWAA"),
    )
    serving = ServingStack(
        app,
        f"{prefix}-Serving",
        config=config,
        network=network.network,
        data=data,
        ml=ml,
        **stack_kwargs("Serving", "API Gateway, WAF and the API on Fargate or Lambda"),
    )
    observability = ObservabilityStack(
        app,
        f"{prefix}-Observability",
        config=config,
        network=network.network,
        data=data,
        serving=serving,
        **stack_kwargs("Observability", "dashboard, alarms, notifications, budget"),
    )
    # Independent of the other stacks: GitHub's deploy role only hands over to CDK's roles.
    delivery = (
        DeliveryStack(
            app,
            f"{prefix}-Delivery",
            config=config,
            **stack_kwargs("Delivery", "GitHub Actions OIDC deploy role"),
        )
        if config.delivery
        else None
    )
    stacks = BeaconStacks(
        network=network,
        data=data,
        ml=ml,
        serving=serving,
        observability=observability,
        delivery=delivery,
    )
    for key, value in {"project": "beacon", "environment": config.name, **config.tags}.items():
        Tags.of(app).add(key, value)
    if with_nag:
        Validations.of(app).add_plugins(*nag_packs())
    return app, stacks
