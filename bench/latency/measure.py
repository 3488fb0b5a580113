"""6. Under the latency model: the fleet at --parallel 1 vs. 8, and one promotion's phases.

Every run here sends every AWS call of its clients through the latency proxy (proxy.py);
the set-up (tier, snapshots, the database a promotion replaces) goes to the endpoint
directly and is not modelled or timed.

- `fleet.latency`: `tenantstack deploy --fleet` of N generated tenants (bench/fleet.py's
  run, first deploys) at --parallel 1 and --parallel 8, alternately; the ratio of their wall
  times. Target >= 6x (20 tenants in 8 slots: at most 20 / ceil(20 / 8) = 6.67x). The CPU
  the fleet's processes and the endpoint used is measured too: on a small machine it, not
  the waits, bounds --parallel 8.
- `promotion.latency`: one replacement promotion (stacker build of xy-0146-qa with TS2 over
  TS1, which is retired) and its phases, from the proxy's timeline.
- `promotion.latency.copy_skipped`: the same promotion with `snapshot_copy: always` (the
  source copied under the same key first, as every promotion did before) against the default
  (within a tier restored as it is): before / now, in simulated AWS minutes.
"""
import os
import resource
import time
from dataclasses import dataclass

from bench import fleet, tenants
from bench.harness import REPO_ROOT, Stats, interleave, stacker_build
from bench.latency import model
from bench.latency.proxy import LatencyProxy
from bench.results import Row, Section, Table

TARGET = 6.0
TARGET_FLEET = 20  # the fleet; a smaller one cannot reach 6x (2 tenants: at most 2x)
PROMOTION_ENV = REPO_ROOT / "environments" / "xy-0146-qa.env"
COPY_WITHIN_THE_TIER = ("-e", "snapshot_copy=always")  # the rule before across-tiers: every promotion copied
GATE_CALLS = frozenset((("ecs", "DescribeServices"), ("ecs", "DescribeTasks"), ("elbv2", "DescribeTargetHealth"),
                        ("ecs", "ListTasks")))


@dataclass(frozen=True)
class Via:
    """What bench/fleet.py needs of an endpoint: the clients' environment (here: the proxy's)."""

    env: dict


def proxied_env(endpoint, proxy):
    return dict(endpoint.env, AWS_ENDPOINT_URL=proxy.url)


@dataclass(frozen=True)
class PhaseTime:
    phase: str
    start: float  # bench seconds since the promotion started
    end: float
    spans: tuple  # ((start, end), ...) of its waits (the gate: of its looks)

    @property
    def seconds(self):
        """Time inside the phase's spans, overlaps counted once."""
        return union_seconds(self.spans)

    @property
    def modelled(self):
        """A wait of the model (scaled); the gate is no wait of AWS's: its calls and the CPU."""
        return self.phase != model.GATE

    def aws_minutes(self, scale):
        return model.aws_minutes(self.seconds, scale) if self.modelled else self.seconds / 60.0


def union_seconds(intervals):
    """Length of the union of (start, end) intervals."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def phase_times(timeline, calls):
    """[PhaseTime] of the phases that happened, in model.PHASES order.

    A wait's span runs from the call that started it to the first look that found it over
    (a deletion: to its call's return). The gate: from the first to the last ECS/ELB look
    after the rollout was seen done."""
    intervals = {}
    for span in timeline:
        # the db instance and the ECS service wait with their stack: the stack's look ends them
        seen = span.seen_done if span.kind not in (model.INSTANCE, model.SERVICE) else None
        intervals.setdefault(span.phase, []).append((span.started, span.ends if seen is None else seen))
    rollouts = intervals.get(model.ROLLOUT)
    if rollouts:
        after = max(end for _, end in rollouts)
        before = min([start for start, _ in intervals.get(model.RETIREMENT, []) if start >= after] or [float("inf")])
        looks = [at for at, service, operation in calls
                 if after <= at < before and (service, operation) in GATE_CALLS]
        if looks:
            intervals[model.GATE] = [(looks[0], looks[-1])]
    return [PhaseTime(phase, min(s for s, _ in intervals[phase]), max(e for _, e in intervals[phase]),
                      tuple(sorted(intervals[phase])))
            for phase in model.PHASES if phase in intervals]


def outside_waits(phases, total):
    """Seconds of the promotion spent outside every modelled wait: CPU, calls, the hooks' own work
    (the gate's looks included)."""
    return max(0.0, total - union_seconds([span for p in phases if p.modelled for span in p.spans]))


def aws_wall_minutes(phases, total, scale):
    """The promotion's wall time on AWS: its waits scaled back up, the time outside them as it was
    (this machine's CPU and the calls do not scale)."""
    other = outside_waits(phases, total)
    return model.aws_minutes(total - other, scale) + other / 60.0


def phase_table(phases, total, scale, variant=""):
    rows = [(p.phase if p.modelled else "%s (not scaled)" % p.phase, "%.2f" % p.start, "%.2f" % p.end,
             "%.2f" % p.seconds, "%.1f" % p.aws_minutes(scale)) for p in phases]
    other = outside_waits(phases, total)
    rows.append(("outside the waits (not scaled)", "", "", "%.2f" % other, "%.1f" % (other / 60.0)))
    rows.append(("promotion (wall)", "0.00", "%.2f" % total, "%.2f" % total,
                 "%.1f" % aws_wall_minutes(phases, total, scale)))
    return Table("One promotion under the latency model%s, by phase (bench seconds since it started; AWS minutes "
                 "= bench seconds / scale / 60)" % (", " + variant if variant else ""),
                 ("phase", "from", "to", "seconds", "AWS min"), tuple(rows))


def copy_skipped_row(copied, skipped, scale):
    """The same promotion before (the source copied within the tier) and after (restored as it is)."""
    before, after = aws_wall_minutes(*copied, scale), aws_wall_minutes(*skipped, scale)
    return Row("promotion.latency.copy_skipped", "qa promotion's simulated AWS wall time: snapshot copied within "
               "the tier (before) / restored as it is (now)", "%.2fx" % (before / after if after else 0.0),
               "%.1f min before, %.1f min now: the copy within one key is off the critical path" % (before, after))


def promotion_row(phases, total, scale):
    parts = ", ".join("%s %.1f" % (p.phase, p.aws_minutes(scale)) for p in phases)
    return Row("promotion.latency", "one promotion's simulated wall time (replacement, TS1 retired)",
               "%.1f s = %.1f min on AWS" % (total, aws_wall_minutes(phases, total, scale)),
               "AWS minutes by phase: %s; outside the waits %.1f s (not scaled)" % (
                   parts, outside_waits(phases, total)))


def fleet_row(size, serial, parallel, scale, cpu):
    ratio = serial.ratio(parallel)
    judged = size >= TARGET_FLEET
    return Row("fleet.latency", "fleet of %d tenants under the latency model, --parallel %d / --parallel %d"
               % (size, fleet.SERIAL, fleet.PARALLEL), "%.2fx" % ratio.median,
               "--parallel %d %.1f s (%.0f min on AWS), --parallel %d %.1f s (%.0f min); CPU of the --parallel %d "
               "run %.0f s (fleet %.0f s, endpoint %.0f s, proxy and bench %.0f s); target >= %gx%s"
               % (fleet.SERIAL, serial.median, model.aws_minutes(serial.median, scale), fleet.PARALLEL,
                  parallel.median, model.aws_minutes(parallel.median, scale), fleet.PARALLEL,
                  sum(cpu), cpu[0], cpu[1], cpu[2], TARGET,
                  "" if judged else " (for %d tenants or more: no target)" % TARGET_FLEET),
               ok=(ratio.median >= TARGET) if judged else None)


def cpu_now(endpoint):
    """CPU seconds so far of (the bench's finished children: a fleet once it exited; the endpoint;
    the bench process itself: the proxy's threads and the fleet's memory sampler)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return (children.ru_utime + children.ru_stime, process_cpu(endpoint.server.pid), own.ru_utime + own.ru_stime)


def process_cpu(pid):
    """user + system CPU seconds of a running process (/proc/<pid>/stat), 0 when unknown."""
    try:
        fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    except (OSError, TypeError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LatencyFleet:
    def __init__(self, endpoint, proxy, workdir, size, budget):
        self.endpoint, self.proxy, self.workdir, self.size, self.budget = endpoint, proxy, workdir, size, budget
        self.cpu = {}

    def measure(self, parallel, round_number):
        paths = fleet.prepare(self.endpoint, self.workdir, self.size)
        self.proxy.tracker.reset()
        before = cpu_now(self.endpoint)
        run = fleet.deploy_fleet(Via(proxied_env(self.endpoint, self.proxy)), self.workdir, paths, parallel,
                                 "latency-%d-p%d-r%d" % (self.size, parallel, round_number), self.budget)
        self.cpu[parallel] = tuple(after - start for after, start in zip(cpu_now(self.endpoint), before))
        return run.seconds


def measure_promotion(endpoint, proxy, *overrides):
    """(PhaseTimes, wall seconds) of one replacement promotion through the proxy (overrides: more `-e`s)."""
    endpoint.reset()
    tenants.build_tier(endpoint)
    tenants.seed_snapshots(endpoint, [PROMOTION_ENV], tenants.TS1)
    tenants.seed_snapshots(endpoint, [PROMOTION_ENV], tenants.TS2)
    stacker_build(endpoint.env, PROMOTION_ENV, tenants.TENANT_CONFIG, "-e", "db_timestamp=%s" % tenants.TS1)
    proxy.tracker.reset()
    started = time.perf_counter()
    stacker_build(proxied_env(endpoint, proxy), PROMOTION_ENV, tenants.TENANT_CONFIG,
                  "-e", "db_timestamp=%s" % tenants.TS2, *overrides)
    total = time.perf_counter() - started
    return phase_times(proxy.tracker.timeline, proxy.tracker.calls), total


def measure(endpoint, workdir, size, runs, scale, budget):
    """The section "latency". `budget`: AWS's calls per second, run at budget / scale."""
    section = Section("latency", "6. Under the latency model (scale %g: 1 bench second = %g s on AWS)"
                      % (scale, 1 / scale))
    with LatencyProxy(endpoint.url, scale) as proxy:
        runner = LatencyFleet(endpoint, proxy, workdir, size, budget / scale)
        times = interleave(runs, serial=lambda r: runner.measure(fleet.SERIAL, r),
                           parallel=lambda r: runner.measure(fleet.PARALLEL, r))
        copied = measure_promotion(endpoint, proxy, *COPY_WITHIN_THE_TIER)
        phases, total = measure_promotion(endpoint, proxy)
    section.rows = [fleet_row(size, Stats.of(times["serial"]), Stats.of(times["parallel"]), scale,
                              runner.cpu[fleet.PARALLEL]),
                    promotion_row(phases, total, scale),
                    copy_skipped_row(copied, (phases, total), scale)]
    section.tables.append(phase_table(phases, total, scale))
    section.tables.append(phase_table(*copied, scale, "with the snapshot copied within the tier (snapshot_copy "
                                                      "always, as every promotion did before)"))
    section.notes = [
        "Every AWS call of the measured runs goes through the latency proxy (bench/latency/), which delays it by "
        "its operation's latency and keeps snapshot copies, stacks, restores and rollouts in progress for their "
        "modelled time, all times the scale; docs/performance.md, \"The latency model\", has the table and its "
        "sources. Set-up goes to the endpoint directly.",
        "Fleet: %d generated tenants' first deploys (as in 4.), --parallel %d then %d, %d round(s); the API "
        "budget is %g calls/s on AWS, so %g at this scale." % (size, fleet.SERIAL, fleet.PARALLEL, runs,
                                                                 budget, budget / scale),
        "Promotion: stacker build of environments/xy-0146-qa.env with db_timestamp %s over %s (deployed before, "
        "not timed); the phases overlap only if the promotion runs waits together." % (tenants.TS2, tenants.TS1),
    ]
    return section
