"""scripts/local_codebuild.py runs a buildspec as CodeBuild does: tiny buildspecs, real bash."""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "scripts" / "local_codebuild.py"
HEADER = "version: 0.2\nenv:\n  shell: bash\n"
PYTHON_VERSION = "%d.%d" % sys.version_info[:2]


def spec(body):
    """A buildspec with the shell header and an indented body."""
    return HEADER + textwrap.dedent(body)


def run(tmp_path, buildspec, *args, env=None):
    """Run the runner on `buildspec` (text) in tmp_path: (CompletedProcess, report or None)."""
    spec_file = tmp_path / "buildspec.yml"
    spec_file.write_text(buildspec)
    report = tmp_path / "report.json"
    child_env = {k: v for k, v in os.environ.items() if k != "LOCAL_CODEBUILD_DEPTH"}
    child_env.update(env or {})
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(spec_file), "--source-dir", str(tmp_path), "--report", str(report),
         "--artifacts-dir", str(tmp_path / "out"), "--project", "demo", *args],
        capture_output=True, text=True, env=child_env, timeout=60,
    )
    return result, json.loads(report.read_text()) if report.exists() else None


def phases(report):
    return [(p["phase"], p["status"]) for p in report["phases"]]


def test_one_shell_instance_carries_directory_variables_functions_and_options(tmp_path):
    result, report = run(tmp_path, spec("""\
      exported-variables: [PLAIN, EXPORTED, GONE]
    phases:
      install:
        commands:
          - mkdir -p work && cd work
          - 'PLAIN="two words"; export EXPORTED=yes GONE=soon; greet() { echo "hi $1"; }; set -o pipefail'
      build:
        commands:
          - unset GONE
          - pwd > where.txt; greet there >> where.txt; false | true || echo pipefail-kept >> where.txt
          - bash -c 'echo "child sees ${EXPORTED-nothing} ${PLAIN-nothing}"' >> where.txt
    """))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "work" / "where.txt").read_text() == "%s\nhi there\npipefail-kept\nchild sees yes nothing\n" % (
        tmp_path / "work"
    )
    assert report["exported_variables"] == {"PLAIN": "two words", "EXPORTED": "yes", "GONE": ""}


@pytest.mark.parametrize(
    "command, code",
    [
        pytest.param("false; true", 0, id="only-the-last-status-of-a-line-counts"),
        pytest.param("true && false", 1, id="and-chain-fails"),
        pytest.param("exit 3", 3, id="exit-status-kept"),
        pytest.param("no-such-command-xyz", 127, id="missing-command"),
        pytest.param("syntax error (", 2, id="syntax-error"),
    ],
)
def test_a_command_fails_by_its_exit_status(tmp_path, command, code):
    _, report = run(tmp_path, HEADER + "phases:\n  build:\n    commands:\n      - %s\n" % json.dumps(command))
    assert report["phases"][0]["exit_code"] == code
    assert report["status"] == ("SUCCEEDED" if code == 0 else "FAILED")


def test_the_first_failing_command_ends_the_phase_and_finally_still_runs(tmp_path):
    result, report = run(tmp_path, spec("""\
    phases:
      build:
        commands:
          - echo one
          - exit 7
          - echo never
        finally:
          - echo cleanup
    """))
    assert "one\n" in result.stdout and "never" not in result.stdout and "cleanup\n" in result.stdout
    assert "[Container] Command did not exit successfully exit 7 exit status 7\n" in result.stdout
    assert (
        "[Container] Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing "
        "command: exit 7. Reason: exit status 7\n" in result.stdout
    )
    assert report["phases"] == [{"phase": "build", "status": "FAILED", "failed_command": "exit 7", "exit_code": 7}]
    assert result.returncode == 1


def test_a_failing_finally_command_fails_the_phase(tmp_path):
    _, report = run(tmp_path, HEADER + "phases:\n  build:\n    commands: [echo ok]\n    finally: ['false']\n")
    assert phases(report) == [("build", "FAILED")]


ALL_PHASES = """\
phases:
  install:
    {install_failure}commands: [{install}]
  pre_build:
    commands: [{pre_build}]
  build:
    commands: [{build}]
  post_build:
    commands: ['echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING" > post.txt', {post_build}]
artifacts:
  files: [post.txt]
"""


@pytest.mark.parametrize(
    "failing, on_failure, expected, artifacts",
    [
        pytest.param("install", "", [("install", "FAILED")], False, id="install-aborts-the-build"),
        pytest.param(
            "install", "on-failure: CONTINUE\n    ",
            [("install", "FAILED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED"), ("post_build", "SUCCEEDED")],
            True, id="install-continue",
        ),
        pytest.param("pre_build", "", [("install", "SUCCEEDED"), ("pre_build", "FAILED")], False, id="pre-build-aborts"),
        pytest.param(
            "build", "",
            [("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "FAILED"), ("post_build", "SUCCEEDED")],
            True, id="post-build-runs-after-a-failed-build",
        ),
        pytest.param(
            "post_build", "",
            [("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED"), ("post_build", "FAILED")],
            True, id="artifacts-after-a-failed-post-build",
        ),
    ],
)
def test_phase_transitions_follow_codebuild(tmp_path, failing, on_failure, expected, artifacts):
    commands = {phase: "'true'" for phase in ("install", "pre_build", "build", "post_build")}
    commands[failing] = "'false'"
    _, report = run(tmp_path, HEADER + ALL_PHASES.format(install_failure=on_failure, **commands))
    assert phases(report) == expected
    assert report["status"] == "FAILED"
    assert bool(report["artifacts"]) == artifacts
    if artifacts:
        succeeding = "0" if failing in ("install", "build") else "1"
        assert (tmp_path / "out" / "post.txt").read_text() == "succeeding=%s\n" % succeeding


def test_builtin_variables_and_their_precedence(tmp_path):
    result, report = run(tmp_path, spec("""\
      variables: {FROM_SPEC: spec, OVERRIDDEN: spec, CODEBUILD_BUILD_ID: spec}
      exported-variables: [FROM_SPEC, OVERRIDDEN, CODEBUILD_BUILD_ID, CODEBUILD_BUILD_ARN, CODEBUILD_SRC_DIR,
        CODEBUILD_SOURCE_VERSION, CODEBUILD_RESOLVED_SOURCE_VERSION, CODEBUILD_INITIATOR, CODEBUILD_BUILD_NUMBER,
        CODEBUILD_WEBHOOK_TRIGGER, CODEBUILD_WEBHOOK_BASE_REF, AWS_REGION, AWS_DEFAULT_REGION, IMAGE_VALUE]
    phases:
      build:
        commands: ['true']
    """), "--env", "OVERRIDDEN=project", "--pull-request", "42", "--region", "eu-west-1",
        "--initiator", "codepipeline/xy-0146", "--build-number", "7", env={"IMAGE_VALUE": "image"})
    variables = report["exported_variables"]
    project, _, build_uuid = variables.pop("CODEBUILD_BUILD_ID").partition(":")
    assert (project, len(build_uuid)) == ("demo", 36) and report["build_id"] == "demo:" + build_uuid
    assert variables == {
        "FROM_SPEC": "spec",
        "OVERRIDDEN": "project",
        "CODEBUILD_BUILD_ARN": "arn:aws:codebuild:eu-west-1:123456789012:build/demo:%s" % build_uuid,
        "CODEBUILD_SRC_DIR": str(tmp_path),
        "CODEBUILD_SOURCE_VERSION": "pr/42",
        "CODEBUILD_RESOLVED_SOURCE_VERSION": "local",  # tmp_path is no git checkout
        "CODEBUILD_INITIATOR": "codepipeline/xy-0146",
        "CODEBUILD_BUILD_NUMBER": "7",
        "CODEBUILD_WEBHOOK_TRIGGER": "pr/42",
        "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "IMAGE_VALUE": "image",
    }


def test_the_source_version_is_the_checked_out_commit(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=t@example.com", "-c", "user.name=t",
                    "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    _, report = run(tmp_path, spec("""\
      exported-variables: [CODEBUILD_SOURCE_VERSION, CODEBUILD_RESOLVED_SOURCE_VERSION]
    phases:
      build:
        commands: ['true']
    """))
    assert report["exported_variables"] == {"CODEBUILD_SOURCE_VERSION": head, "CODEBUILD_RESOLVED_SOURCE_VERSION": head}


def test_runtime_python_is_first_on_path(tmp_path):
    result, report = run(tmp_path, spec("""\
    phases:
      install:
        runtime-versions:
          python: %s
        commands:
          - python -c 'import sys; print(sys.version_info[:2])' > seen.txt
          - command -v python3.%s >> seen.txt
    """) % (PYTHON_VERSION, sys.version_info[1]))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (tmp_path / "seen.txt").read_text().splitlines()
    assert lines[0] == str(tuple(sys.version_info[:2])) and lines[1].endswith("/python%s" % PYTHON_VERSION)


@pytest.mark.parametrize(
    "buildspec, args, message",
    [
        pytest.param("version: 0.1\nphases: {build: {commands: ['true']}}\n", (),
                     "version '0.1' is not supported: the local runner runs version 0.2 buildspecs", id="version"),
        pytest.param("version: 0.2\nphases: {build: {commands: ['true']}}\n", (),
                     "env.shell None is not supported: set `shell: bash` (CodeBuild's default on Linux is /bin/sh, "
                     "which the local runner does not emulate)", id="no-shell"),
        pytest.param(HEADER + "reports: {}\nphases: {build: {commands: ['true']}}\n", (),
                     "the buildspec: reports not supported by the local runner (supported: version, env, phases, "
                     "artifacts, cache)", id="unknown-key"),
        pytest.param(HEADER + "  parameter-store: {TOKEN: /xy-0146/token}\nphases: {build: {commands: ['true']}}\n",
                     (), "env parameter-store /xy-0146/token for variable TOKEN is not looked up by the local "
                     "runner: pass its value with --env TOKEN=VALUE", id="parameter-store"),
        pytest.param(HEADER + "phases: {build: {runtime-versions: {python: '3.9'}, commands: ['true']}}\n", (),
                     "phases.build.runtime-versions is invalid: CodeBuild reads runtime-versions in the install "
                     "phase only", id="runtime-outside-install"),
        pytest.param(HEADER + "phases: {install: {runtime-versions: {nodejs: '20'}, commands: ['true']}}\n", (),
                     "runtime-versions: nodejs 20 is not available in the local runner (it provides python only)",
                     id="other-runtime"),
        pytest.param(HEADER + "phases: {install: {runtime-versions: {python: '2.7'}, commands: ['true']}}\n", (),
                     "runtime-versions: python 2.7 is requested, but %s is Python %s: pass a Python 2.7 interpreter "
                     "with --python" % (os.path.realpath(sys.executable), PYTHON_VERSION), id="python-mismatch"),
        pytest.param(HEADER + "phases: {install: {runtime-versions: {python: '3.9'}, commands: ['true']}}\n",
                     ("--python", "/nonexistent/python3.9"), "runtime-versions: python 3.9 is requested, but "
                     "/nonexistent/python3.9 is Python (does not run): pass a Python 3.9 interpreter with --python",
                     id="python-missing"),
        pytest.param(HEADER + "phases: {build: {on-failure: RETRY, commands: ['true']}}\n", (),
                     "phases.build.on-failure 'RETRY' is invalid: expected one of ABORT, CONTINUE", id="on-failure"),
        pytest.param(HEADER + "  variables: {2BAD: x}\nphases: {build: {commands: ['true']}}\n", (),
                     "env.variables: '2BAD' is not a variable name (letters, digits and _, not starting with a "
                     "digit)", id="variable-name"),
    ],
)
def test_what_cannot_run_locally_is_refused_before_anything_runs(tmp_path, buildspec, args, message):
    result, report = run(tmp_path, buildspec, *args)
    assert result.returncode == 2 and report is None and "[Container]" not in result.stdout
    assert result.stderr == "local_codebuild: %s: %s\n" % (tmp_path / "buildspec.yml", message)


def test_a_parameter_store_value_given_with_env_is_used(tmp_path):
    _, report = run(tmp_path, spec("""\
      parameter-store: {TOKEN: /xy-0146/token}
      exported-variables: [TOKEN]
    phases: {build: {commands: ['true']}}
    """), "--env", "TOKEN=given")
    assert report["exported_variables"] == {"TOKEN": "given"}


def test_the_time_budget_kills_the_running_command_and_ends_the_build(tmp_path):
    started = time.monotonic()
    result, report = run(tmp_path, spec("""\
    phases:
      build:
        commands: ['sleep 30 & wait']
      post_build:
        commands: ['touch post-ran']
    """), "--timeout", "1")
    assert time.monotonic() - started < 15
    assert result.returncode == 1 and report["status"] == "TIMED_OUT"
    assert phases(report) == [("build", "TIMED_OUT")] and not (tmp_path / "post-ran").exists()
    assert "[Container] Build timed out while running sleep 30 & wait\n" in result.stdout


def test_artifacts_are_copied_by_pattern_name_and_discard_paths(tmp_path):
    (tmp_path / "site" / "a").mkdir(parents=True)
    (tmp_path / "site" / "a" / "one.json").write_text("1")
    (tmp_path / "site" / "two.json").write_text("2")
    (tmp_path / "site" / "skip.txt").write_text("x")
    _, report = run(tmp_path, spec("""\
    phases: {build: {commands: ['true']}}
    artifacts:
      base-directory: site
      files: ['**/*.json']
      name: bundle
    cache:
      paths: ['/root/.cache/pip/**/*']
    """))
    out = tmp_path / "out" / "bundle"
    assert sorted(report["artifacts"]) == [str(out / "a" / "one.json"), str(out / "two.json")]
    assert report["cache_paths"] == ["/root/.cache/pip/**/*"]


def test_no_matching_artifact_fails_the_build(tmp_path):
    result, report = run(tmp_path, HEADER + "phases: {build: {commands: ['true']}}\nartifacts: {files: [missing.json]}\n")
    assert report["status"] == "FAILED" and phases(report) == [("build", "SUCCEEDED")]
    assert (
        "[Container] Phase context status code: CLIENT_ERROR Message: no matching artifact paths found "
        "(base-directory ., files missing.json)\n" in result.stdout
    )


def test_a_build_inside_a_local_build_is_refused(tmp_path):
    result, report = run(tmp_path, HEADER + "phases: {build: {commands: ['true']}}\n",
                         env={"LOCAL_CODEBUILD_DEPTH": "1"})
    assert result.returncode == 2 and report is None
    assert result.stderr.startswith("local_codebuild: refusing to start a build inside a local build")
