"""Snapshot a tenant's active database as `<namespace>-<now>`: data to promote.

A snapshot of xy-0146-dev's active database named xy-0146-dev-<timestamp> is exactly
what a promotion restores from (hooks/steps/source_snapshot.py checks it: the DB instance id names
the namespace, and it carries the namespace's tags). The operator's `snapshot` command
runs this and prints the timestamp, the value a promotion's db_timestamp takes.

AWS functions; they take clients.
"""
import logging
import time

from botocore.exceptions import ClientError

from hooks import aws, errors, naming
from hooks.aws import resources
from hooks.errors import SnapshotFailed, SnapshotNotReady, WaitTimedOut
from hooks.tenant import inventory

logger = logging.getLogger(__name__)

def start_snapshot(ssm, rds, namespace, now):
    """Start the manual snapshot <namespace>-<now> of the active database: (timestamp, snapshot id).

    BadInput (nothing changed) when there is no active database or the id is taken.
    """
    namespace = naming.parse_namespace(namespace).name
    active = inventory.active_timestamp(ssm, namespace)
    if active is None:
        raise errors.BadInput(
            "%s has no active database (%s is not set), so there is nothing to snapshot; deploy it first, "
            "or snapshot another namespace; nothing was changed" % (namespace, naming.ssm_active_parameter(namespace))
        )
    instance_id = naming.db_instance_id(namespace, active)
    timestamp = naming.format_timestamp(now)
    snapshot = naming.snapshot_id(namespace, timestamp)
    try:
        rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot,
            DBInstanceIdentifier=instance_id,
            Tags=[{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()],
        )
    except ClientError as error:
        code = aws.error_code(error)
        if code == "DBSnapshotAlreadyExists":
            raise errors.BadInput(
                "snapshot %s exists already (taken within this same second); run the command again; "
                "nothing was changed" % snapshot
            ) from None
        if code == "DBInstanceNotFound":
            raise errors.BadInput(
                "the active pointer %s names %s, but database %s does not exist; see `tenantstack status %s`; "
                "nothing was changed" % (naming.ssm_active_parameter(namespace), active, instance_id, namespace)
            ) from None
        raise
    logger.info("snapshot %s of %s (active database %s) started", snapshot, instance_id, active)
    return timestamp, snapshot


def wait_until_available(rds, snapshot, wait, progress, clock=time.monotonic, sleep=time.sleep):
    """Poll until the snapshot is available, telling `progress` about each change and every minute."""
    try:
        resources.wait_for_snapshot(rds, snapshot, wait, progress=progress, clock=clock, sleep=sleep)
    except SnapshotFailed as failed:
        raise SnapshotNotReady("snapshot %s is %s, not available; look at its events in the RDS console and "
                               "take it again" % (snapshot, failed.status or "gone")) from None
    except WaitTimedOut:
        raise SnapshotNotReady(
            "snapshot %s is not available after %g s; it keeps being taken: follow it with `aws rds "
            "describe-db-snapshots --db-snapshot-identifier %s`" % (snapshot, wait.budget_seconds, snapshot)
        ) from None
