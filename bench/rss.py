"""Resident memory of a process tree, sampled from /proc (Linux).

`TreeSampler(pid)` samples, every `interval` seconds until stopped, the RSS of `pid` and
all its descendants; it keeps the largest sum over the tree (what the machine must hold at
once) and the largest single process. Sampling can miss a peak shorter than the interval;
getrusage(RUSAGE_CHILDREN).ru_maxrss (see RUSAGE_PROBE) gives the exact peak of the largest
single process, but not the tree's sum.
"""
import os
import threading
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
INTERVAL_SECONDS = 0.1
# Runs a command and writes the ru_maxrss (KiB on Linux) of its largest descendant to argv[1].
# SIGINT is the command's to handle (a no-op handler here, not SIG_IGN, which the command
# would inherit): subprocess.call would otherwise SIGKILL it at once.
RUSAGE_PROBE = (
    "import resource, signal, subprocess, sys\n"
    "signal.signal(signal.SIGINT, lambda signum, frame: None)\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def parents():
    """{pid: parent pid} of every process visible in /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended between listing and reading
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        found[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return found


def descendants(root, parent_of):
    tree, frontier = {root}, [root]
    children = {}
    for pid, parent in parent_of.items():
        children.setdefault(parent, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def rss_bytes(pid):
    try:
        return int(Path("/proc/%d/statm" % pid).read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler:
    """Samples the RSS of a process tree on a thread: `with TreeSampler(pid) as sampler: ...`."""

    def __init__(self, pid, interval=INTERVAL_SECONDS, include_root=True):
        self.pid = pid
        self.include_root = include_root  # False: only its descendants (the root is a wrapper)
        self.interval = interval
        self.peak_tree_bytes = 0
        self.peak_single_bytes = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self):
        tree = descendants(self.pid, parents())
        if not self.include_root:
            tree.discard(self.pid)
        sizes = [rss_bytes(pid) for pid in tree]
        self.peak_tree_bytes = max(self.peak_tree_bytes, sum(sizes))
        self.peak_single_bytes = max([self.peak_single_bytes] + sizes)
        self.peak_processes = max(self.peak_processes, len(tree))
        self.samples += 1

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def mebibytes(value):
    return value / 1024 / 1024
