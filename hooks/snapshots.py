"""pre_build: the source snapshot must exist, be available, and hold the right data.

Layers: `snapshot_problems` (pure: judges a described snapshot), `describe_source_snapshot`
(AWS), `check_source_snapshot` (the stacker hook). Any problem fails the build before a
single resource changes, naming the snapshot and what was expected.
"""
import logging

from botocore.exceptions import ClientError

from hooks import aws, naming, settings
from hooks.errors import BadInput
from hooks.hookargs import check_arguments, environment_of

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
    origin = _origin_namespaces(snapshot)
    if not origin:
        problems.append(
            "nothing shows it belongs to %s: its DB instance %r does not follow <namespace>-db-<timestamp> and it "
            "has no Namespace tag" % (source_namespace, snapshot.get("DBInstanceIdentifier"))
        )
    elif origin != {source_namespace}:
        problems.append("it holds data of %s, not of %s" % (", ".join(sorted(origin)), source_namespace))
    return problems


def _origin_namespaces(snapshot):
    """The namespaces the snapshot's own metadata names (instance id, Namespace tag)."""
    found = set()
    try:
        found.add(naming.parse_db_instance_id(snapshot.get("DBInstanceIdentifier"))[0].name)
    except naming.NamingError:
        pass
    for tag in snapshot.get("TagList", []):
        if tag.get("Key") == "Namespace":
            found.add(tag.get("Value"))
    return found


def describe_source_snapshot(rds, source_namespace, timestamp):
    """The described snapshot <source_namespace>-<timestamp>; BadInput if missing or unfit."""
    snapshot_id = naming.snapshot_id(source_namespace, timestamp)
    try:
        snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"][0]
    except ClientError as error:
        if aws.error_code(error) != "DBSnapshotNotFound":
            raise
        raise BadInput(
            "source snapshot %s not found: db_timestamp %s names the snapshot %s takes as "
            "<namespace>-<timestamp>; check the timestamp, or list the snapshots with "
            "`aws rds describe-db-snapshots --snapshot-type manual --query 'DBSnapshots[].DBSnapshotIdentifier'`"
            % (snapshot_id, timestamp, source_namespace)
        ) from None
    problems = snapshot_problems(snapshot, source_namespace)
    if problems:
        raise BadInput("source snapshot %s cannot be promoted: %s" % (snapshot_id, "; ".join(problems)))
    return snapshot


def check_source_snapshot(context, provider, **kwargs):
    """pre_build hook: refuse the build unless the source snapshot is fit to restore."""
    check_arguments("check_source_snapshot", kwargs, accepted=())
    values = settings.load_settings(environment_of(context))
    snapshot = describe_source_snapshot(
        aws.client("rds", provider.region), values["source_namespace"], values["db_timestamp"]
    )
    logger.info(
        "source snapshot %s: %s %s, encrypted, available",
        snapshot["DBSnapshotIdentifier"],
        snapshot["Engine"],
        snapshot["EngineVersion"],
    )
    return {"status": "valid", "snapshot": snapshot["DBSnapshotIdentifier"], "master_username": snapshot.get("MasterUsername")}
