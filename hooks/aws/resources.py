"""One AWS resource by its identifier: described, or None when it does not exist; snapshots waited for.

Every function names its resource (never a filter or a list of the account), so IAM
authorises it against that resource's ARN and its cost does not grow with the account.
The one "absent" rule is aws.or_none: only the error code that means "no such resource"
answers None; anything else propagates.
"""
import logging

from hooks import naming
from hooks.aws.clients import or_none
from hooks.aws.wait import Look, Wait, poll, seconds
from hooks.errors import BadInput, SnapshotFailed

logger = logging.getLogger(__name__)

SNAPSHOT_CREATING, SNAPSHOT_AVAILABLE = "creating", "available"


def describe_instance(rds, instance_id):
    """One DB instance's DescribeDBInstances entry, None if it does not exist."""
    found = or_none(rds.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier=instance_id)
    instances = (found or {}).get("DBInstances") or []
    return instances[0] if instances else None


def describe_instances(rds, instance_ids):
    """{instance id: DescribeDBInstances entry} for those of `instance_ids` that exist (one call each)."""
    described = ((instance_id, describe_instance(rds, instance_id)) for instance_id in instance_ids)
    return {instance_id: instance for instance_id, instance in described if instance is not None}


def describe_snapshot(rds, snapshot_id):
    """One DB snapshot's DescribeDBSnapshots entry, None if it does not exist."""
    found = or_none(rds.describe_db_snapshots, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
    snapshots = (found or {}).get("DBSnapshots") or []
    return snapshots[0] if snapshots else None


def describe_stack(cfn, stack_name):
    """One stack's DescribeStacks entry, None if it does not exist (or was deleted).

    CloudFormation answers a missing stack with ValidationError; the names asked for here
    are built by hooks.naming, so that code means "does not exist"."""
    found = or_none(cfn.describe_stacks, "ValidationError", StackName=stack_name)
    stacks = (found or {}).get("Stacks") or []
    if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return stacks[0]


def stack_outputs(stack):
    """{OutputKey: OutputValue} of a described stack (empty for None)."""
    return {output["OutputKey"]: output["OutputValue"] for output in ((stack or {}).get("Outputs") or [])}


def tier_output(cfn, shared_namespace, output):
    """One output of the shared tier's stack `<tier>-tier`; BadInput with the command that builds
    the tier when the stack (or the output) is missing."""
    stack = naming.tier_stack_name(shared_namespace)
    outputs = stack_outputs(describe_stack(cfn, stack))
    if output not in outputs:
        raise BadInput(
            "the tier stack %s has no output %s: build the shared stacks first "
            "(stacker build environments/%s.env stacker/shared.yaml)" % (stack, output, shared_namespace)
        )
    return outputs[output]


def stack_status(cfn, stack_name):
    """The status of one stack, None if it does not exist (or was deleted)."""
    stack = describe_stack(cfn, stack_name)
    return stack["StackStatus"] if stack else None


def describe_service(ecs, cluster, service_name):
    """The describe_services entry of one service, None when the cluster has no such service
    (or no such cluster)."""
    found = or_none(ecs.describe_services, "ClusterNotFoundException", cluster=cluster, services=[service_name])
    services = (found or {}).get("services") or []
    return services[0] if services else None


def parameter_value(ssm, name):
    """The value of one SSM parameter, None if it does not exist."""
    found = or_none(ssm.get_parameter, "ParameterNotFound", Name=name)
    return found["Parameter"]["Value"] if found else None


def describe_secret(secretsmanager, name):
    """DescribeSecret of one secret, None if it does not exist."""
    return or_none(secretsmanager.describe_secret, "ResourceNotFoundException", SecretId=name)


def wait_for_snapshot(rds, snapshot_id, wait=Wait(), what="snapshot", progress=None, **clock):
    """Poll until the snapshot is available; its described entry.

    SnapshotFailed when it is gone or in any state other than creating or available (it will
    never become available); errors.WaitTimedOut (its last look's value: the described
    snapshot) when the budget runs out first.
    `clock`: `clock=` and `sleep=` for tests (hooks.aws.wait.poll).
    """

    def look():
        snapshot = describe_snapshot(rds, snapshot_id)
        status = (snapshot or {}).get("Status")
        if status == SNAPSHOT_AVAILABLE:
            return Look(True, value=snapshot)
        if status != SNAPSHOT_CREATING:
            raise SnapshotFailed(what, snapshot_id, status)
        line = "%s %s: %s, %s%% done" % (what, snapshot_id, status, snapshot.get("PercentProgress", 0))
        return Look(False, line, snapshot)

    progress = progress or (lambda line: logger.info("%s", line))
    done = poll(look, "%s %s" % (what, snapshot_id), wait, progress, **clock)
    progress("%s %s is available after %s s" % (what, snapshot_id, seconds(done.waited_seconds)))
    return done.value
