"""4. Fleet rollout: N generated tenants with `tenantstack deploy --fleet --parallel 1` vs `--parallel 8`.

Each run starts from a freshly reset endpoint with the shared tier common-nonprod built
and every tenant's dev snapshot taken (set-up, not timed); N env files bt-0001-qa ...
are then deployed with

    tenantstack deploy --fleet <env files> --parallel P --max-api-rate BUDGET --json --log-dir DIR

timed from start to exit. BUDGET is the bench's --api-budget: one token bucket every
process of the fleet draws from (hooks/aws/api_rate.py, docs/deploy.md). Every process of the fleet
(the CLI, each stacker) counts its API requests (bench/child/sitecustomize.py), on its
own, after the ceiling has let the request go: the peak rate is the most requests in any
1-second window across all of them, and must stay within the budget. Rounds alternate
--parallel 1, --parallel 8, ...
"""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from bench import calls, rss, tenants
from bench.harness import CHILD_TIMEOUT, REPO_ROOT, TENANTSTACK, BenchError, Stats, child_env, interleave
from bench.results import Row, Section

SERIAL, PARALLEL = 1, 8
FLEET_ENVIRONMENT = "qa"
LOG_TAIL_LINES = 15
STOP_GRACE_SECONDS = 1.0  # between the two Ctrl-Cs that stop a fleet
STOP_WAIT_SECONDS = 30.0  # for its clean-up, before whatever is left is killed


@dataclass(frozen=True)
class FleetRun:
    parallel: int
    tenants: int
    seconds: float
    calls: tuple  # bench.calls.Call, all processes merged
    peak_tree_bytes: int
    peak_single_sampled_bytes: int
    peak_single_rusage_bytes: int  # getrusage(RUSAGE_CHILDREN).ru_maxrss of the largest process
    peak_processes: int

    @property
    def peak_rate(self):
        return calls.peak_rate(self.calls)


def prepare(endpoint, workdir, size):
    """Reset, tier, env files and dev snapshots for `size` tenants; their env file paths."""
    endpoint.reset()
    tenants.build_tier(endpoint)
    paths = tenants.write_env_files(workdir / ("fleet-%d" % size), size, (FLEET_ENVIRONMENT,))
    tenants.seed_snapshots(endpoint, paths)
    return paths


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def stop_fleet(process):
    """Stop a fleet the bench started: Ctrl-C twice (the fleet kills and cleans up its
    deploys, each in a session of its own), then SIGKILL whatever of its tree is left."""
    tree = rss.descendants(process.pid, rss.parents())
    for pid in tree - {process.pid}:  # the CLI, below the rusage probe (which ignores SIGINT)
        _signal(pid, signal.SIGINT)
    time.sleep(STOP_GRACE_SECONDS)
    for pid in tree - {process.pid}:
        _signal(pid, signal.SIGINT)
    try:
        process.wait(timeout=STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    for pid in tree | rss.descendants(process.pid, rss.parents()):
        _signal(pid, signal.SIGKILL)
    process.wait()


def deploy_fleet(endpoint, workdir, env_paths, parallel, label, budget):
    """Run one fleet rollout under `budget` calls/s; a FleetRun. Raises BenchError naming every tenant that failed."""
    run_dir = workdir / label
    calls_dir, log_dir = run_dir / "calls", run_dir / "logs"
    calls_dir.mkdir(parents=True)
    rusage_file = run_dir / "ru_maxrss"
    command = [sys.executable, "-c", rss.RUSAGE_PROBE, str(rusage_file), TENANTSTACK, "deploy", "--fleet",
               *map(str, env_paths), "--parallel", str(parallel), "--max-api-rate", repr(float(budget)), "--json",
               "--log-dir", str(log_dir)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=child_env(endpoint.env, calls_dir),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        with rss.TreeSampler(process.pid, include_root=False) as sampler:
            out, err = process.communicate(timeout=CHILD_TIMEOUT)
    finally:  # a timeout, Ctrl-C, SIGTERM: leave no deploy running
        if process.poll() is None:
            stop_fleet(process)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise BenchError("fleet of %d with --parallel %d exited %d; tenants that did not end ok:\n%s"
                         % (len(env_paths), parallel, process.returncode, failed_tenants(out, err)))
    return FleetRun(parallel, len(env_paths), seconds, tuple(calls.read_calls(calls_dir)),
                    sampler.peak_tree_bytes, sampler.peak_single_bytes,
                    int(rusage_file.read_text()) * 1024, sampler.peak_processes)


def failed_tenants(json_text, stderr_text):
    """Every tenant that did not end ok, with the last lines of its log (the workspace is deleted)."""
    try:
        summary = json.loads(json_text)
    except ValueError:
        return "no JSON summary; last lines of its output:\n%s" % (json_text + stderr_text)[-3000:]
    reports = []
    for tenant in summary.get("tenants", []):
        if tenant.get("result") == "ok":
            continue
        try:
            with open(tenant["log_file"]) as log:
                tail = "".join(log.readlines()[-LOG_TAIL_LINES:])
        except (OSError, TypeError):
            tail = "(no log)\n"
        reports.append("%s %s: %s\n%s" % (tenant["namespace"], tenant["result"], tenant["message"], tail))
    return "\n".join(reports) or "none (the JSON summary names no failed tenant); its output:\n%s" % (
        (json_text + stderr_text)[-3000:])


FLOOR_TARGET = 1.15  # a budget-bound fleet at --parallel 8 within this of calls / budget
BUDGET_BOUND_SECONDS = 1.0  # a floor below this: the budget does not bound the fleet (no target)


def floor_row(parallel_seconds, calls, budget):
    """--parallel 8's wall time against the budget's floor: its calls at exactly the budget's rate."""
    floor = calls / budget
    bound = floor >= BUDGET_BOUND_SECONDS
    return Row("fleet.floor", "--parallel %d wall time / the budget's floor (calls / budget)" % PARALLEL,
               "%.2fx" % (parallel_seconds / floor),
               "floor %.1f s = %d calls / %g calls/s; target <= %.2fx%s"
               % (floor, calls, budget, FLOOR_TARGET, "" if bound else " (not budget-bound: no target)"),
               ok=(parallel_seconds / floor <= FLOOR_TARGET) if bound else None)


class Fleet:
    def __init__(self, endpoint, workdir, size, budget):
        self.endpoint, self.workdir, self.size, self.budget = endpoint, workdir, size, budget
        self.runs = {SERIAL: [], PARALLEL: []}

    def measure(self, parallel, round_number):
        paths = prepare(self.endpoint, self.workdir, self.size)
        run = deploy_fleet(self.endpoint, self.workdir, paths, parallel,
                           "fleet-%d-p%d-r%d" % (self.size, parallel, round_number), self.budget)
        self.runs[parallel].append(run)
        return run.seconds


def measure(endpoint, workdir, size, runs, budget):
    fleet = Fleet(endpoint, workdir, size, budget)
    times = interleave(runs, serial=lambda r: fleet.measure(SERIAL, r), parallel=lambda r: fleet.measure(PARALLEL, r))
    serial, parallel = Stats.of(times["serial"]), Stats.of(times["parallel"])
    ratio = serial.ratio(parallel)
    worst = max(fleet.runs[SERIAL] + fleet.runs[PARALLEL], key=lambda run: run.peak_rate)
    by_service = sorted(calls.peak_rate_by_service(worst.calls).items(), key=lambda item: -item[1])
    section = Section("fleet", "4. Fleet rollout: --parallel %d vs. --parallel %d" % (SERIAL, PARALLEL))
    for key, stats, fleet_runs in (("serial", serial, fleet.runs[SERIAL]), ("parallel", parallel,
                                                                            fleet.runs[PARALLEL])):
        section.rows.append(Row(
            "fleet.%s" % key, "fleet of %d tenants, --parallel %d" % (size, fleet_runs[0].parallel),
            "%.1f s" % stats.median,
            "median of %d; min %.1f, max %.1f; %d API calls, peak %d calls/s"
            % (runs, stats.min, stats.max, len(fleet_runs[0].calls), max(run.peak_rate for run in fleet_runs)),
        ))
    section.rows += [
        Row("fleet.ratio", "--parallel %d / --parallel %d wall time" % (SERIAL, PARALLEL), "%.2fx" % ratio.median,
            "per-round ratio; min %.2fx, max %.2fx" % (ratio.min, ratio.max)),
        floor_row(parallel.median, len(fleet.runs[PARALLEL][0].calls), budget),
        Row("fleet.peak_rate", "peak API call rate, any 1 s window, all fleet processes",
            "%d calls/s" % worst.peak_rate,
            "budget %g calls/s (--api-budget = the fleet's --max-api-rate: one bucket for every process); "
            "at --parallel %d; busiest: %s"
            % (budget, worst.parallel, ", ".join("%s %d/s" % item for item in by_service[:3])),
            ok=worst.peak_rate <= budget),
    ]
    section.notes = [
        "Each round: reset endpoint, common-nonprod built, %d env files bt-0001-%s ... with their dev "
        "snapshots (not timed); then `tenantstack deploy --fleet ... --parallel P --max-api-rate %g --json` timed "
        "to its exit." % (size, FLEET_ENVIRONMENT, budget),
        "Every process of the fleet draws from one token bucket of the budget (requests at least "
        "1 / (0.99 x budget) s apart, whichever process sends them, none saved up); the bench counts every "
        "request of every process on its own, after the bucket let it go.",
        "The local endpoint answers in milliseconds and completes stacks at once, so call rates here are an "
        "upper bound of what the same fleet sends to AWS, where waits between polls stretch the same calls "
        "over minutes.",
    ]
    return section
