"""pre_build: clear what a failed earlier run of the same timestamp left in the way.

A database stack whose creation failed is rolled back by CloudFormation, but the
instance, whose policies say Retain, stays; on AWS the stack also stays in
ROLLBACK_COMPLETE, which cannot be updated. Re-running the same promotion would then
fail forever on the existing instance identifier. So before the stacks, if the target
timestamp's database exists but its stack is missing or failed, and it is neither
active nor referenced by the service, it is retired like any leftover (final snapshot
first) and this run creates it afresh.

Layers: `leftover_reason` (pure), `clear_failed_target_database` (AWS), and the stacker
hook `clear_failed_target`.
"""
import datetime
import logging

from hooks import naming
from hooks.aws import endpoint_quirks, resources
from hooks.aws.wait import Wait
from hooks.errors import DeployFailed
from hooks.lock import deploy_lock
from hooks.steps import retire
from hooks.steps.wiring import stacker_hook
from hooks.tenant import inventory

logger = logging.getLogger(__name__)

STUCK_CREATE_BEHAVIOUR = "cfn-failed-create-stays-in-progress"
USABLE_STACK_STATES = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


def leftover_reason(target, active, instance_status, stack_status):
    """Why the target's database must be cleared first; None when it must be left alone.

    The caller waits for a stack in progress to settle before asking.
    """
    if target == active or stack_status in USABLE_STACK_STATES:
        return None  # a re-run, or a rollback to a retained database
    if instance_status is None and stack_status is None:
        return None  # nothing there: the normal first creation
    return "a failed earlier run left it behind (instance: %s, stack: %s)" % (
        instance_status or "none",
        stack_status or "none",
    )


def settled_stack_status(cfn, stack_name, wait):
    """The stack's status once CloudFormation is done with it (None: no stack)."""
    if endpoint_quirks.tolerates(STUCK_CREATE_BEHAVIOUR):
        status = resources.stack_status(cfn, stack_name)
        return "CREATE_FAILED" if status == "CREATE_IN_PROGRESS" else status

    def settled():
        status = resources.stack_status(cfn, stack_name)
        return (status,) if not (status or "").endswith("_IN_PROGRESS") else None

    return retire.wait_until(settled, "stack %s to settle" % stack_name, wait)[0]


def clear_failed_target_database(ssm, rds, cfn, ecs, namespace, cluster, target, holder, now, wait):
    """Retire the target timestamp's leftover database, if there is one."""
    deploy_lock.ensure_held(ssm, namespace, holder)
    instance_id, stack_name = naming.db_instance_id(namespace, target), naming.db_stack_name(namespace, target)
    stack_status = settled_stack_status(cfn, stack_name, wait)
    instance = resources.describe_instance(rds, instance_id)
    instance_status = instance["DBInstanceStatus"] if instance else None
    reason = leftover_reason(target, inventory.active_timestamp(ssm, namespace), instance_status, stack_status)
    if reason is None:
        return {"status": "nothing to clear"}
    if target in inventory.referenced_timestamps(ecs, cluster, naming.service_name(namespace)):
        raise DeployFailed(
            "database %s is in the way (%s) but the service's task definition still uses it; "
            "refusing to retire it: deploy the active timestamp again first" % (instance_id, reason)
        )
    logger.warning("retiring %s before re-creating it: %s", instance_id, reason)
    database = inventory.Database(target, instance_id, stack_name, False, instance_status, stack_status)
    done = retire.retire(rds, cfn, namespace, database, now, wait)
    return {"status": "cleared", "reason": reason, "final_snapshot": done["final_snapshot"]}


@stacker_hook(**retire.WAIT_ARGUMENTS)
def clear_failed_target(run, poll_seconds, wait_seconds):
    """pre_build hook (after the lock): make room for the database this run creates."""
    return clear_failed_target_database(
        run.client("ssm"),
        run.client("rds"),
        run.client("cloudformation"),
        run.client("ecs"),
        run.namespace,
        run.cluster,
        run.timestamp,
        run.holder,
        datetime.datetime.now(datetime.timezone.utc),
        Wait(poll_seconds=poll_seconds, budget_seconds=wait_seconds),
    )
