"""Retention of a namespace's final snapshots, so that nothing piles up and nothing needed goes.

Every retirement leaves a final snapshot `<ns>-db-<ts>-final-<taken>` (hooks/steps/retire_database.py).
RDS allows 100 manual snapshots per Region by default: kept forever, a few hundred tenants' final
snapshots fill the quota, and from then on every retirement (and with it every promotion's
clean-up) fails. So the retirement step, after it retired, and `tenantstack reap --apply` prune
them by one rule (`plan_retention`, pure), per namespace:

- the newest `keep_final_snapshots` (env key, default 3) by the time they were taken are kept:
  the rollback's ways back (hooks/ops/rollback.py) start from the newest;
- every one younger than `keep_final_snapshot_days` (env key, default 30) days is kept;
- every one a restore copy of the namespace was made from (tag CopiedFrom naming it: a rollback
  deployed from it) is kept while that copy exists;
- every one that is not `available` (still being created, or failed) is kept: someone looks at it;
- only a snapshot the pipeline made (tag RetiredFrom) is ever deleted; the rest go.

The files of a data set go with its last final snapshot (docs/pipeline.md, "Retention of final
snapshots"): a retired timestamp's files `<ns>/files/<ts>/` (naming.files_prefix) stay as long as
any final snapshot of `<ns>-db-<ts>` is kept, and go in the same decision as the last one
(`files_to_delete`, pure), first: a failure to delete them is reported and that snapshot kept,
so the next run retries both. Never the files of a timestamp in use: one whose database exists
(registered), the active one, a deploy's target, or one the namespace has a snapshot
`<ns>-<ts>` of (a capture other namespaces promote from, or a restore copy).

Listing is one GetResources call per namespace (tag Namespace, type rds:snapshot), so it costs the
same with 3 tenants or 3,000; each deletion first describes its snapshot again (status and tags,
which the tagging API reports with a lag). A deletion that fails is reported and the others go
on: pruning is housekeeping, it never fails a promotion that already flipped.

Layers: `plan_retention`, `files_to_delete` (pure), `final_snapshots` / `files_in_use` / `prune` (AWS, take
clients).
"""
import datetime
import logging
from dataclasses import dataclass
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, naming
from hooks.aws import file_copy, resources
from hooks.errors import TenantstackError
from hooks.lock import deploy_lock
from hooks.tenant import inventory

logger = logging.getLogger(__name__)

KEEP, DELETE = "keep", "delete"
AVAILABLE = "available"


@dataclass(frozen=True)
class FinalSnapshot:
    snapshot_id: str
    timestamp: str  # of the retired database
    taken_at: str  # when the retirement took it (from its id)
    status: Optional[str] = AVAILABLE  # None: not described (the listing does not say)


@dataclass(frozen=True)
class Verdict:
    snapshot: FinalSnapshot
    action: str  # KEEP or DELETE
    reason: str


# --- the rule (pure) -------------------------------------------------------------------------


def plan_retention(finals, keep, days, now, copied_from=frozenset()):
    """A Verdict per FinalSnapshot, newest first.

    keep: how many of the newest are kept; days: those younger are kept; now: aware datetime;
    copied_from: ids of final snapshots a live restore copy names in its CopiedFrom tag."""
    cutoff = now - datetime.timedelta(days=days)
    ordered = sorted(finals, key=lambda final: (final.taken_at, final.snapshot_id), reverse=True)
    verdicts = []
    for rank, final in enumerate(ordered, start=1):
        if rank <= keep:
            verdict = (KEEP, "one of the newest %d" % keep)
        elif naming.timestamp_datetime(final.taken_at) > cutoff:
            verdict = (KEEP, "younger than %d days" % days)
        elif final.snapshot_id in copied_from:
            verdict = (KEEP, "a restore copy was made from it")
        elif final.status not in (AVAILABLE, None):
            verdict = (KEEP, "it is %s, not available" % final.status)
        else:
            verdict = (DELETE, "older than %d days and not one of the newest %d" % (days, keep))
        verdicts.append(Verdict(final, *verdict))
    return verdicts


def files_to_delete(verdicts, in_use):
    """The timestamps whose files go with this decision: every final snapshot of the timestamp is to be
    deleted (none kept), and the timestamp is not in use (see the module)."""
    actions = {}
    for verdict in verdicts:
        actions.setdefault(verdict.snapshot.timestamp, set()).add(verdict.action)
    return {timestamp for timestamp, seen in actions.items() if seen == {DELETE} and timestamp not in in_use}


@dataclass(frozen=True)
class Files:
    """Where a namespace's data-set files are (its tier's files bucket), and the timestamps in use."""

    s3: object
    bucket: str
    in_use: frozenset


# --- AWS -----------------------------------------------------------------------------------------


def final_snapshots(tagging, namespace, snapshot_timestamps=None):
    """(the namespace's final snapshots, ids that a restore copy's CopiedFrom names), from one listing.
    snapshot_timestamps: a set that gets the timestamp of every snapshot `<namespace>-<ts>` listed."""
    finals, copied_from = [], set()
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": naming.NAMESPACE_TAG, "Values": [str(namespace)]}], ResourceTypeFilters=["rds:snapshot"])
    for page in pages:
        for mapping in page["ResourceTagMappingList"]:
            tags = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
            if naming.COPIED_FROM_TAG in tags:
                copied_from.add(tags[naming.COPIED_FROM_TAG])
            name = mapping["ResourceARN"].split(":snapshot:", 1)[-1]
            if snapshot_timestamps is not None:
                _add_own_snapshot_timestamp(snapshot_timestamps, namespace, name)
            try:
                owner, timestamp, taken_at = naming.parse_final_snapshot_id(name)
            except naming.NamingError:
                continue
            if owner.name == str(namespace) and naming.RETIRED_FROM_TAG in tags:
                finals.append(FinalSnapshot(name, timestamp, taken_at, status=None))
    return finals, copied_from


def _add_own_snapshot_timestamp(found, namespace, name):
    try:
        owner, timestamp = naming.parse_snapshot_id(name)
    except naming.NamingError:
        return
    if owner.name == str(namespace):
        found.add(timestamp)


def files_in_use(cfn, ssm, s3, namespace, shared_namespace):
    """Files of the namespace: its tier's files bucket, and the timestamps whose databases are registered,
    the active one and the deploy lock's target (the listing adds those with a snapshot `<ns>-<ts>`)."""
    in_use = set(inventory.registered_timestamps(ssm, namespace))
    in_use.add(inventory.active_timestamp(ssm, namespace))
    record = deploy_lock.read(ssm, namespace)
    if record is not None:
        in_use.add(record.target_timestamp)
    return Files(s3, file_copy.files_bucket(cfn, shared_namespace), frozenset(in_use - {None}))


def prune_namespace(rds, tagging, cfn, ssm, s3, namespace, shared_namespace, keep, days, now=None, apply=True):
    """prune with the namespace's files (files_in_use). When those cannot be read, nothing is pruned: the
    failure is reported ("files"), as a listing's is."""
    try:
        files = files_in_use(cfn, ssm, s3, namespace, shared_namespace)
    except (ClientError, BotoCoreError, TenantstackError) as error:
        logger.warning("could not read where the files of %s are; pruning nothing: %s", namespace, error)
        return {"deleted": [], "kept": [], "failed": [("files", str(error))], "verdicts": [], "files": {}}
    return prune(rds, tagging, namespace, keep, days, now, apply, files)


def prune(rds, tagging, namespace, keep, days, now=None, apply=True, files=None):
    """Apply plan_retention to the namespace's final snapshots, and files_to_delete to their files (files: a
    Files; None leaves every file alone).

    Returns {"deleted": [ids], "kept": [Verdict], "failed": [(id or prefix, error text)], "verdicts": [Verdict],
    "files": {timestamp: prefix whose files go (apply=False) or went}}; with apply=False nothing is deleted."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    snapshot_timestamps = set()
    try:
        finals, copied_from = final_snapshots(tagging, namespace, snapshot_timestamps)
    except (ClientError, BotoCoreError) as error:  # nothing can be pruned; nothing else is affected
        logger.warning("could not list the final snapshots of %s: %s", namespace, error)
        return {"deleted": [], "kept": [], "failed": [("listing", str(error))], "verdicts": [], "files": {}}
    verdicts = plan_retention(finals, keep, days, now, copied_from)
    doomed = files_to_delete(verdicts, files.in_use | snapshot_timestamps) if files else set()
    result = {"deleted": [], "kept": [v for v in verdicts if v.action == KEEP], "failed": [], "verdicts": verdicts,
              "files": {timestamp: naming.files_prefix(namespace, timestamp) for timestamp in sorted(doomed)}}
    if not apply:
        return result
    gone, failed_files = set(), set()
    for verdict in verdicts:
        if verdict.action != DELETE:
            continue
        snapshot_id, timestamp = verdict.snapshot.snapshot_id, verdict.snapshot.timestamp
        try:
            if not _still_prunable(rds, snapshot_id):
                continue
            if timestamp in doomed and timestamp not in gone | failed_files:
                doomed_ids = {v.snapshot.snapshot_id for v in verdicts
                              if v.action == DELETE and v.snapshot.timestamp == timestamp}
                if _other_final_snapshots(rds, namespace, timestamp, doomed_ids):
                    doomed.discard(timestamp)  # one the listing did not show yet: the files stay with it
                else:
                    _delete_files(files, namespace, timestamp, result, gone, failed_files)
            if timestamp in failed_files:
                continue  # kept, so the next run deletes the files, then it
            aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
            logger.info("deleted final snapshot %s (retention)", snapshot_id)
            result["deleted"].append(snapshot_id)
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not delete final snapshot %s: %s", snapshot_id, error)
            result["failed"].append((snapshot_id, str(error)))
    result["files"] = {timestamp: prefix for timestamp, prefix in result["files"].items() if timestamp in gone}
    return result


def _other_final_snapshots(rds, namespace, timestamp, doomed_ids):
    """Final snapshots of the database of `timestamp` beyond `doomed_ids`, asked of RDS itself (the tagging
    API lags: a final snapshot taken moments ago may not be listed yet)."""
    instance_id = naming.db_instance_id(namespace, timestamp)
    pages = rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=instance_id,
                                                               SnapshotType="manual")
    found = {snapshot["DBSnapshotIdentifier"] for page in pages for snapshot in page["DBSnapshots"]}
    others = sorted(snapshot for snapshot in found - set(doomed_ids)
                    if naming.is_final_snapshot_of(snapshot, namespace, timestamp))
    if others:
        logger.info("keeping the files of %s: final snapshot(s) %s of it remain", timestamp, ", ".join(others))
    return others


def _delete_files(files, namespace, timestamp, result, gone, failed):
    prefix = naming.files_prefix(namespace, timestamp)
    try:
        count = file_copy.delete_files(files.s3, files.bucket, prefix)
    except (ClientError, BotoCoreError) as error:
        logger.warning("could not delete the files s3://%s/%s; keeping the final snapshots of %s: %s",
                       files.bucket, prefix, timestamp, error)
        result["failed"].append((prefix, str(error)))
        failed.add(timestamp)
        return
    logger.info("deleted %d file(s) under s3://%s/%s with the last final snapshot of %s (retention)",
                count, files.bucket, prefix, timestamp)
    gone.add(timestamp)


def _delete_if_still_prunable(rds, snapshot_id):
    """Delete it only if it is still prunable (_still_prunable); whether it was deleted."""
    if not _still_prunable(rds, snapshot_id):
        return False
    aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
    logger.info("deleted final snapshot %s (retention)", snapshot_id)
    return True


def _still_prunable(rds, snapshot_id):
    """Describe it again (the tagging API lags): prunable only if it is available and the pipeline's."""
    described = resources.describe_snapshot(rds, snapshot_id)
    if described is None:
        return False
    tags = {tag["Key"] for tag in described.get("TagList") or ()}
    if described.get("Status") != AVAILABLE or naming.RETIRED_FROM_TAG not in tags:
        logger.info("keeping final snapshot %s: it is %s%s", snapshot_id, described.get("Status"),
                    "" if naming.RETIRED_FROM_TAG in tags else ", without the tag %s" % naming.RETIRED_FROM_TAG)
        return False
    return True
