"""Retention of a source namespace's snapshots: the data the dev team captures to promote.

Every `tenantstack snapshot xy-0146-dev` leaves a manual snapshot `xy-0146-dev-<ts>`, and
they count against the account's quota of manual snapshots like any other. They are not
the pipeline's to delete lightly: within a tier a database restores from the source snapshot
itself (naming.restores_from), so qa's running database was made from dev's snapshot and
its stack names it; an env file names the one the next deploy restores. So `tenantstack
reap <source namespace>` prunes them by one rule (`plan_source_retention`, pure):

- kept, whatever its age: one that any environment of the project (or any env file naming
  this namespace as its source) runs, retains or will deploy: a registered database
  restored from it (active, retained or in flight), the active pointer naming its timestamp,
  a deploy lock targeting it, or an env file's db_timestamp naming it;
- kept: the newest `keep_source_snapshots` (env key of the source namespace, default 5), and
  every one younger than `keep_source_snapshot_days` (default 14);
- kept: one that is not available, and one without the namespace's tag or with a CopiedFrom
  tag (a restore copy: hooks.steps.tier_copy deletes those with their database);
- the rest are deleted, each described again first, and with it the files captured with it
  (`<ns>/files/<ts>/`, hooks/ops/capture_files.py), those first: a failure to delete them keeps
  the snapshot, so the next run retries both.

Only reap prunes them, not a deploy's retirement step: deciding needs every environment's
pointer, databases and lock, which a namespace's deploy role may not read (it reaches its own
namespace only).

Layers: `plan_source_retention` (pure), `references` / `source_snapshots` / `prune` (AWS and the
env files, take clients).
"""
import datetime
import logging
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, naming
from hooks.aws import file_copy, resources
from hooks.config import envfile
from hooks.errors import BadInput
from hooks.lock import store
from hooks.tenant import inventory
from hooks.steps.retention import AVAILABLE, DELETE, KEEP, FinalSnapshot as Snapshot, Verdict

logger = logging.getLogger(__name__)


def plan_source_retention(snapshots, keep, days, now, referenced):
    """A Verdict per Snapshot (timestamp: when it was taken), newest first.

    referenced: {timestamp: why an environment needs it}."""
    cutoff = now - datetime.timedelta(days=days)
    ordered = sorted(snapshots, key=lambda snapshot: (snapshot.timestamp, snapshot.snapshot_id), reverse=True)
    verdicts = []
    for rank, snapshot in enumerate(ordered, start=1):
        if snapshot.timestamp in referenced:
            verdict = (KEEP, referenced[snapshot.timestamp])
        elif rank <= keep:
            verdict = (KEEP, "one of the newest %d" % keep)
        elif naming.timestamp_datetime(snapshot.timestamp) > cutoff:
            verdict = (KEEP, "younger than %d days" % days)
        elif snapshot.status not in (AVAILABLE, None):
            verdict = (KEEP, "it is %s, not available" % snapshot.status)
        else:
            verdict = (DELETE, "older than %d days, not one of the newest %d, and no environment runs, retains or "
                               "names it" % (days, keep))
        verdicts.append(Verdict(snapshot, *verdict))
    return verdicts


# --- what the environments need -------------------------------------------------------------------


def dependents(source, environments):
    """The env files (path -> settings) of the directory and the namespaces that may restore from `source`:
    itself, every env file naming it as source, and its project's environments (their default source)."""
    source = naming.parse_namespace(str(source))
    files = {}
    for path in sorted(Path(environments).glob("*" + naming.ENV_FILE_SUFFIX)):
        try:
            if envfile.read(path).get("namespace") in naming.SHARED_NAMESPACES:
                continue
            files[str(path)] = envfile.load(path)
        except BadInput as error:
            raise BadInput("%s\nNothing was pruned: every env file must be readable to know which snapshots "
                           "the environments need." % error) from None
    namespaces = {source.name} | {settings["namespace"] for settings in files.values()
                                  if settings["source_namespace"] == source.name}
    if source.default_source_namespace == source.name:
        namespaces |= {"%s-%s" % (source.project_key, environment) for environment in naming.ENVIRONMENTS}
    return files, sorted(namespaces)


def references(ssm, source, environments):
    """{timestamp: why} for every snapshot `<source>-<ts>` an environment runs, retains or will deploy."""
    source = str(source)
    files, namespaces = dependents(source, environments)
    needed = {}
    for path, settings in files.items():
        if settings["source_namespace"] == source:
            needed.setdefault(settings["db_timestamp"], "%s names it (db_timestamp)" % path)
    for namespace in namespaces:
        for timestamp, record in inventory.registrations(ssm, namespace).items():
            if naming.snapshot_id(source, timestamp) in restored_from(record):
                needed.setdefault(timestamp, "database %s holds its data"
                                  % naming.db_instance_id(namespace, timestamp))
        active = resources.parameter_value(ssm, naming.ssm_active_parameter(namespace))
        if active:
            needed.setdefault(active, "%s's active pointer names its timestamp" % namespace)
        lock = store.read(ssm, namespace)
        if lock is not None and lock.target_timestamp:
            needed.setdefault(lock.target_timestamp, "%s's deploy lock targets it" % namespace)
    return needed


def restored_from(record):
    """The snapshots a database registration names: the source snapshot and the one restored (the same
    within a tier, the copy across tiers)."""
    return {record.get("source"), record.get("snapshot")} - {None}


# --- the snapshots --------------------------------------------------------------------------------


def source_snapshots(tagging, namespace):
    """The namespace's own manual snapshots `<namespace>-<ts>` (tag Namespace, no CopiedFrom), from one listing."""
    snapshots = []
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": naming.NAMESPACE_TAG, "Values": [str(namespace)]}], ResourceTypeFilters=["rds:snapshot"])
    for page in pages:
        for mapping in page["ResourceTagMappingList"]:
            tags = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
            name = mapping["ResourceARN"].split(":snapshot:", 1)[-1]
            timestamp = name[len(str(namespace)) + 1:]
            if naming.COPIED_FROM_TAG in tags or not _is_snapshot_of(name, namespace, timestamp):
                continue
            snapshots.append(Snapshot(name, timestamp, timestamp, status=None))
    return snapshots


def _is_snapshot_of(name, namespace, timestamp):
    try:
        return name == naming.snapshot_id(namespace, timestamp)
    except naming.NamingError:  # a final snapshot <ns>-db-..., or a name of someone else's
        return False


def prune(rds, tagging, ssm, namespace, keep, days, environments, now=None, apply=True, files=None):
    """Apply plan_source_retention. {"deleted", "kept", "failed": [(id, why)], "verdicts", "files"} like
    retention.prune. files: (s3 client, the tier's files bucket): a snapshot's captured files
    `<ns>/files/<ts>/` are deleted first, and a failure to delete them keeps the snapshot (None: files are
    left alone). BadInput (nothing pruned) when an env file cannot be read."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        snapshots = source_snapshots(tagging, namespace)
    except (ClientError, BotoCoreError) as error:
        logger.warning("could not list the snapshots of %s: %s", namespace, error)
        return {"deleted": [], "kept": [], "failed": [("listing", str(error))], "verdicts": []}
    verdicts = plan_source_retention(snapshots, keep, days, now, references(ssm, namespace, environments)
                                     if snapshots else {})
    doomed = {v.snapshot.timestamp: naming.files_prefix(namespace, v.snapshot.timestamp)
              for v in verdicts if v.action == DELETE}
    result = {"deleted": [], "kept": [v for v in verdicts if v.action == KEEP], "failed": [], "verdicts": verdicts,
              "files": doomed if files else {}}
    for verdict in verdicts if apply else ():
        if verdict.action != DELETE:
            continue
        snapshot_id = verdict.snapshot.snapshot_id
        try:
            described = resources.describe_snapshot(rds, snapshot_id)
            tags = {tag["Key"] for tag in (described or {}).get("TagList") or ()}
            if described is None or described.get("Status") != AVAILABLE or naming.COPIED_FROM_TAG in tags:
                continue
            if files:  # the captured files first: a snapshot without its files is never left behind
                file_copy.delete_files(files[0], files[1], doomed[verdict.snapshot.timestamp])
            aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
            logger.info("deleted source snapshot %s (retention)", snapshot_id)
            result["deleted"].append(snapshot_id)
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not delete source snapshot %s: %s", snapshot_id, error)
            result["failed"].append((snapshot_id, str(error)))
    return result
