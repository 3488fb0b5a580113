"""`tenantstack unlock NAMESPACE --holder ID`: clear a deploy lock left by a dead deploy."""
from hooks import aws
from hooks.cli import options
from hooks.lock import deploy_lock

EPILOG = """\
Use it only when you know the holder is dead: a deploy takes over a stale lock by
itself (process gone on the same host, CodeBuild build finished, or ttl passed).
The holder to give is the one the "locked by another deploy" message names.

example:
  tenantstack unlock xy-0146-qa --holder 'alice@ci-1:4242'
"""


def register(commands):
    parser = options.add_command(
        commands,
        "unlock",
        help="clear a namespace's deploy lock left by a dead deploy",
        description="Delete the deploy lock of NAMESPACE (SSM /<namespace>/deploy/lock), "
        "but only while its holder is still ID. Uses the standard AWS environment.",
        epilog=EPILOG,
    )
    options.add_namespace(parser)
    parser.add_argument("--holder", required=True, metavar="ID", help="the lock holder the lock must still name")
    parser.set_defaults(run=run)


def run(args):
    result = deploy_lock.force_unlock(aws.client("ssm"), args.namespace, args.holder)
    if result["status"] == "absent":
        print("%s is not locked; nothing to do" % args.namespace)
    else:
        held = result["record"]
        print(
            "unlocked %s: removed the deploy lock of %s (user %s on host %s, pid %d), taken at %s to deploy %s"
            % (args.namespace, held.holder, held.user, held.host, held.pid, held.acquired_at, held.target_timestamp)
        )
    return 0
