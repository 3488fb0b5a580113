"""The pure half of hooks/steps/tier_copy.py: what to do so that the snapshot a database restores from is
available under its tier's key (`plan_copy`), and the refusals with what to do about each. The rule and the
reasons behind it are tier_copy's docstring."""
from dataclasses import dataclass

from hooks import naming
from hooks.errors import BadInput, CopyFailed

SKIP, USE_SOURCE, REUSE, WAIT, COPY = "skip", "use source", "reuse copy", "wait for copy", "copy"


@dataclass(frozen=True)
class CopyPlan:
    action: str
    snapshot: str  # what the database restores from: always <namespace>-<ts>
    reason: str


def plan_copy(namespace, source_namespace, timestamp, tier_key, database_exists, source, copy,
              snapshot_copy=naming.COPY_ACROSS_TIERS, registered=None):
    """What to do so that the snapshot the database of `timestamp` restores from
    (naming.restores_from) is available under `tier_key`.

    source, copy: the described snapshots `<source_namespace>-<ts>` and `<namespace>-<ts>`
    (None: absent; the same one when the namespace is its own source). registered: the snapshot
    an existing database's registration says it was restored from (None: unknown). BadInput
    when the existing snapshots cannot serve (another key, another origin; a failed copy is
    CopyFailed), and when an existing database was restored from another snapshot than the
    template now names: CloudFormation would try to replace it.
    """
    target = naming.restores_from(namespace, source_namespace, timestamp, snapshot_copy)
    source_id = naming.snapshot_id(source_namespace, timestamp)
    if database_exists:
        instance = naming.db_instance_id(namespace, timestamp)
        if registered is not None and registered != target:
            raise BadInput(_restored_elsewhere_refusal(instance, registered, target, snapshot_copy))
        return CopyPlan(SKIP, target, "database %s exists: nothing is restored" % instance)
    if source_id == target:
        if source is None or source.get("KmsKeyId") != tier_key:
            raise BadInput(_source_refusal(namespace, source_namespace, timestamp, source, tier_key))
        if source_namespace == str(namespace):
            return CopyPlan(USE_SOURCE, target, "%s is the namespace's own snapshot, already under the tier key"
                            % target)
        return CopyPlan(USE_SOURCE, target, "%s is in the same tier and already under the tier key: no copy"
                        % target)
    if copy is None:
        return CopyPlan(COPY, target, "copying %s to %s under the tier key %s" % (source_id, target, tier_key))
    origin = tag(copy, naming.COPIED_FROM_TAG)
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


def _restored_elsewhere_refusal(instance, registered, target, snapshot_copy):
    other = naming.COPY_ALWAYS if snapshot_copy == naming.COPY_ACROSS_TIERS else naming.COPY_ACROSS_TIERS
    return (
        "database %s was restored from %s, but this deploy's template restores it from %s (env key snapshot_copy "
        "is %s): CloudFormation would try to replace the database (and fail on its fixed identifier). Set "
        "snapshot_copy: %s in the env file while this database is active, or promote to a new db_timestamp; "
        "nothing was changed" % (instance, registered, target, snapshot_copy, other)
    )


def _source_refusal(namespace, source_namespace, timestamp, snapshot, tier_key):
    name = naming.snapshot_id(source_namespace, timestamp)
    if snapshot is None:
        return "source snapshot %s not found" % name
    if source_namespace != str(namespace):
        return (
            "source snapshot %s is in %s's tier and is encrypted with %s, not the tier key %s, so %s cannot "
            "restore from it as it is (a database keeps its snapshot's key). Set snapshot_copy: %s in %s's env "
            "file to copy it under the tier key first, or snapshot %s again from a database under the tier key; "
            "nothing was changed"
            % (name, namespace, snapshot.get("KmsKeyId"), tier_key, namespace, naming.COPY_ALWAYS, namespace,
               source_namespace)
        )
    return (
        "source snapshot %s is the namespace's own snapshot (source_namespace is %s itself) and is encrypted "
        "with %s, not the tier key %s; a database restored from it would keep that key, and a snapshot cannot "
        "be copied onto its own id. Copy it under the tier key with a new timestamp and deploy that one: "
        "aws rds copy-db-snapshot --source-db-snapshot-identifier %s --target-db-snapshot-identifier "
        "%s-<new timestamp> --kms-key-id %s --copy-tags, then -e db_timestamp=<new timestamp>"
        % (name, namespace, snapshot.get("KmsKeyId"), tier_key, name, namespace, tier_key)
    )


def tag(snapshot, key):
    return next((tag.get("Value") for tag in snapshot.get("TagList") or [] if tag.get("Key") == key), None)
