"""Rolling a tenant back: to a previous database it still has, or, when it has none, the ways back.

A rollback redeploys the pipeline with db_timestamp=<previous timestamp>. When the
tenant still has that database (retain_previous kept it), nothing is restored: the
database stack is unchanged, the service gets a task definition against it, the stable
gate, the flip and the retirement run as in any deploy.

Targets: databases the pointer named before (newest first) that exist, are registered
and available. With none, `plan` refuses (BadInput, nothing changed) and explains what is
left: the final snapshots of the previous databases, and the exact commands that bring
back the newest previous one's data, as it was promoted (its source snapshot) or as it
was retired (its final snapshot, copied as a snapshot of the tenant itself under a new
timestamp and the tier key, and deployed with that source_namespace: the tenant is then its
own source, so hooks.steps.tier_copy restores that snapshot as it is, provided it is under the
tier key; hence --kms-key-id in the command). The copy is tagged like the pipeline's restore
copies (CopiedFrom: the final snapshot), so retirement deletes it with the database restored
from it, while the final snapshot stays. By that tag, the deploy also copies the retired data
set's files `<ns>/files/<previous>/` to `<ns>/files/<new timestamp>/` (hooks.steps.files).

Layers: `rollback_targets`, `choose`, `restore_instructions` (pure); `final_snapshots`,
`existing_snapshots`, `plan` (AWS, take clients).
"""
from dataclasses import dataclass

from hooks import naming
from hooks.aws import resources
from hooks.errors import BadInput
from hooks.steps import retire
from hooks.tenant import status as tenant_status


@dataclass(frozen=True)
class FinalSnapshot:
    timestamp: str  # of the retired database
    snapshot_id: str
    taken_at: str  # timestamp of the retirement
    status: str


@dataclass(frozen=True)
class Rollback:
    namespace: str
    active: str
    target: str


# --- pure --------------------------------------------------------------------------------


def rollback_targets(databases):
    """Previously active timestamps whose database exists, is registered and available, newest first."""
    by_timestamp = {role.timestamp: role.database for role in databases.roles}
    return [
        timestamp
        for timestamp in databases.previously_active
        if timestamp in by_timestamp
        and by_timestamp[timestamp].registered
        and by_timestamp[timestamp].instance_status == "available"
    ]


def why_not(databases, timestamp):
    """Why `timestamp` is no rollback target, as a phrase."""
    if timestamp == databases.active:
        return "it is the active database already"
    if timestamp not in databases.previously_active:
        return "the pointer never named it (never active)"
    database = next((role.database for role in databases.roles if role.timestamp == timestamp), None)
    if database is None:
        return "its database was retired"
    if not database.registered:
        return "its database is not registered (its stack is %s)" % (database.stack_status or "gone")
    return "its database is %s, not available" % (database.instance_status or "gone")


def choose(namespace, databases, requested):
    """The timestamp to roll back to: `requested`, else the newest target, else None (no target left).

    BadInput when `requested` is no target, naming why and those there are.
    """
    targets = rollback_targets(databases)
    if requested is not None:
        naming.parse_timestamp(requested, "--to")
        if requested not in targets:
            raise BadInput(
                "cannot roll %s back to %s: %s. %s; nothing was changed"
                % (namespace, requested, why_not(databases, requested), _targets_sentence(targets))
            )
        return requested
    if not targets:
        return None
    return targets[0]


def _targets_sentence(targets):
    if not targets:
        return "It has no previous database to roll back to (see `tenantstack rollback` without --to)"
    return "It can roll back to: %s" % ", ".join(targets)


def copy_tags(namespace, final_snapshot_id):
    """The --tags of the rollback's copy: the tenant's tags and CopiedFrom=<final snapshot>, so the copy is a
    restore copy like the pipeline's (status lists it, retirement deletes it with its database)."""
    tags = dict(naming.tags(namespace), **{naming.COPIED_FROM_TAG: final_snapshot_id})
    return " ".join("Key=%s,Value=%s" % item for item in tags.items())


def restore_instructions(namespace, values, env_file, databases, finals, source_snapshots, new_timestamp):
    """The refusal when there is no rollback target: what is left, and the commands to use it.

    `values`: the tenant's settings; `source_snapshots`: the ids of those source snapshots that exist.
    """
    source_namespace, retain_previous = values["source_namespace"], values["retain_previous"]
    lines = [
        "%s has no previous database to roll back to (retain_previous is %d in %s; active: %s); nothing was changed."
        % (namespace, retain_previous, env_file, databases.active or "none"),
    ]
    if finals:
        lines.append("Final snapshots of its previous databases, newest first:")
        lines += ["  %s  %s" % (final.timestamp, final.snapshot_id) for final in finals]
    else:
        lines.append("No final snapshot of a previous database exists.")
    previous = databases.previously_active[0] if databases.previously_active else None
    if previous is None:
        lines.append("The pointer never named another database: there is nothing to go back to.")
        return "\n".join(lines)
    lines.append("To bring back the data of %s, the database before the active one:" % previous)
    source = naming.snapshot_id(source_namespace, previous)
    if source in source_snapshots:
        lines += [
            "  as it was promoted (its source snapshot %s exists):" % source,
            "    tenantstack deploy %s -e db_timestamp=%s" % (env_file, previous),
        ]
    else:
        lines.append("  as it was promoted: not possible, its source snapshot %s is gone" % source)
    final = next((final for final in finals if final.timestamp == previous), None)
    if final is not None:
        copy = naming.snapshot_id(namespace, new_timestamp)
        lines += [
            "  as it was when it was retired (final snapshot %s, restored as %s):" % (final.snapshot_id, new_timestamp),
            "    aws rds copy-db-snapshot --source-db-snapshot-identifier %s --target-db-snapshot-identifier %s "
            "--kms-key-id %s --tags %s" % (final.snapshot_id, copy, naming.db_kms_alias(values["shared_namespace"]),
                                           copy_tags(namespace, final.snapshot_id)),
            "    aws rds wait db-snapshot-available --db-snapshot-identifier %s" % copy,
            "    tenantstack deploy %s -e source_namespace=%s -e db_timestamp=%s"
            % (env_file, namespace, new_timestamp),
        ]
    lines.append(
        "Then set the same db_timestamp (and source_namespace) in %s, or its next deploy moves the tenant forward "
        "again. To keep previous databases for a rollback, raise retain_previous there." % env_file
    )
    return "\n".join(lines)


# --- AWS ---------------------------------------------------------------------------------


def final_snapshots(rds, namespace, timestamps):
    """The available final snapshots of the databases of `timestamps`, newest database first."""
    finals = []
    for timestamp in timestamps:
        for snapshot in retire.final_snapshots_of(rds, namespace, timestamp):
            _, _, taken_at = naming.parse_final_snapshot_id(snapshot["DBSnapshotIdentifier"])
            if snapshot["Status"] == "available":
                finals.append(FinalSnapshot(timestamp, snapshot["DBSnapshotIdentifier"], taken_at, snapshot["Status"]))
    return sorted(finals, key=lambda final: (final.timestamp, final.taken_at), reverse=True)


def existing_snapshots(rds, snapshot_ids):
    """Those of `snapshot_ids` that exist (one call per id: IAM authorises each by its ARN)."""
    return {snapshot_id for snapshot_id in snapshot_ids if resources.describe_snapshot(rds, snapshot_id) is not None}


def plan(clients, namespace, values, env_file, requested, now):
    """The Rollback to do, or BadInput explaining why none is possible and what is left."""
    databases = tenant_status.read_databases(clients, namespace, values["shared_namespace"], values["retain_previous"])
    if databases.active is None:
        raise BadInput(
            "%s has no active database (%s is not set): there is nothing to roll back from; nothing was changed"
            % (namespace, naming.ssm_active_parameter(namespace))
        )
    target = choose(namespace, databases, requested)
    if target is not None:
        return Rollback(namespace, databases.active, target)
    previous = databases.previously_active
    finals = final_snapshots(clients.rds, namespace, previous)
    newest = [naming.snapshot_id(values["source_namespace"], timestamp) for timestamp in previous[:1]]
    sources = existing_snapshots(clients.rds, newest)
    new_timestamp = naming.format_timestamp(now)
    raise BadInput(restore_instructions(namespace, values, env_file, databases, finals, sources, new_timestamp))
