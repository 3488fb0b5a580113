"""The dependency audit: pip-audit over each venv's pinned requirements, as Findings.

Which vulnerability database (TENANTSTACK_AUDIT_SOURCE):

- `snapshot` (the default): requirements/advisories.json served on 127.0.0.1 by
  scripts/advisories.py's OsvEndpoint. Deterministic, and the only source this project's
  machines reach (package registries only; the PyPI mirror serves no per-release JSON, so
  pip-audit's `pypi` service would skip every package and report nothing).
- `osv`: the live OSV API, for a machine that reaches api.osv.dev.

The audit fails loudly rather than passing silently: pip-audit exiting with an error, a
dependency it skipped, a package the snapshot does not cover, or output that is not its
JSON all raise AuditUnavailable with what happened.
A finding is located `<requirements file>#<name>==<version>`; its id is the advisory's
(PYSEC-..., GHSA-...), the form lint/allowlist.yaml's `pip-audit:` entries match.
"""
import json
import os
import subprocess
from pathlib import Path

from tests.security.allowlist import Finding

REPO = Path(__file__).resolve().parents[2]
PIP_AUDIT = REPO / ".venv-cfngin" / "bin" / "pip-audit"
REQUIREMENTS = ("requirements/cfngin.txt", "requirements/project.txt")
SOURCE_VARIABLE = "TENANTSTACK_AUDIT_SOURCE"
SOURCES = ("snapshot", "osv")
TIMEOUT = 300
SUMMARY = []  # lines for the terminal summary: which database, how old, what was audited


class AuditUnavailable(RuntimeError):
    """The audit could not run, or ran without auditing every pinned package."""


def source(environ=None):
    chosen = (os.environ if environ is None else environ).get(SOURCE_VARIABLE, "snapshot")
    if chosen not in SOURCES:
        raise AuditUnavailable("%s=%r is invalid: expected one of %s" % (SOURCE_VARIABLE, chosen, ", ".join(SOURCES)))
    return chosen


def command(requirements, osv_url=None):
    """pip-audit over one pinned requirements file, without resolving or installing anything."""
    arguments = [str(PIP_AUDIT), "--requirement", str(requirements), "--no-deps", "--disable-pip", "--strict",
                 "--vulnerability-service", "osv", "--format", "json", "--progress-spinner", "off",
                 "--aliases", "on", "--desc", "on"]
    return arguments + (["--osv-url", osv_url] if osv_url else [])


def audit(requirements, osv=None):
    """(findings, pins audited) of one requirements file (path relative to the repository), asking
    `osv` (an advisories.OsvEndpoint; None: the live OSV API); AuditUnavailable if it cannot tell."""
    if not PIP_AUDIT.exists():
        raise AuditUnavailable("%s is missing: run `make setup` (requirements/cfngin.txt pins pip-audit)" % PIP_AUDIT)
    result = subprocess.run(command(REPO / requirements, osv.url if osv else None), capture_output=True, text=True,
                            timeout=TIMEOUT, cwd=str(REPO))
    try:
        report = json.loads(result.stdout)
    except ValueError:
        report = None
    if report is None or result.returncode not in (0, 1):
        refused = "\nthe advisory snapshot refused: %s" % "; ".join(osv.refused) if osv and osv.refused else ""
        raise AuditUnavailable("pip-audit over %s failed (exit %d) and audited nothing:%s\n%s"
                               % (requirements, result.returncode, refused, result.stderr[-2000:]))
    skipped = ["%s: %s" % (dep["name"], dep["skip_reason"]) for dep in report["dependencies"] if dep.get("skip_reason")]
    if skipped:
        raise AuditUnavailable("pip-audit could not audit every pin of %s:\n  %s" % (requirements, "\n  ".join(skipped)))
    findings = []
    for dependency in report["dependencies"]:
        where = "%s#%s==%s" % (requirements, dependency["name"], dependency["version"])
        for vulnerability in dependency.get("vulns", []):
            fixed = ", ".join(vulnerability.get("fix_versions") or []) or "none"
            message = "%s (aliases %s; fixed in %s)" % (
                (vulnerability.get("description") or "").strip()[:160], ", ".join(vulnerability.get("aliases", [])),
                fixed)
            findings.append(Finding("pip-audit", vulnerability["id"], where, message))
    return findings, len(report["dependencies"])
