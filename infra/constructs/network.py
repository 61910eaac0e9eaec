"""Network: a two-AZ VPC with public, private and isolated subnets, endpoints and flow logs."""

from __future__ import annotations

from aws_cdk import Aspects, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._logs import encrypted_log_group
from infra.nag import AWS_SOLUTIONS, acknowledge, all_packs

PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

# Dev's NAT instance (nat="instance"): ~$3/month on demand, enough for a few GB a day.
NAT_INSTANCE_TYPE = "t4g.nano"
# Interface endpoints keep AWS API traffic of private tasks off the NAT gateways.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
}


class Network(Construct):
    """The VPC every Beacon workload runs in."""

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
        nat_provider = self._nat_provider(config)
        self.vpc = self._vpc(config, nat_provider)
        self.endpoint_security_group = self._endpoint_security_group(config)
        if isinstance(nat_provider, ec2.NatInstanceProviderV2):
            self._harden_nat_instance(config, nat_provider)
        for name, service in (INTERFACE_ENDPOINTS if config.interface_endpoints else {}).items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=PRIVATE,
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                open=False,
            )
        self._add_flow_logs(config, key, removal_policy)
        self.lambda_baseline = self._lambda_baseline_policy()
        acknowledge(
            self.vpc,
            all_packs("VPCNoUnrestrictedRouteToIGW"),
            "Only the public subnets route 0.0.0.0/0 to the internet gateway, and they hold "
            "nothing but the NAT (gateways, or dev's NAT instance, which admits only the VPC).",
        )

    def _vpc(self, config: EnvironmentConfig, nat_provider: ec2.NatProvider | None) -> ec2.Vpc:
        """Public, private and isolated subnets per AZ, an S3 gateway endpoint, NAT per config."""
        return ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            availability_zones=list(config.availability_zones),
            nat_gateways=1 if config.nat != "per_az" else len(config.availability_zones),
            nat_gateway_provider=nat_provider,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )

    def _endpoint_security_group(self, config: EnvironmentConfig) -> ec2.SecurityGroup:
        """One group for all interface endpoints, open on 443 to the VPC's literal CIDR only."""
        group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description=f"{config.prefix} interface endpoints: HTTPS from inside the VPC",
            allow_all_outbound=False,
        )
        group.add_ingress_rule(
            ec2.Peer.ipv4(config.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        return group

    @staticmethod
    def _nat_provider(config: EnvironmentConfig) -> ec2.NatProvider | None:
        """A NAT instance for `nat="instance"` (dev), else CDK's default NAT gateways."""
        if config.nat != "instance":
            return None
        return ec2.NatProvider.instance_v2(
            instance_type=ec2.InstanceType(NAT_INSTANCE_TYPE),
            # Resolved from SSM at deploy time (a CloudFormation parameter): no lookup at synth.
            machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64
            ),
            # Inbound only from the VPC (added below); the default would accept any source.
            default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
            associate_public_ip_address=True,
        )

    def _harden_nat_instance(
        self, config: EnvironmentConfig, provider: ec2.NatInstanceProviderV2
    ) -> None:
        provider.security_group.add_ingress_rule(
            ec2.Peer.ipv4(config.vpc_cidr), ec2.Port.all_traffic(), "NAT for the VPC's subnets"
        )
        for child in self.vpc.node.find_all():
            if isinstance(child, ec2.CfnInstance):
                child.monitoring = True
                child.block_device_mappings = [
                    ec2.CfnInstance.BlockDeviceMappingProperty(
                        device_name="/dev/xvda",
                        ebs=ec2.CfnInstance.EbsProperty(
                            encrypted=True, volume_size=8, volume_type="gp3"
                        ),
                    )
                ]
                acknowledge(
                    child,
                    [
                        f"{AWS_SOLUTIONS}-EC29",
                        *all_packs("EC2InstanceNoPublicIp"),
                        *all_packs("EC2InstancesInVPC"),
                    ],
                    "Dev's NAT instance (config nat='instance'): a NAT needs its public IP to "
                    "reach the internet; it sits in the VPC's public subnet (its network "
                    "interface names the subnet), holds no data and is replaced, not "
                    "restored (no ASG or termination protection).",
                )
        acknowledge(
            provider.security_group,
            all_packs("EC2RestrictedCommonPorts"),
            "The NAT instance forwards every port, but only for the VPC's own CIDR: nothing "
            "outside the VPC may open a connection to it.",
        )
        Aspects.of(self.vpc).add(ec2.InstanceRequireImdsv2Aspect())

    def _add_flow_logs(
        self, config: EnvironmentConfig, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        log_group = encrypted_log_group(
            self, "FlowLogs", config=config, key=key, removal_policy=removal_policy
        )
        role = iam.Role(
            self,
            "FlowLogsRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Delivers VPC flow logs to their log group",
        )
        iam.ManagedPolicy(
            self,
            "FlowLogsPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    resources=[log_group.log_group_arn],
                ),
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]),
            ],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                log_group, role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _lambda_baseline_policy(self) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            "LambdaBaseline",
            description="What every Beacon Lambda in the VPC needs: ENIs and X-Ray traces",
            statements=[
                iam.PolicyStatement(
                    sid="VpcNetworkInterfaces",
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="XRayTraces",
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],
                ),
            ],
        )
        acknowledge(
            policy,
            [f"{AWS_SOLUTIONS}-IAM5[Resource::*]"],
            "EC2 network-interface actions used by Lambda in a VPC and X-Ray trace uploads "
            "support no resource-level permissions, so AWS documents Resource '*' for them.",
        )
        return policy
