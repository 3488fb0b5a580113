"""`tenantstack`: the operator command line.

This module alone decides what the user sees on failure and which exit code means what
(docs/operations.md, "Exit codes"). Each command lives in its own module under
hooks/cli/commands/ and exposes `register(commands)`, which adds its subparser and sets
`run=<function(args) -> exit code>`.
"""
import argparse
import importlib
import sys

from hooks import __version__, errors
from hooks.cli.commands import COMMAND_MODULES

EPILOG = "exit codes:\n%s\nUses the standard AWS environment (AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ENDPOINT_URL).\n" % (
    "\n".join("  %3d  %s" % item for item in sorted(errors.EXIT_CODES.items()))
)


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
        return errors.OK
    try:
        return args.run(args)
    except errors.TenantstackError as error:
        return _report(args, error, error.exit_code)
    except KeyboardInterrupt:
        return _report(args, "interrupted", errors.INTERRUPTED)
    except Exception as error:  # the CLI's last word: name it, and say it was unexpected
        return _report(args, "unexpected error: %s: %s" % (type(error).__name__, error), errors.UNEXPECTED)


def _report(args, message, code):
    print("tenantstack %s: %s" % (args.command, message), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
