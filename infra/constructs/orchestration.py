"""Orchestration: MWAA (Airflow 3.0.6) with its DAGs, requirements and every name DAGs need."""

from __future__ import annotations

from aws_cdk import Aws, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import service_role
from infra.constructs._logs import encrypted_log_group
from infra.constructs.container_function import ContainerFunction
from infra.constructs.experiment_tracking import ExperimentTracking
from infra.constructs.network import Network
from infra.constructs.processing_jobs import (
    PROCESSING_LOG_FINDING,
    ProcessingJobs,
    processing_log_group_arn,
)
from infra.images import PIPELINES_DIR, lambda_code, tree_fingerprint
from infra.nag import AWS_SOLUTIONS, acknowledge
from infra.naming import (
    bucket_arn,
    bucket_name,
    mwaa_environment_name,
    objects_arn,
    objects_finding,
    parameter_prefix,
)

AIRFLOW_VERSION = "3.0.6"
DAG_SYNC_HANDLER = "lambdas.dag_sync.handler.handler"
DAGS_PREFIX = "dags/"
REQUIREMENTS_KEY = "requirements.txt"
# EventBridge contract for DAG callbacks; the notifier subscribes to it (see docs).
PIPELINE_EVENT_SOURCE = "beacon.pipelines"
PIPELINE_EVENT_DETAIL_TYPE = "Beacon Pipeline Event"
# MWAA writes to airflow-<environment>-<kind>; the names are fixed by the service.
MWAA_LOG_KINDS = ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker")


class Orchestration(Construct):
    """MWAA environment whose DAGs start and watch the Processing jobs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        processing: ProcessingJobs,
        tracking: ExperimentTracking,
        serving_image_uri: str,
        db_secret_arn: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.environment_name = mwaa_environment_name(config)
        source_bucket = bucket_name(config, "pipelines")
        self.settings = self._settings(
            config,
            processing=processing,
            tracking=tracking,
            serving_image_uri=serving_image_uri,
            db_secret_arn=db_secret_arn,
        )
        self.parameters = self._publish_parameters(config)
        requirements_version = self._sync_sources(
            config, network, key, source_bucket, removal_policy
        )
        self.security_group = self._security_group(config, network)
        self.role = self._execution_role(config, key, source_bucket, processing)
        # Created here, before MWAA would create them itself without a key or an expiry.
        self.log_groups = [
            encrypted_log_group(
                self,
                f"{kind}Logs",
                config=config,
                key=key,
                removal_policy=removal_policy,
                name=f"airflow-{self.environment_name}-{kind}",
            )
            for kind in MWAA_LOG_KINDS
        ]
        self.environment = self._environment(
            config, network, key, source_bucket, requirements_version
        )
        # MWAA checks its role's permissions while it creates the environment.
        self.environment.node.add_dependency(self.execution_policy, *self.log_groups)

    def _security_group(self, config: EnvironmentConfig, network: Network) -> ec2.SecurityGroup:
        """The group MWAA's scheduler, workers and web server share."""
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description=f"{config.prefix} MWAA: scheduler, workers and web server",
            allow_all_outbound=True,
        )
        # The two ports MWAA documents as the minimum: web server (443) and metadata DB (5432).
        for port, purpose in ((443, "web server"), (5432, "metadata database")):
            group.add_ingress_rule(
                group, ec2.Port.tcp(port), f"MWAA {purpose} among its components"
            )
        return group

    def _environment(
        self,
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        source_bucket: str,
        requirements_version: str,
    ) -> mwaa.CfnEnvironment:
        """The MWAA environment itself, reading DAGs and requirements from the source bucket."""
        logging = mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(
            enabled=True, log_level="INFO"
        )
        warnings = mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(
            enabled=True, log_level="WARNING"
        )
        orchestration = config.orchestration
        return mwaa.CfnEnvironment(
            self,
            "Environment",
            name=self.environment_name,
            airflow_version=AIRFLOW_VERSION,
            environment_class=orchestration.environment_class,
            min_workers=orchestration.min_workers,
            max_workers=orchestration.max_workers,
            schedulers=orchestration.schedulers,
            execution_role_arn=self.role.role_arn,
            kms_key=key.key_arn,
            source_bucket_arn=bucket_arn(source_bucket),
            dag_s3_path=DAGS_PREFIX.rstrip("/"),
            requirements_s3_path=REQUIREMENTS_KEY,
            requirements_s3_object_version=requirements_version,
            webserver_access_mode="PUBLIC_ONLY"
            if orchestration.webserver_public
            else "PRIVATE_ONLY",
            network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
                security_group_ids=[self.security_group.security_group_id],
                subnet_ids=network.vpc.select_subnets(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ).subnet_ids,
            ),
            logging_configuration=mwaa.CfnEnvironment.LoggingConfigurationProperty(
                dag_processing_logs=warnings,
                scheduler_logs=warnings,
                task_logs=logging,
                webserver_logs=warnings,
                worker_logs=warnings,
            ),
            airflow_configuration_options={
                f"beacon.{name}": value for name, value in self.settings.items()
            },
            weekly_maintenance_window_start="SUN:03:30",
        )

    def _settings(
        self,
        config: EnvironmentConfig,
        *,
        processing: ProcessingJobs,
        tracking: ExperimentTracking,
        serving_image_uri: str,
        db_secret_arn: str,
    ) -> dict[str, str]:
        """Every name the DAGs need; Airflow sees them as `conf.get("beacon", <name>)`."""
        stack = Stack.of(self)
        return {
            "env": config.name,
            "region": config.region,
            "processing_image_uri": processing.image_uri,
            "serving_image_uri": serving_image_uri,
            "processing_role_arn": processing.role.role_arn,
            "processing_instance_type": processing.instance_type,
            "processing_volume_kms_key_id": processing.volume_key_arn,
            "refresh_instance_count": str(processing.refresh_instance_count),
            "hpo_instance_count": str(processing.hpo_instance_count),
            "refresh_workers": processing.refresh_workers,
            "processing_job_name_prefix": processing.job_name_prefix,
            "processing_subnet_ids": stack.to_json_string(processing.subnet_ids),
            "processing_security_group_ids": stack.to_json_string(
                [processing.security_group.security_group_id]
            ),
            "processing_environment": stack.to_json_string(processing.environment),
            "data_bucket": bucket_name(config, "data"),
            "models_bucket": bucket_name(config, "models"),
            "reports_bucket": bucket_name(config, "reports"),
            "db_secret_arn": db_secret_arn,
            "mlflow_tracking_uri": tracking.tracking_uri,
            "metrics_namespace": config.metrics_namespace,
            "event_source": PIPELINE_EVENT_SOURCE,
            "event_detail_type": PIPELINE_EVENT_DETAIL_TYPE,
        }

    def _publish_parameters(self, config: EnvironmentConfig) -> list[ssm.StringParameter]:
        """The same settings as SSM parameters, for readers outside Airflow."""
        prefix = parameter_prefix(config)
        return [
            ssm.StringParameter(
                self,
                f"Param{name.title().replace('_', '')}",
                parameter_name=f"{prefix}/{name.replace('_', '-')}",
                string_value=value,
                description=f"Beacon {config.name}: {name} (also Airflow conf beacon.{name})",
                tier=ssm.ParameterTier.STANDARD,
            )
            for name, value in self.settings.items()
        ]

    def _sync_sources(
        self,
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        source_bucket: str,
        removal_policy: RemovalPolicy,
    ) -> str:
        """Copy pipelines/ into the source bucket; return the requirements object version."""
        sync = ContainerFunction(
            self,
            "DagSync",
            code=lambda_code(handler=DAG_SYNC_HANDLER),
            description=f"{config.prefix} copies DAGs and requirements into the MWAA bucket",
            environment={"BEACON_DAGSYNC_BUCKET": source_bucket},
            config=config,
            network=network,
            key=key,
            removal_policy=removal_policy,
            timeout=Duration.minutes(5),
            reserved_concurrency=1,
        )
        sync.grant(
            iam.PolicyStatement(
                sid="ListSourceBucket",
                actions=["s3:ListBucket"],
                resources=[bucket_arn(source_bucket)],
            ),
            iam.PolicyStatement(
                sid="WriteDags",
                actions=["s3:PutObject", "s3:DeleteObject"],
                resources=[
                    objects_arn(source_bucket, DAGS_PREFIX),
                    f"{bucket_arn(source_bucket)}/{REQUIREMENTS_KEY}",
                ],
            ),
        )
        acknowledge(
            sync.policy,
            [objects_finding(source_bucket, DAGS_PREFIX)],
            "DAG file names change with every pipeline release; writes are limited to the dags/ "
            "prefix of this environment's MWAA source bucket.",
        )
        resource = CustomResource(
            self,
            "Sources",
            service_token=sync.function.function_arn,
            resource_type="Custom::BeaconDagSync",
            properties={"Fingerprint": tree_fingerprint(PIPELINES_DIR)},
        )
        return resource.get_att_string("RequirementsVersion")

    def _execution_role(
        self,
        config: EnvironmentConfig,
        key: kms.IKey,
        source_bucket: str,
        processing: ProcessingJobs,
    ) -> iam.Role:
        """MWAA's execution role, with the permissions AWS documents plus running Beacon's jobs."""
        role, policy = service_role(
            self,
            "ExecutionRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("airflow.amazonaws.com"),
                iam.ServicePrincipal("airflow-env.amazonaws.com"),
            ),
            description=f"{config.prefix} MWAA execution role",
            policy_id="ExecutionPolicy",
            statements=[
                *self._source_statements(source_bucket),
                *self._log_statements(),
                *self._runtime_statements(key),
                *self._job_statements(processing),
            ],
        )
        self.execution_policy = policy
        acknowledge(
            policy,
            [
                f"{AWS_SOLUTIONS}-IAM5[Resource::*]",
                f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
                f"<AWS::AccountId>:log-group:airflow-{self.environment_name}-*]",
                f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:*:"
                "airflow-celery-*]",
                f"{AWS_SOLUTIONS}-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:"
                f"<AWS::AccountId>:processing-job/{processing.job_name_prefix}*]",
                PROCESSING_LOG_FINDING,
                objects_finding(source_bucket),
            ],
            "The MWAA execution-role policy AWS documents: Airflow's own log groups and Celery "
            "queues are created by MWAA under these prefixes, job names carry run ids, and the "
            "'*' actions (DescribeLogGroups, PutMetricData, ListProcessingJobs) have no ARNs.",
        )
        return role

    def _source_statements(self, source_bucket: str) -> list[iam.PolicyStatement]:
        """Publish the environment's metrics and read DAGs and requirements from its bucket."""
        env_arn = (
            f"arn:{Aws.PARTITION}:airflow:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"environment/{self.environment_name}"
        )
        return [
            iam.PolicyStatement(
                sid="PublishMetrics", actions=["airflow:PublishMetrics"], resources=[env_arn]
            ),
            iam.PolicyStatement(
                sid="ReadSourceBucket",
                actions=[
                    "s3:GetBucketLocation",
                    "s3:GetBucketVersioning",
                    "s3:GetBucketPublicAccessBlock",
                    "s3:GetEncryptionConfiguration",
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                ],
                resources=[bucket_arn(source_bucket)],
            ),
            iam.PolicyStatement(
                sid="ReadSources",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[objects_arn(source_bucket)],
            ),
        ]

    def _log_statements(self) -> list[iam.PolicyStatement]:
        """Write Airflow's own log groups and follow the Processing jobs' logs."""
        log_groups = (
            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"log-group:airflow-{self.environment_name}-*"
        )
        return [
            iam.PolicyStatement(
                sid="AirflowLogs",
                actions=[
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                resources=[log_groups],
            ),
            iam.PolicyStatement(
                sid="WatchProcessingJobLogs",
                actions=["logs:GetLogEvents", "logs:DescribeLogStreams"],
                resources=[processing_log_group_arn()],
            ),
        ]

    def _runtime_statements(self, key: kms.IKey) -> list[iam.PolicyStatement]:
        """Account-level reads, the Celery queues MWAA creates, and the environment's key."""
        region = Aws.REGION
        return [
            iam.PolicyStatement(
                sid="AccountLevelReads",
                actions=[
                    "logs:DescribeLogGroups",
                    "cloudwatch:PutMetricData",
                    "s3:GetAccountPublicAccessBlock",
                    "sagemaker:ListProcessingJobs",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="CeleryQueues",
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                resources=[f"arn:{Aws.PARTITION}:sqs:{region}:*:airflow-celery-*"],
            ),
            iam.PolicyStatement(
                sid="EnvironmentKey",
                actions=[
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:GenerateDataKey",
                    "kms:Encrypt",
                ],
                resources=[key.key_arn],
                conditions={
                    "StringLike": {
                        "kms:ViaService": [
                            f"sqs.{region}.amazonaws.com",
                            f"s3.{region}.amazonaws.com",
                        ]
                    }
                },
            ),
        ]

    def _job_statements(self, processing: ProcessingJobs) -> list[iam.PolicyStatement]:
        """Start and watch Beacon's Processing jobs, read its parameters, publish its events."""
        region, account, partition = Aws.REGION, Aws.ACCOUNT_ID, Aws.PARTITION
        jobs = (
            f"arn:{partition}:sagemaker:{region}:{account}:processing-job/"
            f"{processing.job_name_prefix}*"
        )
        return [
            iam.PolicyStatement(
                sid="RunProcessingJobs",
                actions=[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:AddTags",
                    "sagemaker:ListTags",
                ],
                resources=[jobs],
            ),
            iam.PolicyStatement(
                sid="PassProcessingRole",
                actions=["iam:PassRole"],
                resources=[processing.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ReadBeaconParameters",
                actions=["ssm:GetParameter", "ssm:GetParameters"],
                resources=[p.parameter_arn for p in self.parameters],
            ),
            iam.PolicyStatement(
                sid="PipelineEvents",
                actions=["events:PutEvents"],
                resources=[f"arn:{partition}:events:{region}:{account}:event-bus/default"],
            ),
        ]
