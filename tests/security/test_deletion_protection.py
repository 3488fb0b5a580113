"""Gate (ours: checkov has no such CloudFormation check): every RDS instance is protected, encrypted and private."""
import copy
import json

import pytest

from tests.security import scanners
from tests.security.allowlist import judge, report
from tests.security.world import TEMPLATES


def all_findings(paths):
    return [
        finding
        for path in paths
        for finding in scanners.template_checks(json.loads(path.read_text()), path.relative_to(TEMPLATES).as_posix())
    ]


def test_every_database_instance_is_protected_encrypted_with_a_key_and_private(template_paths, allowed):
    databases = [p for p in template_paths if "AWS::RDS::DBInstance" in p.read_text()]
    assert len(databases) >= 5, databases  # one per tenant env file: the check is not vacuous
    open_findings, unused = judge("template-checks", all_findings(template_paths), allowed)
    assert not open_findings and not unused, report("template-checks", open_findings, unused)


DB = json.loads((TEMPLATES / "xy-0146-qa" / "db.json").read_text())


@pytest.mark.parametrize(
    "name, value, rule",
    [
        ("DeletionProtection", False, "RDS_DELETION_PROTECTION"),
        ("DeletionProtection", None, "RDS_DELETION_PROTECTION"),
        ("StorageEncrypted", False, "RDS_STORAGE_ENCRYPTED"),
        ("KmsKeyId", None, "RDS_KMS_KEY"),
        ("PubliclyAccessible", True, "RDS_NOT_PUBLIC"),
        ("PubliclyAccessible", None, "RDS_NOT_PUBLIC"),
    ],
    ids=["unprotected", "protection-unset", "unencrypted", "no-key", "public", "public-unset"],
)
def test_a_weakened_database_is_a_finding_naming_it(name, value, rule):
    template = copy.deepcopy(DB)
    properties = template["Resources"]["Database"]["Properties"]
    if value is None:
        properties.pop(name)
    else:
        properties[name] = value
    (finding,) = scanners.template_checks(template, "xy-0146-qa/db.json")
    assert (finding.scanner, finding.id, finding.where) == ("template-checks", rule, "xy-0146-qa/db.json#Database")
    assert finding.message.startswith(dict((r[0], r[3]) for r in scanners.DB_INSTANCE_RULES)[rule])


def test_the_committed_database_passes():
    assert scanners.template_checks(DB, "xy-0146-qa/db.json") == []
