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

Listing is one GetResources call per namespace (tag Namespace, type rds:snapshot), so it costs the
same with 3 tenants or 3,000; each deletion first describes its snapshot again (status and tags,
which the tagging API reports with a lag). A deletion that fails is reported and the others go
on: pruning is housekeeping, it never fails a promotion that already flipped.

Layers: `plan_retention` (pure), `final_snapshots` / `prune` (AWS, take clients).
"""
import datetime
import logging
from dataclasses import dataclass
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, naming
from hooks.aws import resources

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


# --- AWS -----------------------------------------------------------------------------------------


def final_snapshots(tagging, namespace):
    """(the namespace's final snapshots, ids that a restore copy's CopiedFrom names), from one listing."""
    finals, copied_from = [], set()
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": naming.NAMESPACE_TAG, "Values": [str(namespace)]}], ResourceTypeFilters=["rds:snapshot"])
    for page in pages:
        for mapping in page["ResourceTagMappingList"]:
            tags = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
            if naming.COPIED_FROM_TAG in tags:
                copied_from.add(tags[naming.COPIED_FROM_TAG])
            name = mapping["ResourceARN"].split(":snapshot:", 1)[-1]
            try:
                owner, timestamp, taken_at = naming.parse_final_snapshot_id(name)
            except naming.NamingError:
                continue
            if owner.name == str(namespace) and naming.RETIRED_FROM_TAG in tags:
                finals.append(FinalSnapshot(name, timestamp, taken_at, status=None))
    return finals, copied_from


def prune(rds, tagging, namespace, keep, days, now=None, apply=True):
    """Apply plan_retention to the namespace's final snapshots.

    Returns {"deleted": [ids], "kept": [Verdict], "failed": [(id, error text)], "verdicts": [Verdict]};
    with apply=False nothing is deleted (the verdicts say what would be)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        finals, copied_from = final_snapshots(tagging, namespace)
    except (ClientError, BotoCoreError) as error:  # nothing can be pruned; nothing else is affected
        logger.warning("could not list the final snapshots of %s: %s", namespace, error)
        return {"deleted": [], "kept": [], "failed": [("listing", str(error))], "verdicts": []}
    verdicts = plan_retention(finals, keep, days, now, copied_from)
    result = {"deleted": [], "kept": [v for v in verdicts if v.action == KEEP], "failed": [], "verdicts": verdicts}
    if not apply:
        return result
    for verdict in verdicts:
        if verdict.action != DELETE:
            continue
        snapshot_id = verdict.snapshot.snapshot_id
        try:
            if _delete_if_still_prunable(rds, snapshot_id):
                result["deleted"].append(snapshot_id)
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not delete final snapshot %s: %s", snapshot_id, error)
            result["failed"].append((snapshot_id, str(error)))
    return result


def _delete_if_still_prunable(rds, snapshot_id):
    """Describe it again (the tagging API lags): delete it only if it is available and the pipeline's."""
    described = resources.describe_snapshot(rds, snapshot_id)
    if described is None:
        return False
    tags = {tag["Key"] for tag in described.get("TagList") or ()}
    if described.get("Status") != AVAILABLE or naming.RETIRED_FROM_TAG not in tags:
        logger.info("keeping final snapshot %s: it is %s%s", snapshot_id, described.get("Status"),
                    "" if naming.RETIRED_FROM_TAG in tags else ", without the tag %s" % naming.RETIRED_FROM_TAG)
        return False
    aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot_id)
    logger.info("deleted final snapshot %s (retention)", snapshot_id)
    return True
