"""ApiService: the serving image on ECS Fargate behind an internal Application Load Balancer."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import (
    acknowledge_serving_reads,
    service_role,
    serving_runtime_statements,
)
from infra.constructs._logs import encrypted_log_group
from infra.constructs.bluegreen_check import BlueGreenCheck
from infra.constructs.experiment_tracking import ExperimentTracking
from infra.constructs.network import PRIVATE, Network
from infra.constructs.service_images import pull_statements
from infra.nag import AWS_SOLUTIONS, NIST, acknowledge, all_packs
from infra.runtime_env import ADMIN_KEY_VARIABLE, serving_environment

CONTAINER_PORT = 8000
HEALTH_CHECK_PATH = "/ready"
# Blue/green: the green task set answers here before production traffic moves to it.
TEST_LISTENER_PORT = 8443
# Writable task volumes under a read-only root: temporary files (MLflow model downloads,
# uvicorn's worker start-up) and the app's home (BEACON_HOME=.beacon, HF_HOME caches).
WRITABLE_PATHS = {"tmp": "/tmp", "home": "/app"}  # noqa: S108 - a task-private volume
# Alarms (infra/constructs/monitoring.py) that roll a blue/green deployment back while it bakes.
DEPLOYMENT_ALARMS = ("Alb5xx", "AlbUnhealthyHosts", "Api5xx")


class ApiService(Construct):
    """Fargate tasks running uvicorn, scaled on CPU and requests, rolled back on failure."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        image: ecr_assets.DockerImageAsset,
        key: kms.IKey,
        db_secret: secretsmanager.ISecret,
        tracking: ExperimentTracking,
        access_logs: s3.IBucket,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        vpc = network.vpc
        self.environment = serving_environment(config, db_secret_arn=db_secret.secret_arn)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.log_group = encrypted_log_group(
            self, "Logs", config=config, key=key, removal_policy=removal_policy
        )
        self.admin_key = self._admin_key(config, key, removal_policy)
        execution_role = self._execution_role(config, image, key)
        task_role = self._task_role(config, key, db_secret, tracking)
        task = self._task_definition(config, image, execution_role, task_role)
        self._add_service(config, vpc, task)
        self.bluegreen_check: BlueGreenCheck | None = None
        self._add_load_balancer(config, vpc, access_logs)
        if config.serving.blue_green:
            self.bluegreen_check = BlueGreenCheck(
                self,
                "BlueGreenCheck",
                config=config,
                network=network,
                key=key,
                removal_policy=removal_policy,
                service=self.service,
                load_balancer=self.load_balancer,
                alb_security_group=self.alb_security_group,
                test_port=TEST_LISTENER_PORT,
            )
        self._add_scaling(config)

    def _task_definition(
        self,
        config: EnvironmentConfig,
        image: ecr_assets.DockerImageAsset,
        execution_role: iam.Role,
        task_role: iam.Role,
    ) -> ecs.FargateTaskDefinition:
        """The Fargate task: immutable roles, the API container and its writable volumes."""
        serving = config.serving
        # Handed to ECS as a bare ARN: with the Secret itself, ECS's automatic grant would write
        # the execution role into the data key's policy (Data stack), a cycle between stacks. The
        # execution policy grants the read instead.
        admin_key_reference = secretsmanager.Secret.from_secret_attributes(
            self, "AdminKeyReference", secret_complete_arn=self.admin_key.secret_arn
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=serving.cpu,
            memory_limit_mib=serving.memory_mib,
            execution_role=execution_role.without_policy_updates(),
            task_role=task_role.without_policy_updates(),
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self._add_container(task, image, admin_key_reference)
        acknowledge(
            task,
            [f"{AWS_SOLUTIONS}-ECS2"],
            "The environment holds only non-secret settings (environment name, region, bucket "
            "URI, secret ARN); the database password is read from Secrets Manager at start and "
            "the admin key is a container secret.",
        )
        return task

    def _add_container(
        self,
        task: ecs.FargateTaskDefinition,
        image: ecr_assets.DockerImageAsset,
        admin_key_reference: secretsmanager.ISecret,
    ) -> None:
        """The uvicorn container, read-only apart from its task-scoped volumes."""
        container = task.add_container(
            "api",
            image=ecs.ContainerImage.from_docker_image_asset(image),
            environment=self.environment,
            # Injected by ECS at start, so the key never shows in the task definition.
            secrets={ADMIN_KEY_VARIABLE: ecs.Secret.from_secrets_manager(admin_key_reference)},
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=self.log_group),
            # The image is immutable at run time; what the app writes goes to task volumes.
            readonly_root_filesystem=True,
            user="10001:10001",
            health_check=_container_health_check(),
        )
        for name, path in WRITABLE_PATHS.items():
            # A Fargate bind mount without a host path: task-scoped ephemeral storage.
            task.add_volume(name=name)
            container.add_mount_points(
                ecs.MountPoint(container_path=path, source_volume=name, read_only=False)
            )

    def _add_service(
        self, config: EnvironmentConfig, vpc: ec2.IVpc, task: ecs.FargateTaskDefinition
    ) -> None:
        """The tasks' security group and the Fargate service, with circuit-breaker rollback."""
        serving = config.serving
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} API tasks: port {CONTAINER_PORT} from the ALB only",
            allow_all_outbound=True,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task,
            desired_count=serving.desired_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            vpc_subnets=PRIVATE,
            security_groups=[self.security_group],
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            **self._deployment(config),
            health_check_grace_period=Duration.seconds(120),
            enable_execute_command=False,
        )

    def _deployment(self, config: EnvironmentConfig) -> dict[str, object]:
        """Rolling by default; blue/green with a bake time and alarm rollback when configured."""
        serving = config.serving
        if not serving.blue_green:
            return {}
        return {
            "deployment_strategy": ecs.DeploymentStrategy.BLUE_GREEN,
            "bake_time": Duration.minutes(serving.blue_green_bake_minutes),
            # By name: the alarms live in the Observability stack, deployed after this one.
            "deployment_alarms": ecs.DeploymentAlarmConfig(
                alarm_names=[f"{config.prefix}-{name}" for name in DEPLOYMENT_ALARMS],
                behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
            ),
        }

    def _admin_key(
        self, config: EnvironmentConfig, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "AdminKey",
            description=f"{config.prefix} API: key of the admin endpoints (X-Admin-Key header)",
            encryption_key=key,
            # A bare string (no JSON), so it is the header value as it stands.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=40
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            secret,
            [f"{AWS_SOLUTIONS}-SMG4", *all_packs("SecretsManagerRotationEnabled")],
            "A static key that operators hand to the admin clients: scheduled rotation would "
            "change it under them, and ECS reads it only when a task starts. It is changed on "
            "purpose: `aws secretsmanager put-secret-value`, then a new deployment of the service.",
        )
        return secret

    def _execution_role(
        self, config: EnvironmentConfig, image: ecr_assets.DockerImageAsset, key: kms.IKey
    ) -> iam.Role:
        role, policy = service_role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"{config.prefix} API: pulls the image and writes container logs",
            policy_id="ExecutionPolicy",
            statements=[
                *pull_statements(image.repository.repository_arn),
                iam.PolicyStatement(
                    sid="ContainerLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                ),
                # The role is immutable, so ECS's own grant for the container secret is dropped.
                iam.PolicyStatement(
                    sid="AdminKeySecret",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[self.admin_key.secret_arn],
                ),
                iam.PolicyStatement(
                    sid="AdminKeyDecrypt",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"secretsmanager.{config.region}.amazonaws.com",
                            "kms:EncryptionContext:SecretARN": self.admin_key.secret_arn,
                        }
                    },
                ),
            ],
        )
        acknowledge(
            policy,
            [f"{AWS_SOLUTIONS}-IAM5[Resource::*]"],
            "Only ecr:GetAuthorizationToken uses Resource '*': the token is account-wide and the "
            "action supports no resource-level permissions; pulls are limited to the asset repo.",
        )
        return role

    def _task_role(
        self,
        config: EnvironmentConfig,
        key: kms.IKey,
        db_secret: secretsmanager.ISecret,
        tracking: ExperimentTracking,
    ) -> iam.Role:
        role, policy = service_role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"{config.prefix} API: what the application itself may call",
            policy_id="TaskPolicy",
            statements=serving_runtime_statements(
                config,
                db_secret_arn=db_secret.secret_arn,
                tracking_statements=tracking.client_statements(write=False),
                key=key,
            ),
        )
        acknowledge_serving_reads(policy, config)
        return role

    def _add_load_balancer(
        self, config: EnvironmentConfig, vpc: ec2.IVpc, access_logs: s3.IBucket
    ) -> None:
        """The internal ALB, its listener and the target group(s) of the service."""
        serving = config.serving
        self._add_alb(config, vpc, access_logs)
        listener = self._add_listener(config)
        self.listener = listener
        acknowledge(
            self.load_balancer,
            [f"{NIST}-ALBWAFEnabled"],
            "The web ACL sits on the API Gateway stage, the only way in: this ALB is internal and "
            "accepts only the VPC link's security group, so a second ACL would inspect and bill "
            "the same requests twice.",
        )
        if serving.blue_green:
            self._add_blue_green(config, vpc, listener)
        else:
            self.target_group = listener.add_targets(
                "Api",
                port=CONTAINER_PORT,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[self.service],
                deregistration_delay=Duration.seconds(30),
                health_check=_health_check(),
            )
            self.target_groups = [self.target_group]
        if not config.is_production:
            acknowledge(
                self.load_balancer,
                all_packs("ELBDeletionProtectionEnabled"),
                f"{config.name} must be destroyable with `make destroy`; prod enables ALB "
                "deletion protection.",
            )

    def _add_alb(self, config: EnvironmentConfig, vpc: ec2.IVpc, access_logs: s3.IBucket) -> None:
        """The ALB and its security group, which talks to the API tasks' port only."""
        self.alb_security_group = ec2.SecurityGroup(
            self,
            "AlbSecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} internal ALB: reachable from the API Gateway VPC link",
            allow_all_outbound=False,
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=False,
            vpc_subnets=PRIVATE,
            security_group=self.alb_security_group,
            drop_invalid_header_fields=True,
            deletion_protection=config.is_production,
            idle_timeout=Duration.seconds(60),
        )
        self.load_balancer.log_access_logs(access_logs, prefix=config.prefix)
        self.alb_security_group.add_egress_rule(
            self.security_group, ec2.Port.tcp(CONTAINER_PORT), "to the API tasks"
        )
        self.security_group.add_ingress_rule(
            self.alb_security_group, ec2.Port.tcp(CONTAINER_PORT), "from the internal ALB"
        )

    def _add_listener(self, config: EnvironmentConfig) -> elbv2.ApplicationListener:
        """HTTPS with the configured certificate; plain HTTP only for a dev without one."""
        serving = config.serving
        if serving.certificate_arn:
            # HTTPS only: no HTTP listener to redirect from, since nothing should ever use one.
            self.listener_port = 443
            return self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_arn(serving.certificate_arn)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                open=False,
            )
        # Only reachable in dev (config.check_deployable requires a certificate elsewhere).
        self.listener_port = 80
        listener = self.load_balancer.add_listener(
            "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False
        )
        acknowledge(
            self.load_balancer,
            [
                *all_packs("ALBHttpToHttpsRedirection"),
                *all_packs("ELBv2ACMCertificateRequired"),
            ],
            "Dev only: staging and prod refuse to synthesize without serving.certificate_arn; "
            "a dev ALB without one is internal and reachable only from the VPC link.",
        )
        return listener

    def _add_blue_green(
        self, config: EnvironmentConfig, vpc: ec2.IVpc, listener: elbv2.ApplicationListener
    ) -> None:
        """Blue and green target groups; production and test listener rules ECS moves between."""
        if not config.serving.certificate_arn:
            raise ValueError("blue/green needs serving.certificate_arn for its test listener")
        groups = [
            elbv2.ApplicationTargetGroup(
                self,
                name,
                vpc=vpc,
                port=CONTAINER_PORT,
                protocol=elbv2.ApplicationProtocol.HTTP,
                target_type=elbv2.TargetType.IP,
                deregistration_delay=Duration.seconds(30),
                health_check=_health_check(),
            )
            for name in ("Blue", "Green")
        ]
        blue, green = groups
        rules = self._blue_green_rules(config.serving.certificate_arn, listener, blue)
        target = self.service.load_balancer_target(
            container_name="api",
            container_port=CONTAINER_PORT,
            alternate_target=ecs.AlternateTarget(
                "GreenTarget",
                alternate_target_group=green,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                    rules["Production"]
                ),
                test_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                    rules["Test"]
                ),
            ),
        )
        target.attach_to_application_target_group(blue)
        acknowledge(
            self.service,
            [
                f"{AWS_SOLUTIONS}-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AmazonECSInfrastructureRolePolicyForLoadBalancers]"
            ],
            "ECS's infrastructure role for blue/green must rewrite this ALB's listener rules and "
            "target groups; AWS maintains this managed policy for exactly that and nothing else.",
        )
        # The test listener admits only the blue/green check's security group (BlueGreenCheck).
        self.target_group = blue
        self.target_groups = groups

    def _blue_green_rules(
        self,
        certificate_arn: str,
        listener: elbv2.ApplicationListener,
        blue: elbv2.ApplicationTargetGroup,
    ) -> dict[str, elbv2.ApplicationListenerRule]:
        """The test listener and one rule per listener ("Production", "Test"), both to blue."""
        not_found = elbv2.ListenerAction.fixed_response(404, content_type="text/plain")
        listener.add_action("Default", action=not_found)
        test_listener = self.load_balancer.add_listener(
            "TestHttps",
            port=TEST_LISTENER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,
            default_action=not_found,
        )
        return {
            name: elbv2.ApplicationListenerRule(
                self,
                f"{name}Rule",
                listener=on,
                priority=1,
                conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
                action=elbv2.ListenerAction.forward([blue]),
            )
            for name, on in (("Production", listener), ("Test", test_listener))
        }

    def allow_from(self, peer: ec2.ISecurityGroup, description: str) -> None:
        """Let one security group reach the ALB listener."""
        self.alb_security_group.add_ingress_rule(
            peer, ec2.Port.tcp(self.listener_port), description
        )

    def _add_scaling(self, config: EnvironmentConfig) -> None:
        serving = config.serving
        scaling = self.service.auto_scale_task_count(
            min_capacity=serving.min_tasks, max_capacity=serving.max_tasks
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=serving.cpu_target_percent,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )
        if serving.blue_green:
            # Request counts follow whichever target group is live; CPU covers both colours.
            return
        scaling.scale_on_request_count(
            "Requests",
            requests_per_target=serving.requests_per_target,
            target_group=self.target_group,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )


def _container_health_check() -> ecs.HealthCheck:
    """The container's own check: /health answers 200 from inside the task."""
    return ecs.HealthCheck(
        command=[
            "CMD",
            "python",
            "-c",
            "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen("
            f"'http://127.0.0.1:{CONTAINER_PORT}/health', timeout=4).status == 200 else 1)",
        ],
        interval=Duration.seconds(30),
        timeout=Duration.seconds(5),
        retries=3,
        start_period=Duration.seconds(90),
    )


def _health_check() -> elbv2.HealthCheck:
    return elbv2.HealthCheck(
        path=HEALTH_CHECK_PATH,
        healthy_http_codes="200",
        interval=Duration.seconds(15),
        timeout=Duration.seconds(5),
        healthy_threshold_count=2,
        unhealthy_threshold_count=3,
    )
