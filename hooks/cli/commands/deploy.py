"""`tenantstack deploy`: one tenant's promotion, or a fleet of them (docs/deploy.md)."""
import datetime
import functools
import logging
import os
import sys

from hooks import errors
from hooks.aws import api_rate
from hooks.cli import options, output
from hooks.cli import progress as fleet_progress
from hooks.engine import stacker_compat
from hooks.aws import clients
from hooks.run import batch_plan, codebuild_fleet, deploy, fleet

USAGE = """\
tenantstack deploy ENVFILE [-e KEY=VALUE ...] [--max-api-rate R] [--json] [--debug] [-- STACKER_ARGS ...]
       tenantstack deploy --fleet ENVFILE... [--on local|codebuild] [--parallel N] [--max-api-rate R] [--json]
                          [--log-dir DIR] [--debug]"""

EPILOG = """\
One ENVFILE: runs the engine's build of ENVFILE stacker/tenant.yaml (one promotion: `stacker
build`, or with CFNgin `tenantstack-cfngin build`; --engine chooses), streams its output to stderr, and prints one result line (or JSON) on stdout. When a stack
fails, stacker skips every post_build hook; deploy then releases the deploy lock the run
left, points the service back at what it ran before and retires the run's new database
(final snapshot first). It never moves the pointer.

--fleet: deploys every ENVFILE, at most N at a time, each stacker's output in
DIR/<namespace>.log; progress on stderr, a summary table (or JSON) on stdout. Every env file
is checked before anything starts. One tenant's failure does not stop the others. Ctrl-C
starts no new deploy and stops the running ones at their next stack boundary (each is
cleaned up); a second Ctrl-C kills them.

--on codebuild: the same fleet as ONE CodeBuild batch build of the project's fleet project
<project>-fleet (every ENVFILE of one project, committed under the project root): one build
per tenant running buildspecs/fleet.yml, at most N at a time, fail-fast off; progress, summary
and exit codes as above, each DIR/<namespace>.log naming its build. The batch buildspec it
starts is DIR/batch-buildspec.yml. Ctrl-C stops the batch (StopBuildBatch) and exits 130.

--max-api-rate R: at most R AWS API requests per second (retries included) over the whole
run. Each stacker process gets an equal share, R / the deploys that run at once, and its
requests are spaced 1/share apart; the clean-up after a failed deploy gets the same share.
Default with --fleet: %g (SSM Parameter Store's standard throughput); one deploy: no
limit. 0: no limit. With --on codebuild each build gets R / N (builds run on separate
machines: they cannot share one bucket).

Tracebacks: an error of tenantstack's own (bad input, lock held, a step that failed as
it says) shows as its message; its traceback goes to .run/deploy/<namespace>-<UTC time>.log
under the current directory, which the message names. --debug (or TENANTSTACK_DEBUG=1)
keeps every traceback in the output. Any other error always shows its traceback.

exit codes: 0 ok, 2 bad input (nothing was changed), 3 the namespace's deploy lock is held
by another deploy, 4 a deploy failed (the tenant keeps serving what it served before),
130 interrupted. A fleet exits with the first that applies of 130, 4, 2, 3, else 0.

--dry-run: changes nothing, shows what the deploy would do: `tenantstack diff` (its exit codes).

examples:
  tenantstack deploy environments/xy-0146-qa.env
  tenantstack deploy environments/xy-0146-qa.env -e db_timestamp=20261115t120000z
  tenantstack deploy environments/xy-0146-qa.env -- --tail
  tenantstack deploy --fleet environments/*-qa.env --parallel 4
  tenantstack deploy --fleet environments/*-qa.env --parallel 8 --max-api-rate 20
  tenantstack deploy --fleet environments/xy-0146-*.env --on codebuild --parallel 3
  tenantstack deploy --fleet environments/*-qa.env --json | jq '.tenants[] | select(.result != "ok")'
""" % fleet.DEFAULT_MAX_API_RATE
TABLE_MESSAGE_WIDTH = 120
ON_CHOICES = ("local", "codebuild")


def register(commands):
    parser = options.add_command(
        commands,
        "deploy",
        help="promote one tenant (stacker build) or a fleet of tenants, cleaning up after a failure",
        description="Run the promotion of each ENVFILE (stacker/tenant.yaml) and report the outcome.",
        epilog=EPILOG,
    )
    parser.usage = USAGE
    parser.add_argument("env_files", nargs="+", metavar="ENVFILE",
                        help="tenant env file; with --fleet, several; without, arguments after -- go to stacker")
    parser.add_argument("--fleet", action="store_true", help="deploy every ENVFILE, --parallel at a time")
    parser.add_argument("--on", choices=ON_CHOICES, default=ON_CHOICES[0],
                        help="with --fleet: where the deploys run, local processes or one CodeBuild batch build "
                        "(default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true",
                        help="change nothing: show what the deploy would do (the same as `tenantstack diff`)")
    parser.add_argument("-e", "--env", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override an env file key (checked like the file), e.g. -e db_timestamp=20261115t120000z")
    parser.add_argument("--parallel", type=int, default=4, metavar="N",
                        help="with --fleet: deploys at once, %d to %d (default: %%(default)s)" % fleet.PARALLEL_RANGE)
    parser.add_argument("--max-api-rate", metavar="R",
                        help="AWS API calls per second, all processes together, 0: no limit (default: %g with "
                        "--fleet, one bucket every deploy draws from; no limit for one deploy)"
                        % fleet.DEFAULT_MAX_API_RATE)
    parser.add_argument("--log-dir", metavar="DIR",
                        help="with --fleet: directory of the per-tenant logs (default: .run/fleet/<UTC time>/)")
    parser.add_argument("--engine", choices=stacker_compat.ENGINES,
                        help="the engine that deploys: cfngin (runway's CFNgin) or stacker (1.7.2); default: the one "
                        "installed, cfngin when both are (docs/engines.md)")
    parser.add_argument("--json", action="store_true",
                        help="print the result as JSON (stable; schema in docs/deploy.md)")
    parser.add_argument("--debug", action="store_true",
                        help="keep every Python traceback in stacker's output (default: tenantstack's own errors "
                        "show their message, the traceback goes to the file the message names)")
    options.add_project_root(parser)
    parser.set_defaults(run=run)


def run(args):
    if args.engine:  # each deploy's child reads it (hooks/run/deploy.py); refused here if not installed
        stacker_compat.choose_engine({stacker_compat.ENGINE_VARIABLE: args.engine}, modules={})
        os.environ[stacker_compat.ENGINE_VARIABLE] = args.engine
    if args.dry_run:  # the preview runs in this process, on this process's engine
        from hooks.cli.commands import diff
        return diff.run_dry_run(args)
    logging.getLogger().addHandler(logging.NullHandler())  # hooks' log lines go to each deploy's output only
    if args.fleet:
        return run_fleet(args)
    if args.on != ON_CHOICES[0]:
        raise errors.BadInput("--on %s applies to --fleet only; a single deploy runs here" % args.on)
    return run_one(args)


def parse_overrides(values):
    pairs = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise errors.BadInput("-e %r is invalid: expected KEY=VALUE, e.g. -e db_timestamp=20261115t120000z" % value)
        if key in pairs:
            raise errors.BadInput("-e %s is given twice (%r and %r); give each key once" % (key, pairs[key], setting))
        pairs[key] = setting
    return pairs


def run_one(args):
    env_file, stacker_args = args.env_files[0], args.env_files[1:]
    if stacker_args and not stacker_args[0].startswith("-"):
        raise errors.BadInput(
            "deploy takes one ENVFILE (got %s); deploy several with --fleet, and pass stacker "
            "arguments after --" % ", ".join(args.env_files)
        )
    if args.log_dir:
        raise errors.BadInput("--log-dir applies to --fleet only; a single deploy streams to stderr")
    overrides = parse_overrides(args.overrides) or None
    rate = fleet.check_max_api_rate(args.max_api_rate or 0)  # one deploy: no limit unless asked
    with api_rate.shared_ceiling(rate) as budget:  # one bucket: stacker's, then the clean-up's after a failure
        result = deploy.deploy(env_file, overrides, stacker_args, output=sys.stderr, max_api_rate=rate,
                               project_root=args.project_root, api_bucket=budget.get(api_rate.BUCKET_VARIABLE),
                               **debug_option(args))
    if args.json:
        print(output.json_document(dict(fleet.tenant_json(result), command="deploy")), end="")
    else:
        print("%s: %s (%s, %.1f s)" % (result.namespace or env_file, fleet.RESULT_OF[result.exit_code],
                                       result.message, result.seconds))
    return cli_exit_code(result.exit_code, result.interrupted)


def debug_option(args):
    """deploy.deploy's `debug` argument, given only when --debug asks (its default keeps tracebacks in a file)."""
    return {"debug": True} if args.debug else {}


def cli_exit_code(code, interrupted):
    """130 for a deploy that was interrupted and did not finish; else its own code."""
    return fleet.INTERRUPTED if interrupted and code != deploy.OK else code


def run_fleet(args):
    refused = [value for value in args.env_files if value.startswith("-")]
    if refused or args.overrides:
        raise errors.BadInput(
            "--fleet takes env files only (got %s); set keys in each env file, and run stacker arguments "
            "with a single deploy" % ", ".join(refused + ["-e %s" % value for value in args.overrides])
        )
    fleet.check_parallel(args.parallel)
    rate = fleet.DEFAULT_MAX_API_RATE if args.max_api_rate is None else fleet.check_max_api_rate(args.max_api_rate)
    try:
        prepared = fleet.check_fleet(args.env_files, functools.partial(deploy.prepare, project_root=args.project_root))
        if args.on == "codebuild":  # one project, files in the project, at most 100 builds: before any call
            batch_plan.fleet_project(prepared)
            batch_plan.batch_spec(prepared, args.parallel, rate)
    except errors.BadInput as error:
        if args.json:
            print(output.json_document({"command": "deploy --fleet", "exit_code": deploy.BAD_INPUT,
                                        "error": str(error), "tenants": []}), end="")
        raise
    log_dir = args.log_dir or fleet.default_log_dir(datetime.datetime.now(datetime.timezone.utc))
    if args.on == "codebuild":
        summary = run_on_codebuild(args, prepared, log_dir, rate)
    else:
        progress = fleet_progress.for_stream(sys.stderr, len(prepared))
        chosen = {"run_deploy": functools.partial(deploy.deploy, **debug_option(args))} if args.debug else {}
        summary = fleet.run_fleet(prepared, args.parallel, log_dir, progress, max_api_rate=rate, **chosen)
    if args.json:
        print(output.json_document(fleet.summary_json(summary)), end="")
    else:
        print("\n".join(summary_table(summary)))
    return summary.exit_code


def run_on_codebuild(args, prepared, log_dir, rate):
    """The fleet as one CodeBuild batch (its plan was checked with the fleet)."""
    progress = fleet_progress.for_stream(sys.stderr, len(prepared))
    return codebuild_fleet.run_codebuild_fleet(prepared, args.parallel, log_dir, progress,
                                               clients.client("codebuild"), max_api_rate=rate)


def summary_table(summary):
    rows = []
    for outcome in summary.outcomes:
        result = outcome.result
        if result is None:
            rows.append((outcome.prepared.namespace, fleet.SKIPPED, None, None, "not started", None))
            continue
        rows.append((result.namespace, outcome.status, result.exit_code, "%.1f" % result.seconds,
                     fleet_progress.shorten(result.message, TABLE_MESSAGE_WIDTH), outcome.log_file))
    return output.table(("NAMESPACE", "RESULT", "EXIT", "SECONDS", "MESSAGE", "LOG"), rows)
