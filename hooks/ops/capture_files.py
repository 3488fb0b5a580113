"""Capture a namespace's live files with its database snapshot: one data set, one timestamp.

`tenantstack snapshot <ns>` takes the database snapshot `<ns>-<ts>` of the active database
(hooks/ops/capture.py), then copies the files that database's service uses,
`<ns>/files/<active>/`, to `<ns>/files/<ts>/` in the tier's files bucket (hooks/aws/file_copy.py:
server-side, in parallel, verified), while RDS takes the snapshot. A promotion of `<ns>-<ts>`
then copies exactly those files (hooks/steps/files.py).

Consistency: the database snapshot is a point in time; the files are copied from a listing made
after it started. So every file that existed when the snapshot was started and was not deleted
before the listing is captured; a file uploaded meanwhile may be captured too (no row of the
snapshot names it: harmless), and one rewritten meanwhile is captured in one of its versions.
For a strictly consistent pair, stop uploads (or the service) for the few seconds of the listing.

A capture that fails leaves nothing promotable: the snapshot just taken and the files copied so
far are deleted (the live database and files are untouched, so nothing is lost), and the command
is run again; where even that fails, the error names what is left and how to remove it.

AWS functions; they take clients.
"""
import logging

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, naming
from hooks.aws import file_copy, resources
from hooks.errors import FilesCopyFailed, SnapshotNotReady
from hooks.ops import capture

logger = logging.getLogger(__name__)


def captured_from(rds, snapshot):
    """The timestamp of the database `snapshot` was taken of: the data set whose files go with it."""
    described = resources.describe_snapshot(rds, snapshot)
    if described is None:
        raise FilesCopyFailed("snapshot %s is gone; its files cannot be captured: take it again" % snapshot)
    return naming.parse_db_instance_id(described["DBInstanceIdentifier"])[1]


def files_bucket(cfn, namespace):
    """The namespace's tier's files bucket; BadInput (read before the snapshot is taken) when the tier is not built."""
    return file_copy.files_bucket(cfn, naming.parse_namespace(str(namespace)).shared_namespace)


def capture_files(rds, s3, bucket, snapshot, **copy_options):
    """Copy the files of the snapshotted database's data set to the snapshot's timestamp; copy_files' result."""
    namespace, timestamp = naming.parse_snapshot_id(snapshot)
    active = captured_from(rds, snapshot)
    return file_copy.copy_files(s3, bucket, naming.files_prefix(namespace, active), bucket,
                                naming.files_prefix(namespace, timestamp), **copy_options)


def capture_or_discard(rds, s3, bucket, snapshot, wait, progress, **copy_options):
    """capture_files; when it fails, discard the data set (the snapshot, once available, and the copied files)
    and raise FilesCopyFailed saying so."""
    try:
        return capture_files(rds, s3, bucket, snapshot, **copy_options)
    except (FilesCopyFailed, ClientError, BotoCoreError) as error:
        failure = error
    progress("capturing the files failed; discarding snapshot %s and the files copied so far" % snapshot)
    left = discard(rds, s3, bucket, snapshot, wait, progress)
    raise FilesCopyFailed("%s; %s" % (failure, left)) from None


def discard(rds, s3, bucket, snapshot, wait, progress):
    """Delete an incomplete data set this command made: its files, then its snapshot once available. What is left."""
    namespace, timestamp = naming.parse_snapshot_id(snapshot)
    prefix = naming.files_prefix(namespace, timestamp)
    try:
        file_copy.delete_files(s3, bucket, prefix)
        capture.wait_until_available(rds, snapshot, wait, progress)
        aws.or_none(rds.delete_db_snapshot, "DBSnapshotNotFound", DBSnapshotIdentifier=snapshot)
    except (ClientError, BotoCoreError, SnapshotNotReady) as error:
        logger.warning("discarding %s failed: %s", snapshot, error)
        return ("discarding it failed (%s): do not promote %s; delete it (aws rds delete-db-snapshot "
                "--db-snapshot-identifier %s; aws s3 rm --recursive s3://%s/%s) and run "
                "`tenantstack snapshot %s` again" % (error, timestamp, snapshot, bucket, prefix, namespace.name))
    return ("snapshot %s and its partial files were deleted, nothing promotable is left; the live database "
            "and files are untouched: run `tenantstack snapshot %s` again" % (snapshot, namespace.name))
