"""hooks/steps/retire.py: old databases go, each leaving a final snapshot; nothing live is touched."""
import datetime
import os
import socket
import types
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from hooks import naming
from hooks.aws import clients as aws_clients
from hooks.aws.wait import Wait
from hooks.config import envfile
from hooks.errors import HookArgumentError, RetirementFailed
from hooks.lock import deploy_lock
from hooks.lock import rules as lock_rules
from hooks.steps import retire
from hooks.steps.retire import KEEP, RETIRE, Decision
from tests.hooks.steps.test_retention import seed_finals
from tests.hooks.cli.commands.seeded import files_tier
from tests.hooks.tenant.test_inventory import (  # noqa: F401  (aws: the caching fixture)
    CLUSTER,
    NS,
    T1,
    T2,
    T3,
    T4,
    aws,
    create_database,
    database,
    register_task_definition,
    run_service,
    set_pointer,
)

T5 = "20260105t000000z"
NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
TAKEN_AT = naming.format_timestamp(NOW)
NO_WAIT = Wait(poll_seconds=0, budget_seconds=0)
OTHER = "xy-0146-prod"


# --- planning ----------------------------------------------------------------------------


def plan(existing, active=T5, in_flight=(), recently_active=(), retain_previous=0, referenced=()):
    databases = [database(ts) for ts in existing]
    decisions = retire.plan_retirement(databases, active, set(in_flight), list(recently_active), retain_previous,
                                       set(referenced))
    return [(d.timestamp, d.action, d.reason) for d in decisions]


PLAN_CASES = [
    pytest.param(dict(existing=[T5]), [(T5, KEEP, "active")], id="active-is-kept"),
    pytest.param(
        dict(existing=[T4, T5], in_flight=[T4]), [(T4, KEEP, "in flight"), (T5, KEEP, "active")], id="in-flight-is-kept"
    ),
    pytest.param(
        dict(existing=[T4, T5], in_flight=[T4], recently_active=[T4]),
        [(T4, KEEP, "in flight"), (T5, KEEP, "active")],
        id="in-flight-wins-over-beyond-retain",
    ),
    pytest.param(
        dict(existing=[T3, T5], referenced=[T3], recently_active=[T3]),
        [(T3, KEEP, "referenced by the running task definition"), (T5, KEEP, "active")],
        id="referenced-is-kept-at-retain-0",
    ),
    pytest.param(
        dict(existing=[T2, T5]),
        [(T2, RETIRE, "never active: leftover of a failed run"), (T5, KEEP, "active")],
        id="leftover-is-retired",
    ),
    pytest.param(
        dict(existing=[T2, T5], retain_previous=2),
        [(T2, RETIRE, "never active: leftover of a failed run"), (T5, KEEP, "active")],
        id="leftover-is-retired-whatever-retain",
    ),
    pytest.param(
        dict(existing=[T3, T4, T5], recently_active=[T4, T3], retain_previous=0),
        [
            (T3, RETIRE, "previously active, beyond retain_previous=0"),
            (T4, RETIRE, "previously active, beyond retain_previous=0"),
            (T5, KEEP, "active"),
        ],
        id="retain-0-retires-every-previous",
    ),
    pytest.param(
        dict(existing=[T3, T4, T5], recently_active=[T4, T3], retain_previous=1),
        [
            (T3, RETIRE, "previously active, beyond retain_previous=1"),
            (T4, KEEP, "retained: previous #1"),
            (T5, KEEP, "active"),
        ],
        id="retain-1-keeps-the-most-recent",
    ),
    pytest.param(
        dict(existing=[T1, T2, T3, T4, T5], recently_active=[T3, T4, T1], retain_previous=2),
        [
            (T1, RETIRE, "previously active, beyond retain_previous=2"),
            (T2, RETIRE, "never active: leftover of a failed run"),
            (T3, KEEP, "retained: previous #1"),
            (T4, KEEP, "retained: previous #2"),
            (T5, KEEP, "active"),
        ],
        id="retain-2-ranks-by-recency-not-by-timestamp",
    ),
    pytest.param(
        dict(existing=[T1, T3, T5], recently_active=[T4, T3, T2, T1], retain_previous=2),
        [(T1, KEEP, "retained: previous #2"), (T3, KEEP, "retained: previous #1"), (T5, KEEP, "active")],
        id="retain-counts-only-previous-that-still-exist",
    ),
    pytest.param(
        dict(existing=[T3, T4, T5], recently_active=[T4, T3], referenced=[T4], retain_previous=1),
        [
            (T3, RETIRE, "previously active, beyond retain_previous=1"),
            (T4, KEEP, "referenced by the running task definition"),
            (T5, KEEP, "active"),
        ],
        id="referenced-previous-still-takes-its-rank",
    ),
    pytest.param(
        dict(existing=[T3, T4], active=T3, recently_active=[T4], retain_previous=0, in_flight=[T3]),
        [(T3, KEEP, "active"), (T4, RETIRE, "previously active, beyond retain_previous=0")],
        id="rollback-retires-the-newer-timestamp",
    ),
    pytest.param(
        dict(existing=[T3, T4], active=None, in_flight=[T4]),
        [
            (T3, KEEP, "no active database yet: nothing is retired before the first flip"),
            (T4, KEEP, "in flight"),
        ],
        id="nothing-retired-without-a-pointer",
    ),
    pytest.param(dict(existing=[]), [], id="no-databases"),
]


@pytest.mark.parametrize("case, expected", PLAN_CASES)
def test_plan_retirement(case, expected):
    assert plan(**case) == expected


@pytest.mark.parametrize("bad", [-1, "1", None, True], ids=["negative", "string", "none", "bool"])
def test_plan_refuses_a_bad_retain_previous(bad):
    with pytest.raises(ValueError, match=r"retain_previous %s is invalid: expected a whole number >= 0" % repr(bad)):
        plan([T5], retain_previous=bad)


def instance_exists(aws, namespace, timestamp):
    found = aws.client("rds").describe_db_instances(
        Filters=[{"Name": "db-instance-id", "Values": [naming.db_instance_id(namespace, timestamp)]}]
    )
    return bool(found["DBInstances"])


def stack_exists(aws, namespace, timestamp):
    try:
        aws.client("cloudformation").describe_stacks(StackName=naming.db_stack_name(namespace, timestamp))
    except ClientError:
        return False
    return True


def final_snapshots(aws, namespace, timestamp):
    snapshots = aws.client("rds").describe_db_snapshots(
        DBInstanceIdentifier=naming.db_instance_id(namespace, timestamp), SnapshotType="manual"
    )["DBSnapshots"]
    return {s["DBSnapshotIdentifier"]: s for s in snapshots}


def record_calls(client):
    calls = []
    client.meta.events.register(
        "before-parameter-build", lambda model, params, **_: calls.append((model.name, dict(params)))
    )
    return calls


def fail_call(client, operation, code="InjectedFault", **match):
    """Make `operation` fail (for calls whose parameters include `match`) before it is sent."""

    def handler(params, **_):
        if all(params.get(key) == value for key, value in match.items()):
            raise ClientError({"Error": {"Code": code, "Message": "%s fails in this test" % operation}}, operation)

    client.meta.events.register("before-parameter-build.rds.%s" % operation, handler)


def retire_one(aws, timestamp, rds=None):
    return retire.retire(
        rds or aws.client("rds"), aws.client("cloudformation"), NS, database(timestamp), NOW, wait=NO_WAIT
    )


def test_retire_snapshots_then_deletes_the_instance_and_the_stack(aws):
    create_database(aws, NS, T1)
    rds = aws.endpoint.client("rds")
    calls = record_calls(rds)

    result = retire_one(aws, T1, rds)

    snapshot = naming.final_snapshot_id(NS, T1, TAKEN_AT)
    assert result == {"timestamp": T1, "final_snapshot": snapshot, "deleted_instance": True, "deleted_stack": True,
                      "deleted_copy": None}
    assert snapshot == "xy-0146-qa-db-20260101t000000z-final-20260301t120000z"
    taken = final_snapshots(aws, NS, T1)[snapshot]
    assert taken["Status"] == "available"
    tags = aws.client("rds").list_tags_for_resource(ResourceName=taken["DBSnapshotArn"])["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == dict(naming.tags(NS), RetiredFrom=naming.db_instance_id(NS, T1))
    assert not instance_exists(aws, NS, T1) and not stack_exists(aws, NS, T1)
    assert aws.client("ssm").get_parameters_by_path(Path=naming.ssm_databases_path(NS))["Parameters"] == []
    changes = [(name, params) for name, params in calls if not name.startswith("Describe")]
    instance_id = naming.db_instance_id(NS, T1)
    assert [name for name, _ in changes] == ["CreateDBSnapshot", "ModifyDBInstance", "DeleteDBInstance"]
    assert changes[1][1] == {"DBInstanceIdentifier": instance_id, "DeletionProtection": False, "ApplyImmediately": True}
    assert changes[2][1] == {"DBInstanceIdentifier": instance_id, "SkipFinalSnapshot": True}


def test_retire_finishes_a_killed_retirement_with_its_snapshot(aws):
    create_database(aws, NS, T1)
    earlier = naming.final_snapshot_id(NS, T1, "20260228t230000z")
    aws.client("rds").create_db_snapshot(
        DBSnapshotIdentifier=earlier, DBInstanceIdentifier=naming.db_instance_id(NS, T1)
    )
    rds = aws.endpoint.client("rds")
    calls = record_calls(rds)

    result = retire_one(aws, T1, rds)

    assert result == {"timestamp": T1, "final_snapshot": earlier, "deleted_instance": True, "deleted_stack": True,
                      "deleted_copy": None}
    assert "CreateDBSnapshot" not in [name for name, _ in calls]
    assert list(final_snapshots(aws, NS, T1)) == [earlier]
    assert not instance_exists(aws, NS, T1)


def test_a_final_snapshot_older_than_the_last_activity_is_not_reused(aws):
    """Killed retirement, then the database served again (a rollback): its data is newer."""
    create_database(aws, NS, T1)
    create_database(aws, NS, T4)
    stale = naming.final_snapshot_id(NS, T1, "20260228t230000z")
    aws.client("rds").create_db_snapshot(DBSnapshotIdentifier=stale, DBInstanceIdentifier=naming.db_instance_id(NS, T1))
    for timestamp in (T4, T1, T4):  # T1 active again after the snapshot, then replaced
        set_pointer(aws.client("ssm"), NS, timestamp)

    result = retire_all(aws)

    fresh = naming.final_snapshot_id(NS, T1, TAKEN_AT)
    assert [r["final_snapshot"] for r in result["retired"]] == [fresh]
    assert sorted(final_snapshots(aws, NS, T1)) == [stale, fresh]
    assert not instance_exists(aws, NS, T1)


def test_retire_completes_when_only_the_stack_is_left(aws):
    create_database(aws, NS, T1, instance=False)
    assert retire_one(aws, T1) == {
        "timestamp": T1,
        "final_snapshot": None,
        "deleted_instance": False,
        "deleted_stack": True,
        "deleted_copy": None,
    }
    assert not stack_exists(aws, NS, T1)


def test_retire_never_deletes_without_a_final_snapshot(aws):
    create_database(aws, NS, T1)
    rds = aws.endpoint.client("rds")
    fail_call(rds, "CreateDBSnapshot")
    with pytest.raises(retire.DatabaseRetirementFailed) as failed:
        retire_one(aws, T1, rds)
    assert str(failed.value).endswith("no final snapshot was taken; the instance was not deleted")
    assert instance_exists(aws, NS, T1) and stack_exists(aws, NS, T1)


# --- retiring a namespace ----------------------------------------------------------------


def deployed_tenant(aws, flips=(T1, T3, T4)):
    """xy-0146-qa after flips T1 -> T3 -> T4, plus T2 (a failed run's leftover), with the
    service on T4; and xy-0146-prod with databases at the same timestamps; the tier's files bucket."""
    files_tier(aws)
    for timestamp in (T1, T2, T3, T4):
        create_database(aws, NS, timestamp)
        create_database(aws, OTHER, timestamp)
    for timestamp in flips:
        set_pointer(aws.client("ssm"), NS, timestamp)
    set_pointer(aws.client("ssm"), OTHER, T1)
    run_service(aws.client("ecs"), NS, T4)


def retire_all(aws, retain_previous=0, rds=None, ssm=None, ecs=None, in_flight=(T4,), now=NOW, holder=None):
    return retire.retire_databases(
        ssm or aws.client("ssm"),
        aws.client("resourcegroupstaggingapi"),
        rds or aws.client("rds"),
        aws.client("cloudformation"),
        ecs or aws.client("ecs"),
        namespace=NS,
        shared_namespace="common-nonprod",
        in_flight=set(in_flight),
        retain_previous=retain_previous,
        holder=holder,
        now=now,
        wait=NO_WAIT,
    )


def remaining(aws, namespace=NS):
    return [ts for ts in (T1, T2, T3, T4) if instance_exists(aws, namespace, ts) or stack_exists(aws, namespace, ts)]


@pytest.mark.parametrize(
    "retain_previous, kept", [(0, [T4]), (1, [T3, T4]), (2, [T1, T3, T4])], ids=["retain-0", "retain-1", "retain-2"]
)
def test_retire_databases_leaves_the_active_plus_retained_previous(aws, retain_previous, kept):
    deployed_tenant(aws)
    result = retire_all(aws, retain_previous)
    retired = sorted({T1, T2, T3} - set(kept))
    assert [r["timestamp"] for r in result["retired"]] == retired
    snapshots = [naming.final_snapshot_id(NS, ts, TAKEN_AT) for ts in retired]
    assert [r["final_snapshot"] for r in result["retired"]] == snapshots
    assert [d.timestamp for d in result["kept"]] == kept
    assert remaining(aws) == kept
    for timestamp, snapshot in zip(retired, snapshots):
        assert final_snapshots(aws, NS, timestamp)[snapshot]["Status"] == "available"
    assert remaining(aws, OTHER) == [T1, T2, T3, T4]
    assert all(not final_snapshots(aws, OTHER, ts) for ts in (T1, T2, T3, T4))


def test_retire_databases_explains_what_it_keeps(aws):
    deployed_tenant(aws)
    arn = register_task_definition(aws.client("ecs"), NS, T1)
    aws.client("ecs").update_service(cluster=CLUSTER, service=naming.service_name(NS), taskDefinition=arn)
    assert retire_all(aws, retain_previous=1, in_flight=[T2])["kept"] == [
        Decision(T1, KEEP, "referenced by the running task definition"),
        Decision(T2, KEEP, "in flight"),
        Decision(T3, KEEP, "retained: previous #1"),
        Decision(T4, KEEP, "active"),
    ]
    assert remaining(aws) == [T1, T2, T3, T4]


def test_a_database_that_became_active_after_planning_is_not_deleted(aws):
    deployed_tenant(aws)
    ssm = aws.endpoint.client("ssm")
    reads = []

    def move_pointer_after_planning(params, **_):
        if params["Name"] != naming.ssm_active_parameter(NS):
            return
        reads.append(params["Name"])
        if len(reads) == 2:  # the re-check before the first deletion
            set_pointer(aws.client("ssm"), NS, T1, description="someone rolled back")

    ssm.meta.events.register("before-parameter-build.ssm.GetParameter", move_pointer_after_planning)
    result = retire_all(aws, ssm=ssm)
    assert result["retired"] == []
    assert [(d.timestamp, d.reason) for d in result["kept"]] == [
        (T1, "the active pointer moved from %s to %s since planning" % (T4, T1)),
        (T2, "the active pointer moved from %s to %s since planning" % (T4, T1)),
        (T3, "the active pointer moved from %s to %s since planning" % (T4, T1)),
        (T4, "active"),
    ]
    assert remaining(aws) == [T1, T2, T3, T4]


def test_a_database_the_service_moved_to_after_planning_is_not_deleted(aws):
    deployed_tenant(aws)
    ecs = aws.endpoint.client("ecs")
    looks = []

    def deploy_after_planning(**_):
        looks.append(1)
        if len(looks) == 2:
            arn = register_task_definition(aws.client("ecs"), NS, T1)
            aws.client("ecs").update_service(cluster=CLUSTER, service=naming.service_name(NS), taskDefinition=arn)

    ecs.meta.events.register("before-parameter-build.ecs.DescribeServices", deploy_after_planning)
    result = retire_all(aws, ecs=ecs)
    assert [r["timestamp"] for r in result["retired"]] == [T2, T3]
    assert Decision(T1, KEEP, "referenced by the running task definition since planning") in result["kept"]
    assert remaining(aws) == [T1, T4]
    assert final_snapshots(aws, NS, T1) == {}


def hold_lock(aws, target, user=None, host=None):
    """Take the namespace's deploy lock as this process (or as someone elsewhere)."""
    record = deploy_lock.new_record(
        {}, host or socket.gethostname(), user or deploy_lock.this_user(), os.getpid(), NOW, 3600, target
    )
    deploy_lock.acquire(aws.client("ssm"), NS, record, NOW)
    return record


def test_the_target_of_a_deploy_holding_the_lock_is_in_flight(aws):
    deployed_tenant(aws)
    hold_lock(aws, T2, user="deployer", host="build-host")
    result = retire_all(aws, in_flight=())
    assert Decision(T2, KEEP, "in flight") in result["kept"]
    assert remaining(aws) == [T2, T4]


def test_a_run_that_lost_the_lock_stops_before_deleting(aws):
    deployed_tenant(aws)
    mine = hold_lock(aws, T4)
    ssm = aws.endpoint.client("ssm")
    lock_reads = []

    def take_over_after_planning(params, **_):
        if params["Name"] == naming.ssm_lock_parameter(NS):
            lock_reads.append(1)
            if len(lock_reads) == 2:
                aws.client("ssm").delete_parameter(Name=naming.ssm_lock_parameter(NS))
                hold_lock(aws, T1, user="deployer", host="build-host")

    ssm.meta.events.register("before-parameter-build.ssm.GetParameter", take_over_after_planning)
    with pytest.raises(deploy_lock.LockLost, match="no longer holds the deploy lock of xy-0146-qa: deployer@build-host"):
        retire_all(aws, ssm=ssm, holder=mine.holder)
    assert remaining(aws) == [T1, T2, T3, T4]


def test_a_failed_retirement_names_the_database_and_the_others_still_go(aws):
    deployed_tenant(aws)
    rds = aws.endpoint.client("rds")
    fail_call(rds, "DeleteDBInstance", DBInstanceIdentifier=naming.db_instance_id(NS, T2))

    with pytest.raises(RetirementFailed) as failed:
        retire_all(aws, rds=rds)

    snapshot = naming.final_snapshot_id(NS, T2, TAKEN_AT)
    assert str(failed.value) == "\n".join(
        [
            "retiring 1 database(s) of xy-0146-qa failed; the others were handled:",
            "  - xy-0146-qa-db-20260102t000000z: An error occurred (InjectedFault) when calling the "
            "DeleteDBInstance operation: DeleteDBInstance fails in this test; final snapshot %s is "
            "available; the instance was not deleted" % snapshot,
            "The tenant keeps serving from its active database, and nothing was deleted without an "
            "available final snapshot. To finish, re-run the deploy (retirement reuses a final snapshot "
            "already taken), or run `tenantstack reap xy-0146-qa --apply` once it exists.",
        ]
    )
    assert [f.instance_id for f in failed.value.failures] == [naming.db_instance_id(NS, T2)]
    assert failed.value.exit_code == 4
    assert remaining(aws) == [T2, T4]
    assert final_snapshots(aws, NS, T2)[snapshot]["Status"] == "available"

    # The re-run finishes the job with the snapshot already taken.
    later = retire_all(aws, now=NOW + datetime.timedelta(hours=1))
    assert later["retired"] == [
        {"timestamp": T2, "final_snapshot": snapshot, "deleted_instance": True, "deleted_stack": True,
                      "deleted_copy": None}
    ]
    assert remaining(aws) == [T4]


# --- the stacker hook ----------------------------------------------------------------------


ENV_FILE = Path(__file__).resolve().parents[3] / "environments" / ("%s.env" % NS)


def hook_context(**overrides):
    """What stacker hands a hook: the env file's values plus `-e` overrides."""
    return types.SimpleNamespace(environment=dict(envfile.parse(ENV_FILE.read_text()), **overrides))


@pytest.mark.parametrize(
    "arguments, message",
    [
        pytest.param(
            {"wait": 5},
            "hook retire_old_databases: unknown argument(s) wait; accepted: poll_seconds, wait_seconds",
            id="unknown-argument",
        ),
        pytest.param(
            {"poll_seconds": -1},
            "hook retire_old_databases: argument poll_seconds -1 is invalid: expected a number of seconds >= 0",
            id="negative-poll",
        ),
        pytest.param(
            {"wait_seconds": "soon"},
            "hook retire_old_databases: argument wait_seconds 'soon' is invalid: "
            "expected a number of seconds >= 0",
            id="word-for-wait",
        ),
    ],
)
def test_hook_refuses_bad_arguments_before_any_aws_call(monkeypatch, arguments, message):
    made = []

    def offline(service, region=None):
        made.append(service)
        raise ValueError("offline in this test")

    monkeypatch.setattr(aws_clients, "client", offline)
    with pytest.raises(HookArgumentError) as refused:
        retire.retire_old_databases(hook_context(), types.SimpleNamespace(region="us-east-1"), **arguments)
    assert str(refused.value) == message
    # The only client made is the lock's release after the failure (deploy_lock.releasing_lock_on_failure).
    assert made == ["ssm"]


def test_hook_retires_what_the_deploy_left_behind(aws, monkeypatch):
    for key, value in aws.endpoint.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(lock_rules.BUILD_ID_VARIABLE, raising=False)
    deployed_tenant(aws)
    hold_lock(aws, T4)
    context = hook_context(db_timestamp=T4, retain_previous="1")
    result = retire.retire_old_databases(
        context, types.SimpleNamespace(region=aws.endpoint.region), poll_seconds="0", wait_seconds=0
    )
    assert result["status"] == "done"
    assert [r["timestamp"] for r in result["retired"]] == [T1, T2]
    assert result["kept"] == [
        {"timestamp": T3, "reason": "retained: previous #1"},
        {"timestamp": T4, "reason": "active"},
    ]
    assert remaining(aws) == [T3, T4]
    assert result["pruned_final_snapshots"] == [] and result["prune_failures"] == []  # its new finals are young


def test_hook_prunes_old_final_snapshots_by_the_retention_keys(aws, monkeypatch):
    for key, value in aws.endpoint.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(lock_rules.BUILD_ID_VARIABLE, raising=False)
    deployed_tenant(aws)
    hold_lock(aws, T4)
    old = seed_finals(aws.client("rds"), NS, [400, 300, 200], timestamp=T1)
    context = hook_context(db_timestamp=T4, retain_previous="1", keep_final_snapshots="2",
                           keep_final_snapshot_days="30")
    result = retire.retire_old_databases(
        context, types.SimpleNamespace(region=aws.endpoint.region), poll_seconds="0", wait_seconds=0
    )
    # T1 and T2 were retired just now: their two finals are the newest 2; the three old ones go.
    assert sorted(result["pruned_final_snapshots"]) == sorted(old) and result["prune_failures"] == []


def test_hook_without_the_lock_deletes_nothing_and_says_why(aws, monkeypatch):
    for key, value in aws.endpoint.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(lock_rules.BUILD_ID_VARIABLE, raising=False)
    deployed_tenant(aws)
    with pytest.raises(deploy_lock.LockLost, match="nobody holds it"):
        retire.retire_old_databases(hook_context(db_timestamp=T4), types.SimpleNamespace(region=aws.endpoint.region))
    assert remaining(aws) == [T1, T2, T3, T4]
