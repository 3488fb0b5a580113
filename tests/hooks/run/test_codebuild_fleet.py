"""hooks/run/codebuild_fleet.py: starting a fleet's batch and following it to the fleet's summary.

The local endpoint implements no CodeBuild batch build (docs/architecture.md, endpoint gaps),
so CodeBuild's answers come from botocore's Stubber, shaped as CodeBuild gives them; the batch
itself runs for real through the local runner in tests/delivery/test_fleet_batch.py.
"""
import dataclasses
import datetime
import io
import json

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from hooks import cli, errors
from hooks.aws.wait import Wait
from hooks.cli import progress as fleet_progress
from hooks.run import codebuild_fleet, fleet
from tests.hooks.run.test_fleet import env_file

BATCH = "xy-0146-fleet:0b1c"
START = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def prepared(tmp_path):
    """Two tenants whose env files lie in the project (here: tmp_path), as a build's source holds them."""
    checked = fleet.check_fleet([env_file(tmp_path, "xy-0146-dev", 1), env_file(tmp_path, "xy-0146-qa", 2)])
    return [dataclasses.replace(item, project_root=str(tmp_path)) for item in checked]


@pytest.fixture
def codebuild():
    client = boto3.client("codebuild", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def arn(namespace):
    return "arn:aws:codebuild:us-east-1:123456789012:build/xy-0146-fleet:%s" % namespace


def batch(status, **builds):
    groups = [{"identifier": ns.replace("-", "_"), "ignoreFailure": True,
               "currentBuildSummary": {"arn": arn(ns), "buildStatus": state}} for ns, state in builds.items()]
    return {"buildBatches": [{"id": BATCH, "buildBatchStatus": status, "buildGroups": groups}]}


def build(namespace, status, exit_code=None, phase="BUILD"):
    phases = [{"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED"}]
    if phase:
        phases.append({"phaseType": phase, "phaseStatus": "SUCCEEDED" if exit_code in (None, 0) else status})
    if exit_code:
        phases[-1]["contexts"] = [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": "Error while executing "
                                   "command: exit \"$DEPLOY_EXIT_CODE\". Reason: exit status %d" % exit_code}]
    exported = [{"name": "DEPLOY_EXIT_CODE", "value": str(exit_code)}] if exit_code is not None else []
    return {"id": "xy-0146-fleet:%s" % namespace, "buildStatus": status, "startTime": START,
            "endTime": START + datetime.timedelta(seconds=60), "phases": phases,
            "exportedEnvironmentVariables": exported,
            "logs": {"deepLink": "https://console.aws.amazon.com/cloudwatch/home#logsV2:%s" % namespace}}


def expect_looks(stubber, *looks):
    """Each look: a BatchGetBuildBatches answer, and the builds it finished (BatchGetBuilds)."""
    for answer, finished in looks:
        stubber.add_response("batch_get_build_batches", answer, {"ids": [BATCH]})
        if finished:
            stubber.add_response("batch_get_builds", {"builds": finished}, {"ids": [b["id"] for b in finished]})


def test_a_batch_is_started_once_and_followed_to_the_fleets_summary(prepared, codebuild, tmp_path):
    client, stubber = codebuild
    stubber.add_response("start_build_batch", {"buildBatch": {"id": BATCH}},
                         {"projectName": "xy-0146-fleet", "buildspecOverride": ANY})
    expect_looks(
        stubber,
        (batch("IN_PROGRESS", **{"xy-0146-dev": "IN_PROGRESS"}), None),
        (batch("IN_PROGRESS", **{"xy-0146-dev": "SUCCEEDED", "xy-0146-qa": "IN_PROGRESS"}),
         [build("xy-0146-dev", "SUCCEEDED", 0)]),
        (batch("SUCCEEDED", **{"xy-0146-dev": "SUCCEEDED", "xy-0146-qa": "FAILED"}),
         [build("xy-0146-qa", "FAILED", 4)]),
    )
    stream = io.StringIO()
    summary = codebuild_fleet.run_codebuild_fleet(
        prepared, 1, tmp_path / "logs", fleet_progress.LineProgress(stream, 2), client, max_api_rate=40.0,
        wait=Wait(0, 60), sleep=lambda seconds: None)

    assert (summary.exit_code, summary.interrupted, summary.counts()["ok"], summary.counts()["failed"]) == (4, False, 1, 1)
    failed = summary.outcomes[1].result
    assert (failed.namespace, failed.exit_code, failed.seconds) == ("xy-0146-qa", 4, 60.0)
    assert failed.message.startswith("build xy-0146-fleet:xy-0146-qa FAILED in BUILD: ")
    spec = yaml.safe_load((tmp_path / "logs" / "batch-buildspec.yml").read_text())
    assert [b.get("depend-on") for b in spec["batch"]["build-graph"]] == [None, ["xy_0146_dev"]]
    assert spec["batch"]["build-graph"][0]["env"]["variables"]["TENANTSTACK_MAX_API_RATE"] == "40"
    assert (tmp_path / "logs" / "xy-0146-qa.log").read_text().splitlines() == [
        "build xy-0146-fleet:xy-0146-qa: started", "build xy-0146-fleet:xy-0146-qa: FAILED",
        "logs: https://console.aws.amazon.com/cloudwatch/home#logsV2:xy-0146-qa"]
    lines = stream.getvalue().splitlines()
    assert sum(" start    " in line for line in lines) == 2
    assert any(" failed   xy-0146-qa in 60.0 s (exit 4)" in line for line in lines)
    assert lines[-1].endswith("done     1 ok, 1 failed (exit 4)")
    assert fleet.summary_json(summary)["counts"]["failed"] == 1


def test_ctrl_c_stops_the_batch_and_the_fleet_exits_130(prepared, codebuild, tmp_path):
    client, stubber = codebuild
    stubber.add_response("start_build_batch", {"buildBatch": {"id": BATCH}},
                         {"projectName": "xy-0146-fleet", "buildspecOverride": ANY})
    expect_looks(stubber, (batch("IN_PROGRESS", **{"xy-0146-dev": "IN_PROGRESS"}), None))
    stubber.add_response("stop_build_batch", {"buildBatch": {"id": BATCH, "buildBatchStatus": "STOPPED"}},
                         {"id": BATCH})
    expect_looks(stubber, (batch("STOPPED", **{"xy-0146-dev": "STOPPED", "xy-0146-qa": "STOPPED"}),
                           [build("xy-0146-dev", "STOPPED"), build("xy-0146-qa", "STOPPED", phase=None)]))
    interrupts = iter([KeyboardInterrupt()])

    def sleep(seconds):
        raise next(interrupts)

    stream = io.StringIO()
    summary = codebuild_fleet.run_codebuild_fleet(
        prepared, 2, tmp_path / "logs", fleet_progress.LineProgress(stream, 2), client, wait=Wait(0, 60), sleep=sleep)

    assert (summary.exit_code, summary.interrupted) == (130, True)
    assert summary.counts()["failed"] == 1 and summary.counts()["skipped"] == 1
    assert summary.outcomes[0].result.interrupted is True
    assert "stopping the batch" in stream.getvalue()


# --- the command line ------------------------------------------------------------------------------


def test_on_codebuild_is_a_fleets_option(tmp_path, capsys):
    assert cli.main(["deploy", env_file(tmp_path, "xy-0146-qa", 1), "--on", "codebuild"]) == 2
    assert "--on codebuild applies to --fleet only" in capsys.readouterr().err


def test_a_fleet_of_two_projects_is_refused_before_any_aws_call(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(codebuild_fleet, "start_batch", lambda *args: pytest.fail("a batch was started"))
    files = [env_file(tmp_path, "xy-0146-qa", 1), env_file(tmp_path, "ab-0001-qa", 2)]
    assert cli.main(["deploy", "--fleet", *files, "--on", "codebuild", "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 2 and document["error"].endswith(
        "these env files belong to ab-0001, xy-0146: run one fleet per project")


def test_a_missing_fleet_project_is_bad_input_and_starts_nothing(prepared, codebuild, tmp_path):
    client, stubber = codebuild
    stubber.add_client_error("start_build_batch", "ResourceNotFoundException", "Project cannot be found")
    with pytest.raises(errors.BadInput, match="CodeBuild project xy-0146-fleet does not exist"):
        codebuild_fleet.run_codebuild_fleet(prepared, 2, tmp_path / "logs", fleet_progress.LineProgress(io.StringIO(), 2),
                                            client, wait=Wait(0, 60), sleep=lambda seconds: None)
