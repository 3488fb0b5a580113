"""5. Memory: peak RSS of a fleet rollout of N generated tenants (--parallel 8).

Two numbers, because neither alone is the whole truth:
- the process tree's sum (tenantstack and every stacker it runs), sampled from /proc
  every 0.1 s: what the machine must hold at once; a peak shorter than that can be missed;
- getrusage(RUSAGE_CHILDREN).ru_maxrss of a wrapper around the CLI: the exact peak of the
  largest single process of the tree, but not a sum.
"""
from bench import fleet
from bench.results import Row, Section
from bench.rss import INTERVAL_SECONDS, mebibytes


def measure(endpoint, workdir, size, budget):
    paths = fleet.prepare(endpoint, workdir, size)
    run = fleet.deploy_fleet(endpoint, workdir, paths, fleet.PARALLEL, "memory-%d" % size, budget)
    section = Section("memory", "5. Memory of a fleet rollout")
    section.rows = [
        Row("memory.tree", "peak RSS, fleet of %d tenants (--parallel %d), whole process tree"
            % (size, fleet.PARALLEL), "%.0f MiB" % mebibytes(run.peak_tree_bytes),
            "sum over tenantstack + its stacker children, sampled every %g s; up to %d processes at once"
            % (INTERVAL_SECONDS, run.peak_processes)),
        Row("memory.single", "peak RSS of the largest single process in that rollout",
            "%.0f MiB" % mebibytes(run.peak_single_rusage_bytes),
            "getrusage(RUSAGE_CHILDREN) ru_maxrss (exact); sampled: %.0f MiB"
            % mebibytes(run.peak_single_sampled_bytes)),
        Row("memory.wall", "wall time of that rollout", "%.1f s" % run.seconds,
            "%d API calls, peak %d calls/s (--max-api-rate %g)" % (len(run.calls), run.peak_rate, budget)),
    ]
    section.notes = [
        "Same set-up as the fleet rollout (reset, tier, %d env files and snapshots, not part of the rollout)."
        % size,
        "RSS counts shared pages (the interpreter, shared libraries) once per process, so the tree's sum is an "
        "upper bound of the memory the rollout needs; the sampled peak can miss a spike shorter than %g s."
        % INTERVAL_SECONDS,
    ]
    return section
