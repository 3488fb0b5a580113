"""Gate: cfn-lint (errors, warnings and the informational checks) is clean on every rendered template."""
import copy
import json

import pytest

from tests.security import scanners
from tests.security.allowlist import judge, report
from tests.security.world import REPO, TEMPLATES


@pytest.fixture(scope="session")
def cfn_lint_findings(template_paths):
    return scanners.cfn_lint(template_paths, TEMPLATES)


def test_cfn_lint_is_clean_on_every_rendered_template(cfn_lint_findings, allowed):
    open_findings, unused = judge("cfn-lint", cfn_lint_findings, allowed)
    assert not open_findings and not unused, report("cfn-lint", open_findings, unused)


def test_cfn_lint_gate_names_the_resource_of_a_schema_error(tmp_path):
    scanners.write_template(
        tmp_path, "xy-0146-qa/broken.json", {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}}
    )
    findings = scanners.cfn_lint([tmp_path / "xy-0146-qa" / "broken.json"], tmp_path)
    assert [(f.id, f.where) for f in findings] == [("E3002", "xy-0146-qa/broken.json#Bucket")]


def test_cfn_lint_gate_reports_a_database_that_cloudformation_may_delete(tmp_path):
    template = json.loads((REPO / "templates" / "xy-0146-qa" / "db.json").read_text())
    changed = copy.deepcopy(template)
    del changed["Resources"]["Database"]["DeletionPolicy"]
    del changed["Resources"]["Database"]["UpdateReplacePolicy"]
    path = scanners.write_template(tmp_path, "xy-0146-qa/db.json", changed)
    findings = scanners.cfn_lint([path], tmp_path)
    assert {(f.id, f.where) for f in findings} >= {("I3011", "xy-0146-qa/db.json#Database")}, findings
