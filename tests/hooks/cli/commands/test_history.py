"""`tenantstack history`: the pointer's audit trail, as a table or JSON."""
import json

import pytest

from hooks import cli
from hooks.steps import pointer
from tests.hooks.cli.commands.seeded import FLIPPED_AT, flip, masked
from tests.hooks.tenant.test_inventory import T1, T2, T3, set_pointer

QA = "xy-0146-qa"


def history(capsys, *args):
    code = cli.main(["history", *args])
    captured = capsys.readouterr()
    return code, masked(captured.out), captured.err


def flips_with_a_hand_made_version(ssm):
    flip(ssm, QA, T1, T2)
    set_pointer(ssm, QA, T3, description="set by hand while CI was down")
    flip(ssm, QA, T2, holder="xy-0146-qa-deploy:0b8f6a3c")


def test_history_lists_every_version_oldest_first(cli_aws, capsys):
    flips_with_a_hand_made_version(cli_aws.client("ssm"))
    code, out, err = history(capsys, QA)
    assert (code, err) == (0, "")
    assert out == "\n".join([
        "VERSION  WHEN (UTC)            FROM              TO                BY",
        "1        YYYY-MM-DDTHH:MM:SSZ  -                 20260101t000000z  deployer@ci-7:4242",
        "2        YYYY-MM-DDTHH:MM:SSZ  20260101t000000z  20260102t000000z  deployer@ci-7:4242",
        "3        YYYY-MM-DDTHH:MM:SSZ  20260102t000000z  20260103t000000z  N/A",
        "4        YYYY-MM-DDTHH:MM:SSZ  20260103t000000z  20260102t000000z  xy-0146-qa-deploy:0b8f6a3c",
        "",
    ])


def test_history_json_keeps_each_description(cli_aws, capsys):
    flips_with_a_hand_made_version(cli_aws.client("ssm"))
    code, out, err = history(capsys, QA, "--json")
    assert (code, err) == (0, "")
    assert out == json.dumps(json.loads(out), sort_keys=True, indent=2) + "\n"
    document = json.loads(out)
    assert (document["schema_version"], document["namespace"]) == (1, QA)
    assert document["flips"][2:] == [
        {"version": 3, "at": "YYYY-MM-DDTHH:MM:SSZ", "from": T2, "to": T3, "by": "N/A",
         "description": "set by hand while CI was down", "requested": None},
        {"version": 4, "at": "YYYY-MM-DDTHH:MM:SSZ", "from": T3, "to": T2, "by": "xy-0146-qa-deploy:0b8f6a3c",
         "description": "%s (was %s) set by xy-0146-qa-deploy:0b8f6a3c at YYYY-MM-DDTHH:MM:SSZ" % (T2, T3),
         "requested": None},
    ]


def test_history_of_a_pointer_never_set(cli_aws, capsys):
    never = "xy-0146-qa: the pointer /xy-0146-qa/db/active was never set (no deploy has finished)\n"
    assert history(capsys, QA) == (0, never, "")
    code, out, _ = history(capsys, QA, "--json")
    assert json.loads(out) == {"schema_version": 1, "namespace": QA, "flips": []}


def test_history_of_a_bad_namespace_is_bad_input(capsys):
    code, out, err = history(capsys, "xy-146-qa")
    assert (code, out) == (2, "")
    assert err.startswith("tenantstack history: namespace 'xy-146-qa' is invalid: expected <customer")


def test_history_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["history", "--help"])
    assert exited.value.code == 0
    assert "  tenantstack history xy-0146-prod --json | jq '.flips[-1]'" in capsys.readouterr().out


def test_history_shows_what_latest_stood_for(cli_aws, capsys):
    ssm = cli_aws.client("ssm")
    flip(ssm, QA, T1)
    set_pointer(ssm, QA, T2, description=pointer.flip_description(T1, T2, "xy-0146-qa-deploy:1", FLIPPED_AT, "latest"))
    code, out, _ = history(capsys, QA)
    assert code == 0
    assert out.splitlines()[-1] == "2        YYYY-MM-DDTHH:MM:SSZ  %s  %s (latest)  xy-0146-qa-deploy:1" % (T1, T2)
    code, out, _ = history(capsys, QA, "--json")
    assert [(f["to"], f["requested"], f["by"]) for f in json.loads(out)["flips"]] == [
        (T1, None, "deployer@ci-7:4242"), (T2, "latest", "xy-0146-qa-deploy:1")]
