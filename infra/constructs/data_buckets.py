"""DataBuckets: the S3 buckets for data, model artifacts, reports, pipelines and logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.nag import acknowledge, all_packs
from infra.naming import bucket_name

_ABORT_UPLOADS = s3.LifecycleRule(
    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)
)


class DataBuckets(Construct):
    """Encrypted, versioned, TLS-only, private buckets with access logging and lifecycle rules."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self._removal_policy = removal_policy
        # Server access logs of every other bucket land here (cdk-nag accepts a log target
        # bucket without its own access logging).
        self.logs = self._bucket(
            "Logs",
            lifecycle=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(config.log_retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                ),
            ],
            access_logs=False,
        )
        days = config.data_retention_days
        keep_versions = Duration.days(days)
        self.data = self._bucket(
            "Data",
            lifecycle=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="expire-old-versions", noncurrent_version_expiration=keep_versions
                ),
            ],
        )
        self.models = self._bucket(
            "Models",
            lifecycle=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="old-versions-to-ia",
                    noncurrent_version_transitions=[
                        s3.NoncurrentVersionTransition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(30),
                        )
                    ],
                    noncurrent_version_expiration=Duration.days(days + 30),
                ),
            ],
        )
        self.reports = self._bucket(
            "Reports",
            lifecycle=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="reports-to-ia",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(30),
                        )
                    ],
                    expiration=Duration.days(days + 30),
                    noncurrent_version_expiration=Duration.days(7),
                ),
            ],
        )
        # MWAA's source bucket (DAGs, requirements); MWAA requires versioning.
        self.pipelines = self._bucket(
            "Pipelines",
            lifecycle=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="expire-old-versions", noncurrent_version_expiration=Duration.days(30)
                ),
            ],
        )
        self.alb_logs: s3.Bucket | None = None
        if config.serving.mode == "fargate":
            self.alb_logs = self._alb_logs_bucket(config)
        acknowledge(
            self,
            all_packs("S3BucketReplicationEnabled"),
            "Cross-region replication doubles storage cost for data that is versioned and "
            "rebuildable from sources; DR here relies on versioning plus retained buckets.",
        )

    def _bucket(
        self, construct_id: str, *, lifecycle: list[s3.LifecycleRule], access_logs: bool = True
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            bucket_name=bucket_name(self._config, construct_id.lower()),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self._key,
            bucket_key_enabled=True,
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs if access_logs else None,
            server_access_logs_prefix=f"{construct_id.lower()}/" if access_logs else None,
            lifecycle_rules=lifecycle,
            removal_policy=self._removal_policy,
            auto_delete_objects=self._removal_policy == RemovalPolicy.DESTROY,
        )

    def _alb_logs_bucket(self, config: EnvironmentConfig) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AlbLogs",
            bucket_name=bucket_name(config, "alb-logs"),
            # ALB access-log delivery supports only SSE-S3 on its target bucket.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="alb-logs/",
            lifecycle_rules=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(config.log_retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                ),
            ],
            removal_policy=self._removal_policy,
            auto_delete_objects=self._removal_policy == RemovalPolicy.DESTROY,
        )
        acknowledge(
            bucket,
            all_packs("S3DefaultEncryptionKMS"),
            "Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3; "
            "the bucket is still encrypted at rest, private and TLS-only.",
        )
        return bucket

    @property
    def all(self) -> dict[str, s3.Bucket]:
        """Every application bucket by short name (data, models, reports, pipelines)."""
        return {
            "data": self.data,
            "models": self.models,
            "reports": self.reports,
            "pipelines": self.pipelines,
        }
