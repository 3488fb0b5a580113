"""The allowlist cannot rot: malformed entries and entries matching nothing are failures."""
import pytest

from tests.security import allowlist
from tests.security.allowlist import AllowlistError, Finding, judge, report

FINDING = Finding("checkov", "CKV_AWS_260", "common-prod/tier.json#LoadBalancerSecurityGroup", "port 80 open")


@pytest.mark.parametrize(
    "text, message",
    [
        ("checkov:\n  - id: X\n    where: '*'\n", "checkov entry 1 ({'id': 'X', 'where': '*'}): reason is missing or blank"),
        ("checkov:\n  - id: X\n    where: '*'\n    reason: '  '\n", "reason is missing or blank"),
        ("checkov:\n  - id: X\n    reason: r\n", "where is missing or blank"),
        ("checkov:\n  - {id: X, where: '*', reason: r, note: n}\n", "unknown keys note (expected id, where, reason)"),
        ("tfsec: []\n", "unknown scanner 'tfsec'"),
        ("checkov:\n  - CKV_AWS_1\n", "expected a mapping with id, where, reason"),
    ],
    ids=["no-reason", "blank-reason", "no-where", "unknown-key", "unknown-scanner", "not-a-mapping"],
)
def test_a_malformed_allowlist_is_refused_naming_the_entry(tmp_path, text, message):
    path = tmp_path / "allowlist.yaml"
    path.write_text(text)
    with pytest.raises(AllowlistError) as error:
        allowlist.load(path)
    assert message in str(error.value)


def test_the_checked_in_allowlist_is_well_formed():
    entries = allowlist.load()
    assert set(entries) == set(allowlist.SCANNERS)


ENTRY = {"id": "CKV_AWS_260", "where": "common-*/tier.json#LoadBalancerSecurityGroup", "reason": "redirect only"}


@pytest.mark.parametrize(
    "entry, findings, expected_open, expected_unused",
    [
        (ENTRY, [FINDING], [], []),
        (dict(ENTRY, id="CKV_AWS_25"), [FINDING], [FINDING], [dict(ENTRY, id="CKV_AWS_25")]),
        (dict(ENTRY, where="common-nonprod/*"), [FINDING], [FINDING], [dict(ENTRY, where="common-nonprod/*")]),
        (ENTRY, [], [], [ENTRY]),
    ],
    ids=["accepted", "other-id", "other-place", "unused"],
)
def test_judge(entry, findings, expected_open, expected_unused):
    assert judge("checkov", findings, {"checkov": [entry]}) == (expected_open, expected_unused)


def test_the_report_names_the_finding_and_the_stale_entry():
    text = report("checkov", [FINDING], [ENTRY])
    assert "checkov CKV_AWS_260 at common-prod/tier.json#LoadBalancerSecurityGroup: port 80 open" in text
    assert "id CKV_AWS_260 where common-*/tier.json#LoadBalancerSecurityGroup" in text
    assert "lint/allowlist.yaml" in text
