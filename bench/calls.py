"""Read the API requests counted in benchmarked children (bench/child/sitecustomize.py).

Each child process wrote `<dir>/calls-<pid>.log`, one line per HTTP request:
`<monotonic time> <service id> <Operation>`. `read_calls` merges them into one
timeline; `count_by_operation` and `peak_rate` summarise it.
"""
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class Call:
    time: float  # time.monotonic() of the child, comparable across processes
    service: str  # botocore service id, hyphenized: cloudformation, rds, ssm, ecs, secrets-manager
    operation: str  # DescribeStacks, PutParameter, ...
    pid: int

    @property
    def name(self):
        return "%s.%s" % (self.service, self.operation)


def read_calls(directory):
    """Every call recorded under `directory`, sorted by time."""
    calls = []
    for path in sorted(Path(directory).glob("calls-*.log")):
        pid = int(path.stem.split("-", 1)[1])
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:  # a child killed mid-write leaves at most one partial line
                calls.append(Call(float(parts[0]), parts[1], parts[2], pid))
    return sorted(calls, key=lambda call: call.time)


def count_by_operation(calls):
    """Counter {"service.Operation": calls}."""
    return Counter(call.name for call in calls)


def count_by_service(calls):
    return Counter(call.service for call in calls)


def peak_rate(calls, window=WINDOW_SECONDS):
    """The most calls in any `window`-second interval (a sliding window over the timeline)."""
    times = sorted(call.time for call in calls)
    peak, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def peak_rate_by_service(calls, window=WINDOW_SECONDS):
    """{service: its own peak calls per window}."""
    services = sorted({call.service for call in calls})
    return {service: peak_rate([c for c in calls if c.service == service], window) for service in services}


def process_count(calls):
    return len({call.pid for call in calls})
