"""Processes on this host. Standard library only: scripts/local_endpoint.py uses it too."""
import os


def alive(pid):
    """True when a process with this pid exists here and is not a zombie (another user's counts)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/{}/stat".format(pid)) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: existence is all we can tell
    return state != "Z"  # exited, only waiting to be reaped
