"""Each gate's check, as a function from templates (or policies) to Findings.

The scanners live in the supported venv (.venv-cfngin: cfn-lint 1.58, checkov, parliament with its
community auditors) and run as subprocesses; `template_checks` is ours, for what no
scanner checks (checkov has no CloudFormation check for RDS deletion protection).
Every finding is located as `<namespace>/<stack>.json#<LogicalId>`, the form the
allowlist matches, so a failure names the template and the resource.
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path

from hooks import naming
from tests.security.allowlist import Finding

REPO = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO / ".venv-cfngin" / "bin"
SCANNER_TIMEOUT = 600
# checkov otherwise fetches guidelines from Prisma Cloud; this machine has no network.
CHECKOV_OFFLINE = {"BC_SKIP_MAPPING": "TRUE"}
# parliament 1.6.4 imports pkg_resources, which setuptools 67.5+ warns about on stderr (any
# other stderr output still fails the gate); requirements/cfngin.txt pins a setuptools that has it.
PARLIAMENT_QUIET = {"PYTHONWARNINGS": "ignore:pkg_resources is deprecated:UserWarning"}


def location(path, logical_id, root):
    return "%s#%s" % (Path(path).resolve().relative_to(Path(root).resolve()).as_posix(), logical_id)


def _run(command, env=None):
    return subprocess.run(
        command, capture_output=True, text=True, timeout=SCANNER_TIMEOUT, env=dict(os.environ, **(env or {}))
    )


# --- cfn-lint ---------------------------------------------------------------------------


def cfn_lint(paths, root):
    """cfn-lint with the informational checks (deletion/update-replace policies, backups) on."""
    result = _run([str(TOOLS_BIN / "cfn-lint"), "--format", "json", "--include-checks", "I", "--", *map(str, paths)])
    # Exit codes are a bit mask of what was found (2 errors, 4 warnings, 8 informational); 1 is a crash.
    if result.returncode & 1 or (result.returncode and not result.stdout.strip()):
        raise RuntimeError("cfn-lint failed (exit %d): %s" % (result.returncode, result.stderr[-3000:]))
    findings = []
    for match in json.loads(result.stdout or "[]"):
        steps = match["Location"].get("Path") or []
        logical_id = steps[1] if len(steps) > 1 and steps[0] in ("Resources", "Outputs", "Parameters") else "-"
        findings.append(Finding("cfn-lint", match["Rule"]["Id"], location(match["Filename"], logical_id, root), match["Message"]))
    return findings


# --- checkov ----------------------------------------------------------------------------


def checkov(directory):
    """checkov's CloudFormation checks over every template below `directory`, run once."""
    result = _run(
        [str(TOOLS_BIN / "checkov"), "-d", str(directory), "--framework", "cloudformation", "--output", "json",
         "--quiet", "--skip-download", "--compact"],
        env=CHECKOV_OFFLINE,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError("checkov failed (exit %d): %s" % (result.returncode, result.stderr[-3000:]))
    reports = json.loads(result.stdout) if result.stdout.strip() else []
    reports = reports if isinstance(reports, list) else [reports]
    findings = []
    for report in reports:
        if report.get("summary", {}).get("parsing_errors"):
            raise RuntimeError("checkov could not parse some templates: %s" % report.get("summary"))
        for failed in report.get("results", {}).get("failed_checks", []):
            logical_id = failed["resource"].rsplit(".", 1)[-1]
            where = "%s#%s" % (failed["file_path"].lstrip("/"), logical_id)
            findings.append(Finding("checkov", failed["check_id"], where, failed["check_name"]))
    return findings


# --- parliament -------------------------------------------------------------------------


def parliament(policies):
    """parliament (with its community auditors) over resolved policy documents: (where, document) pairs."""
    policies = list(policies)
    with tempfile.TemporaryDirectory(prefix="parliament-") as directory:
        for index, (_, document) in enumerate(policies):
            Path(directory, "%04d.json" % index).write_text(json.dumps(document))
        result = _run(
            [str(TOOLS_BIN / "parliament"), "--directory", directory, "--include_policy_extension", "json",
             "--json", "--include-community-auditors"], env=PARLIAMENT_QUIET,
        )
    if result.returncode not in (0, 1) or result.stderr.strip():
        raise RuntimeError("parliament failed (exit %d): %s" % (result.returncode, result.stderr[-3000:]))
    findings = []
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        issue = json.loads(line)
        index = int(Path(issue["location"]["filepath"]).stem)
        detail = issue.get("detail") or issue["location"].get("actions") or ""
        findings.append(Finding("parliament", issue["issue"], policies[index][0], "%s %s" % (issue["title"], detail)))
    return findings


# --- our own template checks ---------------------------------------------------------------

DB_INSTANCE_RULES = (
    # (id, property, required value or None for "set", what it means)
    ("RDS_DELETION_PROTECTION", "DeletionProtection", True, "DeletionProtection must be true"),
    ("RDS_STORAGE_ENCRYPTED", "StorageEncrypted", True, "StorageEncrypted must be true"),
    ("RDS_KMS_KEY", "KmsKeyId", None, "KmsKeyId must name the tier's customer-managed key"),
    ("RDS_NOT_PUBLIC", "PubliclyAccessible", False, "PubliclyAccessible must be false"),
)
# A restored instance gets its key from its snapshot, and CloudFormation must not get
# KmsKeyId with DBSnapshotIdentifier. So the key rule becomes: restore only a snapshot that
# hooks.steps.tier_copy guarantees is under the tier key before the stack is built (naming.restores_from):
# the namespace's own snapshot <namespace>-<timestamp>, or, within the tier, the same project's
# source snapshot <source>-<timestamp>; and set no KmsKeyId.
RDS_RESTORES_UNDER_TIER_KEY = (
    "RDS_RESTORES_UNDER_TIER_KEY",
    "DBSnapshotIdentifier must be the namespace's own snapshot <namespace>-<timestamp>, or a snapshot "
    "<source>-<timestamp> of its project in its tier (both under the tier key), without KmsKeyId",
)


def template_checks(template, where):
    """Every AWS::RDS::DBInstance is protected from deletion, encrypted with the tier key, and private."""
    findings = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        if resource.get("Type") != "AWS::RDS::DBInstance":
            continue
        properties = resource.get("Properties", {})
        located = "%s#%s" % (where, logical_id)
        restored = properties.get("DBSnapshotIdentifier") is not None
        for rule, name, required, meaning in DB_INSTANCE_RULES:
            if restored and rule == "RDS_KMS_KEY":
                continue  # RDS_RESTORES_UNDER_TIER_KEY instead
            value = properties.get(name)
            ok = value not in (None, "") if required is None else value is required
            if not ok:
                findings.append(Finding("template-checks", rule, located, "%s (is %r)" % (meaning, value)))
        if restored and not restores_under_tier_key(properties):
            rule, meaning = RDS_RESTORES_UNDER_TIER_KEY
            findings.append(Finding(
                "template-checks", rule, located, "%s (is %r, KmsKeyId %r)"
                % (meaning, properties.get("DBSnapshotIdentifier"), properties.get("KmsKeyId")),
            ))
    return findings


def restores_under_tier_key(properties):
    """The instance restores its namespace's own snapshot of its timestamp, or its project's snapshot of
    its timestamp from a namespace of its tier, and sets no key."""
    try:
        namespace, timestamp = naming.parse_db_instance_id(properties.get("DBInstanceIdentifier"))
        snapshot = str(properties.get("DBSnapshotIdentifier"))
        suffix = "-" + timestamp
        source = naming.parse_namespace(snapshot[:-len(suffix)]) if snapshot.endswith(suffix) else None
    except naming.NamingError:
        return False
    return (
        source is not None
        and (source.name == namespace.name or (source.project_key == namespace.project_key
                                               and source.shared_namespace == namespace.shared_namespace))
        and "KmsKeyId" not in properties
    )


def write_template(directory, relative_path, template):
    """Write a (changed) template where a gate can scan it; returns its path."""
    path = Path(directory, relative_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(template, indent=2, sort_keys=True))
    return path
