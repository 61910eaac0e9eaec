"""PublicApi: API Gateway (REST) with IAM authorization, WAF, metering keys and access logs."""

from __future__ import annotations

import re

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs._logs import encrypted_log_group
from infra.constructs.api_service import ApiService
from infra.constructs.network import PRIVATE
from infra.nag import AWS_SOLUTIONS, acknowledge, all_packs

# The stage is not a version: the service's own paths carry it (/v1/...), so
# `<api>/api/v1/recommendations` reaches /v1/recommendations and `<api>/api/health` /health.
STAGE = "api"
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
# Common rule set rules that contradict the API's documented limits: SizeRestrictions_BODY
# blocks bodies over 8 KB, but resumes of 20,000 characters and 1,000 prediction records are
# valid. They only count; the service enforces its own limits (256 KB, 4 MB for predictions).
COUNT_ONLY_RULES = ("SizeRestrictions_BODY",)
# The header through which the service learns who called (set by API Gateway, never the client).
CLIENT_HEADER = "X-Beacon-Client"
CLIENT_IDENTITY = "context.identity.userArn"
# The routes clients may call, at the same paths the service serves them. Admin routes,
# /metrics, /docs and /openapi.json stay inside the VPC
# (tests/infra/test_infra_deploy_readiness.py keeps this equal to the app's routes).
PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", "/v1/recommend_jobs"),
    ("POST", "/v1/job_qa"),
    ("POST", "/v1/classify_match"),
    ("POST", "/v1/predict/readmission"),
    ("GET", "/v1/model/info"),
    ("POST", "/v1/recommendations"),
    ("POST", "/v1/feedback"),
    ("DELETE", "/v1/recommendations/{recommendation_id}/dismissals/{event_id}"),
    ("GET", "/v1/experiments"),
    ("GET", "/v1/experiments/{experiment_id}/results"),
    # Deprecated unversioned aliases, kept for one release (services/serving/deprecation.py).
    ("POST", "/recommend_jobs"),
    ("POST", "/job_qa"),
    ("POST", "/classify_match"),
    ("POST", "/predict/readmission"),
)


class PublicApi(Construct):
    """The one public entry point; routes to the Fargate ALB or to the API Lambda.

    Callers sign requests with SigV4 (IAM authorization), one IAM principal per client, and
    also send their client's API key, which only meters them against the usage plan.
    """

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
        self.access_logs = encrypted_log_group(
            self, "AccessLogs", config=config, key=key, removal_policy=removal_policy
        )
        # Lets a backend check that a request came through API Gateway (HIPAA/NIST ask for it).
        client_certificate = apigateway.CfnClientCertificate(
            self, "BackendCertificate", description=f"{config.prefix}: API Gateway to backend"
        )
        self.client_roles = self._client_roles(config)
        self.api = self._rest_api(config, client_certificate)
        self._add_routes(config, vpc, service, function)
        self.api_keys = self._add_usage_plan(config)
        self.web_acl = self._add_firewall(config, key, removal_policy)
        self._acknowledge_api()
        self.url = self.api.url_for_path("/")

    def _rest_api(
        self, config: EnvironmentConfig, client_certificate: apigateway.CfnClientCertificate
    ) -> apigateway.RestApi:
        """The REST API and its stage: throttled, traced, access-logged, clients-only policy."""
        serving = config.serving
        principals = [
            client.principal_arn or self.client_roles[client.name].role_arn
            for client in serving.clients
        ]
        return apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"{config.prefix}-api",
            description=f"Beacon {config.name} API",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            api_key_source_type=apigateway.ApiKeySourceType.HEADER,
            min_compression_size=None,
            policy=_client_policy(principals),
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
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                client_certificate_id=client_certificate.attr_client_certificate_id,
            ),
        )

    def _add_routes(
        self,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        service: ApiService | None,
        function: lambda_.IFunction | None,
    ) -> None:
        """One IAM-authorized, key-metered method per public route, wired to the backend."""
        validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        self._backend_base = self._backend(config, vpc, service)
        for method, path in PUBLIC_ROUTES:
            params = re.findall(r"{(\w+)}", path)
            self.api.root.resource_for_path(path).add_method(
                method,
                self._integration(method, path, params, function),
                authorization_type=apigateway.AuthorizationType.IAM,
                api_key_required=True,
                request_validator=validator,
                request_parameters={f"method.request.path.{p}": True for p in params},
            )
        self._connect_private_integrations()

    def _acknowledge_api(self) -> None:
        """The cdk-nag findings on the API and its stage that are accepted on purpose."""
        acknowledge(
            self.api,
            [f"{AWS_SOLUTIONS}-COG4"],
            "Callers are machines authorized with IAM (SigV4), one IAM principal per client named "
            "in the environment config; Beacon has no end-user identities for a Cognito pool.",
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

    def _client_roles(self, config: EnvironmentConfig) -> dict[str, iam.Role]:
        """A role per client that names no principal of its own; the account decides who assumes.

        The role carries no policy: the API's resource policy is what lets it invoke.
        """
        return {
            client.name: iam.Role(
                self,
                f"Client{client.name.title().replace('-', '')}",
                role_name=f"{config.prefix}-client-{client.name}",
                assumed_by=iam.AccountRootPrincipal(),
                description=f"{config.prefix} API client {client.name}: sign requests as this role",
                max_session_duration=Duration.hours(1),
            )
            for client in config.serving.clients
            if client.principal_arn is None
        }

    def _backend(
        self, config: EnvironmentConfig, vpc: ec2.IVpc, service: ApiService | None
    ) -> str | None:
        """Base URL of the ALB through the VPC link (None for a Lambda backend)."""
        if service is None:
            return None
        link_security_group = ec2.SecurityGroup(
            self,
            "VpcLinkSecurityGroup",
            vpc=vpc,
            description=f"{config.prefix} API Gateway VPC link to the internal ALB",
            allow_all_outbound=True,
        )
        service.allow_from(link_security_group, "API Gateway VPC link")
        self._vpc_link = apigatewayv2.CfnVpcLink(
            self,
            "VpcLink",
            name=f"{config.prefix}-api-link",
            subnet_ids=vpc.select_subnets(subnet_type=PRIVATE.subnet_type).subnet_ids,
            security_group_ids=[link_security_group.security_group_id],
        )
        self._alb_arn = service.load_balancer.load_balancer_arn
        if service.listener_port == 443:
            # API Gateway verifies the ALB's certificate against this name, so the URI names it;
            # the VPC link's integration target (the ALB) decides where the request goes.
            return f"https://{config.serving.backend_domain_name}"
        return f"http://{service.load_balancer.load_balancer_dns_name}"

    def _integration(
        self, method: str, path: str, params: list[str], function: lambda_.IFunction | None
    ) -> apigateway.Integration:
        if function is not None:
            return apigateway.LambdaIntegration(function, proxy=True)
        mapping = {f"integration.request.path.{p}": f"method.request.path.{p}" for p in params}
        mapping[f"integration.request.header.{CLIENT_HEADER}"] = CLIENT_IDENTITY
        return apigateway.Integration(
            type=apigateway.IntegrationType.HTTP_PROXY,
            integration_http_method=method,
            # The service path itself: the stage name never reaches the service.
            uri=f"{self._backend_base}{path}",
            options=apigateway.IntegrationOptions(request_parameters=mapping),
        )

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

    def _add_usage_plan(self, config: EnvironmentConfig) -> dict[str, apigateway.IApiKey]:
        """One API key and one usage plan per client: its own quota and throttle (metering only).

        Keys meter and limit; SigV4 authorizes. A client's plan takes its own limits from the
        config (serving.clients) or the environment's defaults.
        """
        serving = config.serving
        keys: dict[str, apigateway.IApiKey] = {}
        self.usage_plans: dict[str, apigateway.UsagePlan] = {}
        for client in serving.clients:
            suffix = client.name.title().replace("-", "")
            rate, burst, quota = serving.client_limits(client)
            plan = self.api.add_usage_plan(
                # The first plan keeps its old id, so an existing plan is updated, not replaced.
                "UsagePlan" if not self.usage_plans else f"UsagePlan{suffix}",
                name=f"{config.prefix}-{client.name}",
                description=f"{config.prefix}: limits of client {client.name}",
                throttle=apigateway.ThrottleSettings(rate_limit=rate, burst_limit=burst),
                quota=apigateway.QuotaSettings(limit=quota, period=apigateway.Period.DAY),
            )
            plan.add_api_stage(stage=self.api.deployment_stage)
            key = self.api.add_api_key(
                f"Key{suffix}",
                api_key_name=f"{config.prefix}-{client.name}",
                description=f"{config.prefix}: metering key of client {client.name}",
            )
            plan.add_api_key(key)
            keys[client.name] = key
            self.usage_plans[client.name] = plan
        return keys

    def _add_firewall(
        self, config: EnvironmentConfig, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> wafv2.CfnWebACL:
        """The web ACL on the API stage, with its rules and its log group."""
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{config.prefix}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{config.prefix}-api"),
            rules=[_rate_limit_rule(config), *_managed_rules(config)],
        )
        # One association: every request enters through API Gateway. The ALB is internal and
        # reachable only from the VPC link, so a second ACL there would inspect (and bill) the
        # same requests twice.
        wafv2.CfnWebACLAssociation(
            self,
            "ApiStageFirewall",
            resource_arn=self.api.deployment_stage.stage_arn,
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


def _rate_limit_rule(config: EnvironmentConfig) -> wafv2.CfnWebACL.RuleProperty:
    """First rule: block a client IP over the environment's 5-minute request limit."""
    return wafv2.CfnWebACL.RuleProperty(
        name="RatePerClientIp",
        priority=0,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=config.serving.waf_requests_per_ip_5min,
                aggregate_key_type="IP",
                evaluation_window_sec=300,
            )
        ),
        visibility_config=_visibility(f"{config.prefix}-rate-per-ip"),
    )


def _managed_rules(config: EnvironmentConfig) -> list[wafv2.CfnWebACL.RuleProperty]:
    """AWS's managed rule groups, after the rate limit; COUNT_ONLY_RULES only count."""
    return [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=index,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS",
                    name=group,
                    rule_action_overrides=[
                        wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name=rule,
                            action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                        )
                        for rule in COUNT_ONLY_RULES
                    ]
                    if group == "AWSManagedRulesCommonRuleSet"
                    else None,
                )
            ),
            visibility_config=_visibility(f"{config.prefix}-{group}"),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS, start=1)
    ]


def _client_policy(principals: list[str]) -> iam.PolicyDocument:
    """Only the configured clients' principals may invoke; everyone else is denied outright."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="ConfiguredClients",
                principals=[iam.ArnPrincipal(p) for p in principals],
                actions=["execute-api:Invoke"],
                resources=["execute-api:/*"],
            ),
            iam.PolicyStatement(
                sid="NobodyElse",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=["execute-api:/*"],
                conditions={"StringNotEquals": {"aws:PrincipalArn": principals}},
            ),
        ]
    )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name.replace("-", ""),
        sampled_requests_enabled=True,
    )
