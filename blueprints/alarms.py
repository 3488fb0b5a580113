"""A tenant's CloudWatch alarms: its service's (service stack) and each database's (database stack).

Every alarm is named by hooks.naming (`<namespace>-<what>`, `<namespace>-db-<timestamp>-<what>`:
all start with `<namespace>-`, which `tenantstack status` and the deploy role's policy use), tagged
like every resource of its stack, and notifies the tier's alarm topic (output AlarmTopicArn of
`<tier>-tier`) when it fires and when it clears. Thresholds are plain blueprint variables fed by
the tenant's env file (hooks/config/settings.py; docs/configuration.md has the defaults), so the
rendered template shows them. Every alarm
looks at one-minute data points and fires after ALARM_MINUTES of them breach; missing data is
not breaching (a tenant without traffic is no incident).

Service (AWS/ApplicationELB by the tier's LoadBalancer and the tenant's TargetGroup; ECS/ContainerInsights,
which the tier's cluster turns on, by ClusterName and ServiceName):

    target-5xx-rate      HTTPCode_Target_5XX_Count / RequestCount, in %, once at least
                         MIN_REQUESTS requests a minute arrive                       >= alarm_5xx_percent
    unhealthy-hosts      UnHealthyHostCount (Maximum)                                >= alarm_unhealthy_hosts
    tasks-below-desired  DesiredTaskCount - RunningTaskCount, for TASK_MINUTES       > 0

Database (AWS/RDS by DBInstanceIdentifier):

    cpu           CPUUtilization (Average)          >= alarm_db_cpu_percent
    free-storage  FreeStorageSpace (Minimum)        <  alarm_db_free_storage_mib MiB
    connections   DatabaseConnections (Maximum)     >= alarm_db_connections

The stable gate's bake time watches target-5xx-rate and unhealthy-hosts (hooks/steps/bake.py).
"""
from troposphere import GetAtt, Ref, cloudwatch

from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNNumber, CFNString

SETTINGS = {setting.key: setting for setting in settings.TENANT_SETTINGS}

PERIOD_SECONDS = 60
ALARM_MINUTES = 3
TASK_MINUTES = 5
MIN_REQUESTS = 10
MIB = 1024 * 1024



def monitoring_variables(logs, thresholds):
    """The blueprint variables of a stack with alarms and log groups: the tier's alarm topic and logs key,
    how long `logs` (what they hold, for the description) are kept, and one int variable per alarm
    threshold ({variable: env key}), each with its env key's default."""
    return {
        "AlarmTopicArn": {"type": CFNString, "description": "The SNS topic the tier's alarms notify"},
        "LogsKeyArn": {"type": CFNString, "description": "The tier's KMS key for log groups"},
        "LogRetentionDays": {
            "type": CFNNumber,
            "default": str(SETTINGS["log_retention"].default),
            "description": "Days %s kept" % logs,
            "allowed_values": [str(days) for days in settings.LOG_RETENTION_DAYS],
        },
        **{
            variable: {"type": int, "default": SETTINGS[key].default, "description": SETTINGS[key].help}
            for variable, key in thresholds.items()
        },
    }


def parse_thresholds(blueprint, variables, thresholds):
    """{env key: value} of the threshold variables, each checked by its env key's rule (blueprint.parse)."""
    return {key: blueprint.parse(variable, variables[variable], SETTINGS[key].parse)
            for variable, key in thresholds.items()}


TARGET_5XX_RATE_ALARM = "Target5xxRateAlarm"
UNHEALTHY_HOSTS_ALARM = "UnhealthyHostsAlarm"
TASKS_BELOW_DESIRED_ALARM = "TasksBelowDesiredAlarm"
DATABASE_CPU_ALARM = "DatabaseCpuAlarm"
DATABASE_FREE_STORAGE_ALARM = "DatabaseFreeStorageAlarm"
DATABASE_CONNECTIONS_ALARM = "DatabaseConnectionsAlarm"

ALB, CONTAINER_INSIGHTS, RDS = "AWS/ApplicationELB", "ECS/ContainerInsights", "AWS/RDS"
AT_LEAST, ABOVE, BELOW = "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold"


def alarm(logical_id, name, description, topic, threshold, comparison, minutes=ALARM_MINUTES, **measured):
    """An alarm `name` that notifies `topic` (a Ref) when it fires and when it clears. `measured`:
    Namespace, MetricName, Statistic and Dimensions of one metric, or Metrics (metric math)."""
    if "Metrics" not in measured:
        measured["Period"] = PERIOD_SECONDS
    return cloudwatch.Alarm(
        logical_id,
        AlarmName=name,
        AlarmDescription=description,
        ActionsEnabled=True,
        AlarmActions=[topic],
        OKActions=[topic],
        ComparisonOperator=comparison,
        Threshold=threshold,
        EvaluationPeriods=minutes,
        DatapointsToAlarm=minutes,
        TreatMissingData="notBreaching",
        **measured
    )


def dimensions(**values):
    return [cloudwatch.MetricDimension(Name=name, Value=value) for name, value in sorted(values.items())]


def metric(query_id, namespace, metric_name, statistic, dims):
    """One metric of a metric-math alarm (not returned itself: the expression is)."""
    return cloudwatch.MetricDataQuery(
        Id=query_id,
        ReturnData=False,
        MetricStat=cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(Namespace=namespace, MetricName=metric_name, Dimensions=dims),
            Period=PERIOD_SECONDS,
            Stat=statistic,
        ),
    )


def expression(query_id, text, label):
    return cloudwatch.MetricDataQuery(Id=query_id, Expression=text, Label=label, ReturnData=True)


def service_alarms(namespace, topic, target_group, thresholds):
    """The service stack's alarms. topic: a Ref to the topic; target_group: the TargetGroup's logical id;
    thresholds: the env keys alarm_5xx_percent, alarm_unhealthy_hosts; the parameters LoadBalancerFullName and
    ClusterName."""
    target = dimensions(LoadBalancer=Ref("LoadBalancerFullName"),
                        TargetGroup=GetAtt(target_group, "TargetGroupFullName"))
    service = dimensions(ClusterName=Ref("ClusterName"), ServiceName=naming.service_name(namespace))
    return [
        alarm(
            TARGET_5XX_RATE_ALARM, naming.alarm_name(namespace, "target-5xx-rate"),
            "%s: %d%% or more of the requests its targets answered were 5xx (ALB access logs, log group %s)"
            % (namespace, thresholds["alarm_5xx_percent"], naming.log_group_name(namespace)),
            topic, thresholds["alarm_5xx_percent"], AT_LEAST,
            Metrics=[
                metric("errors", ALB, "HTTPCode_Target_5XX_Count", "Sum", target),
                metric("requests", ALB, "RequestCount", "Sum", target),
                expression("rate", "IF(FILL(requests, 0) >= %d, 100 * FILL(errors, 0) / requests, 0)" % MIN_REQUESTS,
                           "5xx % of requests"),
            ],
        ),
        alarm(
            UNHEALTHY_HOSTS_ALARM, naming.alarm_name(namespace, "unhealthy-hosts"),
            "%s: %d or more targets fail the health check /healthz (the application or its database)"
            % (namespace, thresholds["alarm_unhealthy_hosts"]),
            topic, thresholds["alarm_unhealthy_hosts"], AT_LEAST,
            Namespace=ALB, MetricName="UnHealthyHostCount", Statistic="Maximum", Dimensions=target,
        ),
        alarm(
            TASKS_BELOW_DESIRED_ALARM, naming.alarm_name(namespace, "tasks-below-desired"),
            "%s: fewer tasks run than the service wants (tasks stopping: aws ecs describe-services)" % namespace,
            topic, 0, ABOVE, minutes=TASK_MINUTES,
            Metrics=[
                metric("running", CONTAINER_INSIGHTS, "RunningTaskCount", "Minimum", service),
                metric("desired", CONTAINER_INSIGHTS, "DesiredTaskCount", "Maximum", service),
                expression("missing", "desired - running", "tasks missing"),
            ],
        ),
    ]


def database_alarms(namespace, timestamp, instance_id, topic, thresholds):
    """One database stack's alarms. thresholds: the env keys alarm_db_cpu_percent, alarm_db_free_storage_mib,
    alarm_db_connections."""
    instance = dimensions(DBInstanceIdentifier=instance_id)
    return [
        alarm(
            DATABASE_CPU_ALARM, naming.db_alarm_name(namespace, timestamp, "cpu"),
            "%s: CPU at %d%% or more (slow query log %s)"
            % (instance_id, thresholds["alarm_db_cpu_percent"], naming.rds_log_group_name(instance_id, "slowquery")),
            topic, thresholds["alarm_db_cpu_percent"], AT_LEAST,
            Namespace=RDS, MetricName="CPUUtilization", Statistic="Average", Dimensions=instance,
        ),
        alarm(
            DATABASE_FREE_STORAGE_ALARM, naming.db_alarm_name(namespace, timestamp, "free-storage"),
            "%s: less than %d MiB of storage free" % (instance_id, thresholds["alarm_db_free_storage_mib"]),
            topic, thresholds["alarm_db_free_storage_mib"] * MIB, BELOW,
            Namespace=RDS, MetricName="FreeStorageSpace", Statistic="Minimum", Dimensions=instance,
        ),
        alarm(
            DATABASE_CONNECTIONS_ALARM, naming.db_alarm_name(namespace, timestamp, "connections"),
            "%s: %d or more connections (error log %s)"
            % (instance_id, thresholds["alarm_db_connections"], naming.rds_log_group_name(instance_id, "error")),
            topic, thresholds["alarm_db_connections"], AT_LEAST,
            Namespace=RDS, MetricName="DatabaseConnections", Statistic="Maximum", Dimensions=instance,
        ),
    ]
