"""pre_build: the database restores from the tenant's own snapshot, under its tier's KMS key.

A DB instance restored from a snapshot inherits the snapshot's encryption: AWS's
RestoreDBInstanceFromDBSnapshot takes no KMS key, and CloudFormation ignores (and its
documentation forbids) KmsKeyId together with DBSnapshotIdentifier. So the only way a
database ends up under its tier's customer-managed key (`alias/<tier>/rds`, the tier
stack's output DatabaseKeyArn) is to restore from a snapshot already under that key.

The rule (docs/pipeline.md, "The tenant's snapshot copy"): the database of `<ts>` ALWAYS
restores from the tenant's own snapshot `<namespace>-<ts>` (naming.restore_snapshot_id).
That renders offline and deterministically, whatever the keys are. This step makes it:
it copies the source snapshot `<source_namespace>-<ts>` to `<namespace>-<ts>` with
CopyDBSnapshot under the tier key, tagged like every resource of the namespace plus
CopiedFrom=<source snapshot>, and waits until the copy is available. A copy within one
key is an ordinary snapshot copy; across keys AWS re-encrypts while copying.

When the namespace is its own source (a dev tenant, or a rollback from a copied final
snapshot, `-e source_namespace=<namespace>`), the source IS `<namespace>-<ts>`: it is
used as it is when it is under the tier key, and refused otherwise (a snapshot cannot be
copied onto its own id; the message names the copy to make under a new timestamp).

Re-runnable at any point: a copy already available is reused, one still being created is
waited for, a failed one stops the run with what to do. Nothing is restored (and nothing
copied) when the database of `<ts>` already exists: a re-run or a rollback to a retained
database. The pipeline deletes only snapshots tagged CopiedFrom (`delete_copy`), and only
once their database is retired (hooks.steps.retire) or never came to exist.

Layers: `plan_copy` (pure), `restore_plan` (AWS, read-only), `ensure_restore_snapshot` / `delete_copy`
(AWS, take clients),
`copy_under_tier_key` (the stacker hook).
"""
import logging
from dataclasses import dataclass

from hooks import aws, naming
from hooks.aws import resources
from hooks.aws.wait import Wait
from hooks.config import hookargs
from hooks.errors import BadInput, CopyFailed, SnapshotFailed, WaitTimedOut
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

SKIP, USE_SOURCE, REUSE, WAIT, COPY = "skip", "use source", "reuse copy", "wait for copy", "copy"
TIER_KEY_OUTPUT = "DatabaseKeyArn"  # blueprints.tier: the tier key's ARN
DEFAULT_WAIT = Wait(poll_seconds=hookargs.DEFAULT_POLL_SECONDS, budget_seconds=3600)  # a large copy takes a while


@dataclass(frozen=True)
class CopyPlan:
    action: str
    snapshot: str  # what the database restores from: always <namespace>-<ts>
    reason: str


# --- planning (pure) -------------------------------------------------------------------


def plan_copy(namespace, source_namespace, timestamp, tier_key, database_exists, source, copy):
    """What to do so that `<namespace>-<timestamp>` is available under `tier_key`.

    source, copy: the described snapshots `<source_namespace>-<ts>` and `<namespace>-<ts>`
    (None: absent; the same one when the namespace is its own source). BadInput when the
    existing snapshots cannot serve (another key, another origin, failed copy is CopyFailed).
    """
    target = naming.restore_snapshot_id(namespace, timestamp)
    source_id = naming.snapshot_id(source_namespace, timestamp)
    if database_exists:
        return CopyPlan(SKIP, target, "database %s exists: nothing is restored"
                        % naming.db_instance_id(namespace, timestamp))
    if source_id == target:
        if source is None or source.get("KmsKeyId") != tier_key:
            raise BadInput(_own_snapshot_refusal(namespace, timestamp, source, tier_key))
        return CopyPlan(USE_SOURCE, target, "%s is the namespace's own snapshot, already under the tier key" % target)
    if copy is None:
        return CopyPlan(COPY, target, "copying %s to %s under the tier key %s" % (source_id, target, tier_key))
    origin = _tag(copy, naming.COPIED_FROM_TAG)
    if origin != source_id:
        raise BadInput(
            "snapshot %s exists but is not a copy of the source snapshot %s (its %s tag is %r): the database "
            "would restore other data than db_timestamp %s of %s names. Check it (aws rds describe-db-snapshots "
            "--db-snapshot-identifier %s); if it is not needed, delete it and re-run"
            % (target, source_id, naming.COPIED_FROM_TAG, origin, timestamp, source_namespace, target)
        )
    if copy.get("KmsKeyId") != tier_key:
        raise BadInput(
            "snapshot %s, the copy of %s, is encrypted with %s, not the tier key %s; delete it (aws rds "
            "delete-db-snapshot --db-snapshot-identifier %s: the source still holds the data) and re-run"
            % (target, source_id, copy.get("KmsKeyId"), tier_key, target)
        )
    status = copy.get("Status")
    if status == "available":
        return CopyPlan(REUSE, target, "%s, the copy of %s under the tier key, is available" % (target, source_id))
    if status == "creating":
        return CopyPlan(WAIT, target, "%s, the copy of %s, is still being created" % (target, source_id))
    raise CopyFailed(
        "snapshot %s, the copy of %s, is %r: delete it (aws rds delete-db-snapshot --db-snapshot-identifier %s: "
        "the source still holds the data) and re-run" % (target, source_id, status, target)
    )


def _own_snapshot_refusal(namespace, timestamp, snapshot, tier_key):
    name = naming.snapshot_id(namespace, timestamp)
    if snapshot is None:
        return "source snapshot %s not found" % name
    return (
        "source snapshot %s is the namespace's own snapshot (source_namespace is %s itself) and is encrypted "
        "with %s, not the tier key %s; a database restored from it would keep that key, and a snapshot cannot "
        "be copied onto its own id. Copy it under the tier key with a new timestamp and deploy that one: "
        "aws rds copy-db-snapshot --source-db-snapshot-identifier %s --target-db-snapshot-identifier "
        "%s-<new timestamp> --kms-key-id %s --copy-tags, then -e db_timestamp=<new timestamp>"
        % (name, namespace, snapshot.get("KmsKeyId"), tier_key, name, namespace, tier_key)
    )


def _tag(snapshot, key):
    return next((tag.get("Value") for tag in snapshot.get("TagList") or [] if tag.get("Key") == key), None)


# --- AWS ---------------------------------------------------------------------------------


def tier_key_arn(cfn, shared_namespace):
    """The tier key's ARN: output DatabaseKeyArn of the stack `<shared_namespace>-tier`."""
    return resources.tier_output(cfn, shared_namespace, TIER_KEY_OUTPUT)


def describe_snapshot(rds, snapshot_id):
    """One snapshot's DescribeDBSnapshots entry, None if it does not exist."""
    return resources.describe_snapshot(rds, snapshot_id)


def restore_plan(rds, cfn, namespace, source_namespace, shared_namespace, timestamp):
    """(CopyPlan, tier key) for `<namespace>-<timestamp>` from live state; read-only (`tenantstack diff`
    shows it). BadInput as plan_copy, and when the tier is not built."""
    tier_key = tier_key_arn(cfn, shared_namespace)
    target = naming.restore_snapshot_id(namespace, timestamp)
    source_id = naming.snapshot_id(source_namespace, timestamp)
    exists = resources.describe_instance(rds, naming.db_instance_id(namespace, timestamp)) is not None
    source = None if exists else describe_snapshot(rds, source_id)
    copy = source if source_id == target else (None if exists else describe_snapshot(rds, target))
    return plan_copy(namespace, source_namespace, timestamp, tier_key, exists, source, copy), tier_key


def ensure_restore_snapshot(rds, cfn, namespace, source_namespace, shared_namespace, timestamp,
                            wait=DEFAULT_WAIT, **clock):
    """Make `<namespace>-<timestamp>` available under the tier key (see the module). Returns
    {"status": the plan's action, "snapshot": <namespace>-<ts>, "source": ..., "key": tier key}."""
    plan, tier_key = restore_plan(rds, cfn, namespace, source_namespace, shared_namespace, timestamp)
    target, source_id = plan.snapshot, naming.snapshot_id(source_namespace, timestamp)
    logger.info("restore snapshot %s: %s", target, plan.reason)
    if plan.action == COPY:
        _start_copy(rds, namespace, source_id, target, tier_key)
    if plan.action in (COPY, WAIT):
        wait_for_snapshot(rds, target, wait, **clock)
    return {"status": plan.action, "snapshot": target, "source": source_id, "key": tier_key}


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
    if _tag(snapshot, naming.COPIED_FROM_TAG) is None:
        logger.info("keeping snapshot %s: the pipeline did not make it (no %s tag)", snapshot_id,
                    naming.COPIED_FROM_TAG)
        return None
    if snapshot.get("Status") == "creating":
        wait_for_snapshot(rds, snapshot_id, wait)
    aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
    logger.info("deleted %s, the restore copy of %s", snapshot_id, naming.db_instance_id(namespace, timestamp))
    return snapshot_id


# --- stacker hook ---------------------------------------------------------------------------


@stacker_hook(holds_lock=True, poll_seconds=hookargs.POLL_SECONDS,
              wait_seconds=hookargs.seconds(default=DEFAULT_WAIT.budget_seconds))
def copy_under_tier_key(run, poll_seconds, wait_seconds):
    """pre_build hook: make the snapshot the database restores from, under the tier key.

    A refusal or failure releases the deploy lock (nothing else changed; a copy in
    progress goes on and the next run reuses it)."""
    return ensure_restore_snapshot(
        run.client("rds"),
        run.client("cloudformation"),
        run.namespace,
        run.settings["source_namespace"],
        run.shared_namespace,
        run.timestamp,
        Wait(poll_seconds=poll_seconds, budget_seconds=wait_seconds),
    )
