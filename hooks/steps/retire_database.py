"""Retire one database without ever losing it: final snapshot, instance, stack, restore copy.

`retire` takes a uniquely named final manual snapshot (naming.final_snapshot_id) and waits
until it is available, then lifts deletion protection, deletes the instance, deletes its
stack, and last the restore copy <ns>-<ts> the pipeline made (hooks.steps.tier_copy). Each
step runs only if still needed, so a killed retirement is finished by the next run, which
reuses the final snapshot it took (if taken after the database last served).

AWS functions; they take clients. Every wait goes through hooks.aws.wait.
"""
import logging

from botocore.exceptions import ClientError

from hooks import aws, naming
from hooks.aws import endpoint_quirks, resources
from hooks.aws.wait import Look, Wait, poll
from hooks.errors import CopyFailed, DatabaseRetirementFailed, StepFailed, WaitTimedOut
from hooks.steps import tier_copy

logger = logging.getLogger(__name__)

ALARMS_BEHAVIOUR = "cfn-cloudwatch-alarms-not-created"  # the local endpoint's stand-in for a stack's alarms


DEFAULT_WAIT = Wait()


def wait_until(check, what, wait):
    """Poll `check()` until it returns something truthy; that value. WaitTimedOut after the budget."""

    def look():
        result = check()
        return Look(bool(result), value=result)

    return poll(look, what, wait).value


def retire(rds, cfn, namespace, database, now, wait=DEFAULT_WAIT, reuse_after=None):
    """Snapshot, delete the instance, delete the stack, then the restore copy <ns>-<ts> the
    pipeline made (hooks.steps.tier_copy); each step only if still needed.

    A final snapshot an earlier (killed) retirement took is reused only if it was taken
    after `reuse_after`, the moment the database last stopped being active
    (inventory.active_until): a database that served again since holds newer data.

    Returns {timestamp, final_snapshot, deleted_instance, deleted_stack, deleted_copy}. Raises
    DatabaseRetirementFailed (with what was done) when a step fails.
    """
    timestamp = database.timestamp
    instance_id = naming.db_instance_id(namespace, timestamp)
    stack = naming.db_stack_name(namespace, timestamp)
    done = {"timestamp": timestamp, "final_snapshot": None, "deleted_instance": False, "deleted_stack": False,
            "deleted_copy": None}
    existed = None
    try:
        instance = resources.describe_instance(rds, instance_id)
        existed = instance is not None
        if instance is None:
            done["final_snapshot"] = _existing_final_snapshot(rds, namespace, timestamp, ("available",))
        else:
            done["final_snapshot"] = _final_snapshot(rds, namespace, timestamp, instance, now, wait, reuse_after)
            _delete_instance(rds, instance, wait)
            done["deleted_instance"] = True
        if resources.stack_status(cfn, stack) is not None:
            _delete_stack(cfn, stack, wait)
            done["deleted_stack"] = True
        if endpoint_quirks.tolerates(ALARMS_BEHAVIOUR):  # CloudFormation deletes them with the stack on AWS
            endpoint_quirks.delete_alarms(aws.client("cloudwatch"), naming.db_alarm_name_prefix(namespace, timestamp))
        # Its restore source is needed no more: the final snapshot holds its data now.
        done["deleted_copy"] = tier_copy.delete_copy(rds, namespace, timestamp, wait)
    except (ClientError, StepFailed, WaitTimedOut, CopyFailed) as error:
        raise DatabaseRetirementFailed(instance_id, stack, done, existed, error) from error
    logger.info("retired %s: final snapshot %s", instance_id, done["final_snapshot"])
    return done


def final_snapshots_of(rds, namespace, timestamp):
    """The described final snapshots of the database of `timestamp` (one call per database:
    IAM authorises DescribeDBSnapshots by the instance it names)."""
    instance_id = naming.db_instance_id(namespace, timestamp)
    pages = rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=instance_id, SnapshotType="manual")
    return [
        snapshot
        for page in pages
        for snapshot in page["DBSnapshots"]
        if naming.is_final_snapshot_of(snapshot["DBSnapshotIdentifier"], namespace, timestamp)
    ]


def _existing_final_snapshot(rds, namespace, timestamp, statuses, taken_after=None):
    """The newest final snapshot of this database in one of `statuses`, or None."""
    found = sorted(
        snapshot["DBSnapshotIdentifier"]
        for snapshot in final_snapshots_of(rds, namespace, timestamp)
        if snapshot["Status"] in statuses
        and (taken_after is None or snapshot.get("SnapshotCreateTime", taken_after) >= taken_after)
    )
    return found[-1] if found else None


def _final_snapshot(rds, namespace, timestamp, instance, now, wait, reuse_after):
    """An available final snapshot: one a killed retirement took, or a new one."""
    instance_id = instance["DBInstanceIdentifier"]
    snapshot = _existing_final_snapshot(rds, namespace, timestamp, ("available", "creating"), reuse_after)
    if snapshot is not None:
        logger.info("reusing final snapshot %s of %s (an earlier retirement took it)", snapshot, instance_id)
    elif instance["DBInstanceStatus"] == "deleting":
        raise StepFailed("%s is being deleted by someone else and has no final snapshot" % instance_id)
    else:
        snapshot = naming.final_snapshot_id(namespace, timestamp, naming.format_timestamp(now))
        tags = dict(naming.tags(namespace), **{naming.RETIRED_FROM_TAG: instance_id})
        rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot,
            DBInstanceIdentifier=instance_id,
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )
        logger.info("taking final snapshot %s of %s", snapshot, instance_id)
    resources.wait_for_snapshot(rds, snapshot, wait, what="final snapshot")
    return snapshot


def _delete_instance(rds, instance, wait):
    instance_id = instance["DBInstanceIdentifier"]
    if instance["DBInstanceStatus"] != "deleting":
        if instance.get("DeletionProtection"):
            rds.modify_db_instance(DBInstanceIdentifier=instance_id, DeletionProtection=False, ApplyImmediately=True)
            wait_until(
                lambda: not (resources.describe_instance(rds, instance_id) or {}).get("DeletionProtection"),
                "lifting deletion protection of %s" % instance_id,
                wait,
            )
        # SkipFinalSnapshot: the final snapshot is ours, named and verified available above.
        # RDS's own FinalDBSnapshotIdentifier would be taken only after we had committed to
        # the delete, and a retry could not tell whether it exists.
        rds.delete_db_instance(DBInstanceIdentifier=instance_id, SkipFinalSnapshot=True)
        logger.info("deleting %s", instance_id)
    wait_until(lambda: resources.describe_instance(rds, instance_id) is None, "deleting %s" % instance_id, wait)


def _delete_stack(cfn, stack, wait):
    # Its DeletionPolicy Retain leaves the instance alone; the instance is gone by now.
    cfn.delete_stack(StackName=stack)
    logger.info("deleting stack %s", stack)

    def gone():
        status = resources.stack_status(cfn, stack)
        if status == "DELETE_FAILED":
            raise StepFailed("stack %s is DELETE_FAILED (see its events)" % stack)
        return status is None

    wait_until(gone, "deleting stack %s" % stack, wait)
