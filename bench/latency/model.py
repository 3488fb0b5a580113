"""The latency model as data: what each call and each wait takes on AWS, and the scale.

Pure: no clock, no network. Every number is seconds ON AWS; the bench runs them times
`scale` (DEFAULT_SCALE = 1/100: a bench second is 100 s on AWS, a minute 100 minutes).
The source of every number is in docs/performance.md ("The latency model"); `source` names
the row of that table.

What starts a wait, and what it delays (rewrite.py applies it to the responses):

    CopyDBSnapshot <target>          snapshot copy    DescribeDBSnapshots: Status creating
    CreateDBSnapshot <id>            retirement       DescribeDBSnapshots: Status creating
    CreateStack/UpdateStack <ns>-base      stack create     DescribeStacks: *_IN_PROGRESS
    CreateStack/UpdateStack <ns>-db-<ts>   restore          DescribeStacks, and DescribeDBInstances
                                                            of <ns>-db-<ts>: DBInstanceStatus creating
    CreateStack/UpdateStack <ns>-service   rollout          DescribeStacks, and ECS DescribeServices of
                                                            <ns>: PRIMARY rolloutState IN_PROGRESS
    DeleteDBInstance, DeleteStack    retirement       the call itself returns after the deletion

CloudFormation creates the database by restoring it and waits until it is available, and
updates the ECS service and waits until the service is stable (tasks healthy in the target
group, the old ones drained): so the db stack's time IS the restore, the service stack's
time IS the rollout, and the stable gate, which starts after, finds the rollout complete.
"""
import re
from dataclasses import dataclass

DEFAULT_SCALE = 0.01

SNAPSHOT_COPY, STACK_CREATE, RESTORE, ROLLOUT, GATE, RETIREMENT = (
    "snapshot copy", "stack create", "restore", "rollout", "gate", "retirement")
PHASES = (SNAPSHOT_COPY, STACK_CREATE, RESTORE, ROLLOUT, GATE, RETIREMENT)

# Kinds of tracked resources (what a describe call is about).
SNAPSHOT, STACK, INSTANCE, SERVICE, DELETION = "snapshot", "stack", "instance", "service", "deletion"


@dataclass(frozen=True)
class Wait:
    """One modelled wait: its phase, its seconds on AWS and the docs row naming its source."""

    phase: str
    aws_seconds: float
    source: str


COPY = Wait(SNAPSHOT_COPY, 600, "snapshot copy under another KMS key")
BASE_STACK = Wait(STACK_CREATE, 60, "stack of non-database resources")
DB_STACK = Wait(RESTORE, 900, "restore from a snapshot (the db stack)")
SERVICE_STACK = Wait(ROLLOUT, 180, "ECS rolling deployment (the service stack)")
FINAL_SNAPSHOT = Wait(RETIREMENT, 300, "manual snapshot of a small instance")
INSTANCE_DELETE = Wait(RETIREMENT, 300, "DB instance deletion")
STACK_DELETE = Wait(RETIREMENT, 30, "stack deletion, resources retained")
WAITS = (COPY, BASE_STACK, DB_STACK, SERVICE_STACK, FINAL_SNAPSHOT, INSTANCE_DELETE, STACK_DELETE)

# Seconds one API call takes on AWS (request to response), by (service, operation).
DEFAULT_CALL_SECONDS = 0.05
CALL_SECONDS = {
    ("cloudformation", "CreateStack"): 0.3,
    ("cloudformation", "UpdateStack"): 0.3,
    ("cloudformation", "DeleteStack"): 0.3,
    ("rds", "CopyDBSnapshot"): 0.3,
    ("rds", "CreateDBSnapshot"): 0.3,
    ("rds", "DeleteDBInstance"): 0.3,
}

# How often the clients poll on AWS: stacker's STACKER_STACK_POLL_TIME default (30 s) for
# stacks, the hooks' poll_seconds default (15 s) for the rest. The bench runs both at 0 (stacker
# takes whole seconds only), so the proxy holds an "in progress" answer this long (scaled), or
# until the wait ends: the clients poll about as often as on AWS, and no CPU is spent spinning.
POLL_SECONDS = {"cloudformation": 30.0}
DEFAULT_POLL_SECONDS = 15.0

_DB_STACK = re.compile(r"-db-[0-9]{8}t[0-9]{6}z$")
SERVICE_SUFFIX = "-service"


def call_seconds(service, operation):
    """One call's latency on AWS."""
    return CALL_SECONDS.get((service, operation), DEFAULT_CALL_SECONDS)


def poll_seconds(service):
    return POLL_SECONDS.get(service, DEFAULT_POLL_SECONDS)


def stack_wait(stack_name):
    """The wait a stack create/update of `stack_name` models (hooks/naming's stack names)."""
    if _DB_STACK.search(stack_name):
        return DB_STACK
    if stack_name.endswith(SERVICE_SUFFIX):
        return SERVICE_STACK
    return BASE_STACK


def started_waits(service, operation, params):
    """[(kind, resource id, Wait)] a call starts: what describe calls must show in progress."""
    get = params.get
    if service == "rds" and operation == "CopyDBSnapshot" and get("TargetDBSnapshotIdentifier"):
        return [(SNAPSHOT, get("TargetDBSnapshotIdentifier"), COPY)]
    if service == "rds" and operation == "CreateDBSnapshot" and get("DBSnapshotIdentifier"):
        return [(SNAPSHOT, get("DBSnapshotIdentifier"), FINAL_SNAPSHOT)]
    if service == "cloudformation" and operation in ("CreateStack", "UpdateStack") and get("StackName"):
        name = get("StackName")
        wait = stack_wait(name)
        started = [(STACK, name, wait)]
        if wait is DB_STACK:  # the instance id is the db stack's name (hooks/naming)
            started.append((INSTANCE, name, wait))
        elif wait is SERVICE_STACK:  # the ECS service is named after the namespace
            started.append((SERVICE, name[: -len(SERVICE_SUFFIX)], wait))
        return started
    return []


def deletion_wait(service, operation, params):
    """(resource id, Wait) for a deletion whose call the proxy returns only after it, else None.

    The local endpoint deletes at once, and a deleted resource cannot be described as being
    deleted; so the call that deletes takes the deletion's time, and the look after it finds
    it gone (the same wall time as AWS's polls, fewer calls)."""
    if service == "rds" and operation == "DeleteDBInstance":
        return params.get("DBInstanceIdentifier"), INSTANCE_DELETE
    if service == "cloudformation" and operation == "DeleteStack":
        return params.get("StackName"), STACK_DELETE
    return None


def aws_minutes(bench_seconds, scale):
    """Bench seconds back to minutes on AWS."""
    return bench_seconds / scale / 60.0
