"""bench/fleet.py: what a failed fleet run reports (the workspace with its logs is deleted after)."""
import json

from bench import fleet


def test_failed_tenants_name_each_failure_with_its_log_tail(tmp_path):
    log = tmp_path / "bt-0002-qa.log"
    log.write_text("".join("line %d\n" % number for number in range(1, 21)))
    summary = {"tenants": [
        {"namespace": "bt-0001-qa", "result": "ok", "message": "promoted", "log_file": "unused"},
        {"namespace": "bt-0002-qa", "result": "failed", "message": "stable gate timed out", "log_file": str(log)},
        {"namespace": "bt-0003-qa", "result": "skipped", "message": "not started", "log_file": None},
    ]}
    assert fleet.failed_tenants(json.dumps(summary), "") == (
        "bt-0002-qa failed: stable gate timed out\n%s\nbt-0003-qa skipped: not started\n(no log)\n"
        % "".join("line %d\n" % number for number in range(6, 21))
    )


def test_without_a_json_summary_the_output_tail_is_reported():
    assert fleet.failed_tenants("", "Traceback ...\nKeyError: 'x'\n") == (
        "no JSON summary; last lines of its output:\nTraceback ...\nKeyError: 'x'\n")
