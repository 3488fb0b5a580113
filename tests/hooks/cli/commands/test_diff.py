"""`tenantstack diff` and `deploy --dry-run`: arguments, bad input as deploy reports it, the text, the JSON
and the exit codes. The previews themselves are canned here (hooks/ops/preview_run.py is tested in
tests/hooks/ops and end to end in tests/e2e/test_diff.py)."""
import json

import pytest

from hooks import cli
from hooks.ops import preview_run
from hooks.ops.preview import Cause, ResourceChange, StackPreview, Step, TenantPreview, Unknown
from hooks.run import deploy
from tests.conftest import REPO_ROOT

QA, QA_ENV = "xy-0146-qa", "environments/xy-0146-qa.env"
TS2 = "20261115t120000z"
RULE = ResourceChange("ListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule", "modify", "True",
                      (Cause("Properties.ListenerArn", "Always", "ParameterReference", "HttpsListenerArn"),), "arn:rule")
SERVICE = ResourceChange("Service", "AWS::ECS::Service", "modify", "False", (), "arn:service")


def canned(prepared, clients, registry, **kwargs):
    stacks = (
        StackPreview("base", "%s-base" % prepared.namespace, "CREATE_COMPLETE", drift="DRIFTED"),
        StackPreview("db", "%s-db-%s" % (prepared.namespace, TS2), None,
                     (ResourceChange("Database", "AWS::RDS::DBInstance", "add"),)),
        StackPreview("service", "%s-service" % prepared.namespace, "UPDATE_COMPLETE", (SERVICE, RULE),
                     unknowns=(Unknown("DatabaseEndpointAddress", "x-db::DatabaseEndpointAddress",
                                       "stack x-db does not exist yet", "<unknown until deployed: x>"),)),
    )
    steps = (Step("flip", "pointer /%s/db/active: a -> b" % prepared.namespace, True, {"from": "a", "to": "b"}),)
    return TenantPreview(prepared.namespace, prepared.env_file, prepared.db_timestamp, stacks, steps, seconds=1.25)


@pytest.fixture
def previews(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(preview_run, "preview_tenant", canned)


# --- bad input: refused before anything runs, as deploy refuses it -----------------------------


@pytest.mark.parametrize("argv", [
    pytest.param(["environments/nope.env"], id="missing-file"),
    pytest.param(["environments/common-nonprod.env"], id="shared-tier"),
    pytest.param([QA_ENV, "-e", "db_timestamp=yesterday"], id="bad-override"),
    pytest.param([QA_ENV, "-e", "no_such_key=1"], id="unknown-key"),
])
def test_bad_input_exits_2_with_the_message_deploy_gives(argv, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    overrides = dict(value.split("=", 1) for value in argv[2::2])
    expected = deploy.deploy(argv[0], overrides or None).message  # refused before any process or AWS call
    assert cli.main(["diff", *argv]) == 2
    captured = capsys.readouterr()
    prefix = "tenantstack diff: "
    assert captured.out == "" and captured.err.startswith(prefix)
    assert deploy.one_line(captured.err[len(prefix):]) == expected


@pytest.mark.parametrize("argv, message", [
    pytest.param([QA_ENV, "environments/xy-0146-prod.env"], "diff takes one ENVFILE (got %s, "
                 "environments/xy-0146-prod.env); preview several with --fleet" % QA_ENV, id="two-files"),
    pytest.param(["--fleet", QA_ENV, "-e", "db_timestamp=%s" % TS2], "--fleet takes env files only (got -e "
                 "db_timestamp=%s); set keys in each env file" % TS2, id="fleet-with-override"),
    pytest.param(["--fleet", QA_ENV, "--parallel", "0"], "--parallel 0 is invalid: expected a whole number from 1 "
                 "to 32", id="parallel"),
    pytest.param([QA_ENV, "--allow-replace", "xy-0146-qa/ListenerRule"], "--allow-replace 'xy-0146-qa/ListenerRule' "
                 "is invalid: expected NAMESPACE/STACK/LOGICAL_ID, e.g. xy-0146-qa/service/ListenerRule",
                 id="allowance"),
    pytest.param(["--fleet", QA_ENV, "./" + QA_ENV], "the fleet was not started, nothing was deployed: 1 problem(s):\n"
                 "  - env file ./%s is listed twice (also as %s); list each tenant once" % (QA_ENV, QA_ENV),
                 id="fleet-check-as-deploys"),
])
def test_bad_arguments_exit_2_naming_the_value(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert cli.main(["diff", *argv]) == 2
    assert capsys.readouterr().err == "tenantstack diff: %s\n" % message


@pytest.mark.parametrize("argv, message", [
    ([QA_ENV, "--", "--tail"], "deploy --dry-run previews the deploy of env files: it takes no stacker arguments"),
    (["--fleet", QA_ENV, "--log-dir", "logs"], "deploy --dry-run previews the deploy of env files: it takes no "
                                               "--log-dir"),
])
def test_a_dry_run_refuses_what_only_a_real_deploy_takes(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert cli.main(["deploy", "--dry-run", *argv]) == 2
    assert capsys.readouterr().err == "tenantstack deploy: %s\n" % message


# --- output ----------------------------------------------------------------------------------------


def test_the_text_names_every_change_the_flag_and_the_verdict(previews, capsys):
    assert cli.main(["diff", QA_ENV]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "%s: replacements (db_timestamp 20261101t090000z, from %s)" % (QA, REPO_ROOT / QA_ENV)
    assert lines[1].startswith("  base     xy-0146-qa-base: unchanged; DRIFTED since its last deploy")
    assert lines[2] == ("  db       xy-0146-qa-db-%s: new (1 resource(s) to add; no change set: the stack does not "
                        "exist)" % TS2)
    assert [line.split() for line in lines[6:9]] == [
        ["ACTION", "TYPE", "LOGICAL", "ID", "REPLACEMENT", "CAUSE"],
        ["modify", "AWS::ECS::Service", "Service", "False", "-"],
        ["modify", "AWS::ElasticLoadBalancingV2::ListenerRule", "ListenerRule", "True", "Properties.ListenerArn",
         "(Always)", "FLAGGED:", "routes", "the", "tenant's", "traffic"],
    ]
    assert lines[9] == ("    DatabaseEndpointAddress is not known before the deploy (stack x-db does not exist "
                         "yet): previewed with <unknown until deployed: x>")
    assert lines[-3:] == ["  steps:", "    flip     pointer /xy-0146-qa/db/active: a -> b",
                          "  verdict: 1 guarded resource(s) replaced or removed: xy-0146-qa/service/ListenerRule"]


@pytest.mark.parametrize("argv, code, refused", [
    ([], 0, ["xy-0146-qa/service/ListenerRule"]),
    (["--fail-on-replace"], 5, ["xy-0146-qa/service/ListenerRule"]),
    (["--fail-on-replace", "--allow-replace", "xy-0146-qa/service/ListenerRule"], 0, []),
])
def test_fail_on_replace_exits_5_unless_an_allowance_names_the_change(previews, capsys, argv, code, refused):
    assert cli.main(["diff", QA_ENV, "--json", *argv]) == code
    document = json.loads(capsys.readouterr().out)
    assert (document["exit_code"], document["refused"], document["flagged"]) == (
        code, refused, ["xy-0146-qa/service/ListenerRule"])


def test_the_json_document_of_one_tenant(previews, capsys, tmp_path):
    out = tmp_path / "out" / "diff.json"
    assert cli.main(["diff", QA_ENV, "--json", "--json-out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads(printed)
    assert out.read_text() == printed
    assert sorted(document) == ["command", "db_timestamp", "env_file", "error", "error_class", "exit_code", "flagged",
                                "namespace", "new_tenant", "refused", "result", "schema_version", "seconds", "stacks",
                                "steps"]
    assert (document["command"], document["schema_version"], document["seconds"]) == ("diff", 1, 1.2)
    service = document["stacks"][2]
    assert sorted(service) == ["changes", "drift", "live_status", "name", "note", "result", "stack_name", "unknowns"]
    assert service["changes"][1] == {
        "logical_id": "ListenerRule", "resource_type": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "action": "modify", "replacement": "True", "physical_id": "arn:rule", "guarded": "routes the tenant's traffic",
        "flagged": True, "allowed": False, "causes": [{"target": "Properties.ListenerArn", "recreation": "Always",
                                                       "source": "ParameterReference", "entity": "HttpsListenerArn"}]}
    assert document["steps"] == [{"step": "flip", "text": "pointer /xy-0146-qa/db/active: a -> b", "changes": True,
                                  "from": "a", "to": "b"}]


def test_deploy_dry_run_is_the_diff(previews, capsys):
    assert cli.main(["diff", QA_ENV, "--json"]) == 0
    diffed = json.loads(capsys.readouterr().out)
    assert cli.main(["deploy", "--dry-run", QA_ENV, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == diffed


def test_a_fleet_prints_a_line_per_tenant_and_its_json_counts_them(previews, capsys):
    argv = ["diff", "--fleet", QA_ENV, "environments/xy-0146-prod.env", "--fail-on-replace", "--allow-replace",
            "xy-0146-prod/service/ListenerRule", "--allow-replace", "ab-0212-qa/db/Database"]
    assert cli.main(argv) == 5
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split()[:3] for line in lines[:3]] == [["NAMESPACE", "RESULT", "EXIT"], [QA, "replacements", "5"],
                                                        ["xy-0146-prod", "replacements", "0"]]
    assert lines[-1] == "2 tenant(s): 2 replacements"
    assert "note: --allow-replace ab-0212-qa/db/Database names no flagged change" in captured.err
    assert cli.main(argv + ["--json"]) == 5
    document = json.loads(capsys.readouterr().out)
    assert {key: document[key] for key in ("command", "exit_code", "interrupted", "parallel", "max_api_rate",
                                           "fail_on_replace", "unused_allowances")} == {
        "command": "diff --fleet", "exit_code": 5, "interrupted": False, "parallel": 4, "max_api_rate": 40.0,
        "fail_on_replace": True, "unused_allowances": ["ab-0212-qa/db/Database"]}
    assert document["counts"] == {"unchanged": 0, "changes": 0, "replacements": 2, "new": 0, "error": 0, "skipped": 0}
    assert [tenant["refused"] for tenant in document["tenants"]] == [["xy-0146-qa/service/ListenerRule"], []]


def test_a_refused_fleet_writes_its_json_too(capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert cli.main(["diff", "--fleet", "environments/common-prod.env", "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["exit_code"], document["tenants"]) == ("diff --fleet", 2, [])
