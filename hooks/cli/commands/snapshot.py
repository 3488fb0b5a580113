"""`tenantstack snapshot NAMESPACE [--timeout SECONDS] [--json]`: snapshot the active database and its
files, print the timestamp.

The delivery pipeline's snapshot action (buildspecs/snapshot.yml) runs it to capture what dev
serves and carries the timestamp to qa and prod; `--json` is its machine-readable result.
"""
import datetime

from hooks import aws, naming
from hooks.aws.wait import Wait
from hooks.cli import options, output
from hooks.config import hookargs
from hooks.errors import BadInput
from hooks.ops import capture, capture_files

DEFAULT_TIMEOUT = 3600

EPILOG = """\
Takes the manual snapshot <namespace>-<now> (now in UTC, e.g. xy-0146-dev-20261115t120000z)
of the namespace's active database, tagged with its namespace, copies the files of that
database's data set (<namespace>/files/<active>/ in the tier's files bucket) to
<namespace>/files/<now>/, and waits until the snapshot is available (progress on stderr).
stdout gets the timestamp alone, so a script can use it: it is what a promotion's
db_timestamp names. Exit 2 (nothing changed) when the namespace has no active database or
its tier is not built; exit 4 when the files could not be captured (the snapshot and the
files copied so far are deleted: run it again); exit 1 when the snapshot is not available
within --timeout (it keeps being taken).

--json: stdout gets one JSON document instead (stable): namespace, snapshot (its id),
timestamp (what db_timestamp takes), schema_version.

exit codes: 0 the snapshot is available, 1 not available within --timeout (or it failed),
2 bad input (nothing was changed).

examples:
  tenantstack snapshot xy-0146-dev
  ts=$(tenantstack snapshot xy-0146-dev) && tenantstack promote xy-0146-dev xy-0146-qa --timestamp "$ts"
  tenantstack snapshot xy-0146-dev --json | jq -r .timestamp
"""


def register(commands):
    parser = options.add_command(
        commands,
        "snapshot",
        help="snapshot a namespace's active database as <namespace>-<now>; print the timestamp",
        description="Snapshot NAMESPACE's active database and print the snapshot's timestamp.",
        epilog=EPILOG,
    )
    options.add_namespace(parser, help="namespace whose active database to snapshot, e.g. xy-0146-dev")
    parser.add_argument(
        "--timeout", metavar="SECONDS", default=DEFAULT_TIMEOUT,
        help="how long to wait for the snapshot to become available (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true",
                        help="print namespace, snapshot id and timestamp as JSON (stable) instead of the timestamp")
    parser.set_defaults(run=run)


def run(args):
    namespace = naming.parse_namespace(args.namespace).name
    timeout = hookargs.number_of_seconds(args.timeout, exclusive=True)
    if timeout is None:
        raise BadInput("--timeout %r is invalid: expected a number of seconds > 0" % args.timeout)
    wait = Wait(poll_seconds=hookargs.poll_seconds(), budget_seconds=timeout)
    rds = aws.client("rds")
    files_bucket = capture_files.files_bucket(aws.client("cloudformation"), namespace)
    now = datetime.datetime.now(datetime.timezone.utc)
    timestamp, snapshot = capture.start_snapshot(aws.client("ssm"), rds, namespace, now)
    output.progress("taking snapshot %s of %s's active database" % (snapshot, namespace))
    files = capture_files.capture_or_discard(rds, aws.client("s3"), files_bucket, snapshot, wait, output.progress)
    output.progress("captured %d file(s), %d byte(s) at %s" % (files["count"], files["bytes"], files["target"]))
    capture.wait_until_available(rds, snapshot, wait, output.progress)
    if args.json:
        print(output.json_document(result_json(namespace, snapshot, timestamp)), end="")
    else:
        print(timestamp)
    return 0


def result_json(namespace, snapshot, timestamp):
    """The --json result: what a pipeline carries on (the timestamp is what db_timestamp takes)."""
    return {"namespace": namespace, "snapshot": snapshot, "timestamp": timestamp}
