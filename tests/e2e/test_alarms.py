"""What the operator sees at 3 a.m., end to end: a deploy leaves the tenant's alarms notifying the tier's
topic, the bake time fails a rollout whose alarm fires, and `tenantstack status` shows the alarms.

The local endpoint's CloudFormation creates no AWS::CloudWatch::Alarm; the stable gate's hook creates the
deployed templates' alarms there (hooks/aws/endpoint_quirks.py, "cfn-cloudwatch-alarms-not-created"), so
what is read here is what the templates define. The endpoint evaluates no metric: a test sets an
alarm's state itself (SetAlarmState), as CloudWatch would when the new tasks answer 5xx.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import naming
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants, assert_retired_with_final_snapshot

pytestmark = pytest.mark.e2e
QA = "xy-0146-qa"
REPO = Path(__file__).resolve().parents[2]
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")


@pytest.fixture
def live(aws):
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    tenants.deploy(QA)
    tenants.snapshot("xy-0146-dev", TS2)
    return tenants


def tier_output(aws, name):
    (stack,) = aws.client("cloudformation").describe_stacks(StackName=naming.tier_stack_name("common-nonprod"))["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}[name]


def test_a_deploy_leaves_the_tenants_alarms_notifying_the_tiers_encrypted_topic(live):
    alarms = live.aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=naming.alarm_name_prefix(QA))["MetricAlarms"]
    expected = {naming.alarm_name(QA, what) for what in naming.SERVICE_ALARMS}
    expected |= {naming.db_alarm_name(QA, TS1, what) for what in naming.DATABASE_ALARMS}
    assert {alarm["AlarmName"] for alarm in alarms} == expected
    topic = tier_output(live.aws, "AlarmTopicArn")
    assert topic.endswith(":%s" % naming.alarm_topic_name("common-nonprod"))
    assert all(alarm["AlarmActions"] == alarm["OKActions"] == [topic] for alarm in alarms)
    attributes = live.aws.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes.get("KmsMasterKeyId"), attributes
    unhealthy = next(alarm for alarm in alarms if alarm["AlarmName"] == naming.alarm_name(QA, "unhealthy-hosts"))
    dimensions = {d["Name"]: d["Value"] for d in unhealthy["Dimensions"]}
    assert dimensions["LoadBalancer"] == tier_output(live.aws, "LoadBalancerFullName")
    assert dimensions["TargetGroup"].startswith("targetgroup/")


def test_a_retired_databases_alarms_go_with_it_and_the_new_ones_stay(live):
    live.deploy(QA, TS2)
    assert_retired_with_final_snapshot(live.state(QA), TS1)
    alarms = live.aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=naming.alarm_name_prefix(QA))["MetricAlarms"]
    expected = {naming.alarm_name(QA, what) for what in naming.SERVICE_ALARMS}
    expected |= {naming.db_alarm_name(QA, TS2, what) for what in naming.DATABASE_ALARMS}
    assert {alarm["AlarmName"] for alarm in alarms} == expected


def test_an_alarm_that_fires_during_the_bake_fails_the_deploy_and_the_old_service_serves(live):
    cloudwatch = live.aws.client("cloudwatch")
    name = naming.alarm_name(QA, "target-5xx-rate")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="12 of 40 requests answered 5xx")
    result = live.deploy(QA, TS2, check=False, bake_seconds=2)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "alarm %s is in ALARM" % name in output and "12 of 40 requests answered 5xx" in output, output[-3000:]
    state = live.state(QA)
    assert (state.active, state.service_timestamp, state.lock) == (TS1, TS1, None)

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="fixed")
    live.deploy(QA, TS2, bake_seconds=1)
    state = live.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)


def test_status_shows_the_tenants_alarms_and_every_tenant_in_alarm(live):
    name = naming.alarm_name(QA, "unhealthy-hosts")
    live.aws.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="2 targets unhealthy")
    status = subprocess.run([TENANTSTACK, "status", QA, "--json"], cwd=str(REPO), env=live.env, capture_output=True,
                            text=True, check=True)
    (tenant,) = json.loads(status.stdout)["tenants"]
    states = {alarm["name"]: alarm["state"] for alarm in tenant["alarms"]}
    assert states[name] == "ALARM" and len(states) == 6
    listing = subprocess.run([TENANTSTACK, "status", "--all", "--alarms"], cwd=str(REPO), env=live.env,
                             capture_output=True, text=True, check=True)
    assert "%s  %s" % (QA, name) in listing.stdout and "2 targets unhealthy" in listing.stdout, listing.stdout
    assert "xy-0146-prod" not in listing.stdout
