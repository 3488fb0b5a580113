"""`python -m bench`: run the benchmarks, print the table, rewrite docs/performance.md.

exit codes: 0 every target met, 1 a target missed (FAIL rows; the report is still
written), 2 bad options, 3 a benchmark could not run (nothing is written), 130 interrupted.
"""
import argparse
import logging
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from local_endpoint import EndpointError  # scripts/, on sys.path by bench/__init__.py

from bench import api_calls, fleet, memory, overhead, rendering, report
from bench.latency import measure as latency
from bench.latency.model import DEFAULT_SCALE as DEFAULT_LATENCY_SCALE
from bench.harness import REPO_ROOT, BenchError, Endpoint, load_average, machine_details, workspace
from hooks.run import fleet as hooks_fleet

EXIT_OK, EXIT_TARGET_MISSED, EXIT_BAD_OPTIONS, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
MEASUREMENTS = ("overhead", "api_calls", "rendering", "fleet", "memory", "latency")
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "performance.md"
# The peak of all API requests of a fleet in any one second. AWS throttles per account and
# Region, per service: Parameter Store serves 40 GetParameter/GetParameters/GetParametersByPath
# transactions per second by default (its standard throughput), ECS refills its service-read
# bucket at 20 per second (burst 50), and CloudFormation publishes no rate but throttles its
# describe calls at a few per second. A fleet that keeps ALL its calls under the lowest of the
# documented burst rates never waits on any of them; 40 is SSM's documented standard throughput,
# and the default of `tenantstack deploy --fleet --max-api-rate`, which the bench passes it to.
DEFAULT_API_BUDGET = hooks_fleet.DEFAULT_MAX_API_RATE
SMOKE = dict(runs=1, render_runs=1, render_sample=2, sizes=[1], tenants=2, fleet_size=1, memory_fleet=1,
             latency_fleet=2, latency_scale=0.0005)

logger = logging.getLogger("bench")


def sizes(value):
    try:
        parsed = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a comma-separated list of whole numbers, e.g. 0,50,500" % value)
    if not parsed or parsed[0] < 0:
        raise argparse.ArgumentTypeError("%r: expected whole numbers >= 0, e.g. 0,50,500" % value)
    return parsed


def positive(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError("%r is not a whole number >= 1" % value)
    return number


def budget(value):
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError("%r is not a rate > 0 (calls per second), e.g. 40" % value)
    return number


def scale(value):
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError("%r is not a scale in (0, 1], e.g. 0.01 (1 bench second = 100 s on AWS)"
                                         % value)
    return number


def only(value):
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in MEASUREMENTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError("%r: expected one or more of %s, comma-separated"
                                         % (value, ", ".join(MEASUREMENTS)))
    return names


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=positive, default=5, help="rounds of the overhead comparison (default 5)")
    parser.add_argument("--render-runs", type=positive, default=2,
                        help="rounds of the rendering comparison (default 2)")
    parser.add_argument("--render-sample", type=positive, default=20,
                        help="env files stacker --dump is timed on, extrapolated to all (default 20)")
    parser.add_argument("--sizes", type=sizes, default=[0, 50, 500],
                        help="other tenants present for the API call counts (default 0,50,500)")
    parser.add_argument("--tenants", type=positive, default=100,
                        help="generated tenants (x3 env files) to render (default 100)")
    parser.add_argument("--fleet-size", type=positive, default=20, help="tenants in the fleet comparison (default 20)")
    parser.add_argument("--fleet-runs", type=positive, default=1, help="rounds of the fleet comparison (default 1)")
    parser.add_argument("--memory-fleet", type=positive, default=50, help="tenants in the memory rollout (default 50)")
    parser.add_argument("--api-budget", type=budget, default=DEFAULT_API_BUDGET, metavar="CALLS/S",
                        help="the fleets' API call budget, passed as --max-api-rate; their peak calls in any 1 s "
                        "must stay within it (default %g)"
                        % DEFAULT_API_BUDGET)
    parser.add_argument("--latency-fleet", type=positive, default=20,
                        help="tenants in the fleet under the latency model (default 20)")
    parser.add_argument("--latency-runs", type=positive, default=1,
                        help="rounds of the fleet under the latency model (default 1)")
    parser.add_argument("--latency-scale", type=scale, default=DEFAULT_LATENCY_SCALE, metavar="FACTOR",
                        help="the latency model's bench seconds per AWS second (default %g)" % DEFAULT_LATENCY_SCALE)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the bench itself runs")
    parser.add_argument("--only", type=only, metavar="NAME[,NAME]",
                        help="run only these: %s (the report is written only with --output)" % ", ".join(MEASUREMENTS))
    parser.add_argument("--output", type=Path, help="markdown file to rewrite (default docs/performance.md)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    return parser


def options(argv=None):
    args = build_parser().parse_args(argv)
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    if args.output is None and not args.only:
        args.output = DEFAULT_OUTPUT
    return args


def run_all(args, workdir):
    wanted = args.only or MEASUREMENTS
    sections = []
    with Endpoint() as endpoint:
        plan = {
            "overhead": lambda: overhead.measure(endpoint, workdir, args.runs),
            "api_calls": lambda: api_calls.measure(endpoint, workdir, args.sizes),
            "rendering": lambda: rendering.measure(workdir, args.tenants, args.render_sample, args.render_runs),
            "fleet": lambda: fleet.measure(endpoint, workdir, args.fleet_size, args.fleet_runs, args.api_budget),
            "memory": lambda: memory.measure(endpoint, workdir, args.memory_fleet, args.api_budget),
            "latency": lambda: latency.measure(endpoint, workdir, args.latency_fleet, args.latency_runs,
                                               args.latency_scale, args.api_budget),
        }
        for name in MEASUREMENTS:
            if name in wanted:
                logger.info("%s ...", name)
                started = time.perf_counter()
                sections.append(plan[name]())
                logger.info("%s done in %.0f s", name, time.perf_counter() - started)
    return sections


def command_line(argv):
    return "STACKER_STACK_POLL_TIME=0 .venv/bin/python -m bench%s" % (
        "".join(" " + shlex.quote(arg) for arg in argv))


def _terminate(signum, frame):
    raise KeyboardInterrupt  # the endpoint and every running child are stopped on the way out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # Progress of the bench itself; the hooks it calls for set-up speak only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="bench: %(message)s", stream=sys.stderr)
    logging.getLogger("bench").setLevel(logging.INFO)
    args = options(argv)
    signal.signal(signal.SIGTERM, _terminate)
    machine = machine_details()
    started = time.perf_counter()
    try:
        with workspace() as workdir:
            sections = run_all(args, Path(workdir))
    except (BenchError, EndpointError, ClientError, BotoCoreError, subprocess.TimeoutExpired) as error:
        print("bench: FAILED, nothing written: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("bench: interrupted, nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    machine["load average at end (1/5/15 min)"] = load_average()
    seconds = time.perf_counter() - started
    print(report.summary_table(sections))
    print("\n%s (%.0f s)" % (report.verdict(sections), seconds))
    command = command_line(argv)
    if args.output:
        path = report.write_report(args.output, report.block(sections, machine, command, seconds))
        print("wrote %s" % path)
    if args.json:
        args.json.write_text(report.json_document(sections, machine, command, seconds))
        print("wrote %s" % args.json)
    return EXIT_TARGET_MISSED if report.failures(sections) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
