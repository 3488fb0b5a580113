"""hooks/run/fleet.py and hooks/cli/progress.py: checking a fleet, running it N at a time, showing it.

The deploys here are stand-ins (run_deploy=...): what is tested is the fleet's own logic.
tests/e2e/test_fleet.py runs a real fleet with the real stacker against the local endpoint.
"""
import datetime
import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from hooks import cli, errors
from hooks.aws import api_rate
from hooks.cli import output
from hooks.cli import progress as fleet_progress
from hooks.cli.commands import deploy as deploy_command
from hooks.run import deploy, fleet

TS = "20261101t090000z"
NOW = datetime.datetime(2026, 11, 30, 1, 2, 3, tzinfo=datetime.timezone.utc)


def env_file(directory, namespace, priority, hostname=None, name=None):
    path = Path(directory) / (name or "%s.env" % namespace)
    path.write_text(
        "namespace: %s\nshared_namespace: %s\ndb_timestamp: %s\nhostname: %s\nlistener_priority: %d\n"
        "nginx_image: nginx:1.27.3\nphp_image: php:8.3.14-fpm\n"
        % (namespace, "common-prod" if namespace.endswith("-prod") else "common-nonprod", TS,
           hostname or "%s.apps.example.com" % namespace, priority)
    )
    return str(path)


# --- check_fleet: every problem at once, nothing started -----------------------------------


def test_check_fleet_returns_every_tenant_in_order(tmp_path):
    files = [env_file(tmp_path, ns, priority) for priority, ns in enumerate(("ab-0001-qa", "ab-0001-uat"), 1)]
    assert [p.namespace for p in fleet.check_fleet(files)] == ["ab-0001-qa", "ab-0001-uat"]


def test_check_fleet_reports_every_problem_together(tmp_path):
    qa = env_file(tmp_path, "ab-0001-qa", 1)
    other = tmp_path / "other"
    other.mkdir()
    files = [
        qa,
        qa,  # listed twice
        env_file(other, "ab-0001-qa", 2),  # a second file of one namespace
        env_file(tmp_path, "ab-0001-uat", 1),  # ab-0001-qa's listener priority on the same tier
        env_file(tmp_path, "ab-0001-stage", 3, hostname="ab-0001-qa.apps.example.com"),  # its hostname too
        env_file(tmp_path, "ab-0001-prod", 1),  # priority 1 again, but on another tier: fine
        str(tmp_path / "missing.env"),
    ]
    with pytest.raises(errors.BadInput) as raised:
        fleet.check_fleet(files)
    assert str(raised.value) == "\n".join([
        "the fleet was not started, nothing was deployed: 5 problem(s):",
        "  - env file {qa} is listed twice (also as {qa}); list each tenant once",
        "  - env file {tmp}/missing.env not found; name an existing environments/<namespace>.env file",
        "  - namespace ab-0001-qa is used by both {qa} and {tmp}/other/ab-0001-qa.env; each tenant needs its own",
        "  - hostname ab-0001-qa.apps.example.com is used by both {qa} and {tmp}/ab-0001-stage.env (tier "
        "common-nonprod); each tenant needs its own",
        "  - listener_priority 1 is used by both {qa} and {tmp}/ab-0001-uat.env (tier common-nonprod); each "
        "tenant needs its own",
    ]).format(qa=qa, tmp=tmp_path)


def test_check_fleet_indents_a_multi_line_problem(tmp_path):
    bad = env_file(tmp_path, "ab-0001-qa", 0)
    with pytest.raises(errors.BadInput) as raised:
        fleet.check_fleet([bad])
    assert str(raised.value) == (
        "the fleet was not started, nothing was deployed: 1 problem(s):\n"
        "  - invalid environment in %s:\n"
        "      - env key listener_priority '0' is invalid: expected a whole number from 1 to 50000\n"
        "    Fix the env file (or the -e override), then deploy again." % bad
    )


@pytest.mark.parametrize("value", [0, 33, "4", True])
def test_check_parallel(value):
    with pytest.raises(errors.BadInput) as raised:
        fleet.check_parallel(value)
    assert str(raised.value) == "--parallel %r is invalid: expected a whole number from 1 to 32" % (value,)


@pytest.mark.parametrize(
    "codes, interrupted, expected",
    [
        pytest.param([0, 0], False, 0, id="all-ok"),
        pytest.param([], False, 0, id="none-ran"),
        pytest.param([0, 3], False, 3, id="lock-held"),
        pytest.param([3, 2, 0], False, 2, id="bad-input-over-lock-held"),
        pytest.param([2, 4, 3], False, 4, id="failed-over-all"),
        pytest.param([0, 0], True, 130, id="interrupted"),
        pytest.param([4], True, 130, id="interrupted-over-failed"),
    ],
)
def test_fleet_exit_code_precedence(codes, interrupted, expected):
    assert fleet.fleet_exit_code(codes, interrupted) == expected


def test_default_log_dir():
    assert fleet.default_log_dir(NOW) == Path(".run/fleet/20261130T010203Z")


# --- run_fleet with stand-in deploys ----------------------------------------------------------


def prepared_fleet(tmp_path, count):
    return fleet.check_fleet([env_file(tmp_path, "ab-%04d-qa" % n, n) for n in range(1, count + 1)])


class StandIn:
    """A stand-in for deploy.deploy: records concurrency, writes to the log, fails whom it is told to."""

    def __init__(self, exit_codes=None, seconds=0.05, on_start=None):
        self.exit_codes, self.seconds, self.on_start = exit_codes or {}, seconds, on_start
        self.running = self.most = 0
        self.calls = []
        self.rates = set()  # (the child's rate, whether it got a bucket file, the ceiling in force in this process)
        self.buckets = set()  # the shared bucket files the children were given
        self.guard = threading.Lock()

    def __call__(self, env_file, overrides=None, stacker_args=(), output=None, cancel=None, max_api_rate=None,
                 project_root=None, api_bucket=None):
        namespace = Path(env_file).stem
        with self.guard:
            self.calls.append(namespace)
            self.rates.add((max_api_rate, api_bucket is not None, api_rate.current_rate()))
            if api_bucket:
                assert Path(api_bucket).is_file()  # the file lives while the deploys run
                self.buckets.add(api_bucket)
            self.running += 1
            self.most = max(self.most, self.running)
        if self.on_start:
            self.on_start(namespace, cancel)
        output.write("stacker output of %s\n" % namespace)
        time.sleep(self.seconds)
        with self.guard:
            self.running -= 1
        code = self.exit_codes.get(namespace, 0)
        return deploy.DeployResult(env_file, namespace, code, "deployed" if code == 0 else "it broke", 1.25, TS,
                                   interrupted=bool(cancel and cancel.terminate.is_set()))


def quiet(total):
    return fleet_progress.LineProgress(io.StringIO(), total)


def test_run_fleet_runs_at_most_n_at_once_and_one_failure_stops_nothing(tmp_path):
    prepared = prepared_fleet(tmp_path, 6)
    stand_in = StandIn(exit_codes={"ab-0003-qa": 4})
    summary = fleet.run_fleet(prepared, 2, tmp_path / "logs", quiet(6), run_deploy=stand_in)
    assert stand_in.most == 2 and sorted(stand_in.calls) == [p.namespace for p in prepared]
    assert [o.status for o in summary.outcomes] == ["ok", "ok", "failed", "ok", "ok", "ok"]
    assert (summary.exit_code, summary.interrupted, summary.counts()) == (
        4, False, {"ok": 5, "failed": 1, "bad-input": 0, "lock-held": 0, "skipped": 0})
    log = (tmp_path / "logs" / "ab-0003-qa.log").read_text()
    assert log == "=== tenantstack deploy ab-0003-qa (%s) ===\nstacker output of ab-0003-qa\n" % prepared[2].env_file


def test_a_tenant_whose_log_cannot_be_written_fails_alone(tmp_path):
    prepared = prepared_fleet(tmp_path, 2)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "ab-0001-qa.log").mkdir()  # a directory where its log file should be
    summary = fleet.run_fleet(prepared, 2, tmp_path / "logs", quiet(2), run_deploy=StandIn())
    first, second = summary.outcomes
    assert (first.status, first.result.message) == (
        "failed", "could not run the deploy: [Errno 21] Is a directory: '%s'" % (tmp_path / "logs" / "ab-0001-qa.log"))
    assert (second.status, summary.exit_code) == ("ok", 4)


def test_a_cancelled_fleet_starts_nothing_more(tmp_path):
    prepared = prepared_fleet(tmp_path, 3)
    stand_in = StandIn(on_start=lambda namespace, cancel: cancel.terminate.set())
    summary = fleet.run_fleet(prepared, 1, tmp_path / "logs", quiet(3), run_deploy=stand_in)
    assert stand_in.calls == ["ab-0001-qa"]
    assert [o.status for o in summary.outcomes] == ["ok", "skipped", "skipped"]
    assert summary.exit_code == 130
    assert not (tmp_path / "logs" / "ab-0002-qa.log").exists()


def test_ctrl_c_stops_new_deploys_and_asks_running_ones_to_stop(tmp_path):
    prepared = prepared_fleet(tmp_path, 3)
    told = []

    def press_ctrl_c(namespace, cancel):
        time.sleep(0.3)  # the main thread is waiting by now
        os.kill(os.getpid(), signal.SIGINT)
        told.append(cancel.terminate.wait(5))

    stream = io.StringIO()
    summary = fleet.run_fleet(prepared, 1, tmp_path / "logs", fleet_progress.LineProgress(stream, 3),
                              run_deploy=StandIn(on_start=press_ctrl_c))
    assert told == [True]
    assert [o.status for o in summary.outcomes] == ["ok", "skipped", "skipped"]
    assert summary.outcomes[0].result.interrupted and summary.exit_code == 130
    assert "stopping: no new deploys start; running ones stop at their next stack boundary and are cleaned up " \
           "(Ctrl-C again to kill them)" in stream.getvalue()


# --- what the user sees ----------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_line_progress_prints_each_change_with_the_elapsed_time(tmp_path):
    prepared = prepared_fleet(tmp_path, 3)
    stream, clock = io.StringIO(), Clock()
    progress = fleet_progress.LineProgress(stream, 3, clock=clock)
    progress.started(prepared[0], "logs/ab-0001-qa.log")
    clock.now += 30
    progress.tick()  # under a minute since the start: quiet
    progress.started(prepared[1], "logs/ab-0002-qa.log")
    clock.now += 31
    progress.tick()
    progress.finished(prepared[0], deploy.DeployResult("a", "ab-0001-qa", 0, "deployed", 61.0))
    progress.finished(prepared[1], deploy.DeployResult("b", "ab-0002-qa", 4, "stacker: it broke", 31.5))
    progress.skipped(prepared[2])
    summary = fleet.FleetSummary(tuple(fleet.Outcome(p, Path("x")) for p in prepared), 2, Path("logs"), NOW, 61.0,
                                 True)
    progress.close(summary)
    assert stream.getvalue().splitlines() == [
        "[  0.0 s] start    ab-0001-qa (log logs/ab-0001-qa.log)",
        "[ 30.0 s] start    ab-0002-qa (log logs/ab-0002-qa.log)",
        "[ 61.0 s] running  ab-0001-qa (61.0 s), ab-0002-qa (31.0 s); 0 done, 1 queued",
        "[ 61.0 s] ok       ab-0001-qa in 61.0 s",
        "[ 61.0 s] failed   ab-0002-qa in 31.5 s (exit 4): stacker: it broke",
        "[ 61.0 s] skipped  ab-0003-qa (the fleet was interrupted before it started)",
        "[ 61.0 s] done     3 skipped (exit 130)",
    ]


def test_tty_progress_redraws_its_block_in_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prepared = prepared_fleet(tmp_path, 2)
    Path("ab-0001-qa.log").write_text("[2026-11-30T01:00:00] db: submitted (creating new stack)\n\n")
    stream, clock = io.StringIO(), Clock()
    progress = fleet_progress.TtyProgress(stream, 2, clock=clock, columns=61)
    progress.started(prepared[0], "ab-0001-qa.log")
    clock.now += 2
    progress.tick()
    progress.finished(prepared[0], deploy.DeployResult("a", "ab-0001-qa", 0, "deployed", 2.0))
    assert stream.getvalue().split("\n") == [
        "[  0.0 s] start    ab-0001-qa (log ab-0001-qa.log)",
        "fleet  0/2 done  -  running 1  queued 1  0.0 s",
        "  ab-0001-qa         0.0 s  [2026-11-30T01:00:00] db: sub...",
        "\x1b[2F\x1b[J" "fleet  0/2 done  -  running 1  queued 1  2.0 s",  # back up 2 lines, clear, redraw
        "  ab-0001-qa         2.0 s  [2026-11-30T01:00:00] db: sub...",
        "\x1b[2F\x1b[J" "[  2.0 s] ok       ab-0001-qa in 2.0 s",  # a finished line scrolls above the block
        "fleet  1/2 done  ok 1  running 0  queued 1  2.0 s",
        "",
    ]


def test_the_summary_table_and_json(tmp_path):
    prepared = prepared_fleet(tmp_path, 2)
    failed = deploy.DeployResult(prepared[0].env_file, "ab-0001-qa", 4, "stacker: The following steps failed: db",
                                 12.34, TS, None, 1)
    summary = fleet.FleetSummary(
        (fleet.Outcome(prepared[0], Path("/logs/ab-0001-qa.log"), failed), fleet.Outcome(prepared[1], Path("/x"))),
        4, Path("/logs"), NOW, 12.34, True)
    assert deploy_command.summary_table(summary) == [
        "NAMESPACE   RESULT   EXIT  SECONDS  MESSAGE                                  LOG",
        "ab-0001-qa  failed   4     12.3     stacker: The following steps failed: db  /logs/ab-0001-qa.log",
        "ab-0002-qa  skipped  -     -        not started                              -",
    ]
    document = json.loads(output.json_document(fleet.summary_json(summary)))
    assert document == {
        "schema_version": 1, "command": "deploy --fleet", "exit_code": 130, "interrupted": True, "parallel": 4,
        "max_api_rate": None,
        "log_dir": "/logs", "started_at": "2026-11-30T01:02:03Z", "seconds": 12.3,
        "counts": {"ok": 0, "failed": 1, "bad-input": 0, "lock-held": 0, "skipped": 1},
        "tenants": [
            {"namespace": "ab-0001-qa", "env_file": prepared[0].env_file, "result": "failed", "exit_code": 4,
             "seconds": 12.3, "message": "stacker: The following steps failed: db", "db_timestamp": TS,
             "error": None, "stacker_exit": 1, "interrupted": False, "recovery": None,
             "log_file": "/logs/ab-0001-qa.log"},
            {"namespace": "ab-0002-qa", "env_file": prepared[1].env_file, "result": "skipped", "exit_code": None,
             "seconds": 0.0, "message": "not started: the fleet was interrupted", "db_timestamp": TS,
             "error": None, "stacker_exit": None, "interrupted": False, "recovery": None, "log_file": None},
        ],
    }


# --- the API rate budget ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "budget, parallel, tenants, share",
    [
        pytest.param(40.0, 8, 20, 5.0, id="split-over-the-slots"),
        pytest.param(40.0, 8, 3, 40 / 3, id="fewer-tenants-than-slots"),
        pytest.param(40.0, 1, 20, 40.0, id="one-at-a-time"),
        pytest.param(None, 8, 20, None, id="no-budget"),
    ],
)
def test_child_rate(budget, parallel, tenants, share):
    assert fleet.child_rate(budget, parallel, tenants) == share


@pytest.mark.parametrize(
    "value, rate",
    [pytest.param("40", 40.0, id="whole"), pytest.param("2.5", 2.5, id="fraction"),
     pytest.param("0", None, id="zero-no-limit")],
)
def test_check_max_api_rate(value, rate):
    assert fleet.check_max_api_rate(value) == rate


@pytest.mark.parametrize("value", ["-5", "fast", "inf"])
def test_check_max_api_rate_refuses_a_bad_value(value):
    with pytest.raises(errors.BadInput) as raised:
        fleet.check_max_api_rate(value)
    assert str(raised.value) == (
        "--max-api-rate %r is invalid: expected API calls per second, a number >= 0 (0: no limit), e.g. 40" % value)


def test_every_deploy_and_the_fleet_process_draw_from_one_bucket_of_the_whole_budget(tmp_path):
    stand_in = StandIn()
    summary = fleet.run_fleet(prepared_fleet(tmp_path, 3), 2, tmp_path / "logs", quiet(3), run_deploy=stand_in,
                              max_api_rate=30)
    # The whole budget, from one file; the clean-up in this process draws from it too.
    assert stand_in.rates == {(30.0, True, 30.0)} and len(stand_in.buckets) == 1
    assert api_rate.current_rate() is None  # and nothing is left behind
    assert not Path(stand_in.buckets.pop()).exists()
    assert fleet.summary_json(summary)["max_api_rate"] == 30


@pytest.mark.parametrize(
    "options, expected",
    [
        pytest.param([], {(40.0, True, 40.0)}, id="default-40"),
        pytest.param(["--max-api-rate", "10"], {(10.0, True, 10.0)}, id="given"),
        pytest.param(["--max-api-rate", "0"], {(None, False, None)}, id="no-limit"),
    ],
)
def test_the_cli_fleet_budget(tmp_path, monkeypatch, capsys, options, expected):
    stand_in, run_fleet = StandIn(), fleet.run_fleet
    monkeypatch.setattr(fleet, "run_fleet", lambda *args, **kwargs: run_fleet(*args, run_deploy=stand_in, **kwargs))
    files = [env_file(tmp_path, "ab-%04d-qa" % n, n) for n in (1, 2, 3)]
    code = cli.main(["deploy", "--fleet", *files, "--parallel", "2", "--log-dir", str(tmp_path / "logs"), *options])
    assert (code, stand_in.rates) == (0, expected)


@pytest.mark.parametrize(
    "options, expected",
    [pytest.param([], (None, False, None), id="default-no-limit"),
     pytest.param(["--max-api-rate", "12"], (12.0, True, 12.0), id="given")],
)
def test_the_cli_single_deploy_budget(tmp_path, monkeypatch, capsys, options, expected):
    stand_in = StandIn()
    monkeypatch.setattr(deploy, "deploy", stand_in)
    assert cli.main(["deploy", env_file(tmp_path, "ab-0001-qa", 1), *options]) == 0
    assert stand_in.rates == {expected}
    assert api_rate.current_rate() is None


def test_the_cli_refuses_a_bad_budget_before_anything_runs(tmp_path, monkeypatch, capsys):
    stand_in = StandIn()
    monkeypatch.setattr(deploy, "deploy", stand_in)
    assert cli.main(["deploy", env_file(tmp_path, "ab-0001-qa", 1), "--max-api-rate", "-1"]) == 2
    assert stand_in.calls == []
    assert "--max-api-rate '-1' is invalid: expected API calls per second, a number >= 0 (0: no limit), e.g. 40" \
        in capsys.readouterr().err


@pytest.mark.parametrize("fleet_options", [pytest.param([], id="one-deploy"), pytest.param(["--fleet"], id="fleet")])
def test_the_cli_debug_option_reaches_every_deploy(tmp_path, monkeypatch, capsys, fleet_options):
    seen = []

    def stand_in(env_file, *args, debug=False, **kwargs):
        seen.append(debug)
        return StandIn(seconds=0)(env_file, *args, **kwargs)

    monkeypatch.setattr(deploy, "deploy", stand_in)
    run_fleet = fleet.run_fleet  # its default run_deploy is the real deploy.deploy, bound when it was defined
    monkeypatch.setattr(fleet, "run_fleet", lambda *args, run_deploy=None, **kwargs: run_fleet(
        *args, run_deploy=run_deploy or deploy.deploy, **kwargs))
    files = [env_file(tmp_path, "ab-0001-qa", 1)]
    log_dir = ["--log-dir", str(tmp_path / "logs")] if fleet_options else []
    assert cli.main(["deploy", *fleet_options, *files, *log_dir]) == 0
    assert cli.main(["deploy", *fleet_options, *files, *log_dir, "--debug"]) == 0
    assert seen == [False, True]
