"""Gate (ours: checkov has no such CloudFormation check): every RDS instance is protected, encrypted and private.

Encrypted with the tier key: a restored instance takes its key from its snapshot, and
CloudFormation must not get KmsKeyId with DBSnapshotIdentifier, so a restored instance
must restore the namespace's own snapshot <namespace>-<timestamp> or, within its tier, its
project's source snapshot <source>-<timestamp> (hooks.steps.tier_copy makes sure either is under
the tier key before the stack) and set no KmsKeyId (RDS_RESTORES_UNDER_TIER_KEY); an instance
not restored must name its key (RDS_KMS_KEY).
"""
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
        ("KmsKeyId", {"Ref": "AnyKey"}, "RDS_RESTORES_UNDER_TIER_KEY"),
        ("DBSnapshotIdentifier", "xy-0146-prod-20261101t090000z", "RDS_RESTORES_UNDER_TIER_KEY"),
        ("DBSnapshotIdentifier", "ab-0212-dev-20261101t090000z", "RDS_RESTORES_UNDER_TIER_KEY"),
        ("DBSnapshotIdentifier", "xy-0146-dev-20261001t090000z", "RDS_RESTORES_UNDER_TIER_KEY"),
        ("DBSnapshotIdentifier", None, "RDS_KMS_KEY"),
        ("PubliclyAccessible", True, "RDS_NOT_PUBLIC"),
        ("PubliclyAccessible", None, "RDS_NOT_PUBLIC"),
    ],
    ids=["unprotected", "protection-unset", "unencrypted", "key-with-snapshot", "restores-another-tiers-snapshot",
         "restores-another-projects-snapshot", "restores-another-timestamp",
         "not-restored-no-key", "public", "public-unset"],
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
    meanings = dict([(r[0], r[3]) for r in scanners.DB_INSTANCE_RULES] + [scanners.RDS_RESTORES_UNDER_TIER_KEY])
    assert finding.message.startswith(meanings[rule])


def test_the_committed_database_passes():
    assert DB["Resources"]["Database"]["Properties"]["DBSnapshotIdentifier"] == "xy-0146-dev-20261101t090000z"
    assert scanners.template_checks(DB, "xy-0146-qa/db.json") == []
    copied = copy.deepcopy(DB)  # snapshot_copy: always
    copied["Resources"]["Database"]["Properties"]["DBSnapshotIdentifier"] = "xy-0146-qa-20261101t090000z"
    assert scanners.template_checks(copied, "xy-0146-qa/db.json") == []
