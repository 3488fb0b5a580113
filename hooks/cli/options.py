"""Options several commands share, so they read and behave the same everywhere."""
import argparse

from hooks.config import envfile


def add_command(commands, name, help, description, epilog):
    """A subparser whose --help keeps the epilog's examples as written."""
    return commands.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_namespace(parser, help="tenant namespace, e.g. xy-0146-qa"):
    parser.add_argument("namespace", metavar="NAMESPACE", help=help)


def add_json(parser):
    parser.add_argument(
        "--json", action="store_true", help="print JSON instead of a table (stable, documented in docs/operations.md)"
    )


def add_environments(parser, env_file=False):
    parser.add_argument(
        "--environments",
        metavar="DIR",
        default=envfile.DEFAULT_ENVIRONMENTS,
        help="directory of the <namespace>.env files (default: %(default)s, relative to the current directory)",
    )
    if env_file:
        parser.add_argument(
            "--env-file", metavar="PATH", help="the namespace's env file (default: DIR/<namespace>.env)"
        )


def add_project_root(parser):
    parser.add_argument(
        "--project-root", metavar="DIR",
        help="the project: the directory holding stacker/ and environments/ (default: $TENANTSTACK_PROJECT_ROOT, "
        "else the nearest such directory from the env file or the current directory upward)",
    )
