"""hooks/run/batch_plan.py: the batch buildspec of a CodeBuild fleet, and what its builds report."""
import datetime
from pathlib import Path

import pytest
import yaml

from hooks import errors
from hooks.run import batch_plan, deploy

TS = "20261101t090000z"
ROOT = Path("/srv/project")


def item(namespace, root=ROOT, env_file=None):
    return deploy.Prepared(str(env_file or root / "environments" / ("%s.env" % namespace)), namespace,
                           "common-nonprod", TS, 0, "%s.example.com" % namespace, 100, (), (), str(root))


def fleet_of(count, project="xy-0146"):
    return [item("%s-%s" % (project, environment)) for environment in ("dev", "qa", "uat", "stage", "prod")[:count]]


def test_a_fleet_within_parallel_is_a_build_list_with_the_budget_split_over_the_builds():
    spec = batch_plan.batch_spec(fleet_of(2), parallel=4, max_api_rate=40.0)
    assert spec == {"version": 0.2, "batch": {"fast-fail": False, "build-list": [
        {"identifier": "xy_0146_dev", "buildspec": "buildspecs/fleet.yml", "ignore-failure": True,
         "env": {"variables": {"ENV_FILE": "environments/xy-0146-dev.env", "TENANTSTACK_MAX_API_RATE": "20"}}},
        {"identifier": "xy_0146_qa", "buildspec": "buildspecs/fleet.yml", "ignore-failure": True,
         "env": {"variables": {"ENV_FILE": "environments/xy-0146-qa.env", "TENANTSTACK_MAX_API_RATE": "20"}}},
    ]}}


def test_parallel_below_the_fleet_is_a_graph_of_that_many_lanes():
    spec = batch_plan.batch_spec(fleet_of(5), parallel=2, max_api_rate=30.0)
    graph = spec["batch"]["build-graph"]
    assert [(b["identifier"], b.get("depend-on")) for b in graph] == [
        ("xy_0146_dev", None), ("xy_0146_qa", None), ("xy_0146_uat", ["xy_0146_dev"]),
        ("xy_0146_stage", ["xy_0146_qa"]), ("xy_0146_prod", ["xy_0146_uat"]),
    ]
    assert {b["env"]["variables"]["TENANTSTACK_MAX_API_RATE"] for b in graph} == {"15"}
    assert all(b["ignore-failure"] is True for b in graph) and spec["batch"]["fast-fail"] is False


def test_no_budget_is_rate_zero_and_the_text_round_trips():
    spec = batch_plan.batch_spec(fleet_of(3), parallel=3, max_api_rate=None)
    text = batch_plan.batch_buildspec(spec)
    assert text.startswith("# The batch of one `tenantstack deploy --fleet --on codebuild` run")
    assert yaml.safe_load(text) == spec
    assert {b["env"]["variables"]["TENANTSTACK_MAX_API_RATE"] for b in spec["batch"]["build-list"]} == {"0"}


@pytest.mark.parametrize("prepared, message", [
    pytest.param([item("xy-0146-qa"), item("ab-0001-qa")],
                 "these env files belong to ab-0001, xy-0146: run one fleet per project", id="two-projects"),
], )
def test_a_fleet_spans_one_project(prepared, message):
    with pytest.raises(errors.BadInput) as raised:
        batch_plan.fleet_project(prepared)
    assert str(raised.value).endswith(message)


def test_the_fleet_project_is_named_by_the_project():
    assert batch_plan.fleet_project(fleet_of(3)) == "xy-0146-fleet"


def test_an_env_file_outside_the_project_is_refused():
    with pytest.raises(errors.BadInput) as raised:
        batch_plan.batch_spec([item("xy-0146-qa", env_file="/tmp/xy-0146-qa.env")], 1, None)
    assert str(raised.value) == (
        "env file /tmp/xy-0146-qa.env is outside the project /srv/project: a CodeBuild build sees only the "
        "project's source; commit the env file under environments/")


def test_more_than_a_batch_holds_is_refused():
    many = [item("xy-0146-qa")] * 101
    with pytest.raises(errors.BadInput, match="a CodeBuild batch holds at most 100 builds"):
        batch_plan.batch_spec(many, 4, None)


# --- what the builds report --------------------------------------------------------------------

START = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)


def build(status, exported=None, phases=(), **extra):
    return dict({"id": "xy-0146-fleet:1", "buildStatus": status, "startTime": START,
                 "endTime": START + datetime.timedelta(seconds=90), "phases": list(phases),
                 "exportedEnvironmentVariables": [{"name": k, "value": v} for k, v in (exported or {}).items()]},
                **extra)


def failed(phase_type, code):
    return {"phaseType": phase_type, "phaseStatus": "FAILED", "contexts": [
        {"statusCode": "COMMAND_EXECUTION_ERROR",
         "message": "Error while executing command: exit \"$DEPLOY_EXIT_CODE\". Reason: exit status %d" % code}]}


@pytest.mark.parametrize("given, code", [
    pytest.param(build("SUCCEEDED"), 0, id="succeeded"),
    pytest.param(build("FAILED", {"DEPLOY_EXIT_CODE": "3"}, [failed("BUILD", 3)]), 3, id="exported-lock-held"),
    pytest.param(build("FAILED", {}, [failed("BUILD", 4)]), 4, id="phase-context-only"),
    pytest.param(build("FAILED", {}, [failed("PRE_BUILD", 2)]), 2, id="pre-build-bad-input"),
    pytest.param(build("FAILED", {}, [failed("INSTALL", 2)]), 4, id="install-failed-is-a-failure"),
    pytest.param(build("FAILED", {"DEPLOY_EXIT_CODE": "1"}, [failed("BUILD", 1)]), 4, id="unknown-code-is-failed"),
    pytest.param(build("TIMED_OUT"), 4, id="timed-out"),
    pytest.param(build("FAULT"), 4, id="fault"),
])
def test_exit_code_of_a_build(given, code):
    assert batch_plan.exit_code_of(given) == code


def test_a_failed_build_becomes_the_tenants_failed_result():
    result = batch_plan.tenant_result(item("xy-0146-qa"), build("FAILED", {"DEPLOY_EXIT_CODE": "4"},
                                                                 [failed("BUILD", 4)]))
    assert (result.namespace, result.exit_code, result.seconds, result.interrupted) == ("xy-0146-qa", 4, 90.0, False)
    assert result.message == ("build xy-0146-fleet:1 FAILED in BUILD: Error while executing command: "
                              "exit \"$DEPLOY_EXIT_CODE\". Reason: exit status 4")


def test_a_stopped_build_counts_as_interrupted_once_it_ran_else_as_skipped():
    ran = batch_plan.tenant_result(item("xy-0146-qa"), build("STOPPED", phases=[{"phaseType": "BUILD",
                                                                                   "phaseStatus": "STOPPED"}]))
    assert (ran.exit_code, ran.interrupted) == (4, True)
    assert batch_plan.tenant_result(item("xy-0146-qa"), build("STOPPED", phases=[{"phaseType": "SUBMITTED"}])) is None


def test_epoch_seconds_of_the_local_runner_are_read_as_well():
    assert batch_plan.build_seconds({"startTime": 100.0, "endTime": 112.5}) == 12.5
