"""The buildspecs, end to end, through the local CodeBuild runner (scripts/local_codebuild.py).

The pull-request buildspec runs in this checkout with a small gate and test selection (the
full gates and suite run in `make test` itself). The deploy buildspec deploys a tenant
against the session's local endpoint with the real CLI and stacker; a failing deploy stage
must leave the tenant serving its previous service and database.
"""
import json
import os
import subprocess
import sys

import pytest

from hooks import naming
from hooks.steps import source_snapshot
from tests.e2e.stacker_cli import REPO
from tests.hooks.cli.commands.seeded import flip
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants, assert_retired_with_final_snapshot

RUNNER = REPO / "scripts" / "local_codebuild.py"
PULL_REQUEST, DEPLOY = REPO / naming.PULL_REQUEST_BUILDSPEC, REPO / naming.DEPLOY_BUILDSPEC
SNAPSHOT = REPO / naming.SNAPSHOT_BUILDSPEC
DEV_DATABASE = "20261001t080000z"  # the dev database seed_dev_snapshot creates
QA = "xy-0146-qa"
STATUS_ARTIFACT = "status.json"
TIMEOUT = 600
# The representative subsets: one pure gate test group and one unit test module.
SMALL_GATES = "-q -k allowlist"
SMALL_TESTS = "-q tests/hooks/naming/test_namespaces.py"


def run_buildspec(buildspec, env, tmp_path, *args):
    """(CompletedProcess, report) of one local build of `buildspec` in this checkout."""
    report = tmp_path / "report.json"
    child_env = {key: value for key, value in env.items() if key != "LOCAL_CODEBUILD_DEPTH"}
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(buildspec), "--source-dir", str(REPO), "--report", str(report),
         "--artifacts-dir", str(tmp_path / "artifacts"), "--timeout", str(TIMEOUT), *args],
        cwd=str(REPO), env=child_env, capture_output=True, text=True, timeout=TIMEOUT + 60,
    )
    assert report.exists(), "the runner refused the build:\n%s" % result.stderr
    return result, json.loads(report.read_text())


def container_environment():
    """This machine's environment as a build container's: without the variables of a make that
    runs these tests (`make test`), which a CodeBuild container does not have."""
    return {key: value for key, value in os.environ.items() if key not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def phases(report):
    return [(phase["phase"], phase["status"]) for phase in report["phases"]]


# --- pull request ------------------------------------------------------------------------------


def test_the_pull_request_buildspec_runs_green(tmp_path):
    result, report = run_buildspec(
        PULL_REQUEST, container_environment(), tmp_path, "--env", "GATE_SELECTION=" + SMALL_GATES,
        "--env", "TEST_SELECTION=" + SMALL_TESTS, "--pull-request", "7",
        # compared with itself: the same on main and on a branch that changes templates (the live
        # preview has no endpoint here; tests/delivery/test_pull_request_preview.py runs it against one)
        "--env", "PREVIEW_BASE=HEAD",
    )
    assert report["status"] == "SUCCEEDED", result.stdout[-6000:] + result.stderr[-2000:]
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED")]
    assert "make: Nothing to be done for 'test-setup'." in result.stdout  # the set-up is a no-op on a set-up tree
    assert "templates is up to date" in result.stdout
    assert "[Container] Running command make test PYTEST_ARGS=\"$TEST_SELECTION\"\n" in result.stdout
    assert report["cache_paths"] == ["/root/.cache/pip/**/*"]


def test_a_failing_test_fails_the_pull_request_build(tmp_path):
    failing = tmp_path / "test_fails.py"
    failing.write_text("def test_fails():\n    assert 1 == 2\n")
    result, report = run_buildspec(
        PULL_REQUEST, container_environment(), tmp_path, "--env", "GATE_SELECTION=" + SMALL_GATES,
        "--env", "TEST_SELECTION=-q %s" % failing,
    )
    assert report["status"] == "FAILED" and result.returncode == 1
    assert report["phases"][-1] == {
        "phase": "build", "status": "FAILED", "failed_command": 'make test PYTEST_ARGS="$TEST_SELECTION"',
        "exit_code": 2,  # make's status when a recipe fails
    }
    assert "1 failed" in result.stdout


# --- deploy ------------------------------------------------------------------------------------


@pytest.fixture
def tenants(aws):
    """common-nonprod built and the dev team's first snapshot taken."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    return tenants


def status_of(tmp_path):
    """The tenant entry of the stage's status artifact."""
    document = json.loads((tmp_path / "artifacts" / STATUS_ARTIFACT).read_text())
    (tenant,) = document["tenants"]
    return tenant


@pytest.mark.e2e
def test_the_deploy_buildspec_promotes_the_tenant_and_publishes_its_status(tenants, tmp_path):
    result, report = run_buildspec(
        DEPLOY, tenants.env, tmp_path, "--env", "ENV_FILE=%s" % naming.env_file_path(QA), "--project",
        naming.deploy_project_name(QA), "--initiator", "codepipeline/%s" % naming.pipeline_name("xy-0146"),
    )
    assert report["status"] == "SUCCEEDED", result.stdout[-6000:]
    assert phases(report) == [
        ("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED"), ("post_build", "SUCCEEDED")
    ]
    assert report["exported_variables"] == {"DEPLOY_NAMESPACE": QA}
    assert report["artifacts"] == [str(tmp_path / "artifacts" / STATUS_ARTIFACT)]
    status = status_of(tmp_path)
    assert (status["namespace"], status["active"], status["lock"]) == (QA, TS1, None)
    assert [database["timestamp"] for database in status["databases"]] == [TS1]
    assert_invariants(tenants.state(QA), TS1)


@pytest.mark.e2e
def test_a_failing_deploy_stage_leaves_the_old_service_and_database_live(tenants, tmp_path):
    tenants.deploy(QA)
    tenants.snapshot("xy-0146-dev", TS2)
    before = tenants.state(QA)
    promotion = tmp_path / ("%s.env" % QA)  # the reviewed one-line change: db_timestamp TS1 -> TS2
    promotion.write_text((REPO / naming.env_file_path(QA)).read_text().replace(TS1, TS2))
    ssm = tenants.aws.client("ssm")
    blocker = naming.ssm_database_parameter(QA, TS2)  # the new database stack's own registration: it fails
    ssm.put_parameter(Name=blocker, Value="left over", Type="String")

    result, report = run_buildspec(DEPLOY, tenants.env, tmp_path, "--env", "ENV_FILE=%s" % promotion)

    assert report["status"] == "FAILED" and result.returncode == 1
    assert phases(report) == [
        ("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "FAILED"), ("post_build", "SUCCEEDED")
    ]
    assert report["phases"][2]["exit_code"] == 4  # tenantstack deploy: the deploy failed, the tenant serves on
    status = status_of(tmp_path)  # published after the failure too
    assert (status["namespace"], status["active"], status["lock"]) == (QA, TS1, None)
    state = tenants.state(QA)
    assert (state.active, state.pointer_version, state.service_timestamp) == (TS1, before.pointer_version, TS1)
    ssm.delete_parameter(Name=blocker)
    state = tenants.state(QA)
    assert_invariants(state, TS1)
    assert_retired_with_final_snapshot(state, TS2)


def test_a_deploy_stage_without_env_file_stops_before_deploying(tmp_path):
    result, report = run_buildspec(DEPLOY, container_environment(), tmp_path)
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "FAILED")]
    assert report["phases"][1]["exit_code"] == 2 and report["artifacts"] == []
    assert ("ENV_FILE is not set: the deploy project names the tenant env file, e.g. "
            "ENV_FILE=environments/xy-0146-qa.env\n") in result.stderr


# --- snapshot (data_source: snapshot) ------------------------------------------------------------


@pytest.mark.e2e
def test_the_snapshot_action_exports_dev_s_timestamp_and_qa_deploys_exactly_it(tenants, tmp_path):
    """The Dev stage's Snapshot action, then the Qa deploy action given #{Snapshot.DB_TIMESTAMP}."""
    dev = naming.parse_namespace("xy-0146-dev")
    flip(tenants.aws.client("ssm"), str(dev), DEV_DATABASE)  # dev serves the database seed_dev_snapshot made
    result, report = run_buildspec(SNAPSHOT, tenants.env, tmp_path / "snapshot", "--env",
                                   "SNAPSHOT_NAMESPACE=%s" % dev, "--project", naming.snapshot_project_name(dev))
    assert report["status"] == "SUCCEEDED", result.stdout[-6000:] + result.stderr[-2000:]
    taken = report["exported_variables"]["DB_TIMESTAMP"]
    assert report["exported_variables"] == {"DB_TIMESTAMP": taken} and taken != TS1
    naming.parse_timestamp(taken)
    source_snapshot.describe_source_snapshot(tenants.aws.client("rds"), str(dev), taken)  # fit to promote

    result, report = run_buildspec(DEPLOY, tenants.env, tmp_path / "qa", "--env", "ENV_FILE=%s" % naming.env_file_path(QA),
                                   "--env", "DB_TIMESTAMP=%s" % taken)
    assert report["status"] == "SUCCEEDED", result.stdout[-6000:]
    assert_invariants(tenants.state(QA), taken)  # the env file says TS1; the captured snapshot won


def test_a_snapshot_action_without_its_namespace_stops_before_any_call(tmp_path):
    result, report = run_buildspec(SNAPSHOT, container_environment(), tmp_path)
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "FAILED")]
    assert report["phases"][1]["exit_code"] == 2 and not report["exported_variables"].get("DB_TIMESTAMP")
    assert "SNAPSHOT_NAMESPACE is not set" in result.stderr
