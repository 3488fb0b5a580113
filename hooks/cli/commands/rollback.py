"""`tenantstack rollback NAMESPACE [--to TIMESTAMP]`: back to a previous database the tenant still has."""
import datetime
import sys

from hooks import naming
from hooks.cli import options
from hooks.cli.commands.deploy import cli_exit_code
from hooks.config import envfile
from hooks.ops import rollback
from hooks.run import deploy
from hooks.tenant import status as tenant_status

EPILOG = """\
Redeploys NAMESPACE with db_timestamp=<previous timestamp> (stacker/tenant.yaml, the
whole pipeline: lock, stable gate, flip, retirement). The previous database still
exists (retain_previous kept it), so nothing is restored and the rollback takes as
long as a service deploy. Default: the most recently active previous database; --to
picks another one the pointer named before (`tenantstack status` lists them as retained).

With none left, it refuses (exit 2) and prints the final snapshots of the previous
databases and the exact commands that restore one. The env file is not changed: set
its db_timestamp to the rollback's (a one-line change) or the next deploy moves the
tenant forward again. Exit codes as for a deploy: 3 lock held, 4 deploy failed.

examples:
  tenantstack rollback xy-0146-prod
  tenantstack rollback xy-0146-prod --to 20261101t090000z
"""


def register(commands):
    parser = options.add_command(
        commands,
        "rollback",
        help="redeploy a tenant on a retained previous database (nothing is restored)",
        description="Roll NAMESPACE back to a previous database it still has.",
        epilog=EPILOG,
    )
    options.add_namespace(parser)
    parser.add_argument("--to", metavar="TIMESTAMP", help="the previous database to go back to (default: the latest)")
    options.add_environments(parser, env_file=True)
    parser.set_defaults(run=run)


def run(args):
    if args.to is not None:
        naming.parse_timestamp(args.to, "--to")
    path, values = envfile.load_tenant(args.namespace, args.env_file, args.environments)
    namespace = values["namespace"]
    now = datetime.datetime.now(datetime.timezone.utc)
    plan = rollback.plan(tenant_status.Clients.from_environment(), namespace, values, path, args.to, now)
    print("rolling %s back from %s to %s (its database exists: nothing is restored)"
          % (namespace, plan.active, plan.target), file=sys.stderr, flush=True)
    result = deploy.deploy(str(path), overrides={"db_timestamp": plan.target}, output=sys.stderr)
    if result.exit_code != 0:
        print("tenantstack rollback: %s" % result.message, file=sys.stderr)
        return cli_exit_code(result.exit_code, result.interrupted)
    print("rolled %s back from %s to %s" % (namespace, plan.active, plan.target))
    if values["db_timestamp"] != plan.target:
        print("%s still sets db_timestamp %s: change it to %s (a one-line change), or the next deploy from it moves "
              "%s forward again" % (path, values["db_timestamp"], plan.target, namespace))
    return 0
