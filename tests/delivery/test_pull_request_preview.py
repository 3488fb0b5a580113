"""The pull-request buildspec's live preview, through the local CodeBuild runner, against a deployed tenant.

Each test makes a pull request: a git repository holding this checkout's files (the base commit on
`main`) and a branch whose commit changes xy-0146-qa's env file, and runs
buildspecs/pull-request.yml on it as a pull-request build (small gate and test selections; the
full ones run in `make test` itself).

The change is a new listener priority. The local endpoint cannot say what CloudFormation would
replace (its change sets carry no Replacement, and a parameter-only change shows no resource
at all: tests/e2e/test_diff.py), so AWS's answer is canned (tests/e2e/canned/sitecustomize.py,
TENANTSTACK_TEST_CHANGE_SETS): the service stack's change set replaces its ListenerRule. The
build must fail on it, unless a commit message of the change allows it.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.delivery.test_buildspecs import PULL_REQUEST, QA, RUNNER, SMALL_GATES, SMALL_TESTS, TIMEOUT, phases
from tests.e2e.account import account_state
from tests.e2e.stacker_cli import REPO
from tests.e2e.tenants import TS1, Tenants

CANNED = REPO / "tests" / "e2e" / "canned"
LINKED = (".venv-cfngin", ".venv", "tests/security/node/node_modules")  # set up once, shared
REPLACED_RULE = {
    "%s-service" % QA: [{"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "ListenerRule",
        "ResourceType": "AWS::ElasticLoadBalancingV2::ListenerRule", "Replacement": "True",
        "Details": [{"Target": {"Attribute": "Properties", "Name": "ListenerArn", "RequiresRecreation": "Always"},
                     "Evaluation": "Static", "ChangeSource": "DirectModification"}]}}],
}


def git(directory, *args):
    subprocess.run(["git", "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.com", *args],
                   cwd=str(directory), check=True, capture_output=True, text=True)


def pull_request(directory, message):
    """A repository of this checkout's files on `main`, and branch `change` whose one commit (with
    `message`) moves xy-0146-qa to listener priority 1463."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=str(REPO), check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = REPO / name, directory / name
        if not os.path.lexists(source):
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    git(directory, "init", "-q", "-b", "main")
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", "base")
    git(directory, "checkout", "-q", "-b", "change")
    env_file = directory / "environments" / ("%s.env" % QA)
    env_file.write_text(env_file.read_text().replace("listener_priority: 1462", "listener_priority: 1463"))
    git(directory, "commit", "-q", "-a", "-m", message)
    for name in LINKED:  # after the commits: never part of them
        (directory / name).symlink_to(REPO / name)
    # The build's `make test-setup` must find the linked environments up to date: were they older than
    # the setup files, it would reinstall the project into the shared venvs from this temporary copy.
    stamps = [".venv/.installed", ".venv-cfngin/.installed", "tests/security/node/node_modules/.installed"]
    fresh = subprocess.run(["make", "-q", *stamps], cwd=str(directory), capture_output=True, text=True)
    if fresh.returncode != 0:
        pytest.fail("this checkout's environments are older than its setup files: run `make test-setup` first")
    return directory


def run_pull_request_build(source, env, tmp_path):
    report = tmp_path / "report.json"
    # As on AWS: without the local endpoint's template switch, which the build's `render --check` refuses
    # (so the preview also counts the endpoint's own template adaptations as changes: none is guarded).
    child_env = {key: value for key, value in env.items()
                 if key not in ("LOCAL_CODEBUILD_DEPTH", "TENANTSTACK_PROJECT_ROOT", "TENANTSTACK_LOCAL_ENDPOINT",
                                "MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CANNED), env.get("PYTHONPATH")]))
    child_env["TENANTSTACK_TEST_CHANGE_SETS"] = json.dumps(REPLACED_RULE)
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(PULL_REQUEST), "--source-dir", str(source), "--report", str(report),
         "--artifacts-dir", str(tmp_path / "artifacts"), "--timeout", str(TIMEOUT), "--pull-request", "14",
         "--env", "GATE_SELECTION=" + SMALL_GATES, "--env", "TEST_SELECTION=" + SMALL_TESTS],
        cwd=str(source), env=child_env, capture_output=True, text=True, timeout=TIMEOUT + 60,
    )
    assert report.exists(), "the runner refused the build:\n%s" % result.stderr
    return result, json.loads(report.read_text())


@pytest.fixture
def live(aws):
    """common-nonprod built and xy-0146-qa deployed."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    tenants.deploy(QA)
    return tenants


def preview_of(tmp_path):
    artifacts = tmp_path / "artifacts"
    return json.loads((artifacts / "preview.json").read_text()), (artifacts / "preview.txt").read_text()


@pytest.mark.e2e
def test_a_replacement_no_commit_allows_fails_the_pull_request_and_is_kept_as_an_artifact(live, tmp_path):
    source = pull_request(tmp_path / "source", "Move xy-0146-qa to listener priority 1463")
    before = account_state(live.aws)
    result, report = run_pull_request_build(source, live.env, tmp_path)
    assert report["status"] == "FAILED", result.stdout[-6000:]
    assert report["phases"][-1] == {"phase": "build", "status": "FAILED", "exit_code": 5,
                                    "failed_command": ".venv-cfngin/bin/python scripts/pull_request_preview.py "
                                                      "--out .run/preview"}
    document, text = preview_of(tmp_path)
    (tenant,) = document["tenants"]
    assert (document["touched"], document["removed"], document["base"]) == ([QA], [], "main")
    assert (tenant["namespace"], tenant["result"], tenant["exit_code"]) == (QA, "replacements", 5)
    assert (tenant["flagged"], tenant["refused"]) == (["%s/service/ListenerRule" % QA],) * 2
    assert "FLAGGED: routes the tenant's traffic" in text and "Properties.ListenerArn (Always)" in text
    assert account_state(live.aws) == before  # nothing deployed, no change set left


@pytest.mark.e2e
def test_an_allow_replace_line_in_a_commit_message_lets_that_replacement_through(live, tmp_path):
    source = pull_request(tmp_path / "source", "Move xy-0146-qa to listener priority 1463\n\n"
                                               "Allow-Replace: %s/service/ListenerRule\n" % QA)
    result, report = run_pull_request_build(source, live.env, tmp_path)
    assert report["status"] == "SUCCEEDED", result.stdout[-6000:]
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED")]
    assert sorted(os.path.basename(path) for path in report["artifacts"]) == ["preview.json", "preview.txt"]
    document, text = preview_of(tmp_path)
    (tenant,) = document["tenants"]
    assert (tenant["result"], tenant["exit_code"], tenant["refused"]) == ("replacements", 0, [])
    assert document["allow_replace"] == ["%s/service/ListenerRule" % QA]
    assert "allowed by a commit: Allow-Replace: %s/service/ListenerRule" % QA in text
