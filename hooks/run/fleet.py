"""Promote many tenants at once: hooks/run/deploy.py for each env file, N at a time.

    summary = run_fleet(check_fleet(env_files), parallel=4, log_dir=Path(".run/fleet/..."), progress=...)

- Every env file is checked first (check_fleet): unreadable, duplicate, shared-tier or
  invalid files, two files of one namespace, and two tenants of one tier with the same
  hostname or listener priority are all reported together as one BadInput, and nothing
  is deployed.
- Each deploy is its own stacker process (deploy.deploy) with its output in
  <log_dir>/<namespace>.log; at most `parallel` run at once. One tenant's failure does not
  stop the others. Throttling by AWS is retried (adaptive retries in every process).
- API rate budget (`max_api_rate`, calls per second, None: none): ONE token bucket of the
  whole budget in a file (hooks/aws/api_rate.py, shared_ceiling) that every deploy's stacker
  process and this process (the clean-up of a failed deploy runs here) draw from, so the
  fleet's requests in any second stay within the budget at any `parallel`, and a deploy
  waiting on AWS leaves its share to the others.
- Cancel: `cancel.terminate` (the first Ctrl-C) starts no new deploy and asks the running
  ones to stop at their next stack boundary; each is then cleaned up by deploy.deploy
  (lock released, leftovers retired). `cancel.kill` (the second Ctrl-C) kills them.
- The FleetSummary's exit code follows a fixed precedence (docs/deploy.md):
  interrupted 130 > a deploy failed 4 > bad input 2 > lock held 3 > all ok 0.

Layers: check_fleet, fleet_exit_code, summary_json (pure); run_fleet (runs processes).
"""
import concurrent.futures
import dataclasses
import datetime
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Optional

from hooks import errors
from hooks.aws import api_rate
from hooks.run import deploy

OK, BAD_INPUT, LOCK_HELD, DEPLOY_FAILED = deploy.OK, deploy.BAD_INPUT, deploy.LOCK_HELD, deploy.DEPLOY_FAILED
INTERRUPTED = 130
RESULT_OF = {OK: "ok", BAD_INPUT: "bad-input", LOCK_HELD: "lock-held", DEPLOY_FAILED: "failed"}
SKIPPED = "skipped"  # not started: the fleet was interrupted first
RESULTS = ("ok", "failed", "bad-input", "lock-held", SKIPPED)
# Worst first: the fleet's exit code is the first of these any tenant has.
EXIT_PRECEDENCE = (DEPLOY_FAILED, BAD_INPUT, LOCK_HELD)
PARALLEL_RANGE = (1, 32)
# The default budget of a fleet's AWS requests per second, all its processes together:
# SSM Parameter Store's standard throughput (40 GetParameter* per second, per account and
# Region), the lowest documented rate the promotion leans on (docs/deploy.md).
DEFAULT_MAX_API_RATE = 40.0
TICK_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One tenant of a fleet run: its deploy's result, or skipped (result None)."""

    prepared: deploy.Prepared
    log_file: Path
    result: Optional[deploy.DeployResult] = None

    @property
    def status(self):
        return RESULT_OF[self.result.exit_code] if self.result else SKIPPED


@dataclasses.dataclass(frozen=True)
class FleetSummary:
    outcomes: tuple
    parallel: int
    log_dir: Path
    started_at: datetime.datetime
    seconds: float
    interrupted: bool
    max_api_rate: Optional[float] = None  # the budget, calls per second; None: none

    @property
    def exit_code(self):
        return fleet_exit_code([o.result.exit_code for o in self.outcomes if o.result], self.interrupted)

    def counts(self):
        counted = Counter(outcome.status for outcome in self.outcomes)
        return {result: counted.get(result, 0) for result in RESULTS}


# --- planning (pure) ----------------------------------------------------------------------


def check_parallel(value):
    low, high = PARALLEL_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.BadInput("--parallel %r is invalid: expected a whole number from %d to %d" % (value, low, high))
    return value


def check_max_api_rate(value):
    """--max-api-rate as calls per second, None for 0 (no limit); BadInput naming the value and the rule."""
    try:
        return api_rate.parse_rate(value, "--max-api-rate")
    except ValueError as error:
        raise errors.BadInput(str(error)) from None


def child_rate(max_api_rate, parallel, tenants):
    """One deploy's share of the budget when deploys cannot share one bucket (each CodeBuild build of a
    fleet runs on its own machine): split over the deploys that run at once; None without a budget."""
    if not max_api_rate:
        return None
    return max_api_rate / max(1, min(parallel, tenants))


def check_fleet(env_files, read=deploy.prepare):
    """The Prepared deploy of every env file, in the order given; BadInput naming every problem."""
    if not env_files:
        raise errors.BadInput("name at least one tenant env file, e.g. environments/xy-0146-qa.env")
    problems, prepared, seen = [], [], {}
    for env_file in env_files:
        key = str(Path(env_file).resolve())
        if key in seen:
            problems.append("env file %s is listed twice (also as %s); list each tenant once" % (env_file, seen[key]))
            continue
        seen[key] = env_file
        try:
            prepared.append(read(env_file))
        except errors.BadInput as error:
            problems.append(str(error))
    problems += _clashes(prepared)
    if problems:
        raise errors.BadInput(
            "the fleet was not started, nothing was deployed: %d problem(s):\n%s"
            % (len(problems), "\n".join("  - %s" % problem.replace("\n", "\n    ") for problem in problems))
        )
    return prepared


def _clashes(prepared):
    """Two env files of one namespace; two tenants of one tier with one hostname or listener priority."""
    problems = []
    tenants = list({item.namespace: item for item in reversed(prepared)}.values())[::-1]  # first file of each
    for what, key, items in (("namespace", lambda p: p.namespace, prepared),
                             ("hostname", lambda p: (p.shared_namespace, p.hostname), tenants),
                             ("listener_priority", lambda p: (p.shared_namespace, p.listener_priority), tenants)):
        first = {}
        for item in items:
            if key(item) in first:
                other = first[key(item)]
                value = key(item) if what == "namespace" else key(item)[1]
                problems.append(
                    "%s %s is used by both %s and %s%s; each tenant needs its own"
                    % (what, value, other.env_file, item.env_file,
                       "" if what == "namespace" else " (tier %s)" % item.shared_namespace)
                )
            else:
                first[key(item)] = item
    return problems


def fleet_exit_code(exit_codes, interrupted=False):
    """The fleet's exit code: 130 if interrupted, else the worst tenant code by EXIT_PRECEDENCE, else 0."""
    if interrupted:
        return INTERRUPTED
    for code in EXIT_PRECEDENCE:
        if code in exit_codes:
            return code
    return OK


def default_log_dir(now, base=".run/fleet"):
    return Path(base) / now.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def log_file(log_dir, prepared):
    return Path(log_dir) / ("%s.log" % prepared.namespace)


def tenant_json(result, log_path=None, status=None):
    """One tenant's record in the JSON output (docs/deploy.md, "JSON output")."""
    data = result.to_dict()
    data["result"] = status or RESULT_OF[result.exit_code]
    data["log_file"] = str(log_path) if log_path else None
    return data


def summary_json(summary):
    tenants = []
    for outcome in summary.outcomes:
        if outcome.result:
            tenants.append(tenant_json(outcome.result, outcome.log_file))
        else:
            tenants.append({
                "namespace": outcome.prepared.namespace, "env_file": outcome.prepared.env_file, "result": SKIPPED,
                "exit_code": None, "seconds": 0.0, "message": "not started: the fleet was interrupted",
                "db_timestamp": outcome.prepared.db_timestamp, "error": None, "stacker_exit": None,
                "interrupted": False, "recovery": None, "log_file": None,
            })
    return {
        "command": "deploy --fleet",
        "exit_code": summary.exit_code,
        "interrupted": summary.interrupted,
        "parallel": summary.parallel,
        "max_api_rate": summary.max_api_rate,
        "log_dir": str(summary.log_dir),
        "started_at": summary.started_at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(summary.seconds, 1),
        "counts": summary.counts(),
        "tenants": tenants,
    }


# --- running ---------------------------------------------------------------------------------


def prepare_log_dir(log_dir):
    try:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise errors.BadInput("log directory %s cannot be created (%s); pass --log-dir DIR" % (log_dir, error)) from None
    return Path(log_dir).resolve()


def run_threads(items, work, parallel, name, interrupt, tick=lambda: None):
    """work(item) for every item, `parallel` at a time in threads named `name`; True if a Ctrl-C came.

    Each Ctrl-C calls interrupt() and the wait goes on (work decides how to stop); tick() runs every
    TICK_SECONDS while work is pending. A bug in work() is raised here rather than lost."""
    interrupted = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=name) as pool:
        futures = [pool.submit(work, item) for item in items]
        while True:
            try:
                done, pending = concurrent.futures.wait(futures, timeout=TICK_SECONDS)
                for future in done:
                    future.result()
                if not pending:
                    return interrupted
                tick()
            except KeyboardInterrupt:
                interrupted = True
                interrupt()


def run_fleet(prepared, parallel, log_dir, progress, cancel=None, run_deploy=deploy.deploy, max_api_rate=None):
    """Deploy every Prepared, `parallel` at a time; a FleetSummary (never raises for a tenant).

    `max_api_rate`: the fleet's budget of AWS requests per second, all processes together (None: none).
    """
    parallel = check_parallel(parallel)
    log_dir = prepare_log_dir(log_dir)
    cancel = cancel or deploy.Cancel()
    started_at, started = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    slots = {item.namespace: None for item in prepared}
    guard = threading.Lock()

    def one(item):
        if cancel.terminate.is_set():
            progress.skipped(item)
            return
        path = log_file(log_dir, item)
        progress.started(item, path)
        began = time.monotonic()
        try:
            with open(path, "a") as log:
                log.write("=== tenantstack deploy %s (%s) ===\n" % (item.namespace, item.env_file))
                log.flush()
                result = run_deploy(item.env_file, overrides=dict(item.overrides) or None,
                                    stacker_args=item.stacker_args, output=log, cancel=cancel,
                                    max_api_rate=max_api_rate or None, project_root=item.project_root,
                                    api_bucket=budget.get(api_rate.BUCKET_VARIABLE))
        except OSError as error:  # the log or the child could not be created: this tenant fails, not the fleet
            result = deploy.DeployResult(item.env_file, item.namespace, DEPLOY_FAILED,
                                         "could not run the deploy: %s" % error, time.monotonic() - began,
                                         item.db_timestamp)
        with guard:
            slots[item.namespace] = result
        progress.finished(item, result)

    def interrupt():
        if cancel.terminate.is_set():
            cancel.kill.set()
            progress.note("killing the running deploys; each is still cleaned up")
        else:
            cancel.terminate.set()
            progress.note(
                "stopping: no new deploys start; running ones stop at their next stack boundary "
                "and are cleaned up (Ctrl-C again to kill them)"
            )

    # One bucket for every stacker child and for this process, where a failed deploy's clean-up runs.
    with api_rate.shared_ceiling(max_api_rate) as budget:
        interrupted = run_threads(prepared, one, parallel, "fleet", interrupt, tick=progress.tick)
    outcomes = tuple(Outcome(item, log_file(log_dir, item), slots[item.namespace]) for item in prepared)
    summary = FleetSummary(outcomes, parallel, log_dir, started_at, time.monotonic() - started,
                           interrupted or cancel.terminate.is_set(), max_api_rate or None)
    progress.close(summary)
    return summary
