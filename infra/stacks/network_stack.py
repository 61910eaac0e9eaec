"""NetworkStack: the VPC, its endpoints and flow logs; changes least often."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.encryption_key import EncryptionKey
from infra.constructs.network import Network
from infra.retention import stateful_removal


class NetworkStack(Stack):
    """Network layer shared by every other stack of the environment."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = stateful_removal(config)
        # Flow logs need a key before the data stack (which needs the VPC) exists.
        key = EncryptionKey(
            self, "NetworkKey", alias=f"alias/{config.prefix}/network", removal_policy=removal
        ).key
        self.network = Network(self, "Network", config=config, key=key, removal_policy=removal)
