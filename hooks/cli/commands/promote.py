"""`tenantstack promote FROM TO [--deploy]`: FROM's data timestamp into TO's env file, as a diff."""
import sys

from hooks import aws, naming
from hooks.cli import options
from hooks.cli.commands.deploy import cli_exit_code
from hooks.config import envfile
from hooks.ops import promotion
from hooks.run import deploy

EPILOG = """\
Reads the timestamp FROM serves (SSM /<FROM>/db/active) and writes it into TO's env
file (DIR/<TO>.env) as db_timestamp: only that line changes (it is added if missing),
and the change is printed as a unified diff for review. The source snapshot
<project dev namespace>-<timestamp> must exist and be fit to restore. Exit 2 when FROM
has no active database, when TO restores from another project's data, or the snapshot
is missing; exit 0 with "already at" when TO's env file has that timestamp.

With --deploy the tenant is deployed from the changed file at once (docs/deploy.md);
the exit code is then the deploy's (3 lock held, 4 deploy failed). A deploy re-runs
even when the file was already at the timestamp, so a failed one can simply be retried.

examples:
  tenantstack promote xy-0146-qa xy-0146-prod
  tenantstack promote xy-0146-qa xy-0146-prod --deploy
  ts=$(tenantstack snapshot xy-0146-dev) && tenantstack promote xy-0146-dev xy-0146-qa --timestamp "$ts"
"""


def register(commands):
    parser = options.add_command(
        commands,
        "promote",
        help="write FROM's active timestamp into TO's env file (a one-line diff); --deploy runs it",
        description="Promote the data FROM serves to TO: a one-line db_timestamp change in TO's env file.",
        epilog=EPILOG,
    )
    parser.add_argument("source", metavar="FROM", help="namespace whose data to promote, e.g. xy-0146-qa")
    parser.add_argument("target", metavar="TO", help="namespace to promote to, e.g. xy-0146-prod")
    parser.add_argument(
        "--timestamp", metavar="TS",
        help="promote this snapshot of FROM (FROM must be the project's dev namespace) instead of FROM's active one",
    )
    parser.add_argument("--deploy", action="store_true", help="then deploy TO (progress and stacker output on stderr)")
    options.add_environments(parser)
    parser.set_defaults(run=run)


def run(args):
    if args.timestamp is not None:
        naming.parse_timestamp(args.timestamp, "--timestamp")
    # A file without db_timestamp gets the line; its other keys are checked before any call.
    stand_in = args.timestamp or envfile.STAND_IN_TIMESTAMP
    path, target = envfile.load_tenant(args.target, environments=args.environments, timestamp_if_missing=stand_in)
    change = promotion.plan(aws.client("ssm"), aws.client("rds"), args.source, path, target, args.timestamp)
    if change.unchanged:
        print("%s is already at db_timestamp %s (%s's); nothing was changed" % (path, change.timestamp, change.source))
    else:
        envfile.write_text(path, change.new_text)
        print(change.diff(), end="")
        print("promoted %s to %s: %s now sets db_timestamp %s (was %s)"
              % (change.source, change.target, path, change.timestamp, change.current or "not set"))
    if not args.deploy:
        if not change.unchanged:
            print("review and commit it; the deploy of %s carries it out: tenantstack deploy %s"
                  % (change.target, path))
        return 0
    result = deploy.deploy(str(path), overrides={"db_timestamp": change.timestamp}, output=sys.stderr)
    if result.exit_code == 0:
        print(result.message)
    else:
        print("tenantstack promote: %s" % result.message, file=sys.stderr)
    return cli_exit_code(result.exit_code, result.interrupted)
