"""DataBuckets: the S3 buckets for data, model artifacts, reports, pipelines and logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.nag import acknowledge, all_packs
from infra.naming import bucket_name

# Parts of uploads that never complete are billed as storage; `_bucket` adds this rule to all.
_ABORT_UPLOADS = s3.LifecycleRule(
    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)
)


def _expire_logs(config: EnvironmentConfig) -> s3.LifecycleRule:
    """Log buckets keep objects as long as CloudWatch keeps the environment's logs."""
    return s3.LifecycleRule(
        id="expire-logs",
        expiration=Duration.days(config.log_retention_days),
        noncurrent_version_expiration=Duration.days(1),
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
        self.logs = self._bucket("Logs", lifecycle=[_expire_logs(config)], access_logs=False)
        self._add_application_buckets(config)
        self.alb_logs: s3.Bucket | None = None
        if config.serving.mode == "fargate":
            self.alb_logs = self._alb_logs_bucket(config)
        acknowledge(
            self,
            all_packs("S3BucketReplicationEnabled"),
            "Cross-region replication doubles storage cost for data that is versioned and "
            "rebuildable from sources; DR here relies on versioning plus retained buckets.",
        )

    def _add_application_buckets(self, config: EnvironmentConfig) -> None:
        """Data, models, reports and pipelines, each with its own lifecycle rules."""
        days = config.data_retention_days
        self.data = self._bucket(
            "Data",
            lifecycle=[
                s3.LifecycleRule(
                    id="expire-old-versions", noncurrent_version_expiration=Duration.days(days)
                )
            ],
        )
        self.models = self._bucket(
            "Models",
            lifecycle=[
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
                s3.LifecycleRule(
                    id="expire-old-versions", noncurrent_version_expiration=Duration.days(30)
                ),
            ],
        )

    def _bucket(
        self,
        construct_id: str,
        *,
        lifecycle: list[s3.LifecycleRule],
        access_logs: bool = True,
        purpose: str | None = None,
        kms_encrypted: bool = True,
    ) -> s3.Bucket:
        purpose = purpose or construct_id.lower()
        return s3.Bucket(
            self,
            construct_id,
            bucket_name=bucket_name(self._config, purpose),
            encryption=s3.BucketEncryption.KMS if kms_encrypted else s3.BucketEncryption.S3_MANAGED,
            encryption_key=self._key if kms_encrypted else None,
            bucket_key_enabled=True if kms_encrypted else None,
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs if access_logs else None,
            server_access_logs_prefix=f"{purpose}/" if access_logs else None,
            lifecycle_rules=[_ABORT_UPLOADS, *lifecycle],
            removal_policy=self._removal_policy,
            auto_delete_objects=self._removal_policy == RemovalPolicy.DESTROY,
        )

    def _alb_logs_bucket(self, config: EnvironmentConfig) -> s3.Bucket:
        # ALB access-log delivery supports only SSE-S3 on its target bucket.
        bucket = self._bucket(
            "AlbLogs", lifecycle=[_expire_logs(config)], purpose="alb-logs", kms_encrypted=False
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
