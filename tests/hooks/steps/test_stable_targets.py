"""The stable gate's load-balancer half: the new task definition's targets must be healthy.

The local endpoint runs no ECS tasks and registers no targets (endpoint_quirks
"ecs-services-run-no-tasks"), so the states it cannot produce (unhealthy, initial, draining,
an old task definition's target still healthy, stopped tasks with a failed migration) are
given here through botocore's Stubber.
"""
import datetime

import boto3
import pytest
from botocore.stub import Stubber

from hooks.errors import ServiceNotStable
from hooks.steps import stable, stable_targets
from hooks.steps.stable_rules import FAILED, STABLE, WAITING, Target, assess_targets, new_targets, task_address
from tests.fake_clock import Clock

CLUSTER, SERVICE, NS = "common-nonprod", "xy-0146-qa", "xy-0146-qa"
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:%d"
OLD, NEW = ARN % 6, ARN % 7
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/xy-0146-qa/0123456789abcdef"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/common-nonprod/%s"
RESPONSE_CODE = ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]")


def task(task_id, definition=NEW, address="10.0.1.%d", status="RUNNING", **extra):
    described = {"taskArn": TASK % task_id, "taskDefinitionArn": definition, "lastStatus": status}
    if address:
        described["attachments"] = [{"type": "ElasticNetworkInterface", "details": [
            {"name": "subnetId", "value": "subnet-1"},
            {"name": "privateIPv4Address", "value": address % int(task_id[-1]) if "%" in address else address}]}]
    return dict(described, **extra)


def health(address, state, reason=None, description=None):
    entry = {"Target": {"Id": address, "Port": 80}, "TargetHealth": {"State": state}}
    if reason:
        entry["TargetHealth"].update(Reason=reason, Description=description)
    return entry


# --- pure -----------------------------------------------------------------------------------------


def test_a_tasks_address_is_its_enis_private_ip_and_none_before_it_has_one():
    assert task_address(task("t1")) == "10.0.1.1"
    assert task_address(task("t1", address=None)) is None


def test_only_running_tasks_of_the_new_task_definition_are_its_targets():
    tasks = [task("t1"), task("t2", definition=OLD), task("t3", status="PROVISIONING"), task("t4", address=None)]
    targets = new_targets(tasks, [health("10.0.1.1", "healthy"), health("10.0.1.2", "healthy")], NEW)
    assert targets == [Target("t1", "10.0.1.1", "healthy"), Target("t4", None, None)]


@pytest.mark.parametrize(
    "targets, desired, state, reason",
    [
        pytest.param([Target("t1", "10.0.1.1", "healthy"), Target("t2", "10.0.1.2", "healthy")], 2, STABLE,
                     "2 of 2 target(s) of xy-0146-qa:7 healthy in the target group", id="all-healthy"),
        pytest.param([Target("t1", "10.0.1.1", "healthy"), Target("t2", "10.0.1.2", "initial")], 2, WAITING,
                     "1 of 2 target(s) of xy-0146-qa:7 healthy in the target group (10.0.1.2: initial)",
                     id="one-still-initial"),
        pytest.param([Target("t1", "10.0.1.1", None)], 2, WAITING,
                     "0 of 2 target(s) of xy-0146-qa:7 healthy in the target group (10.0.1.1: not registered)",
                     id="not-registered-yet"),
        pytest.param([], 2, WAITING, "0 of 2 target(s) of xy-0146-qa:7 healthy in the target group (no task of "
                     "it runs yet)", id="no-task-yet"),
        pytest.param([Target("t1", "10.0.1.1", "healthy"), Target("t2", "10.0.1.2", "unhealthy", *RESPONSE_CODE)],
                     2, FAILED, "target 10.0.1.2 (task t2 of xy-0146-qa:7) is unhealthy in the target group: "
                     "Target.ResponseCodeMismatch: Health checks failed with these codes: [503]; 1 of 2 new "
                     "target(s) unhealthy", id="unhealthy-fails-at-once"),
        pytest.param([Target("t1", "10.0.1.1", "draining")], 1, WAITING,
                     "0 of 1 target(s) of xy-0146-qa:7 healthy in the target group (10.0.1.1: draining)",
                     id="draining-is-not-healthy"),
    ],
)
def test_assess_targets(targets, desired, state, reason):
    seen = assess_targets(targets, desired, NEW)
    assert (seen.state, seen.reason) == (state, reason)


# --- AWS, through the gate ----------------------------------------------------------------------


def stubbed(service_name):
    client = boto3.client(service_name, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def service_answer(running=2, desired=2, definition=NEW):
    return {"services": [{
        "serviceName": SERVICE, "status": "ACTIVE", "desiredCount": desired, "runningCount": running,
        "taskDefinition": definition,
        "deployments": [{"status": "PRIMARY", "taskDefinition": definition, "runningCount": running,
                         "rolloutState": "COMPLETED"}],
    }]}


def add_look(ecs_stub, elbv2_stub, tasks, healths):
    """One look of the gate: the service, its running tasks, the target group's health."""
    ecs_stub.add_response("describe_services", service_answer(), {"cluster": CLUSTER, "services": [SERVICE]})
    ecs_stub.add_response("list_tasks", {"taskArns": [t["taskArn"] for t in tasks]},
                          {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "RUNNING"})
    if tasks:
        ecs_stub.add_response("describe_tasks", {"tasks": tasks},
                              {"cluster": CLUSTER, "tasks": [t["taskArn"] for t in tasks]})
    elbv2_stub.add_response("describe_target_health", {"TargetHealthDescriptions": healths},
                            {"TargetGroupArn": TARGET_GROUP})


def gate_wait(ecs, elbv2, clock, lines, timeout=120):
    targets = lambda desired: stable_targets.look_at_targets(  # noqa: E731
        ecs, elbv2, CLUSTER, SERVICE, TARGET_GROUP, NEW, desired)
    return stable.wait_until_stable(ecs, CLUSTER, SERVICE, NEW, timeout, poll_seconds=10, clock=clock,
                                    sleep=clock.sleep, progress=lines.append, targets=targets)


def test_ecs_stable_is_not_enough_the_gate_waits_for_healthy_targets():
    (ecs, ecs_stub), (elbv2, elbv2_stub) = stubbed("ecs"), stubbed("elbv2")
    both = [task("t1"), task("t2")]
    add_look(ecs_stub, elbv2_stub, both, [health("10.0.1.1", "initial"), health("10.0.1.2", "initial")])
    add_look(ecs_stub, elbv2_stub, both, [health("10.0.1.1", "healthy"), health("10.0.1.2", "initial"),
                                          health("10.0.9.9", "healthy")])  # the old task definition's target
    add_look(ecs_stub, elbv2_stub, both, [health("10.0.1.1", "healthy"), health("10.0.1.2", "healthy"),
                                          health("10.0.9.9", "draining")])
    clock, lines = Clock(), []
    with ecs_stub, elbv2_stub:
        seen = gate_wait(ecs, elbv2, clock, lines)
        ecs_stub.assert_no_pending_responses()
    assert (seen.state, seen.waited_seconds) == (STABLE, 20)
    assert lines[0] == ("xy-0146-qa: waiting: 2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED); 0 of 2 "
                        "target(s) of xy-0146-qa:7 healthy in the target group (10.0.1.1: initial, 10.0.1.2: "
                        "initial) (0 s of 120 s)")
    assert lines[-1].startswith("xy-0146-qa: stable after 20 s: 2 of 2 tasks running")


def test_an_unhealthy_new_target_fails_the_gate_at_once_with_the_health_checks_reason():
    (ecs, ecs_stub), (elbv2, elbv2_stub) = stubbed("ecs"), stubbed("elbv2")
    add_look(ecs_stub, elbv2_stub, [task("t1"), task("t2")],
             [health("10.0.1.1", "unhealthy", *RESPONSE_CODE), health("10.0.1.2", "initial")])
    clock = Clock()
    with ecs_stub, elbv2_stub, pytest.raises(ServiceNotStable) as raised:
        gate_wait(ecs, elbv2, clock, [])
    assert clock.sleeps == []  # no waiting out the circuit breaker: the load balancer has spoken
    assert not raised.value.timed_out
    assert ("failed on task definition %s: 2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED); target "
            "10.0.1.1 (task t1 of xy-0146-qa:7) is unhealthy in the target group: Target.ResponseCodeMismatch: "
            "Health checks failed with these codes: [503]" % NEW) in str(raised.value)
    assert "The SSM pointer was not flipped" in str(raised.value)


def test_targets_that_never_become_healthy_time_the_gate_out():
    (ecs, ecs_stub), (elbv2, elbv2_stub) = stubbed("ecs"), stubbed("elbv2")
    for _ in range(3):  # at 0, 10 and the deadline 15
        add_look(ecs_stub, elbv2_stub, [task("t1")], [health("10.0.1.1", "initial")])
    with ecs_stub, elbv2_stub, pytest.raises(ServiceNotStable) as raised:
        gate_wait(ecs, elbv2, Clock(), [], timeout=15)
    assert raised.value.timed_out
    assert "0 of 2 target(s) of xy-0146-qa:7 healthy in the target group" in str(raised.value)


def test_why_new_tasks_stopped_names_the_exit_codes_and_what_migrate_logged():
    (ecs, ecs_stub), (logs, logs_stub) = stubbed("ecs"), stubbed("logs")
    stopped = task("t3", status="STOPPED", stoppedReason="Essential container in task exited",
                   stoppedAt=datetime.datetime(2026, 11, 15, 12, 0, 5),
                   containers=[{"name": "migrate", "exitCode": 1}, {"name": "php"}, {"name": "nginx"}])
    old_one = task("t4", definition=OLD, status="STOPPED", stoppedReason="Scaling activity initiated")
    ecs_stub.add_response("list_tasks", {"taskArns": [stopped["taskArn"], old_one["taskArn"]]},
                          {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"})
    ecs_stub.add_response("describe_tasks", {"tasks": [stopped, old_one]},
                          {"cluster": CLUSTER, "tasks": [stopped["taskArn"], old_one["taskArn"]]})
    logs_stub.add_response("get_log_events", {"events": [
        {"timestamp": 1, "message": "migrate: connecting to 10.0.2.4:3306 as dbadmin (TLS)\n"},
        {"timestamp": 2, "message": "migrate: failed: access denied for the master user\n"}]},
        {"logGroupName": "/xy-0146-qa/service", "logStreamName": "migrate/migrate/t3", "limit": 10,
         "startFromHead": False})
    with ecs_stub, logs_stub:
        found = stable_targets.stopped_tasks(ecs, logs, CLUSTER, NS, NEW)
    assert stable_targets.describe_stopped(found, NEW) == (
        " Tasks of xy-0146-qa:7 that stopped: task t3 stopped: Essential container in task exited; migrate "
        "exited 1; migrate logged: migrate: connecting to 10.0.2.4:3306 as dbadmin (TLS) | migrate: failed: "
        "access denied for the master user."
    )
    assert stable_targets.describe_stopped([], NEW) == ""
