"""hooks/naming/monitoring.py: alarms, the alarm topic, exported and access logs, their keys."""
import pytest

from hooks import naming


@pytest.mark.parametrize("function, args, expected", [
    ("alarm_name", ("xy-0146-qa", "target-5xx-rate"), "xy-0146-qa-target-5xx-rate"),
    ("alarm_name", ("xy-0146-prod", "tasks-below-desired"), "xy-0146-prod-tasks-below-desired"),
    ("db_alarm_name", ("xy-0146-qa", "20261101t090000z", "free-storage"), "xy-0146-qa-db-20261101t090000z-free-storage"),
    ("alarm_name_prefix", ("xy-0146-qa",), "xy-0146-qa-"),
    ("db_alarm_name_prefix", ("xy-0146-qa", "20261101t090000z"), "xy-0146-qa-db-20261101t090000z-"),
    ("rds_log_group_name", ("xy-0146-qa-db-20261101t090000z", "slowquery"),
     "/aws/rds/instance/xy-0146-qa-db-20261101t090000z/slowquery"),
    ("logs_kms_alias", ("common-prod",), "alias/common-prod/logs"),
    ("alarms_kms_alias", ("common-nonprod",), "alias/common-nonprod/alarms"),
    ("alarm_topic_name", ("common-prod",), "common-prod-alarms"),
    ("access_log_prefix", ("common-prod", "alb"), "alb/"),
    ("access_log_prefix", ("common-nonprod", "app-files"), "app-files/"),
    ("alarm_namespace", ("xy-0146-qa-db-20261101t090000z-cpu", ["xy-0146-prod", "xy-0146-qa"]), "xy-0146-qa"),
    ("alarm_namespace", ("billing", ["xy-0146-qa"]), None),
    ("tier_log_group_patterns", ("common-prod",),
     ["/common-prod/vpc/flow-logs", "/*-prod/service", "/aws/rds/instance/*-prod-db-*"]),
])
def test_observability_names(function, args, expected):
    assert getattr(naming, function)(*args) == expected


@pytest.mark.parametrize("function, args, rule", [
    ("alarm_name", ("xy-0146-qa", "cpu"), "expected one of target-5xx-rate, unhealthy-hosts, tasks-below-desired"),
    ("db_alarm_name", ("xy-0146-qa", "20261101t090000z", "unhealthy-hosts"), "expected one of cpu, free-storage"),
    ("rds_log_group_name", ("xy-0146-qa-db-20261101t090000z", "general"), "expected one of error, slowquery"),
    ("access_log_prefix", ("common-prod", "cloudfront"), "expected one of alb, app-files"),
    ("alarm_topic_name", ("xy-0146-qa",), "expected one of common-nonprod, common-prod"),
])
def test_observability_names_refuse_what_they_do_not_name(function, args, rule):
    with pytest.raises(naming.NamingError, match=rule):
        getattr(naming, function)(*args)
