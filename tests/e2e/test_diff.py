"""`tenantstack diff` end to end: the real CLI against a tenant the real engine deployed.

Every scenario reads the endpoint's whole state before and after the preview
(tests/e2e/account.py) and asserts it is equal: a diff changes nothing, and leaves no
change set behind.

What the local endpoint's change sets report (moto 5.2), and so what these tests can show:
- a change set whose template and parameters equal the stack's is refused at once
  ("No updates are to be performed.", ValidationError), where AWS makes a FAILED one;
- changes are computed from the template alone: Add, Modify, Remove by logical id, never a
  Replacement and never Details (the property), and a parameter-only change is a change set
  with no resource change;
- locally a task definition's logical id carries a digest of its properties and parameter
  values (endpoint quirk "ecs-task-definition-created-not-updated"), so a new image shows as
  the old task definition removed and a new one added (on AWS: Modify, Replacement True).
Which changes are flagged when CloudFormation does report Replacement (a security group, a
listener rule, the database) is tested with Stubber in tests/hooks/ops/test_preview_run.py
and test_preview.py, and through the pull-request buildspec with AWS's answer canned
(tests/delivery/test_buildspecs.py).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import naming
from hooks.ops import change_sets, preview_run
from hooks.run import deploy
from tests.e2e.account import account_state
from tests.e2e.account import change_sets as listed_change_sets
from tests.e2e.tenants import TS1, TS2, Tenants

pytestmark = pytest.mark.e2e
QA = "xy-0146-qa"
QA_ENV = "environments/%s.env" % QA
REPO = Path(__file__).resolve().parents[2]
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
OTHER_PHP = "public.ecr.aws/docker/library/php@sha256:" + "ab" * 32


@pytest.fixture
def tenants(aws):
    """common-nonprod built, and the dev team's first snapshot taken."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    return tenants


@pytest.fixture
def live(tenants):
    """xy-0146-qa deployed on TS1."""
    tenants.deploy(QA)
    return tenants


def diff(tenants, *args, expect=0):
    """The JSON document of `tenantstack diff <args> --json`, asserting its exit code and that the
    account is exactly as it was (and holds no change set) afterwards."""
    before = account_state(tenants.aws)
    result = subprocess.run([TENANTSTACK, "diff", *args, "--json"], cwd=str(REPO), env=tenants.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == expect, result.stderr[-4000:]
    after = account_state(tenants.aws)
    assert after["change_sets"] == []
    assert after == before
    return json.loads(result.stdout)


def stacks_of(document):
    return {stack["name"]: stack for stack in document["stacks"]}


def actions(stack):
    return sorted((change["action"], change["logical_id"].rstrip("0123456789abcdef")
                   if change["resource_type"] == "AWS::ECS::TaskDefinition" else change["logical_id"])
                  for change in stack["changes"])


# --- scenarios --------------------------------------------------------------------------------


def test_a_diff_right_after_a_deploy_is_unchanged_and_leaves_the_account_as_it_was(live):
    document = diff(live, QA_ENV)
    assert (document["command"], document["result"], document["exit_code"], document["new_tenant"]) == (
        "diff", "unchanged", 0, False)
    assert {name: (stack["result"], stack["changes"], stack["unknowns"])
            for name, stack in stacks_of(document).items()} == {
        "base": ("unchanged", [], []), "db": ("unchanged", [], []), "service": ("unchanged", [], [])}
    assert [(step["step"], step["changes"]) for step in document["steps"]] == [("restore", False), ("flip", False)]
    assert document["steps"][1]["text"] == "pointer /xy-0146-qa/db/active stays at %s" % TS1
    assert (document["flagged"], document["refused"]) == ([], [])


def test_a_new_image_modifies_the_service_and_replaces_nothing_guarded(live):
    document = diff(live, QA_ENV, "-e", "php_image=" + OTHER_PHP, "--fail-on-replace")
    stacks = stacks_of(document)
    assert (document["result"], stacks["base"]["result"], stacks["db"]["result"]) == ("changes", "unchanged",
                                                                                       "unchanged")
    # moto: the task definition's digest-named logical id changes (add + remove); the service follows it.
    assert actions(stacks["service"]) == [("add", "TaskDefinition"), ("modify", "Service"),
                                          ("remove", "TaskDefinition")]
    assert all(change["replacement"] is None and not change["flagged"] for change in stacks["service"]["changes"])
    assert document["exit_code"] == 0


def test_a_new_listener_priority_is_a_parameter_change_moto_reports_without_resources(live):
    # moto computes changes from the template only: ListenerPriority is a parameter, so the change set
    # holds no resource change (AWS: Modify ListenerRule; its classification: tests/hooks/ops).
    document = diff(live, QA_ENV, "-e", "listener_priority=1463")
    service = stacks_of(document)["service"]
    assert (document["result"], service["result"], service["changes"]) == ("changes", "changes", [])
    assert service["note"] == "the update changes no resource (parameters, tags or outputs only)"


def test_a_new_timestamp_previews_a_new_database_stack_the_flip_and_the_retirement(live):
    live.snapshot("xy-0146-dev", TS2)
    document = diff(live, QA_ENV, "-e", "db_timestamp=" + TS2)
    stacks = stacks_of(document)
    db = stacks["db"]
    assert (db["stack_name"], db["result"], db["live_status"]) == (naming.db_stack_name(QA, TS2), "new", None)
    assert {change["action"] for change in db["changes"]} == {"add"}
    assert {"Database", "DatabaseSecurityGroup"} <= {change["logical_id"] for change in db["changes"]}
    unknown = {u["parameter"]: u for u in stacks["service"]["unknowns"]}
    assert unknown["DatabaseEndpointAddress"]["previewed_with"] == (
        "<unknown until deployed: %s::DatabaseEndpointAddress>" % naming.db_stack_name(QA, TS2))
    assert unknown["DatabaseEndpointPort"]["reason"] == "stack %s does not exist yet" % naming.db_stack_name(QA, TS2)
    steps = {step["step"]: step for step in document["steps"]}
    assert (steps["restore"]["action"], steps["restore"]["snapshot"]) == ("copy", naming.restore_snapshot_id(QA, TS2))
    assert (steps["flip"]["from"], steps["flip"]["to"], steps["flip"]["changes"]) == (TS1, TS2, True)
    assert steps["retire"]["timestamp"] == TS1
    assert steps["retire"]["final_snapshot"].startswith(naming.final_snapshot_prefix(QA, TS1))
    assert document["result"] == "changes"


def test_a_tenant_with_nothing_live_is_new_and_no_change_set_is_made(tenants):
    document = diff(tenants, QA_ENV, "--fail-on-replace")
    assert (document["result"], document["new_tenant"], document["exit_code"]) == ("new", True, 0)
    assert {stack["result"] for stack in document["stacks"]} == {"new"}
    assert [(step["step"], step["changes"]) for step in document["steps"]] == [("restore", True), ("flip", True)]


def test_a_fleet_diff_prints_a_line_per_tenant_and_the_counts(live):
    before = account_state(live.aws)
    result = subprocess.run([TENANTSTACK, "diff", "--fleet", QA_ENV, "environments/xy-0146-dev.env",
                             "--parallel", "2"], cwd=str(REPO), env=live.env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert account_state(live.aws) == before
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "RESULT", "EXIT", "SECONDS", "SUMMARY"]
    assert lines[1].split()[:3] == [QA, "unchanged", "0"]
    assert lines[2].split()[:3] == ["xy-0146-dev", "new", "0"]
    assert lines[-1] == "2 tenant(s): 1 unchanged, 1 new"


def test_a_bad_input_exits_2_with_the_deploys_message_and_touches_nothing(live):
    before = account_state(live.aws)
    result = subprocess.run([TENANTSTACK, "diff", QA_ENV, "-e", "db_timestamp=" + TS2], cwd=str(REPO),
                            env=live.env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    document_free = result.stdout.splitlines()
    assert "source snapshot xy-0146-dev-%s not found" % TS2 in result.stdout
    assert document_free[-1].startswith("  verdict: no preview: source snapshot")
    assert account_state(live.aws) == before


# --- interrupted -----------------------------------------------------------------------------


class Interrupting:
    """The endpoint's clients, the CloudFormation one raising KeyboardInterrupt right after the answer
    to the first CreateChangeSet arrives (as a Ctrl-C between that call and the next would)."""

    def __init__(self, aws):
        self.aws, self.made, self.created = aws, {}, []

    def __call__(self, service):
        if service not in self.made:
            self.made[service] = self.aws.client(service)
            if service == "cloudformation":
                self.made[service].meta.events.register("after-call.cloudformation.CreateChangeSet", self.interrupt)
        return self.made[service]

    def interrupt(self, parsed=None, **kwargs):
        if "Id" not in (parsed or {}):
            return  # refused (the endpoint: "No updates are to be performed"): nothing was made
        self.created.append(parsed["Id"])
        raise KeyboardInterrupt


def test_ctrl_c_after_the_first_change_set_deletes_it(live, monkeypatch):
    monkeypatch.setenv("TENANTSTACK_LOCAL_ENDPOINT", "moto")  # render as the engine did
    live.snapshot("xy-0146-dev", TS2)
    before = account_state(live.aws)
    clients, registry = Interrupting(live.aws), change_sets.ChangeSets()
    prepared = deploy.prepare(str(REPO / QA_ENV), {"php_image": OTHER_PHP})
    with pytest.raises(KeyboardInterrupt):
        preview_run.preview_tenant(prepared, clients, registry)
    assert len(clients.created) == 1  # base and db have no change: the first made is the service's
    assert registry.open() == []
    assert listed_change_sets(live.aws.client("cloudformation")) == []
    assert account_state(live.aws) == before
