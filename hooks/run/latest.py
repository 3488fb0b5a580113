"""`db_timestamp: latest`, resolved before the engine starts (`tenantstack deploy`, `tenantstack diff`).

The engine names the database stack `db-${db_timestamp}` before any hook runs, so `latest`
cannot wait for a hook: a checked request (hooks.run.deploy.Prepared) that asks for it is
turned into one that names the newest available snapshot's timestamp of its source namespace
(hooks/steps/latest_snapshot.py), and the engine is started with `-e db_timestamp=<ts>`. The
child also learns that `latest` was asked for (`child_variables`), so the pointer's flip records
it in the audit trail (hooks.steps.pointer.flip_description: `...; requested latest`), and
`tenantstack history` shows which timestamp it stood for: a re-run can name it.

A prod namespace never gets here: its env file must name its timestamp (hooks/config/settings.py).
"""
import dataclasses

from hooks import naming
from hooks.steps import latest_snapshot, pointer

TIMESTAMP_KEY = "db_timestamp"


def requests_latest(prepared):
    return prepared.db_timestamp == naming.LATEST_TIMESTAMP


def resolved(prepared, timestamp):
    """`prepared` deploying `timestamp` where it asked for latest; its overrides end with db_timestamp=<timestamp>."""
    overrides = tuple((key, value) for key, value in prepared.overrides if key != TIMESTAMP_KEY)
    return dataclasses.replace(prepared, db_timestamp=naming.parse_timestamp(timestamp),
                               overrides=overrides + ((TIMESTAMP_KEY, timestamp),),
                               requested_timestamp=naming.LATEST_TIMESTAMP)


def resolve(prepared, rds_client):
    """`prepared` itself when it names a timestamp (no call); else resolved to the newest available
    snapshot's (SourceSnapshotMissing, bad input, when the source namespace has none).
    `rds_client`: makes the RDS client, called only then."""
    if not requests_latest(prepared):
        return prepared
    return resolved(prepared, latest_snapshot.resolve_latest(rds_client(), prepared.source_namespace))


def note(prepared):
    """The line a deploy or preview shows about the resolution; None when nothing was resolved."""
    if prepared.requested_timestamp != naming.LATEST_TIMESTAMP:
        return None
    return "db_timestamp %s of %s: %s, the newest available snapshot of %s" % (
        naming.LATEST_TIMESTAMP, prepared.namespace, naming.snapshot_id(prepared.source_namespace, prepared.db_timestamp),
        prepared.source_namespace)


def child_variables(prepared):
    """The engine child's environment entries telling the flip what was requested (none: a timestamp was named)."""
    if prepared.requested_timestamp != naming.LATEST_TIMESTAMP:
        return {}
    return {pointer.REQUESTED_VARIABLE: prepared.requested_timestamp}
