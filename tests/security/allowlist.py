"""lint/allowlist.yaml: the one list of accepted scanner findings, each with its reason.

    <scanner>:                       # cfn-lint, checkov, parliament, template-checks, isolation, pip-audit
      - id: CKV_AWS_260              # the rule / check / issue id the scanner reports
        where: "common-*/tier.json#LoadBalancerSecurityGroup"   # glob over finding locations
        reason: why this is right    # required, not blank

A finding's location is `<namespace>/<stack>.json#<LogicalId>` (parliament adds
`/<PolicyName>` for inline role policies). An isolation finding's id is the IAM action
a role may take on another tenant's resource, its location the role's. A pip-audit finding's id is
the advisory's (PYSEC-..., GHSA-...), its location `<requirements file>#<name>==<version>`
(tests/security/audit.py). An entry without an id, a where or a reason,
an unknown key or scanner, and an entry that matches no finding all fail the gates,
so the list cannot rot.
"""
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ALLOWLIST = REPO / "lint" / "allowlist.yaml"
SCANNERS = ("cfn-lint", "checkov", "parliament", "template-checks", "isolation", "pip-audit")
ENTRY_KEYS = {"id", "where", "reason"}


@dataclass(frozen=True)
class Finding:
    scanner: str
    id: str
    where: str  # <namespace>/<stack>.json#<LogicalId>...
    message: str

    def __str__(self):
        return "%s %s at %s: %s" % (self.scanner, self.id, self.where, self.message)


class AllowlistError(ValueError):
    """The allowlist itself is malformed."""


def load(path=ALLOWLIST):
    """{scanner: [entry, ...]}, validated; AllowlistError names every bad entry."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    problems = ["unknown scanner %r (known: %s)" % (name, ", ".join(SCANNERS)) for name in data if name not in SCANNERS]
    entries = {}
    for scanner in SCANNERS:
        entries[scanner] = data.get(scanner) or []
        for index, entry in enumerate(entries[scanner]):
            label = "%s entry %d (%r)" % (scanner, index + 1, entry)
            if not isinstance(entry, dict):
                problems.append("%s: expected a mapping with id, where, reason" % label)
                continue
            unknown = sorted(set(entry) - ENTRY_KEYS)
            if unknown:
                problems.append("%s: unknown keys %s (expected id, where, reason)" % (label, ", ".join(unknown)))
            for key in sorted(ENTRY_KEYS):
                if not str(entry.get(key) or "").strip():
                    problems.append("%s: %s is missing or blank; every entry needs id, where and a reason" % (label, key))
    if problems:
        raise AllowlistError("%s:\n  %s" % (path, "\n  ".join(problems)))
    return entries


def allows(entry, finding):
    return entry["id"] == finding.id and fnmatch.fnmatchcase(finding.where, entry["where"])


def judge(scanner, findings, entries):
    """(findings no entry accepts, entries that accept no finding) for one scanner."""
    own = entries.get(scanner, [])
    open_findings = [f for f in findings if not any(allows(entry, f) for entry in own)]
    unused = [entry for entry in own if not any(allows(entry, f) for f in findings)]
    return open_findings, unused


def report(scanner, open_findings, unused):
    """The failure message of a gate: every open finding, then every stale entry."""
    lines = []
    if open_findings:
        lines.append(
            "%s findings (fix the template, or add an entry with a reason to %s):"
            % (scanner, ALLOWLIST.relative_to(REPO))
        )
        lines += ["  %s" % finding for finding in sorted(open_findings, key=str)]
    if unused:
        lines.append("%s allowlist entries that match no finding any more (remove them):" % scanner)
        lines += ["  id %s where %s" % (entry["id"], entry["where"]) for entry in unused]
    return "\n".join(lines)
