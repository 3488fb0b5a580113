"""post_build: retire the databases a tenant no longer needs, without ever losing one.

After the pointer flips, the tenant should have exactly the active database plus the
`retain_previous` most recently active previous ones. `retire_databases` plans
(hooks/steps/retire_plan.py, pure), then retires each database the plan retires
(hooks/steps/retire_database.py: final snapshot first) unless live state changed since
planning. The CLI's reap reuses it.

Nothing is lost:
- never retired: the active database, one in flight, one the service's task definitions
  reference; the pointer, the lock and the service are read again right before each deletion;
- an instance is deleted only once its final snapshot is verified available;
- a killed retirement is finished by the next run, which reuses the snapshot it took;
- the restore copy <ns>-<ts> (hooks.steps.tier_copy) goes last, once the database is gone and
  its final snapshot available, or when no database of it ever came to exist (a failed run).

Then the hook prunes the namespace's final snapshots by the retention rule
(hooks/steps/retention.py: keep_final_snapshots, keep_final_snapshot_days) and deregisters
replaced task definitions beyond keep_task_definitions (hooks/steps/task_definitions.py); a
failure of either is reported in the result and logged, never raised: the promotion has
flipped by then.
"""
import datetime
import logging

from hooks import naming
from hooks.aws.wait import Wait
from hooks.config import hookargs
from hooks.errors import DatabaseRetirementFailed, RetirementFailed
from hooks.lock import deploy_lock
from hooks.steps.retire_database import DEFAULT_WAIT, final_snapshots_of, retire, wait_until  # noqa: F401
from hooks.steps import retention, task_definitions
from hooks.steps.retire_plan import KEEP, RETIRE, Decision, plan_retirement  # noqa: F401  (re-exported)
from hooks.steps.wiring import stacker_hook
from hooks.tenant import inventory

logger = logging.getLogger(__name__)

# The hook arguments of every step that retires (this one and hooks.steps.leftovers).
WAIT_ARGUMENTS = dict(poll_seconds=hookargs.POLL_SECONDS,
                      wait_seconds=hookargs.seconds(default=DEFAULT_WAIT.budget_seconds))


def retire_databases(ssm, tagging, rds, cfn, ecs, namespace, shared_namespace, in_flight, retain_previous,
                     holder=None, now=None, wait=DEFAULT_WAIT):
    """Plan, then retire each database the plan retires unless live state changed since.

    In flight: `in_flight` plus the target of the namespace's deploy deploy_lock. With `holder`
    (a deploy's lock holder id) the lock is also a fence: LockLost stops everything as
    soon as this run no longer holds it.

    Returns {"retired": [retire() results], "kept": [Decision]}; raises RetirementFailed
    after trying every database when any retirement failed.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    cluster, service = naming.cluster_name(shared_namespace), naming.service_name(namespace)
    in_flight = set(in_flight) | _lock_targets(ssm, namespace, holder)
    databases = inventory.discover(ssm, tagging, rds, cfn, namespace)
    active = inventory.active_timestamp(ssm, namespace)
    history = inventory.pointer_history(ssm, namespace)
    recently_active = inventory.previously_active(history, active)
    referenced = inventory.referenced_timestamps(ecs, cluster, service)
    decisions = plan_retirement(databases, active, in_flight, recently_active, retain_previous, referenced)
    by_timestamp = {database.timestamp: database for database in databases}
    retired, kept, failures = [], [], []
    for decision in decisions:
        if decision.action == RETIRE:
            changed = _changed_since_planning(ssm, ecs, namespace, cluster, service, holder, decision.timestamp, active)
            if changed:
                decision = Decision(decision.timestamp, KEEP, changed)
                logger.warning("not retiring %s: %s", decision.timestamp, changed)
        if decision.action == KEEP:
            logger.info("keeping %s: %s", decision.timestamp, decision.reason)
            kept.append(decision)
            continue
        logger.info("retiring %s: %s", decision.timestamp, decision.reason)
        try:
            reuse_after = inventory.active_until(history, decision.timestamp)
            retired.append(retire(rds, cfn, namespace, by_timestamp[decision.timestamp], now, wait, reuse_after))
        except DatabaseRetirementFailed as failure:
            logger.error("retiring %s failed: %s", decision.timestamp, failure)
            failures.append(failure)
    if failures:
        raise RetirementFailed(namespace, failures)
    return {"retired": retired, "kept": kept}


def _lock_targets(ssm, namespace, holder):
    """The timestamp a deploy holding the namespace's lock brings up (fencing with `holder`)."""
    record = deploy_lock.ensure_held(ssm, namespace, holder) if holder else deploy_lock.read(ssm, namespace)
    return {record.target_timestamp} if record else set()


def _changed_since_planning(ssm, ecs, namespace, cluster, service, holder, timestamp, planned_active):
    """Why `timestamp` must not be retired after all, from live state; None if it may."""
    if timestamp in _lock_targets(ssm, namespace, holder):
        return "in flight (the deploy lock's target) since planning"
    active = inventory.active_timestamp(ssm, namespace)
    if active != planned_active:
        return "the active pointer moved from %s to %s since planning" % (planned_active, active)
    if timestamp in inventory.referenced_timestamps(ecs, cluster, service):
        return "referenced by the running task definition since planning"
    return None


# --- stacker hook ---------------------------------------------------------------------------


@stacker_hook(holds_lock=True, **WAIT_ARGUMENTS)
def retire_old_databases(run, poll_seconds, wait_seconds):
    """post_build hook: retire every database the namespace no longer needs (holding the lock)."""
    result = retire_databases(
        run.client("ssm"),
        run.client("resourcegroupstaggingapi"),
        run.client("rds"),
        run.client("cloudformation"),
        run.client("ecs"),
        namespace=run.namespace,
        shared_namespace=run.shared_namespace,
        in_flight={run.timestamp},
        retain_previous=run.settings["retain_previous"],
        holder=run.holder,
        wait=Wait(poll_seconds=poll_seconds, budget_seconds=wait_seconds),
    )
    pruned = retention.prune_namespace(
        run.client("rds"), run.client("resourcegroupstaggingapi"), run.client("cloudformation"), run.client("ssm"),
        run.client("s3"), run.namespace, run.shared_namespace, run.settings["keep_final_snapshots"],
        run.settings["keep_final_snapshot_days"])
    revisions = task_definitions.deregister_replaced(run.client("ecs"), run.namespace, run.shared_namespace,
                                                     run.settings["keep_task_definitions"])
    return {
        "status": "done",
        "retired": result["retired"],
        "kept": [{"timestamp": d.timestamp, "reason": d.reason} for d in result["kept"]],
        "pruned_final_snapshots": pruned["deleted"],
        "pruned_files": sorted(pruned["files"].values()),
        "prune_failures": [snapshot_id for snapshot_id, _ in pruned["failed"]],
        "deregistered_task_definitions": revisions["deregistered"],
        "deregister_failures": [arn for arn, _ in revisions["failed"]],
    }
