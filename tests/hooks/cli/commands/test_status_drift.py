"""`tenantstack status --drift`: drift detection on the tenant's stacks, only when asked.

The local endpoint has no drift detection (moto 5.2: DetectStackDrift answers 500), so the
detection's answers are canned here (hooks.tenant.drift.detect, whose AWS calls are tested with
Stubber in tests/hooks/tenant/test_drift.py); which stacks are asked is read from the endpoint."""
import json

import pytest

from hooks import cli
from hooks.tenant import drift
from tests.hooks.cli.commands.seeded import environments, tenant
from tests.hooks.tenant.test_inventory import T1, T2

QA = "xy-0146-qa"


@pytest.fixture
def detections(monkeypatch):
    asked = []

    def detect(cfn, stack_names, wait=None):
        asked.append(list(stack_names))
        return [drift.StackDrift(stack_names[0], "DRIFTED", "DETECTION_COMPLETE", None, (drift.ResourceDrift(
            "Database", "AWS::RDS::DBInstance", "MODIFIED",
            ({"path": "/BackupRetentionPeriod", "type": "NOT_EQUAL", "expected": "7", "actual": "1"},)),)),
            drift.StackDrift(stack_names[1], error="ClientError: Throttling")]

    monkeypatch.setattr(drift, "detect", detect)
    return asked


def test_drift_is_detected_on_the_stacks_that_exist_and_listed(cli_aws, tmp_path, capsys, detections):
    tenant(cli_aws, QA, flips=[T1], leftovers=[T2])  # two databases, each with its stack; no base or service stack
    envs = environments(tmp_path)
    assert cli.main(["status", QA, "--environments", str(envs), "--drift"]) == 0
    assert detections == [["xy-0146-qa-db-%s" % T1, "xy-0146-qa-db-%s" % T2]]
    out = capsys.readouterr().out.splitlines()
    assert out[out.index("drift (CloudFormation drift detection, just run):"):] == [
        "drift (CloudFormation drift detection, just run):",
        "  xy-0146-qa-db-%s: DRIFTED" % T1,
        "    MODIFIED Database (AWS::RDS::DBInstance): /BackupRetentionPeriod",
        "  xy-0146-qa-db-%s: detection failed: ClientError: Throttling" % T2,
    ]
    assert cli.main(["status", QA, "--environments", str(envs), "--drift", "--json"]) == 0
    (document,) = json.loads(capsys.readouterr().out)["tenants"]
    assert document["drift"][0] == {
        "stack_name": "xy-0146-qa-db-%s" % T1, "status": "DRIFTED", "detection": "DETECTION_COMPLETE", "reason": None,
        "error": None, "resources": [{"logical_id": "Database", "resource_type": "AWS::RDS::DBInstance",
                                      "status": "MODIFIED", "differences": [{"path": "/BackupRetentionPeriod",
                                                                             "type": "NOT_EQUAL", "expected": "7",
                                                                             "actual": "1"}]}]}


def test_without_drift_no_detection_runs_and_the_json_has_no_drift_key(cli_aws, tmp_path, capsys, detections):
    tenant(cli_aws, QA, flips=[T1])
    assert cli.main(["status", QA, "--environments", str(environments(tmp_path)), "--json"]) == 0
    (document,) = json.loads(capsys.readouterr().out)["tenants"]
    assert "drift" not in document and detections == []
