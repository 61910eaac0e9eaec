"""PublicApi: API Gateway (REST) with WAF, throttling, API keys and access logs."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._logs import encrypted_log_group
from infra.constructs.api_service import ApiService
from infra.constructs.network import PRIVATE
from infra.nag import AWS_SOLUTIONS, acknowledge, all_packs

STAGE = "v1"
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class PublicApi(Construct):
    """The one public entry point; routes to the Fargate ALB or to the API Lambda."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        service: ApiService | None = None,
        function: lambda_.IFunction | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if (service is None) == (function is None):
            raise ValueError("PublicApi needs exactly one backend: an ApiService or a function")
        serving = config.serving
        self.access_logs = encrypted_log_group(
            self, "AccessLogs", config=config, key=key, removal_policy=removal_policy
        )
        client_certificate = apigateway.CfnClientCertificate(
            self, "BackendCertificate", description=f"{config.prefix}: API Gateway to backend"
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"{config.prefix}-api",
            description=f"Beacon {config.name} API",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            api_key_source_type=apigateway.ApiKeySourceType.HEADER,
            min_compression_size=None,
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=serving.throttle_rate_limit,
                throttling_burst_limit=serving.throttle_burst_limit,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                client_certificate_id=client_certificate.attr_client_certificate_id,
            ),
        )
        validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        integration_root, integration_proxy = self._integrations(config, vpc, service, function)
        method_options = {"api_key_required": True, "request_validator": validator}
        self.api.root.add_method("ANY", integration_root, **method_options)
        self.api.root.add_resource("{proxy+}").add_method(
            "ANY",
            integration_proxy,
            request_parameters={"method.request.path.proxy": True},
            **method_options,
        )
        self._connect_private_integrations()
        self._add_usage_plan(config)
        self.web_acl = self._add_firewall(config, key, removal_policy, service)
        acknowledge(
            self.api,
            [f"{AWS_SOLUTIONS}-APIG4", f"{AWS_SOLUTIONS}-COG4"],
            "Machine clients authenticate with API keys bound to a usage plan (quota and "
            "throttling); Beacon has no end-user identities, so no Cognito or IAM authorizer.",
        )
        acknowledge(
            self.api.deployment_stage,
            all_packs("APIGWCacheEnabledAndEncrypted"),
            "Responses are per-request predictions and retrievals; a stage cache would serve "
            "stale results after a model promotion and costs a cache node per hour.",
        )
        acknowledge(
            self.api,
            [
                f"{AWS_SOLUTIONS}-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]"
            ],
            "API Gateway's account-level logging role needs this AWS-managed policy; it only lets "
            "API Gateway write its own execution and access logs.",
        )
        self.url = self.api.url_for_path("/")

    def _integrations(
        self,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        service: ApiService | None,
        function: lambda_.IFunction | None,
    ) -> tuple[apigateway.Integration, apigateway.Integration]:
        if function is not None:
            integration = apigateway.LambdaIntegration(function, proxy=True)
            return integration, integration
        assert service is not None
        link_security_group = ec2.SecurityGroup(
            self,
            "VpcLinkSecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} API Gateway VPC link to the internal ALB",
            allow_all_outbound=True,
        )
        service.allow_from(link_security_group, "API Gateway VPC link")
        link = apigatewayv2.CfnVpcLink(
            self,
            "VpcLink",
            name=f"{config.prefix}-api-link",
            subnet_ids=vpc.select_subnets(subnet_type=PRIVATE.subnet_type).subnet_ids,
            security_group_ids=[link_security_group.security_group_id],
        )
        scheme = "https" if service.listener_port == 443 else "http"
        base = f"{scheme}://{service.load_balancer.load_balancer_dns_name}"
        self._vpc_link = link
        self._alb_arn = service.load_balancer.load_balancer_arn
        root = apigateway.Integration(
            type=apigateway.IntegrationType.HTTP_PROXY,
            integration_http_method="ANY",
            uri=f"{base}/",
        )
        proxy = apigateway.Integration(
            type=apigateway.IntegrationType.HTTP_PROXY,
            integration_http_method="ANY",
            uri=f"{base}/{{proxy}}",
            options=apigateway.IntegrationOptions(
                request_parameters={"integration.request.path.proxy": "method.request.path.proxy"}
            ),
        )
        return root, proxy

    def _connect_private_integrations(self) -> None:
        """Point the HTTP integrations at the ALB through the VPC link V2.

        The L2 Integration only knows VPC links V1 (NLB); REST APIs reach an ALB through a
        VPC link V2 with ConnectionId plus IntegrationTarget, set here on the L1 methods.
        """
        if not hasattr(self, "_vpc_link"):
            return
        for child in self.api.node.find_all():
            if isinstance(child, apigateway.CfnMethod):
                child.add_property_override("Integration.ConnectionType", "VPC_LINK")
                child.add_property_override("Integration.ConnectionId", self._vpc_link.ref)
                child.add_property_override("Integration.IntegrationTarget", self._alb_arn)

    def _add_usage_plan(self, config: EnvironmentConfig) -> None:
        serving = config.serving
        self.api_key = self.api.add_api_key("DefaultKey", api_key_name=f"{config.prefix}-default")
        plan = self.api.add_usage_plan(
            "UsagePlan",
            name=f"{config.prefix}-default",
            throttle=apigateway.ThrottleSettings(
                rate_limit=serving.throttle_rate_limit, burst_limit=serving.throttle_burst_limit
            ),
            quota=apigateway.QuotaSettings(
                limit=serving.quota_requests_per_day, period=apigateway.Period.DAY
            ),
        )
        plan.add_api_stage(stage=self.api.deployment_stage)
        plan.add_api_key(self.api_key)

    def _add_firewall(
        self,
        config: EnvironmentConfig,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        service: ApiService | None,
    ) -> wafv2.CfnWebACL:
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=index,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=_visibility(f"{config.prefix}-{group}"),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{config.prefix}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{config.prefix}-api"),
            rules=rules,
        )
        wafv2.CfnWebACLAssociation(
            self,
            "ApiStageFirewall",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        if service is not None:
            # The ALB is internal, but NIST asks for a web ACL on every ALB; it costs nothing extra.
            wafv2.CfnWebACLAssociation(
                self,
                "AlbFirewall",
                resource_arn=service.load_balancer.load_balancer_arn,
                web_acl_arn=web_acl.attr_arn,
            )
        # WAF only logs to groups whose name starts with aws-waf-logs-.
        log_group = encrypted_log_group(
            self,
            "FirewallLogs",
            config=config,
            key=key,
            removal_policy=removal_policy,
            name=f"aws-waf-logs-{config.prefix}-api",
        )
        stack = Stack.of(self)
        wafv2.CfnLoggingConfiguration(
            self,
            "FirewallLogging",
            resource_arn=web_acl.attr_arn,
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
        return web_acl


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name.replace("-", ""),
        sampled_requests_enabled=True,
    )
