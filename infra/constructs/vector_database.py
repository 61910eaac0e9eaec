"""VectorDatabase: RDS PostgreSQL 17 (pgvector) in isolated subnets, with rotated secrets."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import service_role
from infra.constructs._logs import encrypted_log_group
from infra.constructs.network import ISOLATED, PRIVATE
from infra.nag import AWS_SOLUTIONS, acknowledge, all_packs
from infra.retention import database_removal

ENGINE = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_9)
MASTER_USERNAME = "beacon_admin"
# Characters that break connection strings or shell quoting in rotation Lambdas.
EXCLUDED_PASSWORD_CHARS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\,="  # noqa: S105 - not a password
EXPORTED_LOGS = ("postgresql", "upgrade")


class VectorDatabase(Construct):
    """The PostgreSQL + pgvector database of every Beacon workload."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        key: kms.IKey,
        log_removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        db = config.database
        self.port = db.port
        self.database_name = db.name
        self.app_username = db.app_username
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} PostgreSQL: ingress only from named client groups",
            allow_all_outbound=False,
        )
        identifier = f"{config.prefix}-postgres"
        parameters = self._parameter_group(config)
        log_groups = self._export_log_groups(config, key, log_removal_policy, identifier)
        self.instance = self._instance(config, vpc, key, identifier, parameters)
        for log_group in log_groups:
            self.instance.node.add_dependency(log_group)
        if db.stopped:
            # Read by infra/cost.py: a stopped instance bills storage only (idle state).
            self.instance.node.default_child.cfn_options.metadata = {"BeaconStopped": True}
            self._keep_stopped(config, identifier)
        self.replica = self._read_replica(config, vpc, key) if db.read_replica else None
        assert self.instance.secret is not None
        self.master_secret: secretsmanager.ISecret = self.instance.secret
        self._add_app_secret_and_rotations(config, vpc, key)
        self.proxy = self._proxy(config, vpc, key) if db.proxy else None
        self._protect(config, key)

    def _parameter_group(self, config: EnvironmentConfig) -> rds.ParameterGroup:
        """Engine parameters: TLS only, slow-query and connection logging, HNSW build memory."""
        return rds.ParameterGroup(
            self,
            "Parameters",
            engine=ENGINE,
            description=f"{config.prefix} PostgreSQL 17: TLS only, slow-query logging",
            parameters={
                "rds.force_ssl": "1",
                "log_min_duration_statement": "1000",
                "log_connections": "1",
                "log_disconnections": "1",
                # kB: HNSW index builds run in memory up to this size, then spill (slowly).
                "maintenance_work_mem": str(config.database.maintenance_work_mem_mb * 1024),
            },
        )

    def _export_log_groups(
        self,
        config: EnvironmentConfig,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        identifier: str,
    ) -> list[logs.LogGroup]:
        """One log group per exported PostgreSQL log, under the name RDS writes to."""
        # Created here rather than by RDS so that they are KMS-encrypted and expire.
        return [
            encrypted_log_group(
                self,
                f"Logs{name.title()}",
                config=config,
                key=key,
                removal_policy=removal_policy,
                name=f"/aws/rds/instance/{identifier}/{name}",
            )
            for name in EXPORTED_LOGS
        ]

    def _instance(
        self,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        key: kms.IKey,
        identifier: str,
        parameters: rds.ParameterGroup,
    ) -> rds.DatabaseInstance:
        """The primary: isolated subnets, KMS storage, generated master secret, IAM auth."""
        db = config.database
        return rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=identifier,
            engine=ENGINE,
            instance_type=ec2.InstanceType(db.instance_class),
            vpc=vpc,
            vpc_subnets=ISOLATED,
            security_groups=[self.security_group],
            port=db.port,
            database_name=db.name,
            credentials=rds.Credentials.from_generated_secret(
                MASTER_USERNAME,
                encryption_key=key,
                exclude_characters=EXCLUDED_PASSWORD_CHARS,
            ),
            parameter_group=parameters,
            storage_type=rds.StorageType.GP3,
            allocated_storage=db.allocated_storage_gib,
            max_allocated_storage=db.max_allocated_storage_gib,
            storage_encrypted=True,
            storage_encryption_key=key,
            multi_az=db.multi_az,
            publicly_accessible=False,
            iam_authentication=True,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            backup_retention=Duration.days(db.backup_retention_days),
            delete_automated_backups=not config.is_production,
            copy_tags_to_snapshot=True,
            deletion_protection=db.deletion_protection,
            removal_policy=database_removal(config),
            monitoring_interval=Duration.seconds(60),
            cloudwatch_logs_exports=list(EXPORTED_LOGS),
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
            preferred_backup_window="03:00-04:00",
            preferred_maintenance_window="sun:04:30-sun:05:30",
        )

    def _add_app_secret_and_rotations(
        self, config: EnvironmentConfig, vpc: ec2.IVpc, key: kms.IKey
    ) -> None:
        """The app user's secret and the rotation schedules of both secrets."""
        db = config.database
        app_secret = rds.DatabaseSecret(
            self,
            "AppSecret",
            username=db.app_username,
            dbname=db.name,
            encryption_key=key,
            exclude_characters=EXCLUDED_PASSWORD_CHARS,
        )
        # The attachment adds host, port and engine: the RDS-style JSON the services read.
        self.app_secret: secretsmanager.ISecret = app_secret.attach(self.instance)
        self.rotation_security_group = ec2.SecurityGroup(
            self,
            "RotationSecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} secret-rotation Lambdas",
            allow_all_outbound=True,
        )
        self.allow_from(self.rotation_security_group, "secret rotation")
        self.rotations = [
            secret.add_rotation_schedule(
                f"{name}Rotation",
                automatically_after=Duration.days(db.secret_rotation_days),
                hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                    vpc=vpc,
                    vpc_subnets=PRIVATE,
                    security_groups=[self.rotation_security_group],
                    exclude_characters=EXCLUDED_PASSWORD_CHARS,
                ),
            )
            for name, secret in (("Master", self.master_secret), ("App", self.app_secret))
        ]

    def _read_replica(
        self, config: EnvironmentConfig, vpc: ec2.IVpc, key: kms.IKey
    ) -> rds.DatabaseInstanceReadReplica:
        """A same-size replica in the other AZ for the read path (similarity queries)."""
        replica = rds.DatabaseInstanceReadReplica(
            self,
            "ReadReplica",
            source_database_instance=self.instance,
            instance_identifier=f"{config.prefix}-postgres-read",
            instance_type=ec2.InstanceType(config.database.instance_class),
            vpc=vpc,
            vpc_subnets=ISOLATED,
            security_groups=[self.security_group],
            port=self.port,
            # No StorageEncrypted/KmsKeyId: a replica inherits the primary's (and CloudFormation
            # rejects them next to SourceDBInstanceIdentifier).
            publicly_accessible=False,
            iam_authentication=True,
            auto_minor_version_upgrade=True,
            deletion_protection=config.database.deletion_protection,
            removal_policy=RemovalPolicy.DESTROY,
            monitoring_interval=Duration.seconds(60),
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
        )
        acknowledge(
            replica,
            [
                f"{AWS_SOLUTIONS}-RDS3",
                f"{AWS_SOLUTIONS}-RDS10",
                f"{AWS_SOLUTIONS}-RDS11",
                *all_packs("RDSMultiAZSupport"),
                *all_packs("RDSInstanceDeletionProtectionEnabled"),
                *all_packs("RDSInBackupPlan"),
                *all_packs("RDSLoggingEnabled"),
                *all_packs("RDSStorageEncrypted"),
                f"{AWS_SOLUTIONS}-RDS2",
                f"{AWS_SOLUTIONS}-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AmazonRDSEnhancedMonitoringRole]",
            ],
            "A read replica is a disposable copy of the primary: it is rebuilt from the primary, "
            "not restored, so backups, Multi-AZ and deletion protection belong to the primary; "
            "it inherits the primary's port, log settings and KMS storage encryption.",
        )
        return replica

    def _proxy(self, config: EnvironmentConfig, vpc: ec2.IVpc, key: kms.IKey) -> rds.DatabaseProxy:
        """RDS Proxy for connection fan-out (tasks x workers x pool size), TLS required."""
        # Our own role with one managed policy: CDK's grants would put the role into the data
        # key's policy, and the key -> role -> log group -> key chain is a dependency cycle.
        role, _ = service_role(
            self,
            "ProxyRole",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
            description=f"{config.prefix} RDS Proxy: reads the app user's secret",
            policy_id="ProxyPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="AppSecret",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[self.app_secret.secret_arn],
                ),
                iam.PolicyStatement(
                    sid="AppSecretKey",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"secretsmanager.{config.region}.amazonaws.com"
                        }
                    },
                ),
            ],
        )
        proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            secrets=[self.app_secret],
            role=role.without_policy_updates(),
            vpc=vpc,
            vpc_subnets=ISOLATED,
            security_groups=[self.security_group],
            require_tls=True,
            iam_auth=False,
            db_proxy_name=f"{config.prefix}-postgres",
            debug_logging=False,
        )
        # CDK's tags reach the target group, which CloudFormation's schema gives no Tags.
        target_group = proxy.node.find_child("ProxyTargetGroup")
        target_group.add_property_deletion_override("Tags")  # type: ignore[attr-defined]
        acknowledge(
            self.security_group,
            [*all_packs("EC2RestrictedCommonPorts"), *all_packs("EC2RestrictedSSH")],
            "With RDS Proxy on, the database group admits its own members on the database port "
            "(proxy to instance); the source is that group, never an address range.",
        )
        return proxy

    def _keep_stopped(self, config: EnvironmentConfig, identifier: str) -> None:
        """Stop the instance every morning: RDS starts a stopped instance again after 7 days."""
        stack = Stack.of(self)
        instance_arn = stack.format_arn(
            service="rds",
            resource="db",
            resource_name=identifier,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role, _ = service_role(
            self,
            "KeepStoppedRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description=f"{config.prefix}: stops the idle database (make idle)",
            policy_id="KeepStoppedPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="StopDatabase", actions=["rds:StopDBInstance"], resources=[instance_arn]
                )
            ],
        )
        scheduler.CfnSchedule(
            self,
            "KeepStopped",
            name=f"{config.prefix}-keep-database-stopped",
            description="Idle state: stop the database again after RDS's automatic restart",
            schedule_expression="cron(0 6 * * ? *)",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn="arn:aws:scheduler:::aws-sdk:rds:stopDBInstance",
                role_arn=role.role_arn,
                input=stack.to_json_string({"DbInstanceIdentifier": identifier}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_retry_attempts=0),
            ),
        )

    def allow_from(self, peer: ec2.SecurityGroup, description: str) -> None:
        """Open the database port to one security group (and nothing else).

        The rule lives in the client's stack, so later stacks can add clients without the
        data stack depending on them.
        """
        if Stack.of(peer) is Stack.of(self):
            self.security_group.add_ingress_rule(
                peer, ec2.Port.tcp(self.port), f"PostgreSQL from {description}"
            )
            return
        ec2.CfnSecurityGroupIngress(
            peer,
            "DatabaseIngress",
            group_id=self.security_group.security_group_id,
            source_security_group_id=peer.security_group_id,
            ip_protocol="tcp",
            from_port=self.port,
            to_port=self.port,
            description=f"PostgreSQL from {description}",
        )

    def _protect(self, config: EnvironmentConfig, key: kms.IKey) -> None:
        """Backups (AWS Backup outside dev) and the instance's accepted cdk-nag findings."""
        if config.is_production or config.name == "staging":
            self._add_backup_plan(config, key)
        else:
            acknowledge(
                self.instance,
                all_packs("RDSInBackupPlan"),
                "Dev data is disposable and rebuilt by the pipelines; automated RDS backups cover "
                "it, and an AWS Backup vault with recovery points would block teardown.",
            )
        if not config.database.multi_az:
            acknowledge(
                self.instance,
                [f"{AWS_SOLUTIONS}-RDS3", *all_packs("RDSMultiAZSupport")],
                f"{config.name} runs single-AZ to halve the database bill; prod is Multi-AZ. "
                "Automated backups allow a restore into the other AZ.",
            )
        if not config.database.deletion_protection:
            acknowledge(
                self.instance,
                [f"{AWS_SOLUTIONS}-RDS10", *all_packs("RDSInstanceDeletionProtectionEnabled")],
                f"{config.name} must be destroyable with `make destroy`; prod enables deletion "
                "protection and keeps a final snapshot.",
            )
        acknowledge(
            self.instance,
            [
                f"{AWS_SOLUTIONS}-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AmazonRDSEnhancedMonitoringRole]"
            ],
            "Enhanced Monitoring requires this AWS-managed service-role policy; it only lets the "
            "RDS monitoring agent write OS metrics to CloudWatch Logs.",
        )

    def _add_backup_plan(self, config: EnvironmentConfig, key: kms.IKey) -> None:
        """A retained vault and a daily AWS Backup plan for the instance (staging and prod)."""
        vault = backup.BackupVault(
            self,
            "BackupVault",
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        plan = backup.BackupPlan(
            self,
            "BackupPlan",
            backup_vault=vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="daily",
                    schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                    delete_after=Duration.days(config.data_retention_days),
                )
            ],
        )
        selection = plan.add_selection(
            "Database",
            resources=[backup.BackupResource.from_rds_database_instance(self.instance)],
        )
        acknowledge(
            selection,
            [
                f"{AWS_SOLUTIONS}-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSBackupServiceRolePolicyForBackup]"
            ],
            "AWS Backup's own service-role policy is the documented, AWS-maintained set of "
            "snapshot permissions; copying it by hand would drift as AWS Backup evolves.",
        )
