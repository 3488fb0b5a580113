"""A tenant's alarms as read: the pure rules (tables) and the reads, against the local endpoint (call counts flat)."""
from datetime import datetime, timezone

import pytest

from hooks.tenant import alarms
from hooks.tenant.alarms import AlarmState

SINCE = datetime(2026, 11, 15, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("described, expected", [
    ({"AlarmName": "a", "StateValue": "ALARM", "StateReason": "r", "StateUpdatedTimestamp": SINCE},
     AlarmState("a", "ALARM", "r", SINCE)),
    ({"AlarmName": "a", "StateValue": "OK", "StateUpdatedTimestamp": SINCE.replace(tzinfo=None)},
     AlarmState("a", "OK", "", SINCE)),
    ({"AlarmName": "a"}, AlarmState("a", "INSUFFICIENT_DATA", "", None)),
])
def test_alarm_state(described, expected):
    assert alarms.alarm_state(described) == expected


def test_since_text_is_the_contracts_utc_form():
    assert AlarmState("a", "OK", "", SINCE).since_text == "2026-11-15T12:00:00Z"
    assert AlarmState("a", "OK", "", None).since_text is None


@pytest.mark.parametrize("names, namespaces, expected", [
    (["xy-0146-qa-unhealthy-hosts", "xy-0146-qa-db-20261101t090000z-cpu"], ["xy-0146-qa"],
     {"xy-0146-qa": ["xy-0146-qa-db-20261101t090000z-cpu", "xy-0146-qa-unhealthy-hosts"]}),
    (["xy-0146-qa-unhealthy-hosts", "xy-0146-prod-cpu-by-hand", "billing-alarm"], ["xy-0146-qa", "xy-0146-prod"],
     {"xy-0146-prod": ["xy-0146-prod-cpu-by-hand"], "xy-0146-qa": ["xy-0146-qa-unhealthy-hosts"]}),
    (["ab-0212-qa-unhealthy-hosts"], ["xy-0146-qa"], {}),
])
def test_by_namespace_keeps_only_the_tenants_asked(names, namespaces, expected):
    grouped = alarms.by_namespace([AlarmState(name, "ALARM", "", SINCE) for name in names], namespaces)
    assert {ns: [alarm.name for alarm in found] for ns, found in grouped.items()} == expected


def test_firing_is_the_alarms_in_alarm_by_name():
    seen = [AlarmState("b", "ALARM", "", SINCE), AlarmState("c", "OK", "", SINCE), AlarmState("a", "ALARM", "", SINCE)]
    assert [alarm.name for alarm in alarms.firing(seen)] == ["a", "b"]


def put(cloudwatch, *names):
    for name in names:
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                                    EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")


def test_one_tenants_alarms_are_one_call_by_prefix_and_every_tenant_in_alarm_one_call(aws):
    cloudwatch = aws.client("cloudwatch")
    tenants = ["xy-%04d-qa" % number for number in range(12)]
    put(cloudwatch, *["%s-unhealthy-hosts" % ns for ns in tenants], "xy-0001-qa-db-20261101t090000z-cpu")
    cloudwatch.set_alarm_state(AlarmName="xy-0003-qa-unhealthy-hosts", StateValue="ALARM", StateReason="2 unhealthy")
    calls = []
    cloudwatch.meta.events.register("before-call.cloudwatch.DescribeAlarms", lambda **kwargs: calls.append(1))
    assert [a.name for a in alarms.namespace_alarms(cloudwatch, "xy-0001-qa")] == [
        "xy-0001-qa-db-20261101t090000z-cpu", "xy-0001-qa-unhealthy-hosts"]
    firing = alarms.alarms_in_alarm(cloudwatch, tenants)
    assert {ns: [(a.name, a.reason) for a in found] for ns, found in firing.items()} == {
        "xy-0003-qa": [("xy-0003-qa-unhealthy-hosts", "2 unhealthy")]}
    assert len(calls) == 2
