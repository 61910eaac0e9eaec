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
    stacks = _add_stacks(app, config)
    for key, value in {"project": "beacon", "environment": config.name, **config.tags}.items():
        Tags.of(app).add(key, value)
    if with_nag:
        Validations.of(app).add_plugins(*nag_packs())
    return app, stacks


def _stack_kwargs(config: EnvironmentConfig, name: str, description: str) -> dict[str, object]:
    """Account, region, CloudFormation name, description and protection of one stack."""
    return {
        "env": Environment(account=config.account, region=config.region),
        "stack_name": f"Beacon-{config.name}-{name}",
        "description": f"Beacon {config.name}: {description}",
        "termination_protection": config.is_production,
    }


def _add_stacks(app: App, config: EnvironmentConfig) -> BeaconStacks:
    """Every stack of the environment, each created after the stacks it reads from."""
    prefix = f"Beacon-{config.name}"
    network = NetworkStack(
        app,
        f"{prefix}-Network",
        config=config,
        **_stack_kwargs(config, "Network", "VPC and endpoints"),
    )
    data = DataStack(
        app,
        f"{prefix}-Data",
        config=config,
        network=network.network,
        **_stack_kwargs(config, "Data", "key, buckets, PostgreSQL and its bootstrap (stateful)"),
    )
    ml = MlStack(
        app,
        f"{prefix}-Ml",
        config=config,
        network=network.network,
        data=data,
        **_stack_kwargs(config, "Ml", "images, SageMaker Processing, MLflow, MWAA"),
    )
    serving = ServingStack(
        app,
        f"{prefix}-Serving",
        config=config,
        network=network.network,
        data=data,
        ml=ml,
        **_stack_kwargs(config, "Serving", "API Gateway, WAF and the API on Fargate or Lambda"),
    )
    observability = ObservabilityStack(
        app,
        f"{prefix}-Observability",
        config=config,
        network=network.network,
        data=data,
        serving=serving,
        **_stack_kwargs(config, "Observability", "dashboard, alarms, notifications, budget"),
    )
    return BeaconStacks(
        network=network,
        data=data,
        ml=ml,
        serving=serving,
        observability=observability,
        delivery=_delivery_stack(app, config),
    )


def _delivery_stack(app: App, config: EnvironmentConfig) -> DeliveryStack | None:
    """GitHub's deploy role, only with a delivery configuration (`make delivery-role`)."""
    if not config.delivery:
        return None
    # Independent of the other stacks: GitHub's deploy role only hands over to CDK's roles.
    return DeliveryStack(
        app,
        f"Beacon-{config.name}-Delivery",
        config=config,
        **_stack_kwargs(config, "Delivery", "GitHub Actions OIDC deploy role"),
    )
