"""pre_build: the files of the data set travel with its database, before the new service starts.

A data set is a database snapshot and the application files its rows point at, named by one
timestamp (docs/pipeline.md, "Files travel with the data"): the files of `<ns>-<ts>` live at
`<ns>/files/<ts>/` (naming.files_prefix) in the namespace's tier bucket, and the service of `<ts>`
gets that prefix as APP_FILES_PREFIX together with the database of `<ts>`. So a promotion of
`<source>-<ts>` copies `<source>/files/<ts>/` (the source tier's bucket) to `<namespace>/files/<ts>/`
(its own tier's bucket) right after the database's snapshot copy (hooks.steps.tier_copy) and before
any stack changes: the old service keeps its own prefix, the pointer is untouched, and a copy
that fails or does not verify stops the run (FilesCopyFailed) with nothing flipped.

When the namespace is its own source, its files of `<ts>` are already there (a dev namespace
deploying its own capture), except after a rollback from a final snapshot (hooks/ops/rollback.py):
the restore snapshot `<namespace>-<ts>` is then a copy of `<namespace>-db-<old>-final-<taken>`
(tag CopiedFrom), and the files of that retired data set, `<namespace>/files/<old>/` (kept as long
as its final snapshot: hooks.steps.retention), are copied to `<namespace>/files/<ts>/`.

Nothing is copied when:
- the namespace is its own source and its restore snapshot is no copy of a final snapshot;
- the database of `<ts>` exists (a re-run after it was made, a rollback to a retained database):
  its files are the data set it serves and may have changed since, so they are never overwritten;
- the target already holds every object (hooks/aws/file_plan.py: a re-run copies only what is
  missing). A source without files is a valid data set: 0 objects copied.

Layers: `plan_files` (pure), `ensure_files` (AWS, takes clients), `copy_data_set_files` (the hook).
"""
import logging

from hooks import naming
from hooks.aws import file_copy, resources
from hooks.config import hookargs
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

OWN_SOURCE, DATABASE_EXISTS, COPY = "own source", "database exists", "copy"
MAX_WORKERS = 64


def plan_files(namespace, source_namespace, timestamp, database_exists, copied_from=None):
    """(action, reason, source prefix or None): whether a data set's files must be copied to
    `<namespace>/files/<ts>/`, and from where. copied_from: the CopiedFrom tag of the restore snapshot
    `<namespace>-<ts>` (read only when the namespace is its own source)."""
    target = naming.files_prefix(namespace, timestamp)
    if database_exists:
        return DATABASE_EXISTS, "database %s exists: %s is the data set it serves, never overwritten" % (
            naming.db_instance_id(namespace, timestamp), target), None
    if str(source_namespace) != str(namespace):
        source = naming.files_prefix(source_namespace, timestamp)
        return COPY, "copying %s to %s" % (source, target), source
    retired = _retired_timestamp(namespace, copied_from)
    if retired is None:
        return OWN_SOURCE, "%s is its own source: its files of %s are %s already" % (namespace, timestamp, target), None
    source = naming.files_prefix(namespace, retired)
    return COPY, "copying %s to %s: %s-%s is a copy of the final snapshot %s" % (
        source, target, namespace, timestamp, copied_from), source


def _retired_timestamp(namespace, snapshot_id):
    """The timestamp of the retired database of THIS namespace that `snapshot_id` is a final snapshot of, else None."""
    try:
        owner, timestamp, _ = naming.parse_final_snapshot_id(snapshot_id)
    except naming.NamingError:
        return None
    return timestamp if owner.name == str(namespace) else None


def ensure_files(s3, cfn, rds, namespace, source_namespace, shared_namespace, timestamp,
                 workers=file_copy.DEFAULT_WORKERS, **copy_options):
    """Make `<namespace>/files/<ts>/` hold the data set's files (see the module); a dict with "status"."""
    exists = resources.describe_instance(rds, naming.db_instance_id(namespace, timestamp)) is not None
    copied_from = None
    if not exists and str(source_namespace) == str(namespace):
        restore = resources.describe_snapshot(rds, naming.restore_snapshot_id(namespace, timestamp)) or {}
        copied_from = next((tag.get("Value") for tag in restore.get("TagList") or ()
                            if tag.get("Key") == naming.COPIED_FROM_TAG), None)
    action, reason, source = plan_files(namespace, source_namespace, timestamp, exists, copied_from)
    logger.info("files of %s: %s", timestamp, reason)
    if action != COPY:
        return {"status": action, "target": naming.files_prefix(namespace, timestamp)}
    source_tier = naming.parse_namespace(str(source_namespace)).shared_namespace
    result = file_copy.copy_files(
        s3, file_copy.files_bucket(cfn, source_tier), source,
        file_copy.files_bucket(cfn, shared_namespace), naming.files_prefix(namespace, timestamp),
        workers=workers, **copy_options)
    logger.info("files of %s: %d copied, %d already there; %d object(s), %d byte(s) verified", timestamp,
                result["copied"], result["skipped"], result["count"], result["bytes"])
    return dict(result, status=action)


WORKERS = hookargs.Argument(
    lambda value: int(value) if str(value).isdigit() and 1 <= int(value) <= MAX_WORKERS else None,
    "expected a whole number of objects copied at a time, from 1 to %d" % MAX_WORKERS,
    file_copy.DEFAULT_WORKERS,
)


@stacker_hook(holds_lock=True, workers=WORKERS)
def copy_data_set_files(run, workers):
    """pre_build hook: copy the data set's files to the namespace's prefix of its timestamp.

    A failure releases the deploy lock (nothing flipped; what was copied stays and the next run
    skips it)."""
    return ensure_files(
        run.client("s3"),
        run.client("cloudformation"),
        run.client("rds"),
        run.namespace,
        run.settings["source_namespace"],
        run.shared_namespace,
        run.timestamp,
        workers=workers,
    )
