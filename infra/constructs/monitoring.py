"""Monitoring: one CloudWatch dashboard per environment and the alarms that page people."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.api_service import ApiService
from infra.constructs.container_function import ContainerFunction
from infra.constructs.lambda_api import LambdaApi
from infra.constructs.public_api import STAGE

FIVE_MINUTES = Duration.minutes(5)
AT_LEAST = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
# Names of the metrics Beacon's own code publishes (Embedded Metric Format) in Beacon/<env>.
MODEL_METRICS = ("ModelRocAuc", "DriftShareOfDriftedColumns", "EmbeddingsRefreshed")
PROCESSING_FAILURES = "ProcessingJobFailures"
PIPELINE_FAILURES = "PipelineFailures"


class Monitoring(Construct):
    """Dashboard `beacon-<env>` plus alarms whose actions publish to the alarm topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        api_name: str,
        database: rds.IDatabaseInstance,
        alarm_topic: sns.ITopic,
        people_topic: sns.ITopic,
        notifier: ContainerFunction,
        mwaa_environment_name: str,
        service: ApiService | None = None,
        lambda_api: LambdaApi | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._action = cw_actions.SnsAction(alarm_topic)
        # Alarms about the notifier itself skip it: they go straight to the people's topic.
        self._direct = cw_actions.SnsAction(people_topic)
        self.alarms: list[cw.Alarm] = []
        latency = [_api_metric(api_name, "Latency", p) for p in ("p50", "p95", "p99")]
        errors = [
            _api_metric(api_name, "4XXError", "Sum"),
            _api_metric(api_name, "5XXError", "Sum"),
        ]
        rds_metrics = _database_metrics(database)
        processing = self._own_metric(PROCESSING_FAILURES)
        pipelines = self._own_metric(PIPELINE_FAILURES)
        self._api_alarms(latency, errors)
        self._database_alarms(rds_metrics)
        self._pipeline_alarms(processing, pipelines, mwaa_environment_name)
        self._notifier_alarms(notifier)
        compute_widgets = self._compute(config, service, lambda_api)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=config.prefix,
            default_interval=Duration.days(1),
            widgets=[
                [
                    cw.GraphWidget(title="API latency (ms)", width=12, left=latency),
                    cw.GraphWidget(title="API 4xx / 5xx", width=12, left=errors),
                ],
                compute_widgets,
                [
                    cw.GraphWidget(title="RDS CPU %", width=8, left=[rds_metrics[0]]),
                    cw.GraphWidget(title="RDS connections", width=8, left=[rds_metrics[1]]),
                    cw.GraphWidget(title="RDS free storage", width=8, left=[rds_metrics[2]]),
                ],
                [
                    cw.GraphWidget(title="Processing job failures", width=12, left=[processing]),
                    cw.GraphWidget(title="DAG run failures", width=12, left=[pipelines]),
                ],
                self._model_widgets(),
                [cw.AlarmStatusWidget(title="Alarms", width=24, alarms=self.alarms)],
            ],
        )

    def _own_metric(self, name: str, statistic: str = "Sum") -> cw.Metric:
        """A metric Beacon's own code publishes in this environment's namespace."""
        return cw.Metric(
            namespace=self._config.metrics_namespace,
            metric_name=name,
            statistic=statistic,
            period=FIVE_MINUTES,
        )

    def _api_alarms(self, latency: list[cw.Metric], errors: list[cw.Metric]) -> None:
        """API Gateway 5xx responses and p99 latency."""
        thresholds = self._config.alarms
        self._alarm("Api5xx", errors[1], thresholds.api_5xx_per_5min, "API 5xx responses")
        self._alarm("ApiLatencyP99", latency[2], thresholds.api_p99_latency_ms, "API p99 latency")

    def _database_alarms(self, rds_metrics: list[cw.Metric]) -> None:
        """RDS CPU, connections, free storage and memory, read and write latency."""
        thresholds = self._config.alarms
        below = cw.ComparisonOperator.LESS_THAN_THRESHOLD
        self._alarm("RdsCpu", rds_metrics[0], thresholds.rds_cpu_percent, "database CPU %")
        self._alarm(
            "RdsConnections",
            rds_metrics[1],
            thresholds.rds_max_connections,
            "database connections",
        )
        self._alarm(
            "RdsFreeStorage",
            rds_metrics[2],
            thresholds.rds_free_storage_gib * 1024**3,
            "database free storage (bytes)",
            comparison=below,
        )
        self._alarm(
            "RdsFreeableMemory",
            rds_metrics[3],
            thresholds.rds_freeable_memory_mib * 1024**2,
            "database freeable memory (bytes)",
            comparison=below,
        )
        for index, kind in ((4, "Read"), (5, "Write")):
            self._alarm(
                f"Rds{kind}Latency",
                rds_metrics[index],
                thresholds.rds_latency_ms / 1000,
                f"database {kind.lower()} latency (s)",
            )

    def _pipeline_alarms(
        self, processing: cw.Metric, pipelines: cw.Metric, mwaa_environment_name: str
    ) -> None:
        """Failed Processing jobs and DAG runs, and a silent MWAA scheduler."""
        thresholds = self._config.alarms
        # A failed job or DAG run is an event, not a trend: one datapoint is enough.
        self._alarm(
            "ProcessingFailures",
            processing,
            thresholds.processing_failures,
            "jobs failed",
            immediate=True,
        )
        self._alarm(
            "DagFailures", pipelines, thresholds.dag_failures, "DAG runs failed", immediate=True
        )
        if not self._config.orchestration.enabled:  # no MWAA in the idle state: nothing to miss
            return
        scheduler = cw.Metric(
            namespace="AmazonMWAA",
            metric_name="SchedulerHeartbeat",
            dimensions_map={"Function": "Scheduler", "Environment": mwaa_environment_name},
            statistic="Sum",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "MwaaSchedulerHeartbeat",
            scheduler,
            1,
            "MWAA scheduler heartbeats",
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cw.TreatMissingData.BREACHING,
        )

    def _notifier_alarms(self, notifier: ContainerFunction) -> None:
        """Notifier errors and dead letters, sent past the notifier straight to people."""
        thresholds = self._config.alarms
        self._alarm(
            "NotifierErrors",
            notifier.function.metric_errors(period=FIVE_MINUTES),
            thresholds.notifier_errors,
            "notifier errors",
            immediate=True,
            direct=True,
        )
        self._alarm(
            "NotifierDeadLetters",
            notifier.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            thresholds.dlq_messages,
            "undelivered notifications in the dead-letter queue",
            immediate=True,
            direct=True,
        )

    def _model_widgets(self) -> list[cw.IWidget]:
        """One hourly graph per model metric, across every workload that publishes it."""
        namespace = self._config.metrics_namespace
        return [
            cw.GraphWidget(
                title=name,
                width=8,
                left=[
                    cw.MathExpression(
                        expression=(
                            f"SEARCH('{{{namespace},Workload}} MetricName=\"{name}\"', "
                            "'Average', 3600)"
                        ),
                        label=name,
                        period=Duration.hours(1),
                    )
                ],
            )
            for name in MODEL_METRICS
        ]

    def _compute(
        self, config: EnvironmentConfig, service: ApiService | None, lambda_api: LambdaApi | None
    ) -> list[cw.IWidget]:
        """Alarms and widgets of whichever compute serves the API: ECS tasks or a Lambda."""
        if service is not None:
            self._load_balancer_alarms(config, service)
            return self._ecs(config, service)
        assert lambda_api is not None
        return self._lambda(config, lambda_api)

    def _load_balancer_alarms(self, config: EnvironmentConfig, service: ApiService) -> None:
        """ALB 5xx responses and unhealthy targets in front of the API tasks."""
        # Dimensions from the ALB's and target group's own attributes: the L2 helpers derive
        # them by splitting the listener ARN, which does not survive a cross-stack reference.
        balancer = service.load_balancer.load_balancer_full_name

        def alb_metric(name: str, statistic: str, **dimensions: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/ApplicationELB",
                metric_name=name,
                dimensions_map={"LoadBalancer": balancer, **dimensions},
                statistic=statistic,
                period=FIVE_MINUTES,
            )

        # Whole load balancer: with blue/green either target group may be the live one.
        self._alarm(
            "Alb5xx",
            alb_metric("HTTPCode_Target_5XX_Count", "Sum"),
            config.alarms.alb_5xx_per_5min,
            "API task 5xx responses at the ALB",
        )
        unhealthy = [
            alb_metric("UnHealthyHostCount", "Maximum", TargetGroup=group.target_group_full_name)
            for group in service.target_groups
        ]
        self._alarm(
            "AlbUnhealthyHosts",
            unhealthy[0]
            if len(unhealthy) == 1
            else cw.MathExpression(
                expression="MAX([" + ",".join(f"m{i}" for i in range(len(unhealthy))) + "])",
                using_metrics={f"m{i}": m for i, m in enumerate(unhealthy)},
                period=FIVE_MINUTES,
            ),
            1,
            "unhealthy API tasks behind the ALB",
        )

    def _ecs(self, config: EnvironmentConfig, service: ApiService) -> list[cw.IWidget]:
        """CPU, memory and running-task alarms and graphs of the ECS API service."""
        thresholds = config.alarms
        cpu = service.service.metric_cpu_utilization(period=FIVE_MINUTES)
        memory = service.service.metric_memory_utilization(period=FIVE_MINUTES)
        running = cw.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions_map={
                "ClusterName": service.cluster.cluster_name,
                "ServiceName": service.service.service_name,
            },
            statistic="Minimum",
            period=FIVE_MINUTES,
        )
        self._alarm("EcsCpu", cpu, thresholds.ecs_cpu_percent, "API tasks CPU %")
        self._alarm("EcsMemory", memory, thresholds.ecs_memory_percent, "API tasks memory %")
        if config.serving.min_tasks:  # zero tasks is the idle state, not an outage
            self._alarm(
                "EcsRunningTasks",
                running,
                config.serving.min_tasks,
                "running API tasks",
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cw.TreatMissingData.BREACHING,
            )
        return [
            cw.GraphWidget(title="ECS CPU %", width=8, left=[cpu]),
            cw.GraphWidget(title="ECS memory %", width=8, left=[memory]),
            cw.GraphWidget(title="ECS running tasks", width=8, left=[running]),
        ]

    def _lambda(self, config: EnvironmentConfig, lambda_api: LambdaApi) -> list[cw.IWidget]:
        """Error alarm and duration, error and concurrency graphs of the API Lambda."""
        function = lambda_api.function
        lambda_errors = function.metric_errors(period=FIVE_MINUTES)
        self._alarm("LambdaApiErrors", lambda_errors, config.alarms.api_5xx_per_5min, "API errors")
        return [
            cw.GraphWidget(
                title="API Lambda duration (ms)",
                width=8,
                left=[
                    function.metric_duration(period=FIVE_MINUTES, statistic=p)
                    for p in ("p50", "p99")
                ],
            ),
            cw.GraphWidget(title="API Lambda errors", width=8, left=[lambda_errors]),
            cw.GraphWidget(
                title="API Lambda concurrency",
                width=8,
                left=[
                    function.metric(
                        "ConcurrentExecutions", period=FIVE_MINUTES, statistic="Maximum"
                    ),
                    function.metric_throttles(period=FIVE_MINUTES),
                ],
            ),
        ]

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        threshold: float,
        what: str,
        *,
        comparison: cw.ComparisonOperator = AT_LEAST,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        immediate: bool = False,
        direct: bool = False,
    ) -> cw.Alarm:
        """One alarm; M of N periods must breach unless `immediate` (events, not trends)."""
        thresholds = self._config.alarms
        alarm = cw.Alarm(
            self,
            construct_id,
            alarm_name=f"{self._config.prefix}-{construct_id}",
            alarm_description=f"Beacon {self._config.name}: {what} crossed {threshold}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1 if immediate else thresholds.evaluation_periods,
            datapoints_to_alarm=1 if immediate else thresholds.datapoints_to_alarm,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        action = self._direct if direct else self._action
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms.append(alarm)
        return alarm


def _api_metric(api_name: str, name: str, statistic: str) -> cw.Metric:
    """An API Gateway metric of the public API's stage."""
    return cw.Metric(
        namespace="AWS/ApiGateway",
        metric_name=name,
        dimensions_map={"ApiName": api_name, "Stage": STAGE},
        statistic=statistic,
        period=FIVE_MINUTES,
        label=f"{name} {statistic}",
    )


def _database_metrics(database: rds.IDatabaseInstance) -> list[cw.Metric]:
    """CPU, connections, free storage, freeable memory, read and write latency, in that order."""
    return [
        database.metric_cpu_utilization(period=FIVE_MINUTES),
        database.metric_database_connections(period=FIVE_MINUTES),
        database.metric_free_storage_space(period=FIVE_MINUTES),
        database.metric_freeable_memory(period=FIVE_MINUTES),
        database.metric("ReadLatency", period=FIVE_MINUTES, statistic="Average"),
        database.metric("WriteLatency", period=FIVE_MINUTES, statistic="Average"),
    ]
