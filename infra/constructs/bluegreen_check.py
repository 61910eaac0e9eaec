"""BlueGreenCheck: the Lambda that ECS calls to test the green tasks before traffic shifts."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._iam import service_role
from infra.constructs.container_function import ContainerFunction
from infra.constructs.network import Network
from infra.images import lambda_code

HANDLER = "lambdas.bluegreen_check.handler.handler"
# After test traffic reaches green and before production traffic moves: a FAILED answer (or a
# failing function) makes ECS roll back to the blue revision while it still serves everyone.
CHECK_STAGE = ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT
# callBackDelay between attempts while the green tasks warm up (models load, pool connects).
RETRY_DELAY_S = 30
REQUEST_TIMEOUT_S = 3


class BlueGreenCheck(Construct):
    """A VPC Lambda that may reach only the ALB's test listener, hooked into one service."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        service: ecs.FargateService,
        load_balancer: elbv2.IApplicationLoadBalancer,
        alb_security_group: ec2.ISecurityGroup,
        test_port: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.environment = _check_environment(config, load_balancer, test_port)
        self.handler = ContainerFunction(
            self,
            "Handler",
            code=lambda_code(handler=HANDLER),
            description=f"{config.prefix} blue/green check: green tasks via the test listener",
            environment=self.environment,
            config=config,
            network=network,
            key=key,
            removal_policy=removal_policy,
            # Every route once with its timeout, well inside one invocation.
            timeout=Duration.seconds(30),
            memory_mib=256,
            reserved_concurrency=1,
            # It talks to the test listener and nothing else (logs and traces leave through
            # the Lambda service, DNS through the VPC resolver).
            allow_all_outbound=False,
        )
        port = ec2.Port.tcp(test_port)
        self.handler.security_group.add_egress_rule(
            alb_security_group, port, "to the ALB's blue/green test listener"
        )
        alb_security_group.add_ingress_rule(
            self.handler.security_group, port, "blue/green check Lambda to the test listener"
        )
        self._hook_into(config, service)

    def _hook_into(self, config: EnvironmentConfig, service: ecs.FargateService) -> None:
        """Register the function as the service's lifecycle hook, invoked through its own role."""
        # ECS assumes this role to invoke the hook; it may invoke this function and no other.
        self.hook_role, self.hook_policy = service_role(
            self,
            "HookRole",
            assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
            description=f"{config.prefix}: ECS invokes the blue/green check during deployments",
            policy_id="HookPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="InvokeBlueGreenCheck",
                    actions=["lambda:InvokeFunction"],
                    resources=[self.handler.function.function_arn],
                )
            ],
        )
        service.add_lifecycle_hook(
            ecs.DeploymentLifecycleLambdaTarget(
                self.handler.function,
                "Hook",
                lifecycle_stages=[CHECK_STAGE],
                role=self.hook_role.without_policy_updates(),
            )
        )


def _check_environment(
    config: EnvironmentConfig, load_balancer: elbv2.IApplicationLoadBalancer, test_port: int
) -> dict[str, str]:
    """What the check calls (test listener, TLS name, paths) and how patiently."""
    serving = config.serving
    if not serving.backend_domain_name:
        raise ValueError("the blue/green check needs serving.backend_domain_name to verify TLS")
    return {
        "BEACON_BLUEGREEN_TEST_URL": f"https://{load_balancer.load_balancer_dns_name}:{test_port}",
        "BEACON_BLUEGREEN_SERVER_NAME": serving.backend_domain_name,
        "BEACON_BLUEGREEN_PATHS": json.dumps(list(serving.blue_green_check_paths)),
        "BEACON_BLUEGREEN_TIMEOUT_S": str(REQUEST_TIMEOUT_S),
        "BEACON_BLUEGREEN_MAX_ATTEMPTS": str(serving.blue_green_check_attempts),
        "BEACON_BLUEGREEN_RETRY_DELAY_S": str(RETRY_DELAY_S),
    }
