"""`tenantstack`: the operator command line.

This module alone decides what the user sees on failure and which exit code means what
(docs/operations.md, "Exit codes"). Each command lives in its own module under
hooks/cli/commands/ and exposes `register(commands)`, which adds its subparser and sets
`run=<function(args) -> exit code>`.
"""
import argparse
import importlib
import sys

from hooks import __version__, errors, naming
from hooks.cli.commands import COMMAND_MODULES

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = errors.BadInput.exit_code  # 2: nothing was changed
EXIT_LOCK_HELD = errors.LockHeld.exit_code  # 3
EXIT_DEPLOY_FAILED = errors.DeployFailed.exit_code  # 4
EXIT_INTERRUPTED = 130

EPILOG = """\
exit codes: 0 done, 1 unexpected error, 2 bad input (nothing was changed),
            3 the namespace's deploy lock is held, 4 a deploy failed (the tenant keeps serving
            on its previous service and database), 130 interrupted.
Uses the standard AWS environment (AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ENDPOINT_URL).
"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tenantstack",
        description="Operate tenantstack tenants: see state, promote, roll back, clean up, deploy.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version="tenantstack %s" % __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module("hooks.cli.commands.%s" % module_name).register(commands)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        return args.run(args)
    except naming.NamingError as error:
        return _report(args, error, EXIT_BAD_INPUT)
    except errors.TenantstackError as error:
        return _report(args, error, error.exit_code)
    except KeyboardInterrupt:
        return _report(args, "interrupted", EXIT_INTERRUPTED)
    except Exception as error:  # the CLI's last word: name it, and say it was unexpected
        return _report(args, "unexpected error: %s: %s" % (type(error).__name__, error), EXIT_UNEXPECTED)


def _report(args, message, code):
    print("tenantstack %s: %s" % (args.command, message), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
