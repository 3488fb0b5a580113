import os
import subprocess

from hooks.lock import processes


def test_this_process_is_alive():
    assert processes.alive(os.getpid())


def test_a_reaped_process_is_gone():
    child = subprocess.Popen(["true"])
    child.wait()
    assert not processes.alive(child.pid)


def test_a_zombie_counts_as_gone():
    child = subprocess.Popen(["true"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
    try:
        assert not processes.alive(child.pid)
    finally:
        child.wait()


def test_no_pid_is_not_alive():
    assert not processes.alive(0) and not processes.alive(None)
