"""hooks/run/deploy.py, hooks/run/stacker_child.py and hooks/run/recovery.py: planning, the child, recovery."""
import datetime
import io
import json
import logging
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from hooks import errors, naming
from hooks.aws import clients as aws_clients
from hooks.aws import drills
from hooks.config import settings
from hooks.config.hookargs import HookArgumentError
from hooks.lock import deploy_lock
from hooks.run import child_process, deploy, stacker_child
from hooks.run import recovery as deploy_recovery
from hooks.steps import retire
from tests.e2e.stacker_cli import ENGINE, REPO, engine_line
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants, assert_retired_with_final_snapshot

QA = "xy-0146-qa"
QA_ENV = str(REPO / "environments" / "xy-0146-qa.env")
CONFIG = str(REPO / "stacker" / "tenant.yaml")


def write(directory, name, text):
    path = Path(directory) / name
    path.write_text(textwrap.dedent(text))
    return str(path)


# --- prepare: bad input is refused before anything runs ------------------------------------


@pytest.mark.parametrize(
    "env_text, overrides, stacker_args, expected",
    [
        pytest.param(
            None, None, (), "env file {missing} not found; name an existing environments/<namespace>.env file",
            id="missing-file",
        ),
        pytest.param(
            "namespace: xy-0146-qa\nnot a pair\n", None, (),
            "invalid environment in {path}: - line 2: expected 'key: value', got 'not a pair' "
            "Fix the env file, then deploy again.",
            id="unparseable-line",
        ),
        pytest.param(
            None, {"db_timestamp": "yesterday"}, (),
            "invalid environment in {path}: - env key db_timestamp 'yesterday' is invalid: expected "
            "YYYYMMDDtHHMMSSz in UTC, lower case, e.g. 20260115t103000z Fix the env file (or the -e override), "
            "then deploy again.",
            id="bad-override",
        ),
        pytest.param(
            None, {"colour": "blue"}, (),
            "invalid environment in {path}: - env key colour is not known for tenant namespaces (known keys: "
            "alarm_5xx_percent, alarm_db_connections, alarm_db_cpu_percent, alarm_db_free_storage_mib, "
            "alarm_unhealthy_hosts, bake_seconds, db_backup_retention, db_instance_class, db_multi_az, db_timestamp, "
            "desired_count, hostname, keep_final_snapshot_days, keep_final_snapshots, keep_source_snapshot_days, "
            "keep_source_snapshots, keep_task_definitions, listener_priority, "
            "log_retention, namespace, nginx_image, php_image, "
            "retain_previous, shared_namespace, snapshot_copy, source_namespace, stable_timeout, task_cpu, task_memory) "
            "Fix the env file (or the -e override), "
            "then deploy again.",
            id="unknown-override-key",
        ),
        pytest.param(
            None, {"=x": "y"}, (), "override '=x'='y' is invalid: expected KEY=VALUE with an env key",
            id="override-key-with-equals",
        ),
        pytest.param(
            None, None, ("--region", "eu-west-1"),
            "stacker argument '--region' is not accepted by tenantstack deploy: set AWS_DEFAULT_REGION instead, "
            "so the clean-up after a failure uses the same region",
            id="stacker-region",
        ),
        pytest.param(
            None, None, ("-e", "db_timestamp=20261115t120000z"),
            "stacker argument '-e' is not accepted by tenantstack deploy: give env overrides as `-e KEY=VALUE` "
            "before `--`, so they are checked first",
            id="stacker-env",
        ),
        pytest.param(
            None, None, ("--dump=out",),
            "stacker argument '--dump=out' is not accepted by tenantstack deploy: it skips every hook; render "
            "templates with `make templates` or stacker directly",
            id="stacker-dump",
        ),
    ],
)
def test_prepare_refuses_bad_input(tmp_path, env_text, overrides, stacker_args, expected):
    path = write(tmp_path, "xy-0146-qa.env", env_text) if env_text else QA_ENV
    missing = str(tmp_path / "nope.env")
    with pytest.raises(errors.BadInput) as raised:
        deploy.prepare(missing if "{missing}" in expected else path, overrides, stacker_args)
    assert deploy.one_line(raised.value) == expected.format(path=path, missing=missing)


@pytest.mark.parametrize(
    "argument, refused",
    [
        pytest.param("--tail", None, id="tail"),
        pytest.param("-j4", None, id="max-parallel"),
        pytest.param("--stacks", None, id="stacks"),
        pytest.param("--reg=eu-west-1", "--reg", id="abbreviated-region"),
        pytest.param("-vr", "-r", id="cluster-with-region"),
        pytest.param("-vt", None, id="cluster-of-flags"),
        pytest.param("-jr", None, id="value-of-j"),
        pytest.param("--prof", "--prof", id="abbreviated-profile"),
        pytest.param("--out", "--out", id="abbreviated-outline"),
    ],
)
def test_stacker_options_are_found_in_clusters_and_abbreviations(argument, refused):
    found = [option for option in deploy.options_in(argument) if deploy.refusal(option)]
    assert found == ([refused] if refused else [])


def test_prepare_refuses_a_shared_tier_env_file():
    path = str(REPO / "environments" / "common-nonprod.env")
    with pytest.raises(errors.BadInput) as raised:
        deploy.prepare(path)
    assert str(raised.value) == (
        "env file %s is the shared tier common-nonprod, not a tenant; tenantstack deploy runs stacker/tenant.yaml. "
        "Build a shared tier with: stacker build %s stacker/shared.yaml" % (path, path)
    )


def test_prepare_reads_the_tenant_and_the_child_command_runs_stacker_build():
    prepared = deploy.prepare(QA_ENV, {"db_timestamp": TS2}, ("--tail",))
    assert (prepared.env_file, prepared.namespace, prepared.shared_namespace, prepared.db_timestamp) == (
        QA_ENV, QA, "common-nonprod", TS2)
    assert (prepared.retain_previous, prepared.hostname, prepared.listener_priority) == (
        0, "xy-0146-qa.apps-nonprod.example.com", 1462)
    assert deploy.child_command(prepared, "/tmp/outcome.json", executable="/venv/bin/python") == [
        "/venv/bin/python", "-m", "hooks.run.stacker_child", "/tmp/outcome.json", "build",
        "-e", "db_timestamp=%s" % TS2, "--tail", QA_ENV, CONFIG,
    ]


@pytest.mark.parametrize(
    "environ, expected",
    [
        pytest.param({}, {"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "10"}, id="defaults"),
        pytest.param({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3", "X": "1"},
                     {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3", "X": "1"}, id="caller-chose"),
    ],
)
def test_child_environment_adds_adaptive_retries_unless_set(environ, expected):
    assert deploy.child_environment(environ) == expected


def test_stackers_own_cloudformation_client_retries_adaptively_in_the_child_environment():
    environ = {key: value for key, value in deploy.os.environ.items() if not key.startswith("AWS_")}
    provider = {"stacker": "stacker", "cfngin": "runway.cfngin"}[ENGINE]  # the engine's own CloudFormation client
    code = (
        "import boto3; from %s.providers.aws.default import get_cloudformation_client as get; "
        "print(get(boto3.session.Session(region_name='us-east-1')).meta.config.retries)" % provider
    )
    shown = subprocess.run([sys.executable, "-c", code], env=deploy.child_environment(environ),
                           capture_output=True, text=True, check=True).stdout
    assert shown.strip() == "{'total_max_attempts': 11, 'mode': 'adaptive'}"


# --- the outcome the child leaves ----------------------------------------------------------


@pytest.mark.parametrize(
    "error, code",
    [
        pytest.param(errors.BadInput("x"), 2, id="bad-input"),
        pytest.param(settings.SettingsError(["x"]), 2, id="settings"),
        pytest.param(naming.NamingError("namespace", "x", "rule"), 2, id="naming"),
        pytest.param(HookArgumentError("x"), 2, id="hook-argument"),
        pytest.param(errors.LockHeld("x"), 3, id="lock-held"),
        pytest.param(deploy_lock.LockLost("x"), 4, id="lock-lost"),
        pytest.param(errors.DeployFailed("x"), 4, id="deploy-failed"),
        pytest.param(ClientError({"Error": {"Code": "Throttling"}}, "GetParameter"), 4, id="aws-error"),
        pytest.param(RuntimeError("x"), 4, id="unexpected"),
    ],
)
def test_classify_error(error, code):
    assert stacker_child.classify_error(error) == (code, stacker_child.qualified_name(type(error)), str(error))


@pytest.mark.parametrize(
    "status, last_error, expected",
    [
        pytest.param(0, None, (0, None), id="ok"),
        pytest.param(None, None, (0, None), id="ok-none"),
        pytest.param(2, None, (2, "stacker refused its command line (its usage message says why)"), id="argparse"),
        pytest.param(1, "The following steps failed: db", (
            4, "stacker: The following steps failed: db (its output has the reason)"), id="plan-failed"),
        pytest.param(1, None, (4, "stacker exited 1 (its output has the reason)"), id="exit-1"),
        pytest.param("bye", None, (4, "stacker stopped: bye"), id="exit-text"),
    ],
)
def test_classify_exit(status, last_error, expected):
    assert stacker_child.classify_exit(status, last_error) == expected


FAKE_STACKERS = {
    "lock-held": (
        "from hooks import errors\nraise errors.LockHeld('namespace xy-0146-qa is locked by another deploy')\n",
        {"exit_code": 3, "error": "hooks.errors.LockHeld", "stacker_exit": 1,
         "message": "namespace xy-0146-qa is locked by another deploy"},
    ),
    "plan-failed": (
        "import logging, sys\nlogging.getLogger('stacker.actions.base').error('The following steps failed: %s', 'db')\n"
        "sys.exit(1)\n",
        {"exit_code": 4, "error": None, "stacker_exit": 1,
         "message": "stacker: The following steps failed: db (its output has the reason)"},
    ),
    "ok": ("import sys\nassert sys.argv[1:] == ['build', 'a.env', 'tenant.yaml']\n",
           {"exit_code": 0, "error": None, "stacker_exit": 0, "message": None}),
}


@pytest.mark.parametrize("name", sorted(FAKE_STACKERS))
def test_the_outcome_file_says_how_the_run_ended(tmp_path, monkeypatch, name):
    source, expected = FAKE_STACKERS[name]
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    script = write(tmp_path, "stacker", source)
    outcome = tmp_path / "outcome.json"
    code = stacker_child.run(str(outcome), ["build", "a.env", "tenant.yaml"], script=script)
    assert (code, json.loads(outcome.read_text())) == (expected["exit_code"], expected)


# --- tracebacks: our own errors show their message; the traceback goes to a file ------------------

RAISING_STACKER = """\
import logging, sys
from hooks import errors
handler = logging.StreamHandler(sys.stderr)
logging.getLogger("stacker").addHandler(handler)
try:
    try:
        raise {error}
    except Exception:
        if {logged}:
            logging.getLogger("stacker.hooks.utils").exception("Method %s threw an exception:", "hooks.steps.x.check")
        raise
finally:
    logging.getLogger("stacker").removeHandler(handler)
"""
SNAPSHOT_MISSING = "errors.SourceSnapshotMissing('source snapshot xy-0146-dev-20261120t080000z not found')"


@pytest.mark.parametrize(
    "error, logged, debug, shown, in_file",
    [
        pytest.param(SNAPSHOT_MISSING, True, False,
                     ["Method hooks.steps.x.check threw an exception: SourceSnapshotMissing: source snapshot "
                      "xy-0146-dev-20261120t080000z not found (traceback in {log}; `tenantstack deploy --debug` shows "
                      "it here)"], True, id="a-hook-raised-ours"),
        pytest.param("errors.LockHeld('namespace xy-0146-qa is locked')", False, False,
                     ["stacker stopped: LockHeld: namespace xy-0146-qa is locked (traceback in {log}; `tenantstack "
                      "deploy --debug` shows it here)"], True, id="ours-uncaught-only"),
        pytest.param(SNAPSHOT_MISSING, True, True, None, False, id="debug-keeps-the-traceback"),
        pytest.param("RuntimeError('a bug')", True, False, None, False, id="not-ours-keeps-the-traceback"),
    ],
)
def test_the_child_shows_our_errors_as_their_message_and_files_the_traceback(
        tmp_path, monkeypatch, capsys, error, logged, debug, shown, in_file):
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    log = tmp_path / "logs" / "xy-0146-qa.log"
    monkeypatch.setenv(stacker_child.TRACEBACK_LOG_VARIABLE, str(log))
    if debug:
        monkeypatch.setenv(stacker_child.DEBUG_VARIABLE, "1")
    script = write(tmp_path, "stacker", RAISING_STACKER.format(error=error, logged=logged))
    stacker_child.run(str(tmp_path / "outcome.json"), ["build", "a.env", "tenant.yaml"], script=script)
    err = capsys.readouterr().err
    if shown is None:
        assert "Traceback (most recent call last)" in err
    else:
        assert err.splitlines() == [line.format(log=log) for line in shown]
    assert log.exists() is in_file
    if in_file:
        filed = log.read_text()
        assert "Traceback (most recent call last)" in filed and error.split("(")[0].split(".")[-1] in filed


def test_a_traceback_that_cannot_be_filed_stays_in_the_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    (tmp_path / "a-file").write_text("")
    unwritable = tmp_path / "a-file" / "x.log"  # a file is no directory
    monkeypatch.setenv(stacker_child.TRACEBACK_LOG_VARIABLE, str(unwritable))
    script = write(tmp_path, "stacker", RAISING_STACKER.format(error=SNAPSHOT_MISSING, logged=True))
    stacker_child.run(str(tmp_path / "outcome.json"), ["build", "a.env", "tenant.yaml"], script=script)
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_debug_asks_the_child_for_every_traceback():
    assert deploy.traceback_environment("xy-0146-qa", debug=True) == {stacker_child.DEBUG_VARIABLE: "1"}
    assert deploy.traceback_environment("xy-0146-qa", now=0, directory="/logs") == {
        stacker_child.TRACEBACK_LOG_VARIABLE: "/logs/xy-0146-qa-19700101T000000Z.log"}


@pytest.mark.parametrize(
    "outcome, returncode, code, message",
    [
        pytest.param(None, -9, 4, "stacker was killed by signal SIGKILL", id="killed"),
        pytest.param(None, 1, 4, "stacker exited 1 without leaving an outcome", id="no-outcome"),
        pytest.param({"exit_code": 3, "error": "hooks.errors.LockHeld", "message": "held\nby x"}, 3, 3,
                     "LockHeld: held by x", id="error"),
        pytest.param({"exit_code": 4, "error": None, "message": "stacker: The following steps failed: db"}, 4, 4,
                     "stacker: The following steps failed: db", id="plan"),
    ],
)
def test_failure_message_and_exit_code(outcome, returncode, code, message):
    assert deploy.exit_code_of(outcome, returncode) == code
    assert deploy.stacker_failure_message(outcome, returncode) == message


# --- the child process: streamed output, graceful stop, kill ------------------------------


def python(code):
    return [sys.executable, "-c", code]


def test_run_child_streams_into_a_file_or_any_stream(tmp_path):
    log = tmp_path / "child.log"
    with open(log, "w") as handle:
        assert child_process.run(python("print('to the file')"), {}, handle, deploy.Cancel())[::2] == (0, False)
    assert log.read_text() == "to the file\n"
    stream = io.StringIO()
    code, pid, interrupted = child_process.run(python("import sys; print('out'); sys.exit(3)"), {}, stream,
                                              deploy.Cancel())
    assert (code, interrupted, stream.getvalue()) == (3, False, "out\n")


def test_a_cancelled_child_gets_sigterm_and_one_that_ignores_it_is_killed():
    cancel = child_process.Cancel(kill_after_seconds=0.5)
    cancel.terminate.set()
    stream = io.StringIO()
    started = time.monotonic()
    code, _, interrupted = child_process.run(python("import time; time.sleep(30)"), {}, stream, cancel)
    assert (code, interrupted) == (-15, True)
    ignores = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(30)"
    code, _, interrupted = child_process.run(python(ignores), {}, stream, cancel)
    assert (code, interrupted) == (-9, True)
    assert time.monotonic() - started < 10


# --- throttling is retried, not a failure --------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        pytest.param("", {}, id="unset"),
        pytest.param("ssm.GetParameter", {("ssm", "GetParameter"): 1}, id="once"),
        pytest.param("ssm.GetParameter*3, rds.DescribeDBInstances*2",
                     {("ssm", "GetParameter"): 3, ("rds", "DescribeDBInstances"): 2}, id="counted"),
    ],
)
def test_throttled_calls_parse(raw, expected):
    assert drills.throttled_calls({drills.THROTTLE_VARIABLE: raw}) == expected


@pytest.mark.parametrize("raw", ["GetParameter", "ssm.GetParameter*x"])
def test_throttled_calls_refuse_a_malformed_entry(raw):
    with pytest.raises(ValueError) as raised:
        drills.throttled_calls({drills.THROTTLE_VARIABLE: raw})
    assert str(raised.value) == (
        "TENANTSTACK_THROTTLE_CALLS: %r is not service.Operation[*count] (e.g. ssm.GetParameter*3)" % raw)


@pytest.fixture
def aws_environment(aws, monkeypatch):
    """This process's standard AWS environment pointed at the local endpoint (as the CLI sees it)."""
    for key, value in aws.env.items():
        if key.startswith(("AWS_", "TENANTSTACK_")):
            monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "TENANTSTACK_FAIL_CALLS", drills.THROTTLE_VARIABLE, "AWS_RETRY_MODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TENANTSTACK_POLL_SECONDS", "0")
    return aws


@pytest.mark.parametrize(
    "service, operation, call",
    [
        pytest.param("ssm", "PutParameter", lambda c: c.put_parameter(Name="/x", Value="1", Type="String"), id="json"),
        pytest.param("rds", "DescribeDBInstances", lambda c: c.describe_db_instances(), id="query"),
    ],
)
def test_throttled_requests_are_retried_until_they_succeed(aws_environment, monkeypatch, service, operation, call):
    monkeypatch.setenv(drills.THROTTLE_VARIABLE, "%s.%s*2" % (service, operation))
    client = aws_clients.client(service)
    answers = []
    client.meta.events.register("needs-retry", lambda response=None, **kwargs: answers.append(
        (response[1] or {}).get("Error", {}).get("Code") if response else None))
    assert call(client)["ResponseMetadata"]["RetryAttempts"] == 2
    assert answers[:2] == ["ThrottlingException" if service == "ssm" else "Throttling"] * 2


# --- recovery: the pure decision ----------------------------------------------------------


def keep(reason):
    return lambda: retire.Decision(TS2, retire.KEEP, reason)


@pytest.mark.parametrize(
    "active, instance, stack, referenced, plan, expected",
    [
        pytest.param(TS1, None, None, set(), None, (False, "nothing of it was created"), id="nothing"),
        pytest.param(TS2, "available", "CREATE_COMPLETE", set(), None, (False, "it is the active database"),
                     id="active"),
        pytest.param(TS1, "available", "CREATE_FAILED", {TS2}, None,
                     (False, "the service's task definition still uses it"), id="referenced"),
        pytest.param(TS1, "available", "CREATE_FAILED", set(), None,
                     (True, "left by the failed run (instance: available, stack: CREATE_FAILED)"),
                     id="failed-stack"),
        pytest.param(TS1, "available", None, set(), None,
                     (True, "left by the failed run (instance: available, stack: none)"),
                     id="no-stack"),
        pytest.param(TS1, "available", "CREATE_COMPLETE", set(), keep("retained: previous #1"),
                     (False, "retained: previous #1"), id="retained"),
        pytest.param(TS1, "available", "CREATE_COMPLETE", set(),
                     lambda: retire.Decision(TS2, retire.RETIRE, "never active: leftover of a failed run"),
                     (True, "never active: leftover of a failed run"), id="never-active"),
    ],
)
def test_target_decision(active, instance, stack, referenced, plan, expected):
    assert deploy_recovery.target_decision(TS2, active, instance, stack, referenced, plan) == expected


def test_hooks_log_lines_of_this_thread_only_reach_the_output():
    stream = io.StringIO()
    with deploy_recovery.hooks_log_to(stream):
        logging.getLogger("hooks.steps.retire").info("mine %s", 1)
        thread = threading.Thread(target=lambda: logging.getLogger("hooks.steps.retire").info("theirs"))
        thread.start()
        thread.join()
    logging.getLogger("hooks.steps.retire").info("after")
    assert re.fullmatch(r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\] mine 1\n", stream.getvalue()), stream.getvalue()


# --- against the local endpoint with the real stacker ---------------------------------------


@pytest.fixture
def live(aws_environment):
    """xy-0146-qa serving TS1; the dev team's TS2 snapshot waits to be promoted."""
    tenants = Tenants(aws_environment)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    tenants.deploy(QA)
    tenants.snapshot("xy-0146-dev", TS2)
    return tenants


class KillAt(io.StringIO):
    """A deploy's output that kills the run as soon as stacker prints `marker`."""

    def __init__(self, marker, cancel):
        super().__init__()
        self.marker, self.cancel = marker, cancel

    def write(self, text):
        if self.marker in text:
            self.cancel.terminate.set()
            self.cancel.kill.set()
        return super().write(text)


@pytest.mark.e2e
def test_a_run_killed_after_its_database_is_cleaned_up_in_process(live, monkeypatch):
    before = live.state(QA)
    # The kill must land before the flip: the stable gate's first ECS reads are throttled,
    # so the run waits there (adaptive retries) while the kill arrives, however fast the rest is.
    monkeypatch.setenv(drills.THROTTLE_VARIABLE, "ecs.DescribeServices*4")
    cancel = deploy.Cancel()
    output = KillAt(engine_line("db: complete"), cancel)
    result = deploy.deploy(QA_ENV, {"db_timestamp": TS2}, output=output, cancel=cancel)
    assert (result.exit_code, result.interrupted, result.stacker_exit) == (4, True, -9), output.getvalue()[-3000:]
    recovery = result.recovery
    assert recovery.status == "done" and recovery.final_snapshot, recovery
    assert recovery.actions[0].startswith("took over the deploy lock the failed run left (")
    assert recovery.actions[-1] == "released the deploy lock"
    assert result.message == (
        "%s was killed by signal SIGKILL; cleaned up: lock released, database retired (final snapshot %s)"
        % (ENGINE, recovery.final_snapshot))
    state = live.state(QA)
    assert_invariants(state, TS1)  # old database and service serve, pointer unchanged, lock free
    assert state.pointer_version == before.pointer_version
    assert_retired_with_final_snapshot(state, TS2)
    assert state.final_snapshots[TS2] == [recovery.final_snapshot]
    assert "tenantstack deploy: released the deploy lock" in output.getvalue()


@pytest.mark.e2e
def test_a_run_that_fails_before_the_lock_touches_nothing(live):
    now = datetime.datetime.now(datetime.timezone.utc)
    held = deploy_lock.LockRecord("bob@ci-9:77", "ci-9", 77, "bob", None, deploy_lock.format_time(now), 7200, TS2)
    deploy_lock.acquire(live.aws.client("ssm"), QA, held, now)
    before = live.state(QA)
    result = deploy.deploy(QA_ENV, {"db_timestamp": TS2}, output=io.StringIO())
    assert (result.exit_code, result.error, result.recovery.status) == (3, "hooks.errors.LockHeld", "not-needed")
    assert result.message.startswith("LockHeld: namespace xy-0146-qa is locked by another deploy: bob@ci-9:77")
    assert result.recovery.actions == ("nothing to clean up: the lock is held by bob@ci-9:77, not by the run",)
    assert live.state(QA) == before


# --- recovery against the endpoint, from states set up by hand ------------------------------


DEAD_PID = int(Path("/proc/sys/kernel/pid_max").read_text())  # pids are below it: no process has it


def lock_of(holder, host, pid, target, build_id=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    return deploy_lock.LockRecord(holder, host, pid, "alice", build_id, deploy_lock.format_time(now), 7200, target)


HOST = deploy_recovery.socket.gethostname()


@pytest.mark.parametrize(
    "held, ours, pointer, status, actions",
    [
        pytest.param(None, "alice@%s:1" % HOST, None, "not-needed", ["nothing to clean up: nobody holds the lock"],
                     id="no-lock"),
        pytest.param(lock_of("bob@ci-9:77", "ci-9", 77, TS2), "alice@%s:1" % HOST, None, "skipped",
                     ["left everything to the deploy that took the lock first"], id="another-host-took-it"),
        pytest.param(
            lock_of("arn:codebuild:build/1", HOST, 1, TS2, "arn:codebuild:build/1"), "arn:codebuild:build/1", None,
            "done",
            ["took over the deploy lock the failed run left (arn:codebuild:build/1)",
             "service xy-0146-qa not reverted: the run recorded no task definition before it changed anything "
             "(a first deploy, or it failed before recording one)",
             "kept database xy-0146-qa-db-%s: nothing of it was created" % TS2,
             "released the deploy lock"],
            id="same-codebuild-build-re-enters",
        ),
        pytest.param(
            lock_of("alice@%s:%d" % (HOST, DEAD_PID), HOST, DEAD_PID, TS2), "alice@%s:1" % HOST, TS2, "done",
            ["took over the deploy lock the failed run left (alice@%s:%d)" % (HOST, DEAD_PID),
             "the pointer already names %s (the run got past its flip): nothing reverted or retired" % TS2,
             "released the deploy lock"],
            id="past-the-flip",
        ),
    ],
)
def test_recover_from_states_set_up_by_hand(aws, held, ours, pointer, status, actions):
    ssm = aws.client("ssm")
    if held is not None:
        deploy_lock.acquire(ssm, QA, held, datetime.datetime.now(datetime.timezone.utc))
    if pointer:
        ssm.put_parameter(Name=naming.ssm_active_parameter(QA), Value=pointer, Type="String")
    clients = deploy_recovery.Clients(*(aws.client(service) for service in (
        "ssm", "rds", "cloudformation", "ecs", "resourcegroupstaggingapi")))
    now = datetime.datetime.now(datetime.timezone.utc)
    recovery = deploy_recovery.recover(
        clients, QA, "common-nonprod", held.holder if held else "alice@%s:2" % HOST, 0, now,
        retire.Wait(poll_seconds=0, budget_seconds=5),
        lambda record: deploy_lock.LockRecord(ours, HOST, 1, "alice", None, deploy_lock.format_time(now), 7200,
                                       record.target_timestamp, record.previous_task_definition),
    )
    assert (recovery.status, list(recovery.actions)) == (status, actions)
    assert (deploy_lock.read(ssm, QA) is None) == (status != "skipped")


# --- the child's API rate ceiling (hooks/aws/api_rate.py) ------------------------------------------


@pytest.mark.parametrize(
    "environ, max_api_rate, expected",
    [
        pytest.param({}, 5, "5.0", id="share"),
        pytest.param({}, 40 / 3, "13.333333333333334", id="float-share"),
        pytest.param({"TENANTSTACK_MAX_API_RATE": "1"}, None, None, id="none-drops-an-inherited-one"),
        pytest.param({"TENANTSTACK_MAX_API_RATE": "1"}, 8.0, "8.0", id="given-replaces-an-inherited-one"),
    ],
)
def test_child_environment_carries_the_api_rate_ceiling(environ, max_api_rate, expected):
    env = deploy.child_environment(environ, max_api_rate)
    assert env.get("TENANTSTACK_MAX_API_RATE") == expected
    assert {key: env[key] for key in deploy.RETRY_DEFAULTS} == deploy.RETRY_DEFAULTS


@pytest.mark.parametrize(
    "environ, max_api_rate, bucket, expected",
    [
        pytest.param({}, 40.0, "/run/b", "/run/b", id="given"),
        pytest.param({"TENANTSTACK_API_BUCKET": "/old"}, 40.0, None, None, id="none-drops-an-inherited-one"),
        pytest.param({}, None, "/run/b", None, id="no-rate-no-bucket"),
    ],
)
def test_child_environment_names_the_shared_bucket(environ, max_api_rate, bucket, expected):
    assert deploy.child_environment(environ, max_api_rate, bucket).get("TENANTSTACK_API_BUCKET") == expected


def test_a_child_given_a_bad_rate_ends_as_bad_input_before_stacker(tmp_path):
    outcome = tmp_path / "outcome.json"
    finished = subprocess.run(
        [sys.executable, "-m", "hooks.run.stacker_child", str(outcome), "build", "a.env", "tenant.yaml"],
        cwd=str(REPO), env={"TENANTSTACK_MAX_API_RATE": "-1", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60)
    message = ("TENANTSTACK_MAX_API_RATE '-1' is invalid: expected API calls per second, a number >= 0 "
               "(0: no limit), e.g. 40")
    assert (finished.returncode, finished.stderr) == (2, message + "\n")
    assert json.loads(outcome.read_text()) == {"exit_code": 2, "error": None, "message": message,
                                                "stacker_exit": None}
