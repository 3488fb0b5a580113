"""bench/latency: the model's table, request identification, the rewriting and the rows. Pure, fast."""
import json
from email.message import Message

import pytest

from bench.harness import Stats
from bench.latency import measure, model, rewrite
from bench.latency.proxy import Span, Tracker

SCOPE = "AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0"


def headers(service, **extra):
    message = Message()
    message["Authorization"] = SCOPE % service
    for key, value in extra.items():
        message[key.replace("_", "-")] = value
    return message


@pytest.mark.parametrize("method, path, head, body, expected", [
    pytest.param("POST", "/", headers("ecs", X_Amz_Target="AmazonEC2ContainerServiceV20141113.DescribeServices"),
                 b'{"cluster": "c", "services": ["xy-0146-qa"]}',
                 rewrite.Call("ecs", "DescribeServices", {"cluster": "c", "services": ["xy-0146-qa"]}), id="json"),
    pytest.param("POST", "/", headers("rds", Content_Type="application/x-www-form-urlencoded; charset=utf-8"),
                 b"Action=CopyDBSnapshot&Version=2014-10-31&TargetDBSnapshotIdentifier=xy-0146-qa-20261101t090000z",
                 rewrite.Call("rds", "CopyDBSnapshot", {"Version": "2014-10-31",
                                                        "TargetDBSnapshotIdentifier": "xy-0146-qa-20261101t090000z"}),
                 id="query"),
    pytest.param("PUT", "/bucket/key/part", headers("s3"), b"\x00\x01", rewrite.Call("s3", "PUT /bucket"), id="rest"),
    pytest.param("GET", "/moto-api/config", Message(), b"", rewrite.Call("unknown", "GET /moto-api"), id="unsigned"),
])
def test_identify_names_service_and_operation_for_each_protocol(method, path, head, body, expected):
    assert rewrite.identify(method, path, head, body) == expected


@pytest.mark.parametrize("stack, wait", [
    ("xy-0146-qa-db-20261101t090000z", model.DB_STACK),
    ("xy-0146-qa-service", model.SERVICE_STACK),
    ("xy-0146-qa-base", model.BASE_STACK),
])
def test_each_stack_waits_for_what_cloudformation_waits_for(stack, wait):
    assert model.stack_wait(stack) is wait


def test_a_db_stack_also_keeps_its_instance_creating_and_a_service_stack_its_rollout():
    db, service = "xy-0146-qa-db-20261101t090000z", "xy-0146-qa-service"
    assert model.started_waits("cloudformation", "UpdateStack", {"StackName": db}) == [
        (model.STACK, db, model.DB_STACK), (model.INSTANCE, db, model.DB_STACK)]
    assert model.started_waits("cloudformation", "CreateStack", {"StackName": service}) == [
        (model.STACK, service, model.SERVICE_STACK), (model.SERVICE, "xy-0146-qa", model.SERVICE_STACK)]
    assert model.started_waits("rds", "CopyDBSnapshot", {"TargetDBSnapshotIdentifier": "t"}) == [
        (model.SNAPSHOT, "t", model.COPY)]
    assert model.started_waits("rds", "DescribeDBSnapshots", {}) == []
    assert model.deletion_wait("rds", "DeleteDBInstance", {"DBInstanceIdentifier": "i"}) == ("i", model.INSTANCE_DELETE)


def test_every_wait_and_call_has_a_positive_time_and_every_phase_a_wait_or_the_gate():
    assert all(wait.aws_seconds > 0 and wait.source for wait in model.WAITS)
    assert {wait.phase for wait in model.WAITS} | {model.GATE} == set(model.PHASES)
    assert model.call_seconds("ssm", "GetParameter") == model.DEFAULT_CALL_SECONDS > 0


STACKS = (b'<DescribeStacksResponse><DescribeStacksResult><Stacks>'
          b'<member><StackId>id-a</StackId><StackName>a-db-20261101t090000z</StackName><Parameters><member>'
          b'<ParameterKey>K</ParameterKey></member></Parameters><StackStatus>CREATE_COMPLETE</StackStatus></member>'
          b'<member><StackId>id-b</StackId><StackName>b-base</StackName><StackStatus>UPDATE_COMPLETE</StackStatus>'
          b'</member></Stacks></DescribeStacksResult></DescribeStacksResponse>')


def test_only_a_busy_stacks_status_is_rewritten_every_other_byte_kept():
    call = rewrite.Call("cloudformation", "DescribeStacks")
    body, shown = rewrite.rewrite(call, STACKS, lambda kind, name: (kind, name) == (model.STACK, "b-base"))
    assert shown == [(model.STACK, "b-base")]
    assert body == STACKS.replace(b"UPDATE_COMPLETE", b"UPDATE_IN_PROGRESS")
    assert rewrite.rewrite(call, STACKS, lambda kind, name: False) == (STACKS, [])


def test_a_busy_snapshot_is_creating_and_a_busy_instance_creating():
    snapshots = (b"<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>s1</DBSnapshotIdentifier><Status>available</Status>"
                 b"</DBSnapshot><DBSnapshot><DBSnapshotIdentifier>s2</DBSnapshotIdentifier><Status>available</Status>"
                 b"</DBSnapshot></DBSnapshots>")
    body, shown = rewrite.rewrite(rewrite.Call("rds", "DescribeDBSnapshots"), snapshots, lambda k, r: r == "s2")
    assert body == snapshots.replace(b"s2</DBSnapshotIdentifier><Status>available",
                                     b"s2</DBSnapshotIdentifier><Status>creating")
    instances = b"<DBInstance><DBInstanceIdentifier>i</DBInstanceIdentifier><DBInstanceStatus>available" \
                b"</DBInstanceStatus></DBInstance>"
    body, shown = rewrite.rewrite(rewrite.Call("rds", "DescribeDBInstances"), instances, lambda k, r: True)
    assert body == instances.replace(b">available<", b">creating<") and shown == [(model.INSTANCE, "i")]


def test_a_busy_services_primary_deployment_is_still_rolling_out():
    document = {"services": [{"serviceName": "xy-0146-qa", "deployments": [
        {"status": "PRIMARY", "rolloutState": "COMPLETED"}, {"status": "ACTIVE", "rolloutState": "COMPLETED"}]}]}
    body, shown = rewrite.rewrite(rewrite.Call("ecs", "DescribeServices"), json.dumps(document).encode(),
                                  lambda kind, name: (kind, name) == (model.SERVICE, "xy-0146-qa"))
    assert shown == [(model.SERVICE, "xy-0146-qa")]
    deployments = json.loads(body)["services"][0]["deployments"]
    assert [d["rolloutState"] for d in deployments] == ["IN_PROGRESS", "COMPLETED"]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_tracker_keeps_a_wait_busy_for_its_scaled_time_and_marks_the_first_look_after():
    clock = Clock()
    tracker = Tracker(scale=0.01, clock=clock)
    span = tracker.start(model.SNAPSHOT, "copy", model.COPY)  # 600 s on AWS: 6 s here
    clock.now += 5.9
    assert tracker.remaining(model.SNAPSHOT, "copy") == pytest.approx(0.1)
    assert span.seen_done is None
    clock.now += 0.2
    assert tracker.remaining(model.SNAPSHOT, "copy") == 0
    assert span.seen_done == pytest.approx(6.1)
    assert tracker.remaining(model.SNAPSHOT, "other") == 0


def test_phases_from_a_timeline_with_the_gate_between_rollout_and_retirement():
    timeline = [Span(model.SNAPSHOT_COPY, model.SNAPSHOT, "c", 1.0, 7.0, 7.2),
                Span(model.RESTORE, model.STACK, "db", 8.0, 17.0, 17.3),
                Span(model.RESTORE, model.INSTANCE, "db", 8.0, 17.0, 30.0),  # looked at late: not the restore's end
                Span(model.ROLLOUT, model.STACK, "svc", 18.0, 19.8, 20.0),
                Span(model.RETIREMENT, model.SNAPSHOT, "final", 22.0, 25.0, 25.1),
                Span(model.RETIREMENT, model.DELETION, "db", 26.0, 29.0, 29.0)]
    calls = [(19.0, "ecs", "DescribeServices"), (20.5, "ecs", "DescribeServices"),
             (21.0, "elbv2", "DescribeTargetHealth"), (23.0, "ecs", "DescribeServices")]
    phases = measure.phase_times(timeline, calls)
    assert [(p.phase, p.start, p.end, round(p.seconds, 2)) for p in phases] == [
        (model.SNAPSHOT_COPY, 1.0, 7.2, 6.2), (model.RESTORE, 8.0, 17.3, 9.3), (model.ROLLOUT, 18.0, 20.0, 2.0),
        (model.GATE, 20.5, 21.0, 0.5), (model.RETIREMENT, 22.0, 29.0, 6.1)]
    # outside: 0-1, 7.2-8, 17.3-18, 20-22 (the gate's looks are calls and CPU), 25.1-26, 29-30
    assert measure.outside_waits(phases, 30.0) == pytest.approx(1.0 + 0.8 + 0.7 + 2.0 + 0.9 + 1.0)
    # waits scaled back up (scale 0.01), the rest as it was
    assert measure.aws_wall_minutes(phases, 30.0, 0.01) == pytest.approx((23.6 / 0.01 + 6.4) / 60)
    assert [round(p.aws_minutes(0.01), 3) for p in phases] == [10.333, 15.5, 3.333, round(0.5 / 60, 3), 10.167]


def test_union_counts_overlapping_waits_once():
    assert measure.union_seconds([(0, 2), (1, 3), (5, 6)]) == 4


def test_fleet_row_has_its_target_only_for_the_issues_fleet_size():
    serial, parallel = Stats.of([130.0]), Stats.of([20.0])
    row = measure.fleet_row(20, serial, parallel, 0.01, (30.0, 10.0, 2.0))
    assert (row.key, row.result, row.ok) == ("fleet.latency", "6.50x", True)
    assert "CPU of the --parallel 8 run 42 s (fleet 30 s, endpoint 10 s, proxy and bench 2 s)" in row.details
    assert measure.fleet_row(20, Stats.of([100.0]), parallel, 0.01, (0, 0, 0)).ok is False
    assert measure.fleet_row(2, Stats.of([100.0]), parallel, 0.01, (0, 0, 0)).ok is None
