"""A child process whose output streams to a given stream and that a caller can stop.

    returncode, pid, interrupted = run(command, env, output, Cancel(), cwd)

The child gets a session of its own, so a Ctrl-C at the terminal reaches only us: the
first one (or `cancel.terminate`) sends it SIGTERM, a second one (or `cancel.kill`, or
`kill_after_seconds` later) SIGKILL. Output goes straight to `output`'s file descriptor
when it has one, else through a pipe, line by line.
"""
import dataclasses
import logging
import os
import signal
import subprocess
import threading
import time

logger = logging.getLogger(__name__)

KILL_AFTER_SECONDS = 120  # a graceful stop that takes longer than this is forced
POLL_SECONDS = 0.2


@dataclasses.dataclass
class Cancel:
    """How a caller (the fleet, Ctrl-C) stops a running deploy."""

    terminate: threading.Event = dataclasses.field(default_factory=threading.Event)
    kill: threading.Event = dataclasses.field(default_factory=threading.Event)
    kill_after_seconds: float = KILL_AFTER_SECONDS


def run(command, env, output, cancel, cwd=None):
    """Run the child to its end, its output streamed to `output`; (returncode, pid, interrupted)."""
    output.flush()
    copier = None
    try:
        target = output.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError and a ValueError
        target = subprocess.PIPE
    process = subprocess.Popen(
        command, cwd=None if cwd is None else str(cwd), env=env, stdin=subprocess.DEVNULL, stdout=target,
        stderr=subprocess.STDOUT, text=target == subprocess.PIPE,
        start_new_session=True,  # Ctrl-C reaches us, not the child: we decide how it stops
    )
    if target == subprocess.PIPE:
        copier = threading.Thread(target=_copy_lines, args=(process.stdout, output), daemon=True)
        copier.start()
    interrupted = _wait(process, cancel)
    if copier is not None:
        copier.join()
    return process.returncode, process.pid, interrupted


def _copy_lines(source, output):
    for line in source:
        output.write(line)
    output.flush()


def _signal(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # it ended meanwhile


def _wait(process, cancel):
    """Wait for the child; stop it when asked to. True when it was asked to stop."""
    terminated_at = None
    while True:
        try:
            process.wait(timeout=POLL_SECONDS)
            return terminated_at is not None
        except subprocess.TimeoutExpired:
            pass
        except KeyboardInterrupt:
            if terminated_at is not None:
                cancel.kill.set()
            cancel.terminate.set()
        if cancel.terminate.is_set() and terminated_at is None:
            logger.warning("stopping stacker (pid %s): it stops at the next stack boundary", process.pid)
            _signal(process, signal.SIGTERM)
            terminated_at = time.monotonic()
        if terminated_at is not None and (
            cancel.kill.is_set() or time.monotonic() - terminated_at > cancel.kill_after_seconds
        ):
            _signal(process, signal.SIGKILL)
