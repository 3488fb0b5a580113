"""Drive promotions with the real engine CLI (stacker, or CFNgin's tenantstack-cfngin) and read
what the endpoint holds afterwards."""
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from seed import local_certificate, pinned_images, seed_dev_snapshot, seed_images, tier_key_arn

from hooks import naming
from hooks.config import envfile
from tests.e2e.stacker_cli import REPO, STACKER, TIMEOUT, build, engine_line

TS1 = "20261101t090000z"  # the env files' db_timestamp
TS2 = "20261115t120000z"
TS3 = "20261120t080000z"
TIER_OF = {"nonprod": "common-nonprod", "prod": "common-prod"}
DOMAIN_OF = {"common-nonprod": "*.apps-nonprod.example.com", "common-prod": "*.apps.example.com"}


def env_file(namespace):
    return "environments/%s.env" % namespace


def tenant_settings(namespace):
    return envfile.load(os.path.join(str(REPO), env_file(namespace)))


def overrides(**values):
    args = []
    for key, value in values.items():
        args += ["-e", "%s=%s" % (key, value)]
    return args


@dataclass
class State:
    """A namespace as the endpoint holds it."""

    namespace: str
    active: object = None
    pointer_version: int = 0
    instances: dict = field(default_factory=dict)  # timestamp -> status
    db_stacks: set = field(default_factory=set)
    final_snapshots: dict = field(default_factory=dict)  # timestamp -> [snapshot ids]
    service_timestamp: object = None
    lock: object = None
    registrations: set = field(default_factory=set)
    restore_copies: dict = field(default_factory=dict)  # timestamp -> (KmsKeyId, tags) of <ns>-<ts> (hooks.steps.tier_copy)
    tier_key: object = None  # ARN of alias/<tier>/rds


def without_prod_bake(namespace, values):
    """`values` with bake_seconds 0 for a prod namespace unless the test sets it: prod's default bake time
    (hooks/steps/bake.py, 300 s) is real waiting on the endpoint; the bake is tested in tests/e2e/test_alarms.py."""
    if str(namespace).endswith("-prod") and "bake_seconds" not in values:
        return dict(values, bake_seconds=0)
    return values


class Tenants:
    """Promotions against one local endpoint (the `aws` fixture)."""

    def __init__(self, aws, extra_env=None, cli=STACKER, engine=None):
        """`cli`: the engine CLI that deploys (default: this venv's); `engine`: its name, for its log lines."""
        self.aws = aws
        self.env = dict(aws.env, TENANTSTACK_POLL_SECONDS="0", **(extra_env or {}))
        self.cli = cli
        self.engine = engine

    def line(self, text):
        """A stack-status line ("db: complete") as this engine writes it."""
        return engine_line(text, self.engine) if self.engine else engine_line(text)

    def tier(self, shared="common-nonprod", images=True):
        """The shared tier; and (images) the images the tenant env files pin, as their projects' pipelines
        push them: a deploy refuses images that do not exist (hooks.steps.images)."""
        if images:
            seed_images(self.aws.client("ecr"), pinned_images(sorted((REPO / naming.ENVIRONMENTS_DIR).glob("*.env"))))
        certificate = local_certificate(self.aws.client("acm"), DOMAIN_OF[shared])
        build(self.env, env_file(shared), "stacker/shared.yaml", *overrides(certificate_arn=certificate), cli=self.cli)

    def snapshot(self, source_namespace, timestamp, **engine):
        """A dev snapshot; once the tier exists, under its key, as a dev database the pipeline
        restored would be (the dev namespace is its own source: hooks.steps.tier_copy)."""
        key = tier_key_arn(self.aws.client("kms"), source_namespace)
        engine = dict({"kms_key_id": key} if key else {}, **engine)
        return seed_dev_snapshot(self.aws.client("rds"), source_namespace, timestamp, **engine)

    def deploy(self, namespace, timestamp=None, check=True, env=None, **values):
        if timestamp:
            values["db_timestamp"] = timestamp
        values = without_prod_bake(namespace, values)
        return build(
            dict(self.env, **(env or {})), env_file(namespace), "stacker/tenant.yaml", *overrides(**values), check=check,
            cli=self.cli,
        )

    def start_deploy(self, namespace, timestamp=None, env=None, **values):
        """A deploy in the background: (process, output lines list filled by read_until)."""
        if timestamp:
            values["db_timestamp"] = timestamp
        values = without_prod_bake(namespace, values)
        command = [self.cli, "build", *overrides(**values), env_file(namespace), "stacker/tenant.yaml"]
        return subprocess.Popen(
            command,
            cwd=str(REPO),
            env=dict(self.env, **(env or {})),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def kill_when(self, process, marker, timeout=TIMEOUT):
        """SIGKILL the deploy as soon as a log line containing `marker` appears.

        Returns the lines read; raises if the run ended without printing the marker (a
        stack-status marker, "db: complete", is matched in the engine's own form).
        """
        marker = self.line(marker)
        lines, deadline = [], time.monotonic() + timeout
        for line in process.stderr:
            lines.append(line)
            if marker in line:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
                return lines
            if time.monotonic() > deadline:
                break
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        raise AssertionError("marker %r never appeared; output:\n%s" % (marker, "".join(lines[-40:])))

    def state(self, namespace):
        ssm, rds, cfn, ecs = (self.aws.client(s) for s in ("ssm", "rds", "cloudformation", "ecs"))
        state = State(namespace)
        try:
            parameter = ssm.get_parameter(Name=naming.ssm_active_parameter(namespace))["Parameter"]
            state.active, state.pointer_version = parameter["Value"], parameter["Version"]
        except ssm.exceptions.ParameterNotFound:
            pass
        for db in rds.describe_db_instances()["DBInstances"]:
            try:
                owner, timestamp = naming.parse_db_instance_id(db["DBInstanceIdentifier"])
            except naming.NamingError:
                continue
            if owner.name == namespace:
                state.instances[timestamp] = db["DBInstanceStatus"]
        for snapshot in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
            try:
                owner, timestamp, _ = naming.parse_final_snapshot_id(snapshot["DBSnapshotIdentifier"])
            except naming.NamingError:
                continue
            if owner.name == namespace and snapshot["Status"] == "available":
                state.final_snapshots.setdefault(timestamp, []).append(snapshot["DBSnapshotIdentifier"])
        for snapshot in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
            tags = {t["Key"]: t["Value"] for t in snapshot.get("TagList", [])}
            try:
                owner, timestamp = naming.parse_snapshot_id(snapshot["DBSnapshotIdentifier"])
            except naming.NamingError:
                continue
            if owner.name == namespace and naming.COPIED_FROM_TAG in tags:
                state.restore_copies[timestamp] = (snapshot.get("KmsKeyId"), tags)
        state.tier_key = tier_key_arn(self.aws.client("kms"), namespace)
        for stack in cfn.describe_stacks()["Stacks"]:
            try:
                owner, timestamp = naming.parse_db_instance_id(stack["StackName"])  # DB stack == instance id
            except naming.NamingError:
                continue
            if owner.name == namespace:
                state.db_stacks.add(timestamp)
        pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=naming.ssm_databases_path(namespace))
        state.registrations = {p["Name"].rsplit("/", 1)[1] for page in pages for p in page["Parameters"]}
        tenant = tenant_settings(namespace)
        services = ecs.describe_services(
            cluster=naming.cluster_name(tenant["shared_namespace"]), services=[naming.service_name(namespace)]
        )["services"]
        if services:
            task = ecs.describe_task_definition(taskDefinition=services[0]["taskDefinition"])["taskDefinition"]
            php = next(c for c in task["containerDefinitions"] if c["name"] == "php")
            state.service_timestamp = {e["name"]: e["value"] for e in php["environment"]}["DB_TIMESTAMP"]
        try:
            state.lock = json.loads(ssm.get_parameter(Name=naming.ssm_lock_parameter(namespace))["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound:
            pass
        return state


def assert_invariants(state, active, retained=(), lock_free=True, copied_from=None):
    """Every invariant (docs/architecture.md, "Invariants") that one namespace's state can show.

    copied_from: {timestamp: snapshot} for restore copies made from another snapshot than the env
    file's source (a rollback's copy of a final snapshot)."""
    copied_from = copied_from or {}
    ns = state.namespace
    # The pointer always names an existing, available database, and the service serves it.
    assert state.active == active, "%s: pointer is %s, expected %s" % (ns, state.active, active)
    assert state.instances.get(active) == "available", "%s: active database %s is %s" % (
        ns,
        active,
        state.instances.get(active),
    )
    assert state.service_timestamp == active, "%s: service runs against %s, pointer says %s" % (
        ns,
        state.service_timestamp,
        active,
    )
    # No orphans: exactly the active database plus the retained ones, each with its stack.
    assert set(state.instances) == {active, *retained}, "%s: databases %s, expected %s" % (
        ns,
        sorted(state.instances),
        sorted({active, *retained}),
    )
    assert state.db_stacks == set(state.instances), "%s: DB stacks %s vs databases %s" % (
        ns,
        sorted(state.db_stacks),
        sorted(state.instances),
    )
    assert state.registrations == set(state.instances), "%s: registrations %s" % (ns, sorted(state.registrations))
    # A database restored from another tier's snapshot restores from the namespace's own copy under
    # the tier key, kept while the database exists and deleted with it; within a tier (and a
    # namespace that is its own source) the source is restored as it is and no copy is made.
    settings = tenant_settings(ns)
    source = settings["source_namespace"]
    copied = {timestamp for timestamp in state.instances
              if naming.restores_from(ns, source, timestamp, settings["snapshot_copy"])
              != naming.snapshot_id(source, timestamp)} | set(copied_from)
    assert set(state.restore_copies) == copied, "%s: restore copies %s, expected %s" % (
        ns, sorted(state.restore_copies), sorted(copied))
    for timestamp, (key, tags) in state.restore_copies.items():
        assert key == state.tier_key, "%s: copy of %s is under %s, not the tier key %s" % (
            ns, timestamp, key, state.tier_key)
        origin = copied_from.get(timestamp) or naming.snapshot_id(source, timestamp)
        assert tags == dict(naming.tags(ns), **{naming.COPIED_FROM_TAG: origin})
    if lock_free:
        assert state.lock is None, "%s: lock still held: %s" % (ns, state.lock)


def assert_retired_with_final_snapshot(state, *timestamps):
    """Nothing is lost: each retired database left an available, uniquely named final snapshot."""
    for timestamp in timestamps:
        assert timestamp not in state.instances, "%s still exists" % timestamp
        assert state.final_snapshots.get(timestamp), "no final snapshot of %s-db-%s" % (state.namespace, timestamp)
