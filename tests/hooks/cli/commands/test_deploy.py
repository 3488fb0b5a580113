"""`tenantstack deploy`: arguments, and one tenant's promotion through the real CLI and stacker."""
import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import cli, naming
from hooks.lock import deploy_lock
from tests.e2e.stacker_cli import ENGINE, REPO
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants, assert_retired_with_final_snapshot

TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
QA = "xy-0146-qa"
QA_ENV = "environments/xy-0146-qa.env"
TIMEOUT = 300


def tenantstack(env, *args):
    return subprocess.run([TENANTSTACK, *args], cwd=str(REPO), env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


# --- arguments: refused before anything runs ---------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        pytest.param(["a.env", "b.env"], "deploy takes one ENVFILE (got a.env, b.env); deploy several with --fleet, "
                     "and pass stacker arguments after --", id="two-files-without-fleet"),
        pytest.param([QA_ENV, "--log-dir", "logs"], "--log-dir applies to --fleet only; a single deploy streams to "
                     "stderr", id="log-dir-without-fleet"),
        pytest.param([QA_ENV, "-e", "db_timestamp"], "-e 'db_timestamp' is invalid: expected KEY=VALUE, e.g. "
                     "-e db_timestamp=20261115t120000z", id="override-without-value"),
        pytest.param([QA_ENV, "-e", "retain_previous=1", "-e", "retain_previous=2"], "-e retain_previous is given "
                     "twice ('1' and '2'); give each key once", id="override-twice"),
        pytest.param(["--fleet", QA_ENV, "-e", "db_timestamp=%s" % TS2], "--fleet takes env files only (got -e "
                     "db_timestamp=%s); set keys in each env file, and run stacker arguments with a single deploy"
                     % TS2, id="fleet-with-override"),
        pytest.param(["--fleet", QA_ENV, "--parallel", "0"], "--parallel 0 is invalid: expected a whole number "
                     "from 1 to 32", id="fleet-parallel-0"),
        pytest.param(
            ["--fleet", QA_ENV, "./" + QA_ENV, "environments/common-nonprod.env", "environments/nope.env"],
            "the fleet was not started, nothing was deployed: 3 problem(s):\n"
            "  - env file ./environments/xy-0146-qa.env is listed twice (also as environments/xy-0146-qa.env); "
            "list each tenant once\n"
            "  - env file environments/common-nonprod.env is the shared tier common-nonprod, not a tenant; "
            "tenantstack deploy runs stacker/tenant.yaml. Build a shared tier with: stacker build "
            "environments/common-nonprod.env stacker/shared.yaml\n"
            "  - env file environments/nope.env not found; name an existing environments/<namespace>.env file",
            id="fleet-bad-files",
        ),
    ],
)
def test_bad_arguments_exit_2_naming_the_value_and_the_fix(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert cli.main(["deploy", *argv]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "tenantstack deploy: %s\n" % message)


def test_a_refused_fleet_prints_its_json_too(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert cli.main(["deploy", "--fleet", "environments/common-prod.env", "--json"]) == 2
    captured = capsys.readouterr()
    problem = (
        "the fleet was not started, nothing was deployed: 1 problem(s):\n  - env file environments/common-prod.env "
        "is the shared tier common-prod, not a tenant; tenantstack deploy runs stacker/tenant.yaml. Build a shared "
        "tier with: stacker build environments/common-prod.env stacker/shared.yaml"
    )
    assert json.loads(captured.out) == {"command": "deploy --fleet", "exit_code": 2, "error": problem, "tenants": [],
                                        "schema_version": 1}
    assert captured.err == "tenantstack deploy: %s\n" % problem


# --- against the local endpoint with the real CLI and stacker -------------------------------


def state_of_the_endpoint(aws):
    """Everything a deploy could have created, by kind."""
    return {
        "stacks": aws.client("cloudformation").describe_stacks()["Stacks"],
        "parameters": aws.client("ssm").describe_parameters()["Parameters"],
        "instances": aws.client("rds").describe_db_instances()["DBInstances"],
        "secrets": aws.client("secretsmanager").list_secrets()["SecretList"],
    }


@pytest.mark.e2e
def test_a_bad_env_file_exits_2_before_any_aws_call(aws, tmp_path):
    env_file = tmp_path / "xy-0146-qa.env"
    env_file.write_text((REPO / QA_ENV).read_text().replace("desired_count: 2", "desired_count: lots"))
    run = tenantstack(dict(aws.env), "deploy", str(env_file))
    assert run.returncode == 2, run.stderr
    assert run.stdout == (
        "%s: bad-input (invalid environment in %s: - env key desired_count 'lots' is invalid: expected a whole "
        "number from 1 to 50 Fix the env file (or the -e override), then deploy again., 0.0 s)\n"
        % (env_file, env_file)
    )
    assert state_of_the_endpoint(aws) == {"stacks": [], "parameters": [], "instances": [], "secrets": []}


@pytest.fixture
def tenants(aws):
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    return tenants


@pytest.mark.e2e
def test_a_deploy_throttled_by_aws_retries_and_succeeds(tenants):
    throttled = "rds.DescribeDBSnapshots,ssm.GetParametersByPath"  # each hook's client: its first such call
    run = tenantstack(dict(tenants.env, TENANTSTACK_THROTTLE_CALLS=throttled), "deploy", QA_ENV)
    assert run.returncode == 0, run.stderr[-4000:]
    assert re.fullmatch(r"xy-0146-qa: ok \(deployed xy-0146-qa with db_timestamp %s, \d+\.\d s\)\n" % TS1, run.stdout)
    assert "pointer flipped" in run.stderr  # stacker's own output streams to stderr
    assert_invariants(tenants.state(QA), TS1)


@pytest.mark.e2e
def test_latest_is_previewed_and_deployed_as_the_newest_available_snapshot_and_the_history_records_it(tenants):
    tenants.snapshot("xy-0146-dev", TS2)  # newer than the env file's TS1
    preview = tenantstack(tenants.env, "deploy", "--dry-run", QA_ENV, "-e", "db_timestamp=latest", "--json")
    assert preview.returncode == 0, preview.stderr[-4000:]
    document = json.loads(preview.stdout)
    assert document["db_timestamp"] == TS2
    assert naming.db_stack_name(QA, TS2) in [stack["stack_name"] for stack in document["stacks"]]
    run = tenantstack(tenants.env, "deploy", QA_ENV, "-e", "db_timestamp=latest")
    assert run.returncode == 0, run.stderr[-4000:]
    assert re.fullmatch(r"xy-0146-qa: ok \(deployed xy-0146-qa with db_timestamp %s \(latest\), \d+\.\d s\)\n" % TS2,
                        run.stdout)
    assert ("db_timestamp latest of xy-0146-qa: xy-0146-dev-%s, the newest available snapshot of xy-0146-dev\n" % TS2
            in run.stderr)
    assert_invariants(tenants.state(QA), TS2)
    history = json.loads(tenantstack(tenants.env, "history", QA, "--json").stdout)
    assert [(flip["to"], flip["requested"]) for flip in history["flips"]] == [(TS2, "latest")]


@pytest.mark.e2e
def test_latest_without_an_available_snapshot_exits_2_before_the_engine_starts(aws):
    run = tenantstack(dict(aws.env), "deploy", QA_ENV, "-e", "db_timestamp=latest")
    assert run.returncode == 2, run.stderr
    assert "xy-0146-dev has no available snapshot xy-0146-dev-<timestamp>" in run.stdout
    assert state_of_the_endpoint(aws) == {"stacks": [], "parameters": [], "instances": [], "secrets": []}


@pytest.fixture
def live(tenants):
    """xy-0146-qa serving TS1; the dev team's TS2 snapshot waits to be promoted."""
    tenants.deploy(QA)
    tenants.snapshot("xy-0146-dev", TS2)
    return tenants


@pytest.mark.e2e
def test_a_failed_stack_exits_4_and_the_lock_and_leftover_are_cleaned_up(live):
    ssm = live.aws.client("ssm")
    ssm.put_parameter(Name=naming.ssm_database_parameter(QA, TS2), Value="left over", Type="String")  # db stack fails
    before = live.state(QA)
    run = tenantstack(live.env, "deploy", QA_ENV, "-e", "db_timestamp=%s" % TS2)
    assert run.returncode == 4, run.stderr[-4000:]
    assert re.fullmatch(
        r"xy-0146-qa: failed \(%s: The following steps failed: db, service \(its output has the reason\); "
        r"cleaned up: lock released, database retired \(final snapshot %s-final-\d{8}t\d{6}z\), \d+\.\d s\)\n"
        % (ENGINE, naming.db_instance_id(QA, TS2)), run.stdout)
    state = live.state(QA)
    # The old service and database serve on, the pointer never moved, the lock is gone.
    assert (state.active, state.pointer_version, state.service_timestamp, state.lock) == (
        TS1, before.pointer_version, TS1, None)
    assert state.instances == {TS1: "available"}
    assert_retired_with_final_snapshot(state, TS2)
    assert "tenantstack deploy: retired database %s" % naming.db_instance_id(QA, TS2) in run.stderr


@pytest.mark.e2e
def test_a_held_lock_exits_3_and_changes_nothing(live):
    now = datetime.datetime.now(datetime.timezone.utc)
    held = deploy_lock.LockRecord("bob@ci-9:77", "ci-9", 77, "bob", None, deploy_lock.format_time(now), 7200, TS2)
    deploy_lock.acquire(live.aws.client("ssm"), QA, held, now)
    before = live.state(QA)
    run = tenantstack(live.env, "deploy", QA_ENV, "-e", "db_timestamp=%s" % TS2, "--json")
    assert run.returncode == 3, run.stderr[-4000:]
    result = json.loads(run.stdout)
    assert sorted(result) == [
        "command", "db_timestamp", "env_file", "error", "exit_code", "interrupted", "log_file", "message",
        "namespace", "recovery", "result", "schema_version", "seconds", "stacker_exit",
    ]
    assert (result["command"], result["result"], result["exit_code"], result["error"], result["namespace"]) == (
        "deploy", "lock-held", 3, "hooks.errors.LockHeld", QA)
    assert result["message"].startswith("LockHeld: namespace xy-0146-qa is locked by another deploy: bob@ci-9:77 ")
    assert result["message"].endswith("clear the lock with: tenantstack unlock xy-0146-qa --holder 'bob@ci-9:77'")
    assert result["recovery"]["status"] == "not-needed"
    assert live.state(QA) == before
