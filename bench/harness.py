"""What every measurement shares: timing, statistics, the endpoint, child processes, the machine.

- `Stats`: median, min and max of repeated measurements (shared machines are noisy).
- `interleave`: runs A and B alternately (ABAB..., never AAAA then BBBB), so a burst of
  machine noise hits both sides of a comparison.
- `Endpoint`: one moto server for the whole run (scripts/local_endpoint.py), reset
  between runs, stopped at the end, also on an error or Ctrl-C.
- `run_child`: the real `stacker` / `tenantstack` CLI as a child process, optionally with
  its AWS API requests counted (bench/child/sitecustomize.py, read by bench/calls.py).
- `machine_details`: what a reader needs to judge the numbers.
"""
import datetime
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from local_endpoint import LocalEndpoint, client_env  # scripts/, on sys.path by bench/__init__.py

from bench.child.sitecustomize import CALLS_DIR_VARIABLE
from hooks.config.project import ROOT_VARIABLE as PROJECT_ROOT_VARIABLE

REPO_ROOT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)

VENV_BIN = Path(sys.executable).parent
STACKER = str(VENV_BIN / "stacker")
TENANTSTACK = str(VENV_BIN / "tenantstack")
TOOLS_PYTHON = REPO_ROOT / ".venv-cfngin" / "bin" / "python"  # the local endpoint's venv
CHILD_SITE = REPO_ROOT / "bench" / "child"
# moto reports exactly this many running tasks per service; generated env files use it.
ECS_RUNNING = 2
CHILD_TIMEOUT = 900  # seconds; a child that takes longer is stuck, not slow


class BenchError(RuntimeError):
    """A benchmark could not run: a child failed, or what it set up is not what it measures."""


@dataclass(frozen=True)
class Stats:
    """Median, min and max of repeated measurements."""

    values: tuple

    @classmethod
    def of(cls, values):
        values = tuple(values)
        if not values:
            raise BenchError("no measurements to summarise")
        return cls(values)

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def min(self):
        return min(self.values)

    @property
    def max(self):
        return max(self.values)

    def ratio(self, other):
        """Per-run ratios self[i] / other[i] of paired (interleaved) runs."""
        return Stats.of(a / b for a, b in zip(self.values, other.values))


def timed(function, *args, **kwargs):
    """(seconds, result) of one call, measured with time.perf_counter."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def interleave(runs, **sides):
    """Run each side's callable once per round, alternating sides: {side: [seconds, ...]}.

    `sides` maps a name to a callable(round) returning the seconds it measured (so a
    side can leave its set-up out of the timing).
    """
    times = {name: [] for name in sides}
    for round_number in range(runs):
        for name, measure in sides.items():
            seconds = measure(round_number)
            logger.info("round %d/%d %s: %.2f s", round_number + 1, runs, name, seconds)
            times[name].append(seconds)
    return times


class Endpoint:
    """The local AWS endpoint for a whole bench run: a moto server on 127.0.0.1."""

    def __init__(self, log_path=None):
        self.server = LocalEndpoint(ecs_running=ECS_RUNNING, log_path=log_path)
        self.env = None

    def __enter__(self):
        self.server.start()
        self.env = client_env(self.server.url)
        self.env.update(STACKER_STACK_POLL_TIME="0", TENANTSTACK_POLL_SECONDS="0")
        self.env.pop(CALLS_DIR_VARIABLE, None)
        return self

    def __exit__(self, *exc_info):
        self.server.stop()

    @property
    def url(self):
        return self.server.url

    def reset(self):
        self.server.reset()

    def client(self, service_name):
        return boto3.session.Session().client(
            service_name,
            endpoint_url=self.url,
            region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def child_env(base_env, calls_dir=None):
    """The environment of a benchmarked child; with calls_dir, its API requests are counted.

    The bench's env files live in temporary directories: the project they deploy with is this
    repository (hooks/config/project.py)."""
    env = dict(base_env)
    env.setdefault(PROJECT_ROOT_VARIABLE, str(REPO_ROOT))
    env.pop(CALLS_DIR_VARIABLE, None)
    if calls_dir is not None:
        env[CALLS_DIR_VARIABLE] = str(calls_dir)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHILD_SITE), env.get("PYTHONPATH")]))
    return env


def run_child(command, env, what, calls_dir=None, timeout=CHILD_TIMEOUT):
    """Run a CLI from the repo root; raise BenchError with its output's tail if it fails."""
    result = subprocess.run(
        command,
        cwd=str(REPO_ROOT),
        env=child_env(env, calls_dir),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise BenchError(
            "%s failed: `%s` exited %d\n--- last lines of its output ---\n%s"
            % (what, " ".join(command), result.returncode, (result.stdout + result.stderr)[-4000:])
        )
    return result


def stacker_build(env, env_file, config, *extra, calls_dir=None):
    return run_child(
        [STACKER, "build", *extra, str(env_file), str(config)],
        env,
        "stacker build %s" % Path(env_file).name,
        calls_dir=calls_dir,
    )


def workspace(prefix="tenantstack-bench-"):
    """A temporary directory for generated env files, configs and call logs."""
    return tempfile.TemporaryDirectory(prefix=prefix)


# ---------------------------------------------------------------- machine details


def _first_line(command):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=str(REPO_ROOT))
    except (OSError, subprocess.TimeoutExpired) as error:
        return "unknown (%s)" % error
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "unknown"


def _proc_field(path, key):
    try:
        for line in Path(path).read_text().splitlines():
            if line.split(":")[0].strip() == key:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _os_name():
    pretty = "unknown"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "%s (%s %s)" % (pretty, platform.system(), platform.release())


def _distribution_versions(python, names):
    code = (
        "import importlib.metadata as m\n"
        "for n in %r:\n"
        "    try: print(n, m.version(n))\n"
        "    except m.PackageNotFoundError: print(n, 'absent')\n" % (tuple(names),)
    )
    try:
        result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    except OSError:
        return {name: "unknown" for name in names}
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


def _ram():
    total = _proc_field("/proc/meminfo", "MemTotal")
    if total.endswith("kB"):
        return "%.1f GiB" % (int(total.split()[0]) / 1024 / 1024)
    return total


def git_commit():
    commit = _first_line(["git", "rev-parse", "--short=12", "HEAD"])
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], capture_output=True, text=True, cwd=str(REPO_ROOT)
    ).stdout.strip()
    return commit + (" + uncommitted changes" if dirty else "")


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "unknown"


def machine_details():
    """{label: value}, in the order the report shows them."""
    project = _distribution_versions(sys.executable, ("stacker", "troposphere", "boto3", "botocore"))
    tools = _distribution_versions(TOOLS_PYTHON, ("moto", "boto3", "botocore"))
    return {
        "date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "git commit": git_commit(),
        "CPU": "%s, %s logical CPUs" % (_proc_field("/proc/cpuinfo", "model name"), os.cpu_count()),
        "RAM": _ram(),
        "OS": _os_name(),
        "Python (project venv)": platform.python_version(),
        "Python (tools venv)": _first_line([str(TOOLS_PYTHON), "--version"]).replace("Python ", ""),
        "stacker / troposphere": "%s / %s" % (project.get("stacker"), project.get("troposphere")),
        "boto3 / botocore (project)": "%s / %s" % (project.get("boto3"), project.get("botocore")),
        "moto server (tools venv)": "%s (boto3 %s)" % (tools.get("moto"), tools.get("boto3")),
        "load average at start (1/5/15 min)": load_average(),
    }
