"""DataStack: the stateful layer (key, buckets, database and its bootstrap)."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_buckets import DataBuckets
from infra.constructs.database_bootstrap import DatabaseBootstrap
from infra.constructs.encryption_key import EncryptionKey
from infra.constructs.network import Network
from infra.constructs.vector_database import VectorDatabase
from infra.retention import stateful_removal


class DataStack(Stack):
    """Everything that holds data; deployed rarely, retained in prod."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = stateful_removal(config)
        self.key = EncryptionKey(
            self, "DataKey", alias=f"alias/{config.prefix}/data", removal_policy=removal
        ).key
        self.buckets = DataBuckets(
            self, "Buckets", config=config, key=self.key, removal_policy=removal
        )
        self.database = VectorDatabase(
            self,
            "Database",
            config=config,
            vpc=network.vpc,
            key=self.key,
            log_removal_policy=removal,
        )
        self.bootstrap = DatabaseBootstrap(
            self,
            "Bootstrap",
            config=config,
            network=network,
            database=self.database,
            key=self.key,
            removal_policy=removal,
        )
