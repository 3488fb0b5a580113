"""Input that must be refused before any change, and a routine change that must go through, each
through the path a user takes: `tenantstack deploy`, or plain `stacker build` where the rule
must hold there too. After a refusal the endpoint is read: no stack, no parameter (the deploy
lock among them), no database, no secret of the namespace, and a live tenant is unchanged.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import naming
from tests.e2e.stacker_cli import REPO, TIMEOUT, build
from tests.e2e.tenants import TS1, TS3, Tenants, assert_invariants, env_file, overrides

pytestmark = pytest.mark.e2e

TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
QA, OTHER = "xy-0146-qa", "ab-0212-qa"
# Public images: pinned, and needing nothing seeded in the endpoint's registry.
IMAGES = {"nginx_image": "public.ecr.aws/nginx/nginx:1.27.3",
          "php_image": "public.ecr.aws/docker/library/php:8.3.14-fpm"}


def env_text(namespace, **values):
    """The repository's env file of `namespace`, with `values` (and the public IMAGES) in place of its own."""
    text = (REPO / env_file(namespace)).read_text()
    for key, value in dict(IMAGES, **values).items():
        text = re.sub(r"(?m)^%s:.*$" % key, "%s: %s" % (key, value), text)
    return text


QA_TEXT = env_text(QA)


def tenantstack(env, *args, cwd=REPO):
    return subprocess.run([TENANTSTACK, *args], cwd=str(cwd), env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def one_line(text):
    return " ".join(text.split())


def footprint(aws, namespace):
    """Everything of `namespace` the endpoint holds, by kind (all empty: the namespace was never touched)."""
    stacks = [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]
              if s["StackName"].startswith(namespace + "-")]
    ssm = aws.client("ssm")
    pages = ssm.get_paginator("describe_parameters").paginate()
    parameters = [p["Name"] for page in pages for p in page["Parameters"] if p["Name"].startswith("/%s/" % namespace)]
    rds = aws.client("rds")
    instances = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]
                 if i["DBInstanceIdentifier"].startswith(namespace + "-")]
    snapshots = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]
                 if s["DBSnapshotIdentifier"].startswith(namespace + "-")]
    secrets = [s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]
               if s["Name"].startswith(namespace + "/")]
    return {"stacks": stacks, "parameters": parameters, "instances": instances, "snapshots": snapshots,
            "secrets": secrets}


UNTOUCHED = {"stacks": [], "parameters": [], "instances": [], "snapshots": [], "secrets": []}


def write_env(directory, name, text):
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return str(path)


@pytest.fixture
def tier(aws):
    """common-nonprod built, and the dev team's first snapshot taken."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    return tenants


def deploy(tenants, directory, namespace, *arguments):
    """`tenantstack deploy` of the namespace's env file (env_text) written to `directory`; must succeed."""
    path = write_env(directory, "%s.env" % namespace, env_text(namespace))
    run = tenantstack(tenants.env, "deploy", path, *arguments)
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    return run


@pytest.fixture
def live(tier, tmp_path):
    """xy-0146-qa serving TS1."""
    deploy(tier, tmp_path, QA)
    return tier


def refusal(tenants, path, env_path):
    """`path` (plain `stacker build`, or `tenantstack deploy`) run on the env file must refuse it: stacker
    exits non-zero, tenantstack deploy 2 (bad input). Returns everything it printed, on one line."""
    if path == "stacker build":
        run = build(tenants.env, env_path, "stacker/tenant.yaml", check=False)
        assert run.returncode != 0
    else:
        run = tenantstack(tenants.env, "deploy", env_path)
        assert run.returncode == 2, run.stdout + run.stderr[-4000:]
    return one_line(run.stdout + run.stderr)


def snapshot_of(tenants, namespace):
    """The namespace's state and footprint, to compare before and after a refused run."""
    return tenants.state(namespace), footprint(tenants.aws, namespace)


# --- 1. a routine change: a new task size ---------------------------------------------------------


def test_a_new_fargate_task_size_deploys_and_the_service_runs_it(live, tmp_path):
    """Only parameters change (TaskCpu, TaskMemory): the task definition must still have its containers."""
    run = deploy(live, tmp_path, QA, "-e", "task_cpu=1024", "-e", "task_memory=2048")
    assert "has no DB_TIMESTAMP" not in run.stderr
    assert_invariants(live.state(QA), TS1)
    ecs, cfn = live.aws.client("ecs"), live.aws.client("cloudformation")
    service = ecs.describe_services(cluster="common-nonprod", services=[QA])["services"][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    images = {c.get("name"): c.get("image") for c in task["containerDefinitions"]}
    assert (images.get("nginx"), images.get("php")) == (IMAGES["nginx_image"], IMAGES["php_image"])
    assert task["memory"] == "2048"
    parameters = {p["ParameterKey"]: p["ParameterValue"]
                  for p in cfn.describe_stacks(StackName=naming.service_stack_name(QA))["Stacks"][0]["Parameters"]}
    assert (parameters["TaskCpu"], parameters["TaskMemory"]) == ("1024", "2048")


def test_status_of_a_service_on_a_task_definition_it_does_not_know_reports_it_and_does_not_crash(live):
    """Someone pointed the service at a hand-made task definition (no php container)."""
    ecs = live.aws.client("ecs")
    web = {"name": "web", "image": "busybox:1.36", "memory": 128}
    foreign = ecs.register_task_definition(family=QA, containerDefinitions=[web])
    ecs.update_service(cluster="common-nonprod", service=QA,
                       taskDefinition=foreign["taskDefinition"]["taskDefinitionArn"])
    run = tenantstack(live.env, "status", QA)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "Traceback" not in run.stderr
    assert "has no DB_TIMESTAMP in a php container (it has web); it references no database" in run.stderr


# --- 2. an invalid Fargate task size ----------------------------------------------------------------


def test_an_invalid_fargate_task_size_is_refused_before_any_change(live, tmp_path):
    before = snapshot_of(live, QA)
    qa = write_env(tmp_path, "xy-0146-qa.env", QA_TEXT)
    run = tenantstack(live.env, "deploy", qa, "-e", "task_cpu=4096", "-e", "task_memory=512")
    assert run.returncode == 2, run.stderr[-4000:]
    assert ("env keys task_cpu 4096 and task_memory 512 are not a Fargate task size: with task_cpu 4096, task_memory "
            "must be 8192 to 30720 in steps of 1024") in one_line(run.stdout)
    assert snapshot_of(live, QA) == before


# --- 3. the file name is the namespace, under plain stacker too --------------------------------------


# "stacker build" is the engine's own CLI: stacker, or tenantstack-cfngin (tests/e2e/stacker_cli.py), which
# records the env file it read for the hooks (stacker_compat.env_file_of).
@pytest.mark.parametrize("path", ["stacker build", "tenantstack deploy"])
def test_an_env_file_named_for_another_namespace_is_refused(tier, tmp_path, path):
    misnamed = write_env(tmp_path, "ab-0212-uat.env", QA_TEXT)  # holds namespace: xy-0146-qa
    assert ("env file %s sets namespace xy-0146-qa, but an env file must be named after its namespace "
            "(environments/<namespace>.env); rename it to xy-0146-qa.env, or set `namespace: ab-0212-uat` if it is "
            "ab-0212-uat's file" % misnamed) in refusal(tier, path, misnamed)
    assert footprint(tier.aws, QA) == footprint(tier.aws, "ab-0212-uat") == UNTOUCHED


# --- 4. a host name or priority another tenant holds on the tier ------------------------------------

COLLISIONS = {
    "hostname": ("hostname: xy-0146-qa.apps-nonprod.example.com", "hostname: ab-0212-qa.apps-nonprod.example.com",
                 "hostname ab-0212-qa.apps-nonprod.example.com already routes to ab-0212-qa on tier common-nonprod's "
                 "HTTPS listener"),
    "listener_priority": ("listener_priority: 1462", "listener_priority: 2122",
                          "listener_priority 2122 is taken on tier common-nonprod's HTTPS listener by ab-0212-qa"),
}


@pytest.fixture
def neighbour(tier, tmp_path):
    """ab-0212-qa live on the tier (its env file, as far as the new tenant knows, is in another repository)."""
    tier.snapshot("ab-0212-dev", TS1)
    deploy(tier, tmp_path / "elsewhere", OTHER)
    return tier


@pytest.mark.parametrize("path", ["tenantstack deploy", "stacker build"])
@pytest.mark.parametrize("key", sorted(COLLISIONS))
def test_a_hostname_or_priority_live_on_the_tier_is_refused_before_any_change(neighbour, tmp_path, key, path):
    ours, theirs, message = COLLISIONS[key]
    colliding = write_env(tmp_path, "xy-0146-qa.env", QA_TEXT.replace(ours, theirs))
    before = snapshot_of(neighbour, OTHER)
    assert message in refusal(neighbour, path, colliding)
    assert footprint(neighbour.aws, QA) == UNTOUCHED
    assert snapshot_of(neighbour, OTHER) == before


def test_the_tenants_own_rule_is_no_collision(live, tmp_path):
    before = live.state(QA)
    run = deploy(live, tmp_path, QA)
    assert "xy-0146-qa: hostname xy-0146-qa.apps-nonprod.example.com and listener_priority 1462 are free" in run.stderr
    assert live.state(QA) == before


# --- 5. tracebacks stay out of the log -----------------------------------------------------------------


def test_bad_input_shows_its_message_and_files_the_traceback(tier, tmp_path):
    qa = write_env(tmp_path, "xy-0146-qa.env", QA_TEXT)
    run = tenantstack(tier.env, "deploy", qa, "-e", "db_timestamp=%s" % TS3, cwd=tmp_path)
    assert run.returncode == 2, run.stderr[-4000:]
    assert "Traceback" not in run.stderr
    (log,) = (tmp_path / ".run" / "deploy").glob("xy-0146-qa-*.log")
    assert ("SourceSnapshotMissing: source snapshot xy-0146-dev-%s not found" % TS3) in run.stderr
    assert "(traceback in %s; `tenantstack deploy --debug` shows it here)" % log in run.stderr
    assert "Traceback (most recent call last)" in log.read_text()
    assert footprint(tier.aws, QA) == UNTOUCHED

    debug = tenantstack(tier.env, "deploy", "--debug", qa, "-e", "db_timestamp=%s" % TS3, cwd=tmp_path)
    assert debug.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert footprint(tier.aws, QA) == UNTOUCHED


# --- 6. line endings, byte order mark, tabs ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(QA_TEXT.replace("\n", "\r\n").replace("hostname: ", "\thostname:\t"), id="crlf-and-tabs"),
        pytest.param(QA_TEXT.replace("\n", "\r"), id="cr-only"),
    ],
)
def test_windows_and_old_mac_line_endings_and_tabs_around_values_deploy(tier, tmp_path, text):
    run = tenantstack(tier.env, "deploy", write_env(tmp_path, "xy-0146-qa.env", text))
    assert run.returncode == 0, run.stdout + run.stderr[-4000:]
    assert_invariants(tier.state(QA), TS1)


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("\ufeff" + QA_TEXT, "the file starts with a UTF-8 byte order mark (BOM), which stacker reads as "
                     "part of the first line", id="byte-order-mark"),
        pytest.param(QA_TEXT.replace("namespace: ", "namespace\t: "), "'namespace\\t' has spaces or tabs around its "
                     "name: write `namespace: value`", id="tab-before-the-colon"),
    ],
)
def test_what_stacker_would_read_differently_is_refused_naming_it(tier, tmp_path, text, message):
    path = write_env(tmp_path, "xy-0146-qa.env", text)
    run = tenantstack(tier.env, "deploy", path)
    assert run.returncode == 2, run.stderr[-4000:]
    assert message in one_line(run.stdout)
    assert footprint(tier.aws, QA) == UNTOUCHED
    # Plain stacker refuses both itself before any hook: its parser, or its config's ${namespace}.
    plain = build(tier.env, path, "stacker/tenant.yaml", *overrides(), check=False)
    assert plain.returncode != 0
    assert footprint(tier.aws, QA) == UNTOUCHED
