"""Gate: no known vulnerability in either venv's pinned requirements, except allowlisted ones.

pip-audit runs over requirements/cfngin.txt and requirements/project.txt against the
advisory snapshot (or the live OSV API: tests/security/audit.py), and every finding needs
a `pip-audit:` entry with a reason in lint/allowlist.yaml. The audit cannot pass without
auditing: a skipped package, a package the snapshot does not cover or a pip-audit error
fails it, and a known-vulnerable pin is shown to be reported.
"""
import pytest
from advisories import OsvEndpoint, load, names_to_cover, pinned

from tests.security import audit
from tests.security.allowlist import judge, report


@pytest.fixture(scope="session")
def osv():
    """The OSV endpoint pip-audit asks: the snapshot on 127.0.0.1, or None for the live API."""
    if audit.source() == "osv":
        audit.SUMMARY.append("vulnerability database: the live OSV API (%s=osv)" % audit.SOURCE_VARIABLE)
        yield None
        return
    snapshot = load()
    audit.SUMMARY.append("vulnerability database: requirements/advisories.json, %s as of %s (refresh: "
                         "scripts/advisories.py refresh --from-osv)" % (snapshot["source"], snapshot["taken"]))
    with OsvEndpoint(snapshot) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def audited(osv):
    """{requirements file: findings} for both venvs."""
    results = {}
    for requirements in audit.REQUIREMENTS:
        findings, count = audit.audit(requirements, osv)
        audit.SUMMARY.append("%s: %d pins audited, %d known vulnerabilities" % (requirements, count, len(findings)))
        results[requirements] = findings
    return results


def test_no_vulnerability_is_left_without_an_allowlist_entry(audited, allowed):
    findings = [finding for findings in audited.values() for finding in findings]
    open_findings, unused = judge("pip-audit", findings, allowed)
    assert not open_findings and not unused, report("pip-audit", open_findings, unused)


def test_the_supported_venv_needs_no_allowlist_entry(allowed):
    """Only the stacker venv may carry accepted vulnerabilities: the supported path has none to accept."""
    supported = [entry for entry in allowed["pip-audit"] if not entry["where"].startswith("requirements/project.txt#")]
    assert supported == []


def test_every_allowlisted_vulnerability_names_the_pinned_version(allowed):
    pins = {"%s#%s==%s" % (requirements, name, version)
            for requirements in audit.REQUIREMENTS for name, version in pinned(audit.REPO / requirements)}
    stale = [entry["where"] for entry in allowed["pip-audit"] if entry["where"] not in pins]
    assert stale == [], "pip-audit entries for versions no longer pinned: %s" % stale


def test_the_snapshot_covers_every_pinned_package():
    snapshot = load()
    missing = [name for name in names_to_cover() if name not in snapshot["packages"]]
    assert missing == [], ("requirements/advisories.json (taken %s) does not cover %s: run scripts/advisories.py "
                           "refresh" % (snapshot["taken"], ", ".join(missing)))


def test_a_known_vulnerable_pin_is_reported(tmp_path, osv):
    """The audit can fail: GitPython 2.1.15 carries CVE-2022-24439 in every source."""
    requirements = tmp_path / "vulnerable.txt"
    requirements.write_text("gitpython==2.1.15\n")
    findings, count = audit.audit(requirements, osv)
    assert count == 1
    assert "CVE-2022-24439" in " ".join(finding.message for finding in findings)
    assert {finding.where for finding in findings} == {"%s#gitpython==2.1.15" % requirements}


def test_a_pin_the_database_cannot_answer_fails_the_audit_loudly(tmp_path, osv):
    if osv is None:
        pytest.fail("the live OSV API answers every name; this check is about the snapshot", pytrace=False)
    requirements = tmp_path / "unknown.txt"
    requirements.write_text("tenantstack-not-a-real-package==1.0\n")
    with pytest.raises(audit.AuditUnavailable, match="tenantstack-not-a-real-package"):
        audit.audit(requirements, osv)


@pytest.mark.parametrize("events, version, affected", [
    pytest.param([{"introduced": "0"}, {"fixed": "3.1.30"}], "2.1.15", True, id="before-fix"),
    pytest.param([{"introduced": "0"}, {"fixed": "3.1.30"}], "3.1.30", False, id="at-fix"),
    pytest.param([{"introduced": "2.0"}, {"fixed": "2.1"}, {"introduced": "3.0"}], "2.5", False, id="between-ranges"),
    pytest.param([{"introduced": "2.0"}, {"fixed": "2.1"}, {"introduced": "3.0"}], "3.2", True, id="reintroduced"),
    pytest.param([{"introduced": "1.0"}, {"last_affected": "1.4"}], "1.4", True, id="last-affected"),
    pytest.param([{"introduced": "1.0"}, {"last_affected": "1.4"}], "1.5", False, id="after-last-affected"),
    pytest.param([{"introduced": "1.0"}], "0.9", False, id="before-introduced"),
])
def test_version_ranges_follow_osv(events, version, affected):
    from advisories import affects

    record = {"affected": [{"package": {"ecosystem": "PyPI", "name": "Some_Package"},
                            "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}
    assert affects(record, "some-package", version) is affected


def test_the_audit_source_is_checked():
    with pytest.raises(audit.AuditUnavailable, match="TENANTSTACK_AUDIT_SOURCE='pypi' is invalid"):
        audit.source({"TENANTSTACK_AUDIT_SOURCE": "pypi"})
