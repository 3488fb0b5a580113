"""pre_build: the database restores from a snapshot under its tier's KMS key, copied only when needed.

A DB instance restored from a snapshot inherits the snapshot's encryption: AWS's
RestoreDBInstanceFromDBSnapshot takes no KMS key, and CloudFormation ignores (and its
documentation forbids) KmsKeyId together with DBSnapshotIdentifier. So the only way a
database ends up under its tier's customer-managed key (`alias/<tier>/rds`, the tier
stack's output DatabaseKeyArn) is to restore from a snapshot already under that key.

The rule (docs/pipeline.md, "The tenant's snapshot copy"; naming.restores_from) depends on
names only, so the template renders offline and deterministically, whatever the keys are:

- a source in the namespace's own tier (qa from dev, a dev tenant from itself) is restored
  as it is: it is the snapshot of a database of that tier, so under the tier key. This step
  checks the key and refuses a source under another one (the message says how to copy it);
- a source in the other tier (prod from dev), or any source with env key
  `snapshot_copy: always`, is copied to the tenant's own `<namespace>-<ts>` with
  CopyDBSnapshot under the tier key, tagged like every resource of the namespace plus
  CopiedFrom=<source snapshot>, and the step waits until the copy is available (across keys
  AWS re-encrypts while copying: minutes per GiB, the long pole of a prod promotion).

A copy within one key buys nothing but time, which is why the same tier skips it. The price:
qa's database was restored from dev's snapshot, so retention keeps a source snapshot while
any database restored from it lives (hooks.steps.source_retention).

An existing database is never restored again, and a deploy whose template would name
another snapshot than the one the database's registration says it came from (the env key
snapshot_copy changed, say) is refused before any change: CloudFormation would try to
replace the database.

Re-runnable at any point: a copy already available is reused, one still being created is
waited for, a failed one stops the run with what to do. Nothing is restored (and nothing
copied) when the database of `<ts>` already exists: a re-run or a rollback to a retained
database. The pipeline deletes only snapshots tagged CopiedFrom (`delete_copy`), and only
once their database is retired (hooks.steps.retire) or never came to exist.

Layers: `plan_copy` (pure, hooks/steps/tier_copy_plan.py), `restore_plan` (AWS, read-only), `ensure_restore_snapshot` / `delete_copy`
(AWS, take clients),
`copy_under_tier_key` (the stacker hook).
"""
import json
import logging

from hooks import aws, naming
from hooks.aws import resources
from hooks.aws.wait import Wait
from hooks.config import hookargs
from hooks.errors import CopyFailed, SnapshotFailed, WaitTimedOut
from hooks.steps import snapshot_quota
from hooks.steps.tier_copy_plan import (  # noqa: F401  (re-exported: the plan's names)
    COPY, REUSE, SKIP, USE_SOURCE, WAIT, CopyPlan, plan_copy, tag,
)
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

TIER_KEY_OUTPUT = "DatabaseKeyArn"  # blueprints.tier: the tier key's ARN
DEFAULT_WAIT = Wait(poll_seconds=hookargs.DEFAULT_POLL_SECONDS, budget_seconds=3600)  # a large copy takes a while


# --- AWS ---------------------------------------------------------------------------------


def tier_key_arn(cfn, shared_namespace):
    """The tier key's ARN: output DatabaseKeyArn of the stack `<shared_namespace>-tier`."""
    return resources.tier_output(cfn, shared_namespace, TIER_KEY_OUTPUT)


def describe_snapshot(rds, snapshot_id):
    """One snapshot's DescribeDBSnapshots entry, None if it does not exist."""
    return resources.describe_snapshot(rds, snapshot_id)


def restore_plan(rds, cfn, ssm, namespace, source_namespace, shared_namespace, timestamp,
                 snapshot_copy=naming.COPY_ACROSS_TIERS):
    """(CopyPlan, tier key) for the database of `timestamp` from live state; read-only (`tenantstack diff`
    shows it). BadInput as plan_copy, and when the tier is not built."""
    tier_key = tier_key_arn(cfn, shared_namespace)
    target = naming.restores_from(namespace, source_namespace, timestamp, snapshot_copy)
    source_id = naming.snapshot_id(source_namespace, timestamp)
    exists = resources.describe_instance(rds, naming.db_instance_id(namespace, timestamp)) is not None
    registered = registered_snapshot(ssm, namespace, timestamp) if exists else None
    source = None if exists else describe_snapshot(rds, source_id)
    copy = source if source_id == target else (None if exists else describe_snapshot(rds, target))
    return plan_copy(namespace, source_namespace, timestamp, tier_key, exists, source, copy, snapshot_copy,
                     registered), tier_key


def registered_snapshot(ssm, namespace, timestamp):
    """The snapshot the database of `timestamp` was restored from, as its stack registered it
    (blueprints.database); None when it is not registered or says nothing."""
    value = resources.parameter_value(ssm, naming.ssm_database_parameter(namespace, timestamp))
    try:
        return json.loads(value).get("snapshot") if value else None
    except (ValueError, AttributeError):
        return None


def ensure_restore_snapshot(rds, cfn, ssm, namespace, source_namespace, shared_namespace, timestamp,
                            wait=DEFAULT_WAIT, snapshot_copy=naming.COPY_ACROSS_TIERS, wait_for_copy=True, **clock):
    """Make the snapshot the database of `timestamp` restores from available under the tier key (see
    the module); with wait_for_copy False a copy is started (or found under way) and not waited for:
    `await_restore_snapshot` waits later. Returns {"status": the plan's action, "snapshot": what it
    restores from, "source": ..., "key": tier key}."""
    plan, tier_key = restore_plan(rds, cfn, ssm, namespace, source_namespace, shared_namespace, timestamp,
                                  snapshot_copy)
    target, source_id = plan.snapshot, naming.snapshot_id(source_namespace, timestamp)
    logger.info("restore snapshot %s: %s", target, plan.reason)
    if plan.action == COPY:
        _start_copy(rds, namespace, source_id, target, tier_key)
    if plan.action in (COPY, WAIT) and wait_for_copy:
        wait_for_snapshot(rds, target, wait, **clock)
    return {"status": plan.action, "snapshot": target, "source": source_id, "key": tier_key}


def await_restore_snapshot(rds, namespace, source_namespace, timestamp, wait=DEFAULT_WAIT,
                           snapshot_copy=naming.COPY_ACROSS_TIERS, **clock):
    """Wait until the snapshot the database of `timestamp` restores from is available (a copy
    ensure_restore_snapshot started); nothing to wait for when the database exists. CopyFailed as
    wait_for_snapshot. {"status": "skip" or "available", "snapshot": ...}."""
    target = naming.restores_from(namespace, source_namespace, timestamp, snapshot_copy)
    if resources.describe_instance(rds, naming.db_instance_id(namespace, timestamp)) is not None:
        return {"status": SKIP, "snapshot": target}
    wait_for_snapshot(rds, target, wait, **clock)
    return {"status": "available", "snapshot": target}


def _start_copy(rds, namespace, source_id, target, tier_key):
    # The copy belongs to the tenant: its own tags (Namespace=<namespace>), not the source's,
    # which name the source namespace (so CopyTags stays off).
    tags = dict(naming.tags(namespace), **{naming.COPIED_FROM_TAG: source_id})
    rds.copy_db_snapshot(
        SourceDBSnapshotIdentifier=source_id,
        TargetDBSnapshotIdentifier=target,
        KmsKeyId=tier_key,
        CopyTags=False,
        Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
    )
    logger.info("copying %s to %s under %s", source_id, target, tier_key)


def wait_for_snapshot(rds, snapshot_id, wait=DEFAULT_WAIT, **clock):
    """Wait until the snapshot is available, logging its progress; CopyFailed if it fails or times out."""
    try:
        return resources.wait_for_snapshot(rds, snapshot_id, wait, progress=lambda line: logger.info("%s", line),
                                           **clock)
    except SnapshotFailed as failed:
        raise CopyFailed(
            "snapshot %s is %s, not available: delete it if it exists (aws rds delete-db-snapshot "
            "--db-snapshot-identifier %s: the source still holds the data) and re-run"
            % (snapshot_id, failed.status or "gone", snapshot_id)
        ) from None
    except WaitTimedOut as timed_out:
        status = ((timed_out.last.value if timed_out.last else None) or {}).get("Status", "creating")
        raise CopyFailed(
            "snapshot %s is still %s after %s s; re-run the deploy to keep waiting (the copy goes on)"
            % (snapshot_id, status, wait.budget_seconds)
        ) from None


def delete_copy(rds, namespace, timestamp, wait=DEFAULT_WAIT):
    """Delete `<namespace>-<ts>` if the pipeline made it (tag CopiedFrom); its id, or None.

    Callers delete it only once the database of `<ts>` is retired or never existed and is not
    in flight. A copy still being created is waited for first (RDS refuses to delete it)."""
    snapshot_id = naming.restore_snapshot_id(namespace, timestamp)
    snapshot = describe_snapshot(rds, snapshot_id)
    if snapshot is None:
        return None
    if tag(snapshot, naming.COPIED_FROM_TAG) is None:
        logger.info("keeping snapshot %s: the pipeline did not make it (no %s tag)", snapshot_id,
                    naming.COPIED_FROM_TAG)
        return None
    if snapshot.get("Status") == "creating":
        wait_for_snapshot(rds, snapshot_id, wait)
    aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
    logger.info("deleted %s, the restore copy of %s", snapshot_id, naming.db_instance_id(namespace, timestamp))
    return snapshot_id


# --- stacker hook ---------------------------------------------------------------------------


WAIT_ARGUMENTS = dict(poll_seconds=hookargs.POLL_SECONDS,
                      wait_seconds=hookargs.seconds(default=DEFAULT_WAIT.budget_seconds))


@stacker_hook(holds_lock=True, wait=hookargs.flag(True), **WAIT_ARGUMENTS)
def copy_under_tier_key(run, wait, poll_seconds, wait_seconds):
    """pre_build hook: make the snapshot the database restores from, under the tier key.

    wait false: start a copy and go on, so that the next steps (the data set's files) run while
    RDS copies; `wait_for_restore_snapshot` must then come before the stacks. A refusal or failure
    releases the deploy lock (nothing else changed; a copy in progress goes on and the next run
    reuses it). First it warns when the promotion's snapshots would reach the account's manual
    snapshot quota (hooks.steps.snapshot_quota)."""
    warning = snapshot_quota.check(run.client("rds"), run.namespace)
    return dict(ensure_restore_snapshot(
        run.client("rds"),
        run.client("cloudformation"),
        run.client("ssm"),
        run.namespace,
        run.settings["source_namespace"],
        run.shared_namespace,
        run.timestamp,
        Wait(poll_seconds=poll_seconds, budget_seconds=wait_seconds),
        run.settings["snapshot_copy"],
        wait_for_copy=wait,
    ), snapshot_quota=warning)


@stacker_hook(holds_lock=True, **WAIT_ARGUMENTS)
def wait_for_restore_snapshot(run, poll_seconds, wait_seconds):
    """pre_build hook, after copy_under_tier_key with wait false (and the steps that run meanwhile):
    the snapshot the database restores from is available before any stack is built. A failure or
    a timeout releases the deploy lock (the copy goes on; the next run waits for it again)."""
    return await_restore_snapshot(
        run.client("rds"), run.namespace, run.settings["source_namespace"], run.timestamp,
        Wait(poll_seconds=poll_seconds, budget_seconds=wait_seconds), run.settings["snapshot_copy"],
    )
