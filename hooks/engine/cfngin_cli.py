"""`tenantstack-cfngin`: stacker's command line, run by runway's CFNgin.

    tenantstack-cfngin build [-e KEY=VALUE]... [--stacks NAME]... [-t] [-d DIR | -o] ENVFILE CONFIG
    tenantstack-cfngin diff  [-e KEY=VALUE]... ENVFILE CONFIG
    tenantstack-cfngin destroy [-e KEY=VALUE]... [--force] ENVFILE CONFIG

The same arguments as `stacker build|diff|destroy` (the subset this project uses), so every
command in the docs works on either engine by swapping the program name. The env file is
read with CFNgin's own parser (the same rule as stacker's), `-e` overrides it, and the
config runs through CFNgin's deploy, diff or destroy action exactly as a runway CFNgin
module runs it (hooks/engine/stacker_compat.run_cfngin_action). The exit status is
CFNgin's: 0, or 1 after a failed plan or hook; 2 for a command line it refuses.

runway's own way to run the same configs is `runway deploy` with runway.yml
(docs/engines.md); this command exists for one env file and one config at a time, as
stacker works, and is what `tenantstack deploy --engine cfngin` runs in its child.
"""
import argparse
import logging
import os
import signal
import sys
import threading

from hooks.engine import stacker_compat

LOG_FORMAT = "[%(asctime)s] %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def parser():
    top = argparse.ArgumentParser(prog="tenantstack-cfngin", description=__doc__.split("\n\n")[0])
    top.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    commands = top.add_subparsers(dest="command", required=True)
    for name, help_ in (("build", "create or update the config's stacks (stacker build)"),
                        ("diff", "show what a build would change (stacker diff)"),
                        ("destroy", "delete the config's stacks (stacker destroy; --force to do it)")):
        command = commands.add_parser(name, help=help_)
        command.add_argument("-e", "--env", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                             help="override an env file value")
        command.add_argument("-r", "--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
        command.add_argument("--stacks", action="append", default=[], metavar="NAME",
                             help="only these stacks (and what they need)")
        command.add_argument("-t", "--tail", action="store_true", help="show the stacks' CloudFormation events")
        command.add_argument("-j", "--max-parallel", type=int, default=0, metavar="N",
                             help="at most N stacks at once (default 0: as the dependencies allow)")
        if name == "build":
            command.add_argument("-i", "--interactive", action="store_true", help="ask before changing a stack")
            command.add_argument("--recreate-failed", action="store_true",
                                 help="replace stacks whose first create failed")
            command.add_argument("-o", "--outline", action="store_true", help="print the plan only (no hooks)")
            command.add_argument("-d", "--dump", metavar="DIR", help="write the templates to DIR only (no hooks)")
        if name == "destroy":
            command.add_argument("-f", "--force", action="store_true", help="delete the stacks (else: plan only)")
        command.add_argument("environment", metavar="ENVFILE", help="env file (key: value lines)")
        command.add_argument("config", metavar="CONFIG", help="the config (stacker/*.yaml)")
    return top


def parameters(env_file, overrides):
    """The env file's values with each `-e KEY=VALUE` applied; SystemExit(2) for a malformed one."""
    with open(env_file, encoding="utf-8") as handle:
        values = stacker_compat.parse_environment(handle.read())
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key:
            raise SystemExit("tenantstack-cfngin: -e %r is invalid: expected KEY=VALUE" % override)
        values[key] = value
    return values


def options_of(args):
    options = {"tail": args.tail, "concurrency": args.max_parallel}
    if args.command == "build":
        options.update(outline=args.outline, dump=args.dump or False)
    if args.command == "destroy":
        options.update(force=args.force)
    return options


def cancel_on_signals():
    """A threading.Event set by SIGINT or SIGTERM, as stacker's own: the run stops at the next stack
    boundary (its running hook finishes) instead of dying mid-call (runway's CLI installs none)."""
    cancel = threading.Event()

    def cancel_execution(signum, frame):
        logging.getLogger(__name__).info("%s received: stopping at the next stack boundary",
                                         signal.Signals(signum).name)
        cancel.set()

    signal.signal(signal.SIGINT, cancel_execution)
    signal.signal(signal.SIGTERM, cancel_execution)
    return cancel


def main(argv=None):
    args = parser().parse_args(argv)
    if stacker_compat.ENGINE != "cfngin":
        sys.stderr.write("tenantstack-cfngin: this environment runs stacker; use `stacker %s` (%s)\n"
                         % (args.command, stacker_compat.INSTALL_HINT["cfngin"]))
        return 2
    level = logging.DEBUG if args.verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format=LOG_FORMAT, datefmt=LOG_DATE_FORMAT, stream=sys.stderr)
    if not args.verbose:
        logging.getLogger("botocore").setLevel(logging.WARNING)
    values = parameters(args.environment, args.overrides)
    stacker_compat.record_env_file(args.environment, values)
    stacker_compat.run_cfngin_action(
        args.command, os.path.abspath(args.config), values, region=args.region, stacks=args.stacks,
        interactive=getattr(args, "interactive", False), recreate_failed=getattr(args, "recreate_failed", False),
        cancel=cancel_on_signals(), **options_of(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
