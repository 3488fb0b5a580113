"""`tenantstack`: the operator command line.

The commands (status, history, snapshot, promote, rollback, reap, unlock, render,
deploy) arrive with the pipeline; today it offers --version and help.
"""
import argparse
import sys

from hooks import __version__

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tenantstack",
        description="Operate tenantstack tenants: see state, promote, roll back, clean up.",
        epilog="Deploys run through stacker: stacker build environments/<namespace>.env stacker/tenant.yaml",
    )
    parser.add_argument("--version", action="version", version="tenantstack %s" % __version__)
    return parser


def main(argv=None):
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
