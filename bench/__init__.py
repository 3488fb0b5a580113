"""Benchmarks: what a promotion costs, how it scales with tenants, how it compares with plain stacker.

    make bench                      # STACKER_STACK_POLL_TIME=0 .venv/bin/python -m bench
    .venv/bin/python -m bench --smoke --output /tmp/performance.md

One module per measurement (overhead, api_calls, rendering, fleet, memory; latency/ for the
runs under the latency model), a shared harness, and report.py, which prints the table and
rewrites docs/performance.md.
Benchmarks are not tests: nothing here asserts a timing in `make test`.
"""
import sys
from pathlib import Path

# scripts/ holds the local endpoint and the seeding helpers the tests and the demo use too.
_SCRIPTS = str(Path(__file__).resolve().parent.parent / "scripts")
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)
