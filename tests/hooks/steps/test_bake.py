"""The stable gate's bake time: the rule (table), and the poll over DescribeAlarms (Stubber: the states
CloudWatch gives while metrics arrive, which the local endpoint cannot produce)."""
from datetime import datetime, timedelta, timezone

import botocore.session
import pytest
from botocore.stub import Stubber

from hooks.errors import ServiceNotStable
from hooks.steps import bake
from hooks.steps.stable_rules import FAILED, STABLE, WAITING
from hooks.tenant.alarms import AlarmState
from tests.fake_clock import Clock

NS = "xy-0146-prod"
RATE, HOSTS = "xy-0146-prod-target-5xx-rate", "xy-0146-prod-unhealthy-hosts"
STARTED = datetime(2026, 11, 15, 12, 0, 0, tzinfo=timezone.utc)
BEFORE, DURING = STARTED - timedelta(minutes=5), STARTED + timedelta(seconds=90)


def state(name, value="OK", since=BEFORE, reason="fine"):
    return AlarmState(name, value, reason, since)


@pytest.mark.parametrize("seen, final, verdict, says", [
    pytest.param([state(RATE), state(HOSTS)], False, WAITING, "OK", id="quiet-while-baking"),
    pytest.param([state(RATE), state(HOSTS)], True, STABLE, "OK", id="quiet-at-the-end"),
    pytest.param([state(RATE, "INSUFFICIENT_DATA"), state(HOSTS)], True, STABLE, "INSUFFICIENT_DATA",
                 id="no-data-is-no-alarm"),
    pytest.param([state(RATE, "ALARM", DURING, "12 of 40 5xx"), state(HOSTS)], False, FAILED,
                 "alarm %s is in ALARM (since 2026-11-15T12:01:30Z): 12 of 40 5xx" % RATE, id="fires-during-the-bake"),
    pytest.param([state(RATE), state(HOSTS, "ALARM", BEFORE, "1 unhealthy")], False, WAITING, "ALARM",
                 id="firing-from-before-gets-the-bake-to-clear"),
    pytest.param([state(RATE), state(HOSTS, "ALARM", BEFORE, "1 unhealthy")], True, FAILED,
                 "alarm %s is in ALARM (since 2026-11-15T11:55:00Z): 1 unhealthy" % HOSTS, id="still-firing-at-the-end"),
    pytest.param([state(RATE)], False, FAILED, "alarm %s does not exist" % HOSTS, id="a-bake-alarm-is-missing"),
])
def test_judge(seen, final, verdict, says):
    judged = bake.judge(seen, [RATE, HOSTS], STARTED, final)
    assert judged.state == verdict and says in judged.reason


def described(name, value, since, reason="r"):
    return {"AlarmName": name, "StateValue": value, "StateReason": reason, "StateUpdatedTimestamp": since,
            "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:%s" % name}


def stubbed(*looks):
    cloudwatch = botocore.session.get_session().create_client(
        "cloudwatch", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(cloudwatch)
    for alarms in looks:
        stubber.add_response("describe_alarms", {"MetricAlarms": alarms},
                             {"AlarmNames": [RATE, HOSTS], "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100})
    stubber.activate()
    return cloudwatch, stubber


def run_bake(cloudwatch, seconds=300, poll=60):
    clock, lines = Clock(), []
    result = bake.bake(cloudwatch, NS, seconds, poll, clock=clock, sleep=clock.sleep, progress=lines.append,
                       now=lambda: STARTED)
    return result, clock, lines


def quiet():
    return [described(RATE, "OK", BEFORE), described(HOSTS, "OK", BEFORE)]


def test_a_quiet_bake_polls_by_name_for_the_whole_bake_time_and_passes():
    cloudwatch, stubber = stubbed(*[quiet()] * 7)  # at 0, 60, ..., 300 s, and the final look
    result, clock, lines = run_bake(cloudwatch)
    assert result == {"status": "baked", "bake_seconds": 300, "alarms": [RATE, HOSTS]}
    assert clock.now == 300 and clock.sleeps == [60] * 5
    assert lines[-1].startswith("%s: baked 300 s, no alarm fired" % NS)
    stubber.assert_no_pending_responses()


def test_an_alarm_that_fires_during_the_bake_fails_it_at_once_naming_the_alarm_and_its_reason():
    firing = [described(RATE, "ALARM", DURING, "Threshold Crossed: 3 datapoints [12.5, 9.0, 7.1] >= 5"),
              described(HOSTS, "OK", BEFORE)]
    cloudwatch, stubber = stubbed(quiet(), firing)
    with pytest.raises(ServiceNotStable) as failure:
        run_bake(cloudwatch)
    message = str(failure.value)
    assert "alarm %s is in ALARM" % RATE in message and "Threshold Crossed: 3 datapoints" in message
    assert "failed its bake of 300 s" in message and "The SSM pointer was not flipped" in message
    assert failure.value.assessment.state == FAILED and failure.value.timed_out is False
    stubber.assert_no_pending_responses()


def test_no_bake_alarm_at_all_fails_the_bake():
    cloudwatch, _ = stubbed([])
    with pytest.raises(ServiceNotStable, match="alarm %s, %s does not exist" % (RATE, HOSTS)):
        run_bake(cloudwatch)


def test_the_poll_never_spins_faster_than_a_second():
    cloudwatch, _ = stubbed(*[quiet()] * 4)
    _, clock, _ = run_bake(cloudwatch, seconds=2, poll=0)
    assert clock.sleeps == [1, 1]
