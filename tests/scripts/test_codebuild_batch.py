"""scripts/local_codebuild.py --batch (scripts/codebuild_batch.py): batch buildspecs as CodeBuild runs them."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # the runner's modules
import codebuild_batch  # noqa: E402
from codebuild_spec import BuildspecError  # noqa: E402

from tests.scripts.test_local_codebuild import RUNNER  # noqa: E402

BUILD = "version: 0.2\nenv:\n  shell: bash\n  exported-variables: [CODE]\nphases:\n  build:\n    commands:\n" \
        "      - export CODE=$WANT\n      - exit $WANT\n"


def batch(kind, entries, fast_fail="false"):
    return "version: 0.2\nbatch:\n  fast-fail: %s\n  %s:\n%s" % (fast_fail, kind, entries)


ONE = "    - identifier: a\n      buildspec: build.yml\n"


@pytest.mark.parametrize("text, problem", [
    pytest.param(batch("build-list", ONE, "true"), "batch.fast-fail 'true': only false", id="fast-fail"),
    pytest.param(batch("build-matrix", ONE), "expected exactly one of build-list, build-graph", id="matrix"),
    pytest.param(batch("build-list", ONE + "      debug-session: true\n"), "debug-session not supported", id="key"),
    pytest.param(batch("build-list", ONE + ONE), "build identifier 'a' must be unique", id="duplicate"),
    pytest.param(batch("build-list", "    - identifier: a-b\n      buildspec: b.yml\n"), "letters, digits and _",
                 id="identifier"),
    pytest.param(batch("build-list", "    - identifier: a\n"), "build a: name its buildspec", id="no-buildspec"),
    pytest.param(batch("build-graph", "    - identifier: a\n      buildspec: b.yml\n      depend-on: [z]\n"),
                 "build a depends on z, not an earlier build", id="forward-dependency"),
    pytest.param(batch("build-list", "    - identifier: a\n      buildspec: b.yml\n      depend-on: [a]\n"),
                 "depend-on belongs to a build-graph", id="list-dependency"),
])
def test_what_the_runner_does_not_emulate_is_refused_before_anything_runs(text, problem):
    with pytest.raises(BuildspecError) as raised:
        codebuild_batch.parse_batch(text)
    assert problem in str(raised.value)


def graph(*builds):
    return [codebuild_batch.BatchBuild(identifier, "b.yml", (), ignore, tuple(deps)) for identifier, ignore, deps in builds]


def test_a_failed_dependency_blocks_its_dependants_unless_its_failure_is_ignored():
    builds = graph(("a", False, ()), ("b", True, ()), ("c", False, ["a"]), ("d", False, ["b"]))
    status, records = codebuild_batch.run_batch(
        builds, lambda build: {"id": build.identifier, "buildStatus": "FAILED" if build.identifier in "ab" else "SUCCEEDED"})
    assert status == "FAILED" and sorted(records) == ["a", "b", "d"]  # c never ran: a failed, not ignored


def test_max_concurrent_plays_the_accounts_quota():
    running, most, guard = [0], [0], threading.Lock()

    def run_one(build):
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with guard:
            running[0] -= 1
        return {"id": build.identifier, "buildStatus": "SUCCEEDED"}

    status, records = codebuild_batch.run_batch(graph(*[(str(n), False, ()) for n in range(5)]), run_one, 2)
    assert (status, len(records), most[0]) == ("SUCCEEDED", 5, 2)


def test_a_batch_runs_each_build_with_its_variables_and_reports_them_as_codebuild_does(tmp_path):
    (tmp_path / "build.yml").write_text(BUILD)
    spec = tmp_path / "batch.yml"
    spec.write_text(batch("build-graph", "    - identifier: ok\n      buildspec: build.yml\n      env:\n"
                          "        variables: {WANT: '0'}\n    - identifier: no\n      buildspec: build.yml\n"
                          "      ignore-failure: true\n      depend-on: [ok]\n      env:\n        variables: {WANT: '4'}\n"))
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "LOCAL_CODEBUILD_DEPTH"}
    result = subprocess.run([sys.executable, str(RUNNER), "--batch", str(spec), "--source-dir", str(tmp_path),
                             "--project", "demo", "--logs-dir", str(tmp_path / "logs"), "--report", str(report)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr  # the failed build's failure is ignored
    document = json.loads(report.read_text())
    assert document["buildBatch"]["buildBatchStatus"] == "SUCCEEDED"
    assert [(g["identifier"], g["dependsOn"], g["currentBuildSummary"]["buildStatus"])
            for g in document["buildBatch"]["buildGroups"]] == [("ok", [], "SUCCEEDED"), ("no", ["ok"], "FAILED")]
    failed = document["builds"][1]
    assert failed["exportedEnvironmentVariables"] == [{"name": "CODE", "value": "4"}]
    assert failed["phases"][-1] == {"phaseType": "BUILD", "phaseStatus": "FAILED", "contexts": [{
        "statusCode": "COMMAND_EXECUTION_ERROR", "message": "Error while executing command: exit $WANT. Reason: exit status 4"}]}
    assert failed["id"].startswith("demo:") and failed["endTime"] >= failed["startTime"]
    assert "Command did not exit successfully exit $WANT exit status 4" in (tmp_path / "logs" / "no.log").read_text()
