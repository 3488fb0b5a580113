"""`db_timestamp: latest`: the newest available snapshot of the source namespace.

A tenant env file (or `-e db_timestamp=latest`) may ask for "what dev has now" instead of
naming a timestamp. Stack names are fixed before any hook runs (stacker/tenant.yaml names
the database stack `db-${db_timestamp}`), so the word is resolved before the engine starts:
`tenantstack deploy` and `tenantstack diff` (hooks/run/latest.py) pass the engine
`-e db_timestamp=<ts>`. A plain `stacker build` that still carries the word is refused by the
first pre_build hook (hooks.steps.preflight.refuse_unresolved_latest).

The rule (`newest_available`, pure): among the manual snapshots named
`<source_namespace>-<timestamp>` whose own metadata shows they hold the source namespace's
data (its DB instance id or its Namespace tag: hooks.steps.source_snapshot's rule), the
newest timestamp whose snapshot is `available`. Snapshots still being taken, failed ones and
other namespaces' snapshots are never chosen. Whether the chosen one is fit to restore
(engine, encryption) is then checked by hooks.steps.source_snapshot as for any timestamp, so
an unfit newest snapshot is refused, never silently passed over for an older one.

Layers: `timestamp_of` and `newest_available` (pure), `resolve_latest` (AWS: DescribeDBSnapshots
of the manual snapshots, paginated).
"""
import logging

from hooks import naming
from hooks.errors import SourceSnapshotMissing
from hooks.steps import source_snapshot

logger = logging.getLogger(__name__)

AVAILABLE = "available"


def timestamp_of(snapshot_id, source_namespace):
    """The timestamp of a snapshot id `<source_namespace>-<timestamp>`; None for any other id
    (another namespace's, a final snapshot `<ns>-db-<ts>-final-<ts>`)."""
    prefix = "%s-" % source_namespace
    if not snapshot_id.startswith(prefix):
        return None
    try:
        return naming.parse_timestamp(snapshot_id[len(prefix):])
    except naming.NamingError:
        return None


def newest_available(snapshots, source_namespace):
    """(timestamp, described snapshot) of the newest available snapshot of `source_namespace`
    among DescribeDBSnapshots entries; SourceSnapshotMissing (bad input) naming the source
    when there is none."""
    candidates = []
    for snapshot in snapshots:
        timestamp = timestamp_of(snapshot.get("DBSnapshotIdentifier", ""), source_namespace)
        if timestamp is None or source_snapshot.origin_namespaces(snapshot) != {source_namespace}:
            continue
        if snapshot.get("Status") == AVAILABLE:
            candidates.append((timestamp, snapshot))
    if not candidates:
        raise SourceSnapshotMissing(
            "db_timestamp %s: %s has no available snapshot %s-<timestamp> (manual, of its own database), so there "
            "is nothing to deploy; take one with `tenantstack snapshot %s`, or name a timestamp; nothing was changed"
            % (naming.LATEST_TIMESTAMP, source_namespace, source_namespace, source_namespace)
        )
    return max(candidates, key=lambda candidate: candidate[0])


def resolve_latest(rds, source_namespace):
    """The timestamp `latest` stands for now: newest_available over the account's manual snapshots."""
    pages = rds.get_paginator("describe_db_snapshots").paginate(SnapshotType="manual")
    snapshots = [snapshot for page in pages for snapshot in page.get("DBSnapshots", [])]
    timestamp, snapshot = newest_available(snapshots, source_namespace)
    logger.info("db_timestamp %s: %s, the newest available snapshot of %s", naming.LATEST_TIMESTAMP,
                snapshot["DBSnapshotIdentifier"], source_namespace)
    return timestamp
