"""Count every AWS API request a benchmarked child process sends (stacker, the CLI).

bench puts this directory on the child's PYTHONPATH, so Python imports this module at
start-up. When TENANTSTACK_BENCH_CALLS_DIR names a directory, every botocore session the
process creates gets a `before-send` handler that appends one line per HTTP request
(retries included, as AWS's throttling counts them) to `<dir>/calls-<pid>.log`:

    <time.monotonic()> <service id> <Operation>

CLOCK_MONOTONIC is shared by all processes of the machine, so lines of concurrent
children can be merged into one timeline (bench/calls.py reads them). Without the
variable, or where botocore is not installed, this module does nothing. It must never
make the process it sits in fail, so a write error only stops the counting.
"""
import os
import time

CALLS_DIR_VARIABLE = "TENANTSTACK_BENCH_CALLS_DIR"
EVENT = "before-send"


def _recorder(directory):
    state = {"broken": False}

    def record(event_name=None, **kwargs):
        if not state["broken"] and event_name:
            _, service, operation = event_name.split(".", 2)
            line = "%.6f %s %s\n" % (time.monotonic(), service, operation)
            try:
                _append(os.path.join(directory, "calls-%d.log" % os.getpid()), line.encode())
            except OSError:
                state["broken"] = True
        return None  # never answer the request ourselves

    return record


def _append(path, data):
    """One O_APPEND write per line: atomic across threads, and the file is named by the
    pid at the time of the call, so a forked child writes a file of its own. Nothing
    stays open for interpreter shutdown to finalise (a file kept open made stacker
    crash with SIGSEGV on exit)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)


def _install(directory):
    try:
        import botocore.session
    except ImportError:
        return
    record = _recorder(directory)
    original_init = botocore.session.Session.__init__

    def counting_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.register(EVENT, record)

    botocore.session.Session.__init__ = counting_init


if os.environ.get(CALLS_DIR_VARIABLE):
    _install(os.environ[CALLS_DIR_VARIABLE])
