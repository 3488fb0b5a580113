"""2. API calls per promotion, per service and operation, with 0, 50, 500 other tenants present.

For each population size, on a freshly reset endpoint: the shared tier, the dev
snapshots, N other tenants (bench/population.py), then two promotions of
environments/xy-0146-qa.env, each counted on its own (bench/child/sitecustomize.py counts
every HTTP request of the stacker process, retries included):

- first deploy: snapshot TS1 into the empty namespace;
- replacement: snapshot TS2 over TS1 (new database, flip, TS1 retired with a final snapshot).

Each data set has its files (3 objects under <dev>/files/<ts>/, copied by the promotion), and
so does every other tenant (1 object under its own prefix).

Target: no operation's count grows with the number of other tenants.
"""
from collections import Counter

from bench import calls, population, tenants
from hooks import naming
from hooks.aws import file_copy
from bench.harness import REPO_ROOT, stacker_build, timed
from bench.results import Row, Section, Table

ENV_FILE = REPO_ROOT / "environments" / "xy-0146-qa.env"
PROMOTIONS = (("first", "first deploy (TS1 into an empty namespace)"),
              ("replace", "replacement (TS2 over TS1, TS1 retired)"))


SOURCE_FILES = ("uploads/contract.pdf", "uploads/logo.png", "exports/2026-11.csv")  # each data set's files


def count_promotions(endpoint, workdir, size):
    """({promotion: Counter of calls}, seconds spent seeding the other tenants)."""
    endpoint.reset()
    tenants.build_tier(endpoint)
    bucket = file_copy.files_bucket(endpoint.client("cloudformation"), tenants.TIER)
    for timestamp in (tenants.TS1, tenants.TS2):
        source = tenants.seed_snapshots(endpoint, [ENV_FILE], timestamp)[0]
        seed_files(endpoint.client("s3"), bucket, naming.files_prefix(source, timestamp), SOURCE_FILES)
    seeding, _ = timed(population.populate, endpoint, size, files_bucket=bucket)
    counts = {}
    for promotion, timestamp in (("first", tenants.TS1), ("replace", tenants.TS2)):
        calls_dir = workdir / ("calls-%d-%s" % (size, promotion))
        calls_dir.mkdir()
        stacker_build(endpoint.env, ENV_FILE, tenants.TENANT_CONFIG, "-e", "db_timestamp=%s" % timestamp,
                      calls_dir=calls_dir)
        counts[promotion] = calls.count_by_operation(calls.read_calls(calls_dir))
    return counts, seeding


def seed_files(s3, bucket, prefix, names):
    for name in names:
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=b"%s of %s" % (name.encode(), prefix.encode()))


def changed(counts_by_size, promotion):
    """Operations whose count at another size differs from their count at the smallest size: a promotion
    must make the same calls whatever else the account holds (fewer is a bug too: something skipped)."""
    sizes = sorted(counts_by_size)
    base = counts_by_size[sizes[0]][promotion]
    return sorted(
        operation
        for size in sizes[1:]
        for operation in set(counts_by_size[size][promotion]) | set(base)
        if counts_by_size[size][promotion].get(operation, 0) != base.get(operation, 0)
    )


def measure(endpoint, workdir, sizes):
    sizes = sorted(set(sizes))
    counts_by_size, seeding = {}, {}
    for size in sizes:
        counts_by_size[size], seeding[size] = count_promotions(endpoint, workdir, size)
    section = Section("api_calls", "2. API calls per promotion vs. other tenants in the account")
    for promotion, label in PROMOTIONS:
        totals = [sum(counts_by_size[size][promotion].values()) for size in sizes]
        growing = sorted(set(changed(counts_by_size, promotion)))
        section.rows.append(Row(
            "api_calls.%s" % promotion,
            "API calls, %s, with %s other tenants" % (label, " / ".join(map(str, sizes))),
            " / ".join(map(str, totals)),
            "flat: every operation the same" if not growing else "NOT FLAT: %s" % ", ".join(growing),
            ok=not growing,
        ))
    section.rows.append(Row(
        "api_calls.seeding", "seeding the other tenants (set-up, not a promotion)",
        " / ".join("%.1f s" % seeding[size] for size in sizes),
        "for %s other tenants: 3 stacks, 1 database, 3 parameters, 1 file each" % " / ".join(map(str, sizes)),
    ))
    section.tables.append(per_operation_table(counts_by_size, sizes))
    section.notes = [
        "Counted with botocore's before-send event in the stacker process (every HTTP request, retries "
        "included); other tenants are seeded through the API, each with stacks <ns>-base, <ns>-db-<ts>, "
        "<ns>-service, a database (with the automated snapshot the endpoint makes) and parameters under /<ns>/db/.",
        "Polling is at 0 s against an endpoint that completes every stack and rollout at once, so the wait "
        "loops poll once; against AWS they poll every 15 s (hooks) / 30 s (stacker) until done.",
    ]
    return section


def per_operation_table(counts_by_size, sizes):
    operations = sorted(set().union(*(
        counts_by_size[size][promotion] for size in sizes for promotion, _ in PROMOTIONS)))
    header = ("operation",) + tuple(
        "%s @%d" % (promotion, size) for promotion, _ in PROMOTIONS for size in sizes)
    rows = []
    for operation in operations:
        rows.append((operation,) + tuple(
            str(counts_by_size[size][promotion].get(operation, 0)) for promotion, _ in PROMOTIONS for size in sizes))
    totals = Counter()
    for promotion, _ in PROMOTIONS:
        for size in sizes:
            totals[(promotion, size)] = sum(counts_by_size[size][promotion].values())
    rows.append(("total",) + tuple(str(totals[(p, s)]) for p, _ in PROMOTIONS for s in sizes))
    return Table("API calls per promotion, by operation (columns: promotion @ other tenants)", header, tuple(rows))
