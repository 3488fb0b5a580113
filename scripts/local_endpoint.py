"""A local AWS API endpoint: the moto server on loopback.

Stdlib only, runs under Python 3.9 (the stacker venv) and 3.12 (the supported venv). The
server itself lives in the supported venv (``.venv-cfngin/bin/moto_server``), because
stacker's pins break moto[server] in the stacker venv; both engines' runs use it.

As a module (tests, the demo)::

    with LocalEndpoint(ecs_running=3) as endpoint:
        env = client_env(endpoint.url)   # for a child process (stacker, the CLI)
        endpoint.reset()                 # clear all state

As a command (the Makefile)::

    local_endpoint.py start --port 5000 --pidfile .run/endpoint.pid --log .run/endpoint.log
    local_endpoint.py stop --pidfile .run/endpoint.pid
    local_endpoint.py wait --url http://127.0.0.1:5000
"""

import argparse
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # hooks.lock.processes is standard library only: fine in either venv
    sys.path.insert(0, str(REPO_ROOT))
from hooks.lock import processes  # noqa: E402

DEFAULT_MOTO_SERVER = REPO_ROOT / ".venv-cfngin" / "bin" / "moto_server"
HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
QUIRKS_SWITCH = "TENANTSTACK_LOCAL_ENDPOINT"
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

POLL_INTERVAL = 0.1  # seconds between readiness probes
START_TIMEOUT = 30.0  # seconds the server gets to answer
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
LOG_TAIL_LINES = 30

# Variables that would point the server (or its internal boto3 use) at anything but itself.
_SERVER_ENV_DROP = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "PYTHONPATH",
    "PYTHONHOME",
)


class EndpointError(RuntimeError):
    """The local endpoint could not be started, reached or stopped."""


def free_port():
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def endpoint_url(port):
    return "http://{}:{}".format(HOST, port)


def client_env(url, region=DEFAULT_REGION):
    """A copy of os.environ for a client process that talks to the endpoint at ``url``."""
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_SECURITY_TOKEN", None)
    env.update(TEST_CREDENTIALS)
    env["AWS_ENDPOINT_URL"] = url
    env["AWS_DEFAULT_REGION"] = region
    # Blueprints adapt templates to the endpoint's known gaps (blueprints/endpoint_quirks.py).
    env[QUIRKS_SWITCH] = "moto"
    return env


def answers(url, timeout=1.0):
    """True when a moto server answers at ``url`` (its config API returns 2xx; moto says 201)."""
    try:
        with urllib.request.urlopen(url + "/moto-api/config", timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def wait_until_answers(url, timeout=START_TIMEOUT, alive=None):
    """Poll ``url`` until it answers; ``alive()`` returning False aborts the wait early."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None and not alive():
            return False
        if answers(url):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def port_in_use(port):
    """True when something already listens on 127.0.0.1:port (or on all interfaces)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR, as the server sets it: a port left in TIME_WAIT is not "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def log_tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, "r", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError as error:
        return "(no log: {})".format(error)


def _die_with_parent():
    """preexec_fn: SIGTERM the server when the process that started it dies (Linux only)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _pid_alive(pid):
    """True when ``pid`` runs and is not a zombie."""
    return processes.alive(pid)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


class LocalEndpoint:
    """One moto server process bound to 127.0.0.1:port, in its own process group."""

    def __init__(
        self,
        port=None,
        ecs_running=3,
        log_path=None,
        moto_server=None,
        start_timeout=START_TIMEOUT,
        die_with_parent=True,
    ):
        self.port = int(port) if port is not None else free_port()
        self.ecs_running = int(ecs_running)
        self.moto_server = Path(moto_server) if moto_server else DEFAULT_MOTO_SERVER
        self.start_timeout = start_timeout
        self.die_with_parent = die_with_parent
        self._own_log = log_path is None
        self.log_path = Path(log_path) if log_path else None
        self.process = None

    @property
    def url(self):
        return endpoint_url(self.port)

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def server_env(self):
        env = dict(os.environ)
        for name in _SERVER_ENV_DROP:
            env.pop(name, None)
        env.update(TEST_CREDENTIALS)
        env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
        env["MOTO_ECS_SERVICE_RUNNING"] = str(self.ecs_running)
        env["MOTO_PORT"] = str(self.port)
        return env

    def start(self):
        if self.process is not None:
            raise EndpointError("endpoint already started at {}".format(self.url))
        if not os.access(str(self.moto_server), os.X_OK):
            raise EndpointError(
                "moto server not found at {} (run `make setup` to create the tools venv)".format(
                    self.moto_server
                )
            )
        if port_in_use(self.port):
            raise EndpointError(
                "cannot start the local endpoint: port {} on {} is already in use".format(
                    self.port, HOST
                )
            )
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="local-endpoint-{}-".format(self.port), suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [str(self.moto_server), "-H", HOST, "-p", str(self.port)]
        with open(str(self.log_path), "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.server_env(),
                cwd=str(REPO_ROOT),
                start_new_session=True,  # own process group: stop() signals the whole group
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        alive = lambda: self.process.poll() is None  # noqa: E731
        if wait_until_answers(self.url, self.start_timeout, alive) and alive():
            return self
        code = self.process.poll()
        self._kill()
        reason = (
            "exited with code {}".format(code)
            if code is not None
            else "did not answer within {:g} s".format(self.start_timeout)
        )
        raise EndpointError(
            "moto server on {} {}; last lines of {}:\n{}".format(
                self.url, reason, self.log_path, log_tail(str(self.log_path))
            )
        )

    def _kill(self):
        process, self.process = self.process, None
        if process is None:
            return
        pgid = process.pid  # start_new_session: the server leads its own group
        _signal_group(pgid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(pgid, signal.SIGKILL)  # whatever else is left in the group
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise EndpointError("moto server (pid {}) did not stop".format(process.pid))

    def stop(self):
        """Stop the server and everything in its process group; idempotent."""
        self._kill()
        if self._own_log and self.log_path is not None:
            try:
                self.log_path.unlink()
            except OSError:
                pass
            self.log_path = None

    def reset(self):
        """Clear all state in the server (POST /moto-api/reset)."""
        request = urllib.request.Request(self.url + "/moto-api/reset", data=b"", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status != 200:
                    raise EndpointError("reset of {} answered {}".format(self.url, response.status))
        except urllib.error.URLError as error:
            raise EndpointError("reset of {} failed: {}".format(self.url, error))

    def __enter__(self):
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return "LocalEndpoint(url={!r}, pid={!r})".format(self.url, self.pid)


# ---------------------------------------------------------------- command line


def _read_pid(pidfile):
    try:
        return int(Path(pidfile).read_text().strip())
    except (OSError, ValueError):
        return None


def _is_moto_server(pid):
    try:
        with open("/proc/{}/cmdline".format(pid), "rb") as handle:
            return b"moto_server" in handle.read()
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the pidfile


def cmd_start(args):
    pidfile = Path(args.pidfile)
    pid = _read_pid(pidfile)
    if pid and _pid_alive(pid) and _is_moto_server(pid):
        print("local endpoint already running (pid {}, pidfile {})".format(pid, pidfile))
        return 0
    endpoint = LocalEndpoint(
        port=args.port, ecs_running=args.ecs_running, log_path=args.log, die_with_parent=False
    )
    endpoint.start()
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text("{}\n".format(endpoint.pid))
    print("local endpoint running at {} (pid {}, log {})".format(endpoint.url, endpoint.pid, args.log))
    print("use it with: export AWS_ENDPOINT_URL={} {}=moto AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing".format(endpoint.url, QUIRKS_SWITCH))
    return 0


def cmd_stop(args):
    pidfile = Path(args.pidfile)
    pid = _read_pid(pidfile)
    if pid is None or not _pid_alive(pid) or not _is_moto_server(pid):
        print("local endpoint not running (pidfile {})".format(pidfile))
        if pidfile.exists():
            pidfile.unlink()
        return 0
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    if _pid_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)
    if _pid_alive(pid):
        raise EndpointError("local endpoint (pid {}) did not stop".format(pid))
    pidfile.unlink()
    print("local endpoint stopped (pid {})".format(pid))
    return 0


def cmd_wait(args):
    if wait_until_answers(args.url.rstrip("/"), args.timeout):
        print("local endpoint answers at {}".format(args.url))
        return 0
    raise EndpointError("nothing answered at {} within {:g} s".format(args.url, args.timeout))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the moto server as a local AWS endpoint.")
    commands = parser.add_subparsers(dest="command", required=True)

    start = commands.add_parser("start", help="start the server in the background")
    start.add_argument("--port", type=int, default=5000)
    start.add_argument("--pidfile", default=str(REPO_ROOT / ".run" / "endpoint.pid"))
    start.add_argument("--log", default=str(REPO_ROOT / ".run" / "endpoint.log"))
    start.add_argument("--ecs-running", type=int, default=3, help="MOTO_ECS_SERVICE_RUNNING")
    start.set_defaults(func=cmd_start)

    stop = commands.add_parser("stop", help="stop the server named by the pidfile")
    stop.add_argument("--pidfile", default=str(REPO_ROOT / ".run" / "endpoint.pid"))
    stop.set_defaults(func=cmd_stop)

    wait = commands.add_parser("wait", help="wait until a server answers at the URL")
    wait.add_argument("--url", required=True)
    wait.add_argument("--timeout", type=float, default=START_TIMEOUT)
    wait.set_defaults(func=cmd_wait)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EndpointError as error:
        print("local_endpoint: {}".format(error), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
