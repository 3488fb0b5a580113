"""bench/rss.py: the RSS of a real process tree, read from /proc."""
import os
import signal
import subprocess
import sys

from bench import rss

HOLD_MEMORY = "import sys, time; block = bytearray(64 * 1024 * 1024); sys.stdout.write('ready\\n'); " \
              "sys.stdout.flush(); time.sleep(30)"


def test_sampler_sees_a_child_process_and_its_memory():
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, '-c', %r])" % HOLD_MEMORY],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert parent.stdout.readline() == "ready\n"  # the grandchild holds 64 MiB now
        sampler = rss.TreeSampler(parent.pid, include_root=False)
        sampler.sample()
        assert sampler.peak_processes == 1  # the grandchild only: the root is left out
        assert sampler.peak_tree_bytes >= 64 * 1024 * 1024
        assert sampler.peak_single_bytes == sampler.peak_tree_bytes
        with_root = rss.TreeSampler(parent.pid)
        with_root.sample()
        assert with_root.peak_processes == 2 and with_root.peak_tree_bytes > sampler.peak_tree_bytes
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # its own session: the grandchild goes too
        parent.wait()


def test_descendants_follow_the_whole_tree_and_nothing_else():
    parent_of = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1}
    assert rss.descendants(10, parent_of) == {10, 11, 12, 13}
