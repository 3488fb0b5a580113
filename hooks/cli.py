"""`tenantstack`: the operator command line.

Commands: unlock. More (status, history, snapshot, promote, rollback, reap, render,
deploy) arrive with the pipeline. This module alone decides what the user sees and
which exit code means what: 0 done, 2 bad input (nothing was changed), 1 unexpected.
"""
import argparse
import sys

from hooks import __version__, aws, errors, lock, naming

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 2

UNLOCK_EPILOG = """\
Use it only when you know the holder is dead: a deploy takes over a stale lock by
itself (process gone on the same host, CodeBuild build finished, or ttl passed).
The holder to give is the one the "locked by another deploy" message names.

example:
  tenantstack unlock xy-0146-qa --holder 'alice@ci-1:4242'
"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tenantstack",
        description="Operate tenantstack tenants: see state, promote, roll back, clean up.",
        epilog="Deploys run through stacker: stacker build environments/<namespace>.env stacker/tenant.yaml",
    )
    parser.add_argument("--version", action="version", version="tenantstack %s" % __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    unlock = commands.add_parser(
        "unlock",
        help="clear a namespace's deploy lock left by a dead deploy",
        description="Delete the deploy lock of NAMESPACE (SSM /<namespace>/deploy/lock), "
        "but only while its holder is still ID. Uses the standard AWS environment.",
        epilog=UNLOCK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    unlock.add_argument("namespace", metavar="NAMESPACE", help="tenant namespace, e.g. xy-0146-qa")
    unlock.add_argument("--holder", required=True, metavar="ID", help="the lock holder the lock must still name")
    unlock.set_defaults(run=run_unlock)
    return parser


def run_unlock(args):
    result = lock.force_unlock(aws.client("ssm"), args.namespace, args.holder)
    if result["status"] == "absent":
        print("%s is not locked; nothing to do" % args.namespace)
    else:
        held = result["record"]
        print(
            "unlocked %s: removed the deploy lock of %s (user %s on host %s, pid %d), taken at %s to deploy %s"
            % (args.namespace, held.holder, held.user, held.host, held.pid, held.acquired_at, held.target_timestamp)
        )
    return EXIT_OK


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return args.run(args)
    except (errors.BadInput, naming.NamingError) as error:
        print("tenantstack %s: %s" % (args.command, error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # the CLI's last word: name it, and say it was unexpected
        print("tenantstack %s: unexpected error: %s: %s" % (args.command, type(error).__name__, error), file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
