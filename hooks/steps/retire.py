"""Retire the databases a tenant no longer needs, without ever losing one.

After the pointer flips, the tenant should have exactly the active database plus the
`retain_previous` most recently active previous ones. Everything else is retired: a final
manual snapshot with a unique, timestamped name (naming.final_snapshot_id), then the
instance, then its stack.

Layers: `plan_retirement` (pure: which database to keep and why), `retire` and
`retire_databases` (AWS, take clients; the CLI's reap reuses them), and the stacker hook
`retire_old_databases`.

Nothing is lost:
- never retired: the active database, one in flight, one the service's task definitions
  reference; the pointer and the service are read again right before each deletion;
- an instance is deleted only once its final snapshot is verified available;
- a killed retirement is finished by the next run, which reuses the snapshot it took;
- the restore copy <ns>-<ts> (hooks.steps.tier_copy) goes last, once the database is gone and its
  final snapshot available, or when no database of it ever came to exist (a failed run).
"""
import datetime
import logging
import os
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from hooks import aws, errors, naming
from hooks.config import hookargs
from hooks.tenant import inventory
from hooks.lock import deploy_lock
from hooks.config import settings
from hooks.steps import tier_copy
from hooks.config.hookargs import HookArgumentError, check_arguments, environment_of

logger = logging.getLogger(__name__)

KEEP, RETIRE = "keep", "retire"
RETIRED_FROM_TAG = "RetiredFrom"


@dataclass(frozen=True)
class Decision:
    timestamp: str
    action: str  # KEEP or RETIRE
    reason: str


@dataclass(frozen=True)
class Wait:
    """How often and how long to wait for RDS and CloudFormation to finish."""

    poll_seconds: float = 15
    budget_seconds: float = 30 * 60


DEFAULT_WAIT = Wait()


class StepFailed(errors.TenantstackError):
    """A retirement step ended in a bad state or ran out of time."""


class DatabaseRetirementFailed(errors.DeployFailed):
    """Retiring one database failed; `done` (retire's result so far) says how far it got."""

    def __init__(self, instance_id, stack_name, done, instance_existed, cause):
        self.instance_id, self.stack_name, self.done, self.cause = instance_id, stack_name, done, cause
        self.instance_existed = instance_existed
        super().__init__("%s: %s; %s" % (instance_id, cause, what_was_done(self)))


class RetirementFailed(errors.DeployFailed):
    """One or more databases of a namespace could not be retired (the others were)."""

    def __init__(self, namespace, failures):
        self.namespace, self.failures = namespace, list(failures)
        lines = ["retiring %d database(s) of %s failed; the others were handled:" % (len(failures), namespace)]
        lines += ["  - %s" % failure for failure in self.failures]
        lines.append(
            "The tenant keeps serving from its active database, and nothing was deleted without an "
            "available final snapshot. To finish, re-run the deploy (retirement reuses a final snapshot "
            "already taken), or run `tenantstack reap %s --apply` once it exists." % namespace
        )
        super().__init__("\n".join(lines))


def what_was_done(failure):
    """What a failed retirement left behind, as a sentence."""
    done, stack = failure.done, failure.stack_name
    if done["final_snapshot"]:
        snapshot = "final snapshot %s is available" % done["final_snapshot"]
    elif failure.instance_existed is False:
        snapshot = "no final snapshot of it exists"
    else:
        snapshot = "no final snapshot was taken"
    if failure.instance_existed is False:
        instance = "the instance was already gone; stack %s is not deleted" % stack
    elif done["deleted_instance"]:
        instance = "the instance is deleted; stack %s is not" % stack
    else:
        instance = "the instance was not deleted"
    return "%s; %s" % (snapshot, instance)


# --- planning (pure) -------------------------------------------------------------------


def plan_retirement(databases, active, in_flight, recently_active, retain_previous, referenced):
    """One Decision per database, in timestamp order.

    `recently_active`: previously active timestamps, newest first, without `active`
    (inventory.previously_active). The `retain_previous` newest of those that still exist
    are kept; so are the active database, those in flight and those referenced.
    """
    if isinstance(retain_previous, bool) or not isinstance(retain_previous, int) or retain_previous < 0:
        raise ValueError("retain_previous %r is invalid: expected a whole number >= 0" % (retain_previous,))
    existing = sorted({database.timestamp for database in databases})
    ranks = {}
    for timestamp in recently_active:
        if timestamp in existing and timestamp != active and timestamp not in ranks:
            ranks[timestamp] = len(ranks) + 1
    in_flight, referenced = set(in_flight), set(referenced)
    decisions = []
    for timestamp in existing:
        action, reason = _decide(timestamp, active, in_flight, referenced, ranks.get(timestamp), retain_previous)
        decisions.append(Decision(timestamp, action, reason))
    return decisions


def _decide(timestamp, active, in_flight, referenced, rank, retain_previous):
    if timestamp == active:
        return KEEP, "active"
    if timestamp in in_flight:
        return KEEP, "in flight"
    if timestamp in referenced:
        return KEEP, "referenced by the running task definition"
    if active is None:
        return KEEP, "no active database yet: nothing is retired before the first flip"
    if rank is None:
        return RETIRE, "never active: leftover of a failed run"
    if rank <= retain_previous:
        return KEEP, "retained: previous #%d" % rank
    return RETIRE, "previously active, beyond retain_previous=%d" % retain_previous


# --- AWS ---------------------------------------------------------------------------------


def wait_until(check, what, wait, clock=time.monotonic, sleep=time.sleep):
    """Call `check` until it returns something truthy; StepFailed after the budget."""
    deadline = clock() + wait.budget_seconds
    while True:
        result = check()
        if result:
            return result
        if clock() >= deadline:
            raise StepFailed("%s: still not done after %s s" % (what, wait.budget_seconds))
        sleep(wait.poll_seconds)


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
        instance = inventory.describe_instance(rds, instance_id)
        existed = instance is not None
        if instance is None:
            done["final_snapshot"] = _existing_final_snapshot(rds, namespace, timestamp, ("available",))
        else:
            done["final_snapshot"] = _final_snapshot(rds, namespace, timestamp, instance, now, wait, reuse_after)
            _delete_instance(rds, instance, wait)
            done["deleted_instance"] = True
        if inventory.stack_status(cfn, stack) is not None:
            _delete_stack(cfn, stack, wait)
            done["deleted_stack"] = True
        # Its restore source is needed no more: the final snapshot holds its data now.
        done["deleted_copy"] = tier_copy.delete_copy(rds, namespace, timestamp, wait.poll_seconds,
                                                     wait.budget_seconds)
    except (ClientError, StepFailed, tier_copy.CopyFailed) as error:
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
        tags = dict(naming.tags(namespace), **{RETIRED_FROM_TAG: instance_id})
        rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot,
            DBInstanceIdentifier=instance_id,
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )
        logger.info("taking final snapshot %s of %s", snapshot, instance_id)
    wait_until(lambda: _snapshot_available(rds, snapshot), "final snapshot %s" % snapshot, wait)
    return snapshot


def _snapshot_available(rds, snapshot):
    status = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0]["Status"]
    if status not in ("creating", "available"):
        raise StepFailed("final snapshot %s is %s, not available" % (snapshot, status))
    return status == "available"


def _delete_instance(rds, instance, wait):
    instance_id = instance["DBInstanceIdentifier"]
    if instance["DBInstanceStatus"] != "deleting":
        if instance.get("DeletionProtection"):
            rds.modify_db_instance(DBInstanceIdentifier=instance_id, DeletionProtection=False, ApplyImmediately=True)
            wait_until(
                lambda: not (inventory.describe_instance(rds, instance_id) or {}).get("DeletionProtection"),
                "lifting deletion protection of %s" % instance_id,
                wait,
            )
        # SkipFinalSnapshot: the final snapshot is ours, named and verified available above.
        # RDS's own FinalDBSnapshotIdentifier would be taken only after we had committed to
        # the delete, and a retry could not tell whether it exists.
        rds.delete_db_instance(DBInstanceIdentifier=instance_id, SkipFinalSnapshot=True)
        logger.info("deleting %s", instance_id)
    wait_until(lambda: inventory.describe_instance(rds, instance_id) is None, "deleting %s" % instance_id, wait)


def _delete_stack(cfn, stack, wait):
    # Its DeletionPolicy Retain leaves the instance alone; the instance is gone by now.
    cfn.delete_stack(StackName=stack)
    logger.info("deleting stack %s", stack)

    def gone():
        status = inventory.stack_status(cfn, stack)
        if status == "DELETE_FAILED":
            raise StepFailed("stack %s is DELETE_FAILED (see its events)" % stack)
        return status is None

    wait_until(gone, "deleting stack %s" % stack, wait)


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


def wait_from_arguments(hook, poll_seconds, wait_seconds):
    """The Wait a hook's poll_seconds / wait_seconds arguments ask for (TENANTSTACK_POLL_SECONDS wins)."""
    budget = DEFAULT_WAIT.budget_seconds
    if wait_seconds is not None:
        budget = hookargs.seconds_argument(hook, "wait_seconds", wait_seconds)
    return Wait(
        poll_seconds=hookargs.poll_seconds(hook, poll_seconds, DEFAULT_WAIT.poll_seconds, os.environ),
        budget_seconds=budget,
    )


@deploy_lock.releasing_lock_on_failure
def retire_old_databases(context, provider, poll_seconds=None, wait_seconds=None, **kwargs):
    """post_build hook: retire every database the namespace no longer needs (holding the lock)."""
    check_arguments("retire_old_databases", kwargs, accepted=("poll_seconds", "wait_seconds"))
    wait = wait_from_arguments("retire_old_databases", poll_seconds, wait_seconds)
    values = settings.load_settings(environment_of(context))
    region = provider.region
    result = retire_databases(
        aws.client("ssm", region),
        aws.client("resourcegroupstaggingapi", region),
        aws.client("rds", region),
        aws.client("cloudformation", region),
        aws.client("ecs", region),
        namespace=values["namespace"],
        shared_namespace=values["shared_namespace"],
        in_flight={values["db_timestamp"]},
        retain_previous=values["retain_previous"],
        holder=deploy_lock.current_holder(),
        wait=wait,
    )
    return {
        "status": "done",
        "retired": result["retired"],
        "kept": [{"timestamp": d.timestamp, "reason": d.reason} for d in result["kept"]],
    }
