"""Gate: parliament, with its community auditors, over every IAM policy in every rendered template."""
import json
import shutil

import pytest

from tests.security import scanners
from tests.security.allowlist import judge, report
from tests.security.world import IDENTITY, RESOURCE, TEMPLATES, World


@pytest.fixture(scope="session")
def parliament_findings(world):
    return scanners.parliament([(policy.where, policy.document) for policy in world.policies()])


def test_parliament_is_clean_on_every_policy(parliament_findings, allowed):
    open_findings, unused = judge("parliament", parliament_findings, allowed)
    assert not open_findings and not unused, report("parliament", open_findings, unused)


def test_every_kind_of_policy_is_extracted_and_resolved(world):
    policies = world.policies()
    kinds = {(policy.resource_type, policy.kind) for policy in policies}
    assert kinds >= {
        ("AWS::IAM::Role", IDENTITY),
        ("AWS::KMS::Key", RESOURCE),
        ("AWS::S3::BucketPolicy", RESOURCE),
    }
    text = json.dumps([policy.document for policy in policies])
    assert "Fn::" not in text and '"Ref"' not in text and "${AWS::" not in text


def test_no_role_attaches_a_managed_policy_the_gates_cannot_read(world):
    assert world.managed_policy_arns() == []


def test_a_widened_policy_fails_parliament_naming_the_role(tmp_path):
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    path = copy / "xy-0146-qa" / "service.json"
    template = json.loads(path.read_text())
    (policy,) = template["Resources"]["TaskRole"]["Properties"]["Policies"]
    policy["PolicyDocument"]["Statement"][0]["Resource"] = "*"
    path.write_text(json.dumps(template))
    policies = World(copy).policies()
    findings = scanners.parliament([(p.where, p.document) for p in policies if p.where.startswith("xy-0146-qa/")])
    assert ("RESOURCE_STAR", "xy-0146-qa/service.json#TaskRole/task") in {(f.id, f.where) for f in findings}
