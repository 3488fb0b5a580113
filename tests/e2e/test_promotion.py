"""The promotion, end to end: the real stacker CLI with every hook against the local endpoint.

After each scenario the namespace's state is read from the endpoint and checked against
the invariants of docs/architecture.md (tests/e2e/tenants.py: assert_invariants).
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from local_endpoint import LocalEndpoint
from seed import create_dev_database, snapshot_database

from hooks import naming
from tests.conftest import Aws
from tests.e2e.tenants import TS1, TS2, TS3, Tenants, assert_invariants, assert_retired_with_final_snapshot

pytestmark = pytest.mark.e2e
QA = "xy-0146-qa"
REPO = Path(__file__).resolve().parents[2]
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")


@pytest.fixture
def tenants(aws):
    """common-nonprod built, and the dev team's first snapshot taken."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    return tenants


@pytest.fixture
def live(tenants):
    """xy-0146-qa serving TS1, and a newer dev snapshot TS2 waiting to be promoted."""
    tenants.deploy(QA)
    assert_invariants(tenants.state(QA), TS1)
    tenants.snapshot("xy-0146-dev", TS2)
    return tenants


def output_of(result):
    return result.stdout + result.stderr


# --- promotions ---------------------------------------------------------------------------


def test_one_snapshot_promoted_dev_to_qa_to_prod_and_a_rerun_changes_nothing(tenants):
    tenants.tier("common-prod")
    for namespace in ("xy-0146-dev", QA, "xy-0146-prod"):
        tenants.deploy(namespace)
        assert_invariants(tenants.state(namespace), TS1)
    before = tenants.state(QA)
    snapshots = tenants.aws.client("rds").describe_db_snapshots()["DBSnapshots"]
    result = tenants.deploy(QA)
    after = tenants.state(QA)
    assert after == before  # same pointer version, databases, stacks, snapshots, lock free
    assert tenants.aws.client("rds").describe_db_snapshots()["DBSnapshots"] == snapshots
    assert "pointer unchanged" in output_of(result)


def test_a_newer_snapshot_replaces_the_database_and_the_old_one_leaves_a_final_snapshot(live):
    result = live.deploy(QA, TS2)
    state = live.state(QA)
    secret = json.loads(
        live.aws.client("secretsmanager").get_secret_value(SecretId=naming.db_secret_name(QA))["SecretString"]
    )
    assert secret["username"] == "dbadmin"  # the source snapshot's master user
    assert secret["password"] not in output_of(result)  # the secret never reaches stacker's output
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)
    history = live.aws.client("ssm").get_parameter_history(Name=naming.ssm_active_parameter(QA))["Parameters"]
    assert [h["Value"] for h in history] == [TS1, TS2]
    assert history[1]["Description"].startswith("%s (was %s) set by " % (TS2, TS1))


def test_retain_previous_keeps_one_and_a_rollback_to_it_restores_nothing(live):
    live.deploy(QA, TS2, retain_previous=1)
    assert_invariants(live.state(QA), TS2, retained=[TS1])
    cfn = live.aws.client("cloudformation")
    created = cfn.describe_stacks(StackName=naming.db_stack_name(QA, TS1))["Stacks"][0]["CreationTime"]

    result = live.deploy(QA, TS1, retain_previous=1)
    state = live.state(QA)
    assert_invariants(state, TS1, retained=[TS2])
    assert cfn.describe_stacks(StackName=naming.db_stack_name(QA, TS1))["Stacks"][0]["CreationTime"] == created
    assert state.final_snapshots == {}
    assert live.line("db: submitted (creating new stack)") not in output_of(result)


def test_two_customers_on_one_tier_do_not_touch_each_other(live):
    live.snapshot("ab-0212-dev", TS1)
    live.deploy("ab-0212-qa")
    live.deploy(QA, TS2)
    assert_invariants(live.state(QA), TS2)
    assert_invariants(live.state("ab-0212-qa"), TS1)


# --- bad input -------------------------------------------------------------------------


def test_a_missing_snapshot_fails_before_anything_changes(live):
    before = live.state(QA)
    result = live.deploy(QA, TS3, check=False)
    assert result.returncode != 0
    assert "source snapshot xy-0146-dev-%s not found" % TS3 in output_of(result)
    assert live.state(QA) == before


def test_a_snapshot_of_another_engine_is_refused(live):
    rds = live.aws.client("rds")
    instance = create_dev_database(rds, "xy-0146-dev", "20261110t000000z", engine="postgres", engine_version="16.3")
    snapshot_database(rds, instance, "xy-0146-dev", TS3)
    before = live.state(QA)
    result = live.deploy(QA, TS3, check=False)
    assert result.returncode != 0
    assert "source snapshot xy-0146-dev-%s cannot be promoted: its engine is 'postgres'" % TS3 in output_of(result)
    assert live.state(QA) == before


def test_a_snapshot_of_another_namespaces_data_is_refused(live):
    rds = live.aws.client("rds")
    instance = create_dev_database(rds, "ab-0212-dev", "20261110t000000z")
    snapshot_database(rds, instance, "xy-0146-dev", TS3)  # named like ours, holds ab-0212-dev's data
    before = live.state(QA)
    result = live.deploy(QA, TS3, check=False)
    assert result.returncode != 0
    assert "it holds data of ab-0212-dev, not of xy-0146-dev" in output_of(result)
    assert live.state(QA) == before


def test_a_dev_snapshot_under_another_key_is_refused_for_the_dev_namespace_itself(live):
    """The dev namespace is its own source: its snapshot cannot be copied onto its own id."""
    rds = live.aws.client("rds")
    instance = create_dev_database(rds, "xy-0146-dev", "20261110t000000z")  # the endpoint's default key
    snapshot_database(rds, instance, "xy-0146-dev", TS3)
    before = live.state("xy-0146-dev")
    result = live.deploy("xy-0146-dev", TS3, check=False)
    assert result.returncode != 0
    assert ("source snapshot xy-0146-dev-%s is the namespace's own snapshot (source_namespace is xy-0146-dev "
            "itself) and is encrypted with " % TS3) in output_of(result)
    assert live.state("xy-0146-dev") == before


# --- faults ----------------------------------------------------------------------------


def test_a_failed_database_stack_leaves_the_tenant_serving_and_the_next_run_converges(live):
    ssm = live.aws.client("ssm")
    blocker = naming.ssm_database_parameter(QA, TS2)  # the new stack's own registration: its create fails
    ssm.put_parameter(Name=blocker, Value="left over", Type="String")
    result = live.deploy(QA, TS2, check=False)
    assert result.returncode != 0
    state = live.state(QA)
    assert (state.active, state.service_timestamp, state.instances[TS1]) == (TS1, TS1, "available")

    ssm.delete_parameter(Name=blocker)
    live.deploy(QA, TS2)
    state = live.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)


def test_a_service_that_never_becomes_stable_is_reverted_and_the_pointer_stays(live):
    # The endpoint always runs 2 tasks: asking for 3 can never become stable.
    result = live.deploy(QA, TS2, check=False, desired_count=3, stable_timeout=2)
    assert result.returncode != 0
    output = output_of(result)
    assert "did not become stable on task definition" in output
    state = live.state(QA)
    assert (state.active, state.service_timestamp, state.lock) == (TS1, TS1, None)
    assert state.instances[TS1] == "available"

    live.deploy(QA, TS2)
    state = live.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)


@pytest.fixture
def stalled(tmp_path):
    """A second endpoint whose ECS services never run a task."""
    with LocalEndpoint(ecs_running=0, log_path=str(tmp_path / "stalled.log")) as endpoint:
        yield endpoint


def test_a_first_deploy_that_never_becomes_stable_sets_no_pointer(stalled):
    tenants = Tenants(Aws(stalled.url))
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    result = tenants.deploy(QA, check=False, stable_timeout=1)
    assert result.returncode != 0
    assert "did not become stable on task definition" in output_of(result)
    state = tenants.state(QA)
    assert (state.active, state.lock) == (None, None)


def test_a_failed_pointer_flip_reverts_the_service_and_a_rerun_converges(live):
    fault = {"TENANTSTACK_FAIL_CALLS": "ssm.PutParameter@%s" % naming.ssm_active_parameter(QA)}
    result = live.deploy(QA, TS2, check=False, env=fault)
    assert result.returncode != 0
    assert "could not point /xy-0146-qa/db/active at %s" % TS2 in output_of(result)
    state = live.state(QA)
    assert (state.active, state.service_timestamp, state.lock) == (TS1, TS1, None)

    live.deploy(QA, TS2)
    assert_invariants(live.state(QA), TS2)


def test_a_failed_retirement_keeps_the_old_database_and_a_rerun_reaps_it(live):
    result = live.deploy(QA, TS2, check=False, env={"TENANTSTACK_FAIL_CALLS": "rds.DeleteDBInstance"})
    assert result.returncode != 0
    assert naming.db_instance_id(QA, TS1) in output_of(result)
    state = live.state(QA)
    assert (state.active, state.service_timestamp, state.lock) == (TS2, TS2, None)
    assert state.instances[TS1] == "available"  # nothing deleted without its final snapshot

    live.deploy(QA, TS2)
    state = live.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)


# Log lines that mark the step boundaries of one promotion, in order.
STEP_MARKERS = [
    "source snapshot xy-0146-dev-%s" % TS2,  # input validated, nothing changed yet
    "lock",  # deploy lock taken
    "deploying %s" % TS2,  # live state recorded
    "restore snapshot xy-0146-dev-%s" % TS2,  # restored as it is: qa and dev share the tier key
    "files of %s: copying" % TS2,  # the data set's files being copied (hooks.steps.files)
    "db: complete",  # new database stack created
    "service: complete",  # service stack updated
    "xy-0146-qa: stable after",  # stable gate passed
    "pointer flipped",  # pointer moved
    "retired",  # old database retired
]


@pytest.mark.parametrize("marker", STEP_MARKERS)
def test_a_run_killed_at_a_step_boundary_converges_when_run_again(live, marker):
    process = live.start_deploy(QA, TS2)
    live.kill_when(process, marker)
    for attempt in range(3):
        if live.deploy(QA, TS2, check=False).returncode == 0:
            break
    else:
        raise AssertionError("the deploy did not converge after 3 re-runs")
    state = live.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)


# --- concurrency -----------------------------------------------------------------------


def pause_when(tenants, process, marker):
    lines = []
    for line in process.stderr:
        lines.append(line)
        if marker in line:
            os.killpg(process.pid, signal.SIGSTOP)
            return lines
    raise AssertionError("marker %r never appeared:\n%s" % (marker, "".join(lines)))


def resume(process):
    os.killpg(process.pid, signal.SIGCONT)
    _, rest = process.communicate(timeout=300)
    return process.returncode, rest


def test_two_deploys_of_one_namespace_never_interleave(live):
    first = live.start_deploy(QA, TS2)
    pause_when(live, first, "deploying %s" % TS2)  # holds the lock, mid-run
    second = live.deploy(QA, TS2, check=False)
    assert second.returncode != 0
    output = output_of(second)
    assert "namespace xy-0146-qa is locked by another deploy" in output
    assert "tenantstack unlock xy-0146-qa --holder" in output
    code, rest = resume(first)
    assert code == 0, rest[-3000:]
    state = live.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)


def test_deploys_of_different_namespaces_do_not_block_each_other(live):
    live.snapshot("ab-0212-dev", TS1)
    first = live.start_deploy(QA, TS2)
    pause_when(live, first, "deploying %s" % TS2)
    live.deploy("ab-0212-qa")  # runs to the end while xy-0146-qa holds its own lock
    code, rest = resume(first)
    assert code == 0, rest[-3000:]
    assert_invariants(live.state(QA), TS2)
    assert_invariants(live.state("ab-0212-qa"), TS1)


# --- the application contract: a database the application cannot use never gets the pointer --

CANNED = str(REPO / "tests" / "e2e" / "canned")
REFUSED = "unhealthy:Target.ResponseCodeMismatch:Health checks failed with these codes: [503]"


def test_a_new_database_the_application_cannot_use_fails_the_deploy_and_leaves_the_old_one_serving(live):
    """What AWS answers when the new tasks' /healthz gets 503 (their database refuses the application
    user): the endpoint cannot run tasks, so a test module answers ECS's task and the load balancer's
    target questions in the stacker child (tests/e2e/canned/sitecustomize.py); everything else is the
    endpoint's real state."""
    before = live.state(QA)
    env = dict(live.env, PYTHONPATH=CANNED, TENANTSTACK_TEST_TARGET_STATE=REFUSED)
    result = subprocess.run([TENANTSTACK, "deploy", "environments/%s.env" % QA, "-e", "db_timestamp=%s" % TS2],
                            cwd=str(REPO), env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 4, output_of(result)[-4000:]
    assert ("is unhealthy in the target group: Target.ResponseCodeMismatch: Health checks failed with these "
            "codes: [503]") in result.stdout
    state = live.state(QA)
    assert (state.active, state.pointer_version, state.lock) == (TS1, before.pointer_version, None)
    assert state.instances[TS1] == "available" and state.service_timestamp == TS1  # reverted, still serving
    live.deploy(QA, TS2)  # the cause fixed (here: no canned answer), the same promotion converges
    assert_invariants(live.state(QA), TS2)
