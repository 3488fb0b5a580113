"""`make bench` on tiny sizes, so the benchmarks never rot. Asserts no timing: only that every
measurement ran, every row is in the table and the report renders (to a temporary file:
docs/performance.md is left alone)."""
import json
import os
import subprocess
import sys

import pytest

from bench import report, run

pytestmark = pytest.mark.e2e

EXPECTED_ROWS = [
    "overhead.hooks", "overhead.bare", "overhead.ratio",
    "api_calls.first", "api_calls.replace", "api_calls.seeding",
    "rendering.one_process", "rendering.stacker", "rendering.ratio", "rendering.identical",
    "fleet.serial", "fleet.parallel", "fleet.ratio", "fleet.floor", "fleet.peak_rate",
    "memory.tree", "memory.single", "memory.wall",
    "fleet.latency", "promotion.latency", "promotion.latency.copy_skipped",
]
# A rate on a shared machine is a timing: the smoke run must not fail on it.
UNREACHABLE_BUDGET = "1000000"
TIMEOUT = 600


def test_smoke_run_fills_every_row_and_renders_the_report(tmp_path):
    docs = run.DEFAULT_OUTPUT
    docs_before = docs.read_bytes() if docs.exists() else None
    markdown, results = tmp_path / "performance.md", tmp_path / "bench.json"
    argv = ["--smoke", "--api-budget", UNREACHABLE_BUDGET, "--output", str(markdown), "--json", str(results)]
    finished = subprocess.run(
        [sys.executable, "-m", "bench", *argv], cwd=str(run.REPO_ROOT), capture_output=True, text=True,
        timeout=TIMEOUT, env=dict(os.environ, STACKER_STACK_POLL_TIME="0"),
    )
    assert finished.returncode == run.EXIT_OK, finished.stderr[-6000:]

    document = json.loads(results.read_text())
    rows = [row for section in document["sections"] for row in section["rows"]]
    assert [row["key"] for row in rows] == EXPECTED_ROWS
    assert [section["name"] for section in document["sections"]] == list(run.MEASUREMENTS)
    assert [row["key"] for row in rows if row["ok"] is False] == []
    assert document["command"] == run.command_line(argv)

    text = markdown.read_text()
    assert text.startswith(report.PREFACE)
    block = text[text.index(report.BEGIN):]
    assert block.rstrip("\n").endswith(report.END)
    assert "Reproduce: `%s`" % run.command_line(argv) in block
    for row in rows:
        assert "| %s " % row["measurement"] in block, row["key"]
    for label in ("CPU", "git commit", "load average at start (1/5/15 min)", "load average at end (1/5/15 min)"):
        assert "| %s " % label in block
    assert "API calls per promotion, by operation" in block
    assert finished.stdout.startswith(report.summary_table_header())
    assert (docs.read_bytes() if docs.exists() else None) == docs_before
