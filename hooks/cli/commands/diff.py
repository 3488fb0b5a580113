"""`tenantstack diff`: what a deploy would do, before it runs (docs/operations.md, "Previewing a deploy").

`tenantstack deploy --dry-run` runs the same (run_dry_run).
"""
import functools
import sys
import threading
import time
from pathlib import Path

from hooks import aws, errors
from hooks.aws import api_rate
from hooks.cli import options, output, preview_output
from hooks.cli.commands.deploy import parse_overrides
from hooks.ops import change_sets, preview, preview_fleet, preview_run
from hooks.run import deploy, fleet

USAGE = """\
tenantstack diff ENVFILE [-e KEY=VALUE ...] [--fail-on-replace] [--allow-replace NS/STACK/ID ...] [--json]
       tenantstack diff --fleet ENVFILE... [--parallel N] [--max-api-rate R] [--details] [--fail-on-replace] [--json]"""

EPILOG = """\
For each stack of the tenant (<ns>-base, <ns>-db-<db_timestamp>, <ns>-service): what a deploy
would do, from CloudFormation change sets against the live stacks: created, described and
always deleted again, never executed. Each resource: add, modify or remove, and whether
CloudFormation replaces it (True, Conditional) and because of which property. A stack that
does not exist yet is reported new, with every resource to add, without a change set. Then
the promotion steps the hooks would take: the restore, the pointer flip, the retirement
(with the final snapshot names). Nothing is written: no lock, no pointer, no snapshot.

A replacement or a removal of a resource class that serves traffic or holds data (listener
rule, target group, service, security group, role, database, KMS key, ...) is FLAGGED.
--fail-on-replace exits 5 when a flagged change is not named by an --allow-replace
NAMESPACE/STACK/LOGICAL_ID (STACK: base, db or service), e.g. xy-0146-qa/service/ListenerRule.

A stack that drifted (DescribeStacks' drift status, from the last detection) is named: a
change set compares against its template, not its resources; `tenantstack status --drift`
runs a detection.

--fleet: every ENVFILE, --parallel at a time, one line per tenant and a summary; at most
--max-api-rate AWS calls a second in all (default %g with --fleet; one tenant: no limit).
Ctrl-C stops it; the change sets made are deleted either way.

exit codes: 0 previewed, 1 a preview failed (an AWS error), 2 bad input (as for deploy, or what
the deploy's checks would refuse: the source snapshot, the routing), 5 --fail-on-replace found
a flagged change not allowed, 130 interrupted. A fleet exits with the first of 130, 1, 2, 5, else 0.

examples:
  tenantstack diff environments/xy-0146-qa.env
  tenantstack diff environments/xy-0146-qa.env -e db_timestamp=20261115t120000z
  tenantstack deploy --dry-run environments/xy-0146-qa.env
  tenantstack diff --fleet environments/*-qa.env --parallel 4 --fail-on-replace
  tenantstack diff --fleet environments/*.env --json | jq '.tenants[] | select(.result == "replacements")'
""" % fleet.DEFAULT_MAX_API_RATE


def register(commands):
    parser = options.add_command(
        commands, "diff",
        help="preview a deploy (or a fleet's): change sets against the live stacks, replacements, promotion steps",
        description="Show what `tenantstack deploy ENVFILE` would change, without changing anything.",
        epilog=EPILOG,
    )
    parser.usage = USAGE
    parser.add_argument("env_files", nargs="+", metavar="ENVFILE", help="tenant env file; with --fleet, several")
    parser.add_argument("--fleet", action="store_true", help="preview every ENVFILE, --parallel at a time")
    parser.add_argument("-e", "--env", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override an env file key, as for deploy")
    parser.add_argument("--parallel", type=int, default=4, metavar="N",
                        help="with --fleet: previews at once, %d to %d (default: %%(default)s)" % fleet.PARALLEL_RANGE)
    parser.add_argument("--max-api-rate", metavar="R",
                        help="AWS API calls per second in all, 0: no limit (default: %g with --fleet, else no limit)"
                        % fleet.DEFAULT_MAX_API_RATE)
    parser.add_argument("--details", action="store_true",
                        help="with --fleet: after the table, each tenant's preview in full (as for one ENVFILE)")
    parser.add_argument("--fail-on-replace", action="store_true",
                        help="exit 5 when a guarded resource would be replaced or removed and no --allow-replace "
                        "names it")
    parser.add_argument("--allow-replace", action="append", default=[], metavar="NS/STACK/LOGICAL_ID",
                        help="a flagged change that is intended (repeatable), e.g. xy-0146-qa/service/ListenerRule")
    options.add_json(parser)
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON document to FILE")
    options.add_project_root(parser)
    parser.set_defaults(run=run)


def run(args):
    allowances = [preview.parse_allowance(value) for value in args.allow_replace]
    with change_sets.sigterm_interrupts():
        if args.fleet:
            return run_fleet(args, allowances)
        return run_one(args, allowances)


def run_dry_run(args):
    """`tenantstack deploy --dry-run ...`: the diff of the same arguments."""
    stacker_args = [value for value in args.env_files[1:] if value.startswith("-")] if not args.fleet else []
    if stacker_args or args.log_dir:
        raise errors.BadInput("deploy --dry-run previews the deploy of env files: it takes no %s"
                              % ("stacker arguments" if stacker_args else "--log-dir"))
    args.fail_on_replace, args.allow_replace, args.json_out, args.details = False, [], None, False
    return run(args)


def write(args, document):
    if args.json_out:
        path = Path(args.json_out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(output.json_document(document))
    if args.json:
        print(output.json_document(document), end="")


def run_one(args, allowances):
    if len(args.env_files) > 1:
        raise errors.BadInput("diff takes one ENVFILE (got %s); preview several with --fleet"
                              % ", ".join(args.env_files))
    prepared = deploy.prepare(args.env_files[0], parse_overrides(args.overrides) or None,
                              project_root=args.project_root)
    rate = fleet.check_max_api_rate(args.max_api_rate or 0)
    registry = change_sets.ChangeSets()
    try:
        with api_rate.limited(rate), output.progress_logging():
            result = preview_run.preview_tenant(prepared, aws.Clients(), registry)
    finally:
        with change_sets.deferred_signals():
            registry.delete_all()
    result = preview.allow(result, allowances)
    for allowance in preview.unused_allowances([result], allowances):
        output.progress("note: --allow-replace %s names no flagged change" % "/".join(allowance))
    write(args, dict(preview_output.tenant_json(result, args.fail_on_replace), command="diff"))
    if not args.json:
        print("\n".join(preview_output.tenant_lines(result)))
    return preview_fleet.tenant_exit_code(result, args.fail_on_replace)


def run_fleet(args, allowances):
    if args.overrides:
        raise errors.BadInput("--fleet takes env files only (got %s); set keys in each env file"
                              % ", ".join("-e %s" % value for value in args.overrides))
    fleet.check_parallel(args.parallel)
    rate = fleet.DEFAULT_MAX_API_RATE if args.max_api_rate is None else fleet.check_max_api_rate(args.max_api_rate)
    try:
        prepared = fleet.check_fleet(args.env_files, functools.partial(deploy.prepare, project_root=args.project_root))
    except errors.BadInput as error:
        write(args, {"command": "diff --fleet", "exit_code": errors.BAD_INPUT, "error": str(error), "tenants": []})
        raise
    summary = preview_fleet.preview_fleet(prepared, args.parallel, Progress(sys.stderr), max_api_rate=rate)
    previews = [preview.allow(item, allowances) if item else None for item in summary.previews]
    summary = preview_fleet.FleetPreview(summary.prepared, tuple(previews), summary.parallel, summary.max_api_rate,
                                         summary.started_at, summary.seconds, summary.interrupted)
    unused = preview.unused_allowances([item for item in previews if item], allowances)
    document = preview_output.fleet_json(summary, args.fail_on_replace, allowances, unused)
    write(args, document)
    if not args.json:
        print("\n".join(preview_output.fleet_lines(summary, args.fail_on_replace)))
        if args.details:
            print("\n" + "\n\n".join("\n".join(preview_output.tenant_lines(item)) for item in previews if item))
    for allowance in unused:
        output.progress("note: --allow-replace %s names no flagged change" % "/".join(allowance))
    return document["exit_code"]


class Progress:
    """One line on stderr per tenant that starts and ends, with the time since the start."""

    def __init__(self, stream, clock=time.monotonic):
        self.stream, self.clock, self.begun = stream, clock, clock()
        self.guard = threading.Lock()  # previews end in several threads

    def _line(self, text):
        with self.guard:
            self.stream.write("[%7.1f s] %s\n" % (self.clock() - self.begun, text))
            self.stream.flush()

    def started(self, item):
        self._line("%-12s %s" % ("start", item.namespace))

    def finished(self, item, result):
        self._line("%-12s %s in %.1f s: %s" % (result.result, item.namespace, result.seconds,
                                              preview_output.gist(result)))

    def note(self, text):
        self._line(text)
