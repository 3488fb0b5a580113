"""pre_build: the source snapshot must exist, be available, and hold the right data.

Layers: `snapshot_problems` (pure: judges a described snapshot), `describe_source_snapshot`
and `describe_restore_source` (AWS), `check_source_snapshot` (the stacker hook). Any
problem fails the build before a single resource changes, naming the snapshot and what
was expected.

The snapshot is needed only to create the database. Redeploying a timestamp whose
database this namespace still has (a rollback to a retained database) restores nothing,
so a source snapshot deleted since is no reason to refuse it: `describe_restore_source`
then answers with that database, if it is registered (its stack completed) and exists.
"""
import logging

from hooks import naming
from hooks.aws import resources
from hooks.errors import BadInput, SourceSnapshotMissing
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

ENGINE = "mysql"
ENGINE_MAJOR = "8."


def snapshot_problems(snapshot, source_namespace):
    """What is wrong with a described snapshot as the source of `source_namespace`'s data."""
    name = snapshot["DBSnapshotIdentifier"]
    problems = []
    if snapshot.get("Status") != "available":
        problems.append("it is %r, not 'available'; wait until the snapshot finishes" % snapshot.get("Status"))
    if snapshot.get("Engine") != ENGINE:
        problems.append("its engine is %r; tenant databases are %s" % (snapshot.get("Engine"), ENGINE))
    elif not str(snapshot.get("EngineVersion", "")).startswith(ENGINE_MAJOR):
        problems.append("its engine version is %r; tenant databases run MySQL 8" % snapshot.get("EngineVersion"))
    if not snapshot.get("Encrypted"):
        problems.append(
            "it is not encrypted; copy it with a KMS key first (aws rds copy-db-snapshot "
            "--source-db-snapshot-identifier %s --target-db-snapshot-identifier <new> --kms-key-id <key>)" % name
        )
    origin = origin_namespaces(snapshot)
    if not origin:
        problems.append(
            "nothing shows it belongs to %s: its DB instance %r does not follow <namespace>-db-<timestamp> and it "
            "has no Namespace tag" % (source_namespace, snapshot.get("DBInstanceIdentifier"))
        )
    elif origin != {source_namespace}:
        problems.append("it holds data of %s, not of %s" % (", ".join(sorted(origin)), source_namespace))
    return problems


def origin_namespaces(snapshot):
    """The namespaces the snapshot's own metadata names (instance id, Namespace tag)."""
    found = set()
    try:
        found.add(naming.parse_db_instance_id(snapshot.get("DBInstanceIdentifier"))[0].name)
    except naming.NamingError:
        pass
    for tag in snapshot.get("TagList", []):
        if tag.get("Key") == naming.NAMESPACE_TAG:
            found.add(tag.get("Value"))
    return found


def describe_source_snapshot(rds, source_namespace, timestamp):
    """The described snapshot <source_namespace>-<timestamp>; BadInput if missing or unfit."""
    snapshot_id = naming.snapshot_id(source_namespace, timestamp)
    snapshot = resources.describe_snapshot(rds, snapshot_id)
    if snapshot is None:
        raise SourceSnapshotMissing(
            "source snapshot %s not found: db_timestamp %s names the snapshot %s takes as "
            "<namespace>-<timestamp>; check the timestamp, or list the snapshots with "
            "`aws rds describe-db-snapshots --snapshot-type manual --query 'DBSnapshots[].DBSnapshotIdentifier'`"
            % (snapshot_id, timestamp, source_namespace)
        ) from None
    problems = snapshot_problems(snapshot, source_namespace)
    if problems:
        raise BadInput("source snapshot %s cannot be promoted: %s" % (snapshot_id, "; ".join(problems)))
    return snapshot


def registered_database(ssm, rds, namespace, timestamp):
    """The DescribeDBInstances entry of the namespace's registered database of `timestamp`, or None."""
    if resources.parameter_value(ssm, naming.ssm_database_parameter(namespace, timestamp)) is None:
        return None
    return resources.describe_instance(rds, naming.db_instance_id(namespace, timestamp))


def describe_restore_source(rds, ssm, namespace, source_namespace, timestamp):
    """What the deploy of `timestamp` starts from: the fit source snapshot, or, when the snapshot
    is gone, the namespace's existing registered database of that timestamp (both carry
    DBInstanceIdentifier and MasterUsername). SourceSnapshotMissing when neither exists."""
    try:
        return describe_source_snapshot(rds, source_namespace, timestamp)
    except SourceSnapshotMissing:
        database = registered_database(ssm, rds, namespace, timestamp)
        if database is None:
            raise
        logger.info(
            "source snapshot %s is gone, but %s exists and is registered: it is redeployed, nothing is restored",
            naming.snapshot_id(source_namespace, timestamp),
            database["DBInstanceIdentifier"],
        )
        return database


@stacker_hook()
def check_source_snapshot(run):
    """pre_build hook: refuse the build unless the source snapshot is fit to restore
    (or the namespace still has the database it would restore)."""
    source = describe_restore_source(
        run.client("rds"), run.client("ssm"), run.namespace, run.settings["source_namespace"], run.timestamp
    )
    if "DBSnapshotIdentifier" not in source:
        return {"status": "database exists", "snapshot": None, "database": source["DBInstanceIdentifier"],
                "master_username": source.get("MasterUsername")}
    logger.info(
        "source snapshot %s: %s %s, encrypted, available",
        source["DBSnapshotIdentifier"],
        source["Engine"],
        source["EngineVersion"],
    )
    return {"status": "valid", "snapshot": source["DBSnapshotIdentifier"], "master_username": source.get("MasterUsername")}
