"""1. Promotion overhead: a full promotion with the hooks vs. a bare `stacker build`.

Both sides deploy environments/xy-0146-qa.env into an empty namespace on a freshly
reset endpoint with the shared tier built and the dev snapshot taken, and both create
the same three stacks (base, db-<timestamp>, service) from the same snapshot:

- hooks: `stacker build environments/xy-0146-qa.env stacker/tenant.yaml`, every
  pre_build and post_build hook included (docs/pipeline.md);
- bare: the same command with a copy of stacker/tenant.yaml without pre_build and
  post_build, generated at run time. What the hooks would have created first and the
  templates need (the namespace's secret and /<ns>/db/secret-arn) is created before the
  clock starts, with the hook's own function (hooks.steps.credentials).

Set-up (reset, tier, snapshot) is outside the timing. Rounds alternate hooks, bare,
hooks, bare...; the ratio is taken per round, then its median, min and max.
"""
import json
from pathlib import Path

import yaml

from bench import tenants
from bench.harness import REPO_ROOT, BenchError, Stats, interleave, stacker_build, timed
from bench.results import Row, Section
from blueprints.database import DATABASE
from hooks import naming
from hooks.config import envfile
from hooks.steps import credentials

ENV_FILE = REPO_ROOT / "environments" / "xy-0146-qa.env"
HOOK_STAGES = ("pre_build", "post_build", "pre_deploy", "post_deploy")  # stacker's names, then CFNgin's


def write_bare_config(directory):
    """stacker/tenant.yaml without its hooks, written to <directory>/tenant-bare.yaml."""
    config = yaml.safe_load(tenants.TENANT_CONFIG.read_text())
    missing = [stage for stage in HOOK_STAGES if stage not in config]
    if missing:
        raise BenchError("%s has no %s: the bare config would equal it" % (tenants.TENANT_CONFIG, ", ".join(missing)))
    for stage in HOOK_STAGES:
        del config[stage]
    path = Path(directory) / "tenant-bare.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def deployed(endpoint, namespace, timestamp):
    """{stack name: snapshot id for the database stack, else None} of the namespace's stacks."""
    cfn = endpoint.client("cloudformation")
    names = (naming.base_stack_name(namespace), naming.db_stack_name(namespace, timestamp),
             naming.service_stack_name(namespace))
    stacks = {}
    for name in names:
        body = cfn.get_template(StackName=name)["TemplateBody"]
        body = body if isinstance(body, dict) else json.loads(body)
        database = body["Resources"].get(DATABASE, {}).get("Properties", {})
        stacks[name] = database.get("DBSnapshotIdentifier")
    return stacks


class Overhead:
    def __init__(self, endpoint, workdir):
        self.endpoint = endpoint
        self.tenant = envfile.load(ENV_FILE)
        self.bare_config = write_bare_config(workdir)
        self.stacks = {}

    def prepare(self):
        self.endpoint.reset()
        tenants.build_tier(self.endpoint)
        tenants.seed_snapshots(self.endpoint, [ENV_FILE], self.tenant["db_timestamp"])

    def hooks(self, round_number):
        self.prepare()
        seconds, _ = timed(stacker_build, self.endpoint.env, ENV_FILE, tenants.TENANT_CONFIG)
        self.stacks["hooks"] = deployed(self.endpoint, self.tenant["namespace"], self.tenant["db_timestamp"])
        return seconds

    def bare(self, round_number):
        self.prepare()
        snapshot = naming.snapshot_id(self.tenant["source_namespace"], self.tenant["db_timestamp"])
        username = self.endpoint.client("rds").describe_db_snapshots(DBSnapshotIdentifier=snapshot)[
            "DBSnapshots"][0]["MasterUsername"]
        secrets, ssm = self.endpoint.client("secretsmanager"), self.endpoint.client("ssm")
        credentials.ensure_db_secret_exists(secrets, ssm, self.tenant["namespace"], username)
        credentials.ensure_app_secret_exists(secrets, ssm, self.tenant["namespace"])
        seconds, _ = timed(stacker_build, self.endpoint.env, ENV_FILE, self.bare_config)
        self.stacks["bare"] = deployed(self.endpoint, self.tenant["namespace"], self.tenant["db_timestamp"])
        return seconds


def measure(endpoint, workdir, runs):
    overhead = Overhead(endpoint, workdir)
    times = interleave(runs, hooks=overhead.hooks, bare=overhead.bare)
    if overhead.stacks["hooks"] != overhead.stacks["bare"]:
        raise BenchError("the bare build deployed %s, the promotion %s: not the same stacks"
                         % (overhead.stacks["bare"], overhead.stacks["hooks"]))
    hooks, bare = Stats.of(times["hooks"]), Stats.of(times["bare"])
    ratio = hooks.ratio(bare)
    section = Section("overhead", "1. Promotion overhead: hooks vs. bare stacker build")
    section.rows = [
        Row("overhead.hooks", "promotion with hooks (xy-0146-qa, first deploy)", "%.2f s" % hooks.median,
            "median of %d; min %.2f, max %.2f" % (runs, hooks.min, hooks.max)),
        Row("overhead.bare", "bare stacker build, same stacks, no hooks", "%.2f s" % bare.median,
            "median of %d; min %.2f, max %.2f" % (runs, bare.min, bare.max)),
        Row("overhead.ratio", "promotion / bare build", "%.2fx" % ratio.median,
            "per-round ratio, median of %d; min %.2fx, max %.2fx" % (runs, ratio.min, ratio.max)),
    ]
    section.notes = [
        "Both sides create %s from snapshot %s on a reset endpoint with the tier built; set-up is not timed."
        % (", ".join(sorted(overhead.stacks["hooks"])), next(v for v in overhead.stacks["hooks"].values() if v)),
        "Rounds alternate hooks, bare, hooks, bare...; STACKER_STACK_POLL_TIME=0, TENANTSTACK_POLL_SECONDS=0.",
        "The bare side gets the namespace's secret and /<ns>/db/secret-arn before its clock starts "
        "(the templates need them; the hooks create them inside the timed run).",
    ]
    return section
