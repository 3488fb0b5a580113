"""The tenant's alarms as the service and database templates carry them: names, metrics, thresholds, topic."""
import pytest

from blueprints.database import TenantDatabase
from blueprints.service import TenantService
from hooks import naming
from hooks.config import settings
from hooks.engine.render import render_blueprint
from tests.blueprints.template_checks import resources_of_type

TIMESTAMP = "20260115t103000z"
DEFAULTS = {setting.key: setting.default for setting in settings.TENANT_SETTINGS}


def service_alarms(**variables):
    template = render_blueprint(TenantService, dict({"Namespace": "xy-0146-qa", "Timestamp": TIMESTAMP}, **variables))
    return {alarm["Properties"]["AlarmName"]: alarm["Properties"]
            for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()}


def database_alarms(**variables):
    template = render_blueprint(TenantDatabase, dict(
        {"Namespace": "xy-0146-qa", "Timestamp": TIMESTAMP, "SourceNamespace": "xy-0146-dev"}, **variables))
    return {alarm["Properties"]["AlarmName"]: alarm["Properties"]
            for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()}


def metric_names(properties):
    if "Metrics" in properties:
        return sorted(q["MetricStat"]["Metric"]["MetricName"] for q in properties["Metrics"] if "MetricStat" in q)
    return [properties["MetricName"]]


# (alarm name, metric names, comparison, threshold with the documented defaults)
SERVICE_CASES = [
    ("xy-0146-qa-target-5xx-rate", ["HTTPCode_Target_5XX_Count", "RequestCount"], "GreaterThanOrEqualToThreshold",
     DEFAULTS["alarm_5xx_percent"]),
    ("xy-0146-qa-unhealthy-hosts", ["UnHealthyHostCount"], "GreaterThanOrEqualToThreshold",
     DEFAULTS["alarm_unhealthy_hosts"]),
    ("xy-0146-qa-tasks-below-desired", ["DesiredTaskCount", "RunningTaskCount"], "GreaterThanThreshold", 0),
]
DATABASE_CASES = [
    ("xy-0146-qa-db-%s-cpu" % TIMESTAMP, ["CPUUtilization"], "GreaterThanOrEqualToThreshold",
     DEFAULTS["alarm_db_cpu_percent"]),
    ("xy-0146-qa-db-%s-free-storage" % TIMESTAMP, ["FreeStorageSpace"], "LessThanThreshold",
     DEFAULTS["alarm_db_free_storage_mib"] * 1024 * 1024),
    ("xy-0146-qa-db-%s-connections" % TIMESTAMP, ["DatabaseConnections"], "GreaterThanOrEqualToThreshold",
     DEFAULTS["alarm_db_connections"]),
]


@pytest.mark.parametrize("name, metrics, comparison, threshold",
                         [pytest.param(*case, id=case[0].rsplit("-", 1)[-1]) for case in SERVICE_CASES])
def test_service_alarms_carry_the_documented_defaults_and_notify_the_tiers_topic(name, metrics, comparison, threshold):
    alarm = service_alarms()[name]
    assert (metric_names(alarm), alarm["ComparisonOperator"], alarm["Threshold"]) == (metrics, comparison, threshold)
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopicArn"}]
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("name, metrics, comparison, threshold",
                         [pytest.param(*case, id=case[0].rsplit("-", 1)[-1]) for case in DATABASE_CASES])
def test_database_alarms_carry_the_documented_defaults(name, metrics, comparison, threshold):
    alarm = database_alarms()[name]
    assert (metric_names(alarm), alarm["ComparisonOperator"], alarm["Threshold"]) == (metrics, comparison, threshold)
    assert alarm["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": naming.db_instance_id("xy-0146-qa", TIMESTAMP)}]


def test_every_alarm_is_named_by_the_namespace_prefix_and_the_bake_alarms_are_the_services():
    names = set(service_alarms()) | set(database_alarms())
    assert names == {case[0] for case in SERVICE_CASES + DATABASE_CASES}
    assert all(name.startswith(naming.alarm_name_prefix("xy-0146-qa")) for name in names)
    assert {naming.alarm_name("xy-0146-qa", what) for what in naming.BAKE_ALARMS} <= names


def test_the_alb_alarms_look_at_the_tenants_target_group_on_the_tiers_load_balancer():
    alarms = service_alarms()
    unhealthy = alarms["xy-0146-qa-unhealthy-hosts"]
    assert unhealthy["Namespace"] == "AWS/ApplicationELB" and unhealthy["Period"] == 60
    assert unhealthy["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": {"Ref": "LoadBalancerFullName"}},
        {"Name": "TargetGroup", "Value": {"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]}},
    ]
    rate = alarms["xy-0146-qa-target-5xx-rate"]["Metrics"]
    (returned,) = [query for query in rate if query["ReturnData"]]
    assert returned["Expression"] == "IF(FILL(requests, 0) >= 10, 100 * FILL(errors, 0) / requests, 0)"
    tasks = alarms["xy-0146-qa-tasks-below-desired"]["Metrics"]
    assert {q["MetricStat"]["Metric"]["Namespace"] for q in tasks if "MetricStat" in q} == {"ECS/ContainerInsights"}


@pytest.mark.parametrize("variables, name, threshold", [
    ({"Alarm5xxPercent": 20}, "xy-0146-qa-target-5xx-rate", 20),
    ({"AlarmUnhealthyHosts": 2}, "xy-0146-qa-unhealthy-hosts", 2),
])
def test_a_service_threshold_comes_from_its_env_key(variables, name, threshold):
    assert service_alarms(**variables)[name]["Threshold"] == threshold


@pytest.mark.parametrize("variables, name, threshold", [
    ({"AlarmCpuPercent": 90}, "xy-0146-qa-db-%s-cpu" % TIMESTAMP, 90),
    ({"AlarmFreeStorageMiB": 512}, "xy-0146-qa-db-%s-free-storage" % TIMESTAMP, 512 * 1024 * 1024),
    ({"AlarmConnections": 300}, "xy-0146-qa-db-%s-connections" % TIMESTAMP, 300),
])
def test_a_database_threshold_comes_from_its_env_key(variables, name, threshold):
    assert database_alarms(**variables)[name]["Threshold"] == threshold


@pytest.mark.parametrize("blueprint, variable, value", [
    (TenantService, "Alarm5xxPercent", 0),
    (TenantService, "AlarmUnhealthyHosts", 51),
    (TenantDatabase, "AlarmCpuPercent", 101),
])
def test_a_threshold_outside_its_rule_is_refused_naming_it(blueprint, variable, value):
    from blueprints.base import BlueprintError
    variables = {"Namespace": "xy-0146-qa", "Timestamp": TIMESTAMP, "SourceNamespace": "xy-0146-dev", variable: value}
    if blueprint is TenantService:
        variables.pop("SourceNamespace")
    with pytest.raises(BlueprintError, match="variable %s: %r is invalid: expected a whole number" % (variable, value)):
        render_blueprint(blueprint, variables)
