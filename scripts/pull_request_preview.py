#!/usr/bin/env python3
"""The pull-request build's live preview: `tenantstack diff --fleet` of every tenant the change touches.

    .venv-cfngin/bin/python scripts/pull_request_preview.py --out .run/preview

Run by buildspecs/pull-request.yml (docs/delivery.md, "The preview of a pull request"). Standard
library only; it runs git and `tenantstack diff`.

- The base: --base, else $PREVIEW_BASE, else the pull request's base branch
  ($CODEBUILD_WEBHOOK_BASE_REF, refs/heads/<branch>: origin/<branch>, else <branch>; a shallow
  clone is deepened once to find it). No base (not a pull-request build: the pipeline's Check
  stage) or PREVIEW=off: nothing is previewed, and the files say why.
- Touched tenants, from `git diff --name-status <merge base> HEAD`: a tenant env file
  environments/<namespace>.env added or modified, or a template of it under templates/<namespace>/
  (what the blueprints and configs render for it changed; the build's pre_build checks the
  templates are fresh), whose env file still exists, is previewed; a deleted tenant env file is
  listed as removed (a deploy deletes no tenant: its stacks stay until it is decommissioned).
- Intended replacements: every line `Allow-Replace: NAMESPACE/STACK/LOGICAL_ID` in the messages of
  the commits of the change (<merge base>..HEAD) becomes an --allow-replace; the preview runs with
  --fail-on-replace, so a flagged change (a guarded resource replaced or removed) that no commit
  names fails the build with exit 5.

Writes OUT/preview.json (the fleet diff's JSON, plus "base", "touched", "removed", "skipped") and
OUT/preview.txt (what the build log shows: the table and each tenant's preview), and exits with
the diff's exit code (0 when nothing is previewed; 2 when the base cannot be found).
"""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ENV_FILE = re.compile(r"^environments/(?P<namespace>[a-z][a-z0-9]{1,5}-[0-9]{4}-(dev|qa|uat|stage|prod))\.env$")
TEMPLATE = re.compile(r"^templates/(?P<namespace>[a-z][a-z0-9]{1,5}-[0-9]{4}-(dev|qa|uat|stage|prod))/[^/]+\.json$")
ALLOW = re.compile(r"^\s*Allow-Replace:\s*(?P<value>\S+)\s*$", re.IGNORECASE)
SCHEMA_VERSION = 1


def touched_tenants(name_status, exists):
    """(namespaces to preview, namespaces removed) from `git diff --name-status` lines.

    exists(namespace): its env file is in the checkout."""
    previewed, removed = set(), set()
    for line in name_status:
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        status, path = fields[0][:1], fields[-1]
        env, template = ENV_FILE.match(path), TEMPLATE.match(path)
        if env and status == "D":
            removed.add(env.group("namespace"))
        elif env or template:
            previewed.add((env or template).group("namespace"))
    previewed = {namespace for namespace in previewed if exists(namespace)}
    return sorted(previewed), sorted(removed - previewed)


def allowances(messages):
    """The Allow-Replace values of commit messages, in order, once each."""
    found = []
    for line in messages.splitlines():
        match = ALLOW.match(line)
        if match and match.group("value") not in found:
            found.append(match.group("value"))
    return found


def base_candidates(base=None, environ=None):
    """The refs to try as the pull request's base, best first; [] when this is no pull-request build."""
    environ = os.environ if environ is None else environ
    if base or environ.get("PREVIEW_BASE"):
        return [base or environ["PREVIEW_BASE"]]
    ref = environ.get("CODEBUILD_WEBHOOK_BASE_REF", "")
    if not ref:
        return []
    branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
    return ["origin/%s" % branch, branch]


# --- git and tenantstack ----------------------------------------------------------------------


def git(*args, check=True):
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit("pull_request_preview: git %s failed: %s" % (" ".join(args), result.stderr.strip()))
    return result.stdout if result.returncode == 0 else None


def merge_base(candidates):
    """The merge base of HEAD and the first candidate that resolves (a shallow clone is deepened once)."""
    for attempt in range(2):
        for ref in candidates:
            if git("rev-parse", "--verify", "--quiet", ref + "^{commit}", check=False):
                found = git("merge-base", ref, "HEAD", check=False)
                if found:
                    return ref, found.strip()
        if attempt == 0 and (git("rev-parse", "--is-shallow-repository", check=False) or "").strip() == "true":
            git("fetch", "--unshallow", "--no-tags", "origin", check=False)
            continue
        break
    return None, None


def write(out, document, text):
    out.mkdir(parents=True, exist_ok=True)
    (out / "preview.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    (out / "preview.txt").write_text(text if text.endswith("\n") else text + "\n")
    print(text, end="" if text.endswith("\n") else "\n", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(".run/preview"))
    parser.add_argument("--base", help="the ref the change is compared with (default: the pull request's base)")
    parser.add_argument("--tenantstack", default=str(Path(sys.executable).parent / "tenantstack"))
    parser.add_argument("--environments", default="environments")
    args = parser.parse_args(argv)
    skipped = {"schema_version": SCHEMA_VERSION, "command": "diff --fleet", "exit_code": 0, "tenants": []}
    if os.environ.get("PREVIEW", "auto") == "off":
        write(args.out, dict(skipped, skipped="PREVIEW=off"), "preview: skipped (PREVIEW=off)")
        return 0
    candidates = base_candidates(args.base)
    if not candidates:
        write(args.out, dict(skipped, skipped="not a pull-request build (no CODEBUILD_WEBHOOK_BASE_REF, no "
                                              "PREVIEW_BASE)"), "preview: skipped (not a pull-request build)")
        return 0
    ref, base = merge_base(candidates)
    if base is None:
        message = ("preview: the base %s cannot be found in this clone: give the build project a full git clone "
                   "depth, or set PREVIEW_BASE" % " or ".join(candidates))
        write(args.out, dict(skipped, exit_code=2, error=message), message)
        return 2
    changed = git("diff", "--name-status", "--no-renames", base, "HEAD", "--", "environments", "templates")
    previewed, removed = touched_tenants(changed.splitlines(),
                                         lambda ns: (Path(args.environments) / ("%s.env" % ns)).is_file())
    allowed = allowances(git("log", "--format=%B", "%s..HEAD" % base))
    header = ["preview of the change against %s (merge base %s)" % (ref, base[:12])]
    header += ["removed tenant %s: its env file is deleted; a deploy removes nothing, its stacks stay until it is "
               "decommissioned" % namespace for namespace in removed]
    header += ["allowed by a commit: Allow-Replace: %s" % value for value in allowed]
    extra = {"base": ref, "merge_base": base, "touched": previewed, "removed": removed}
    if not previewed:
        write(args.out, dict(skipped, **extra), "\n".join(header + ["preview: no tenant env file or template is "
                                                                    "touched: nothing to preview"]))
        return 0
    json_file = args.out / "diff.json"
    args.out.mkdir(parents=True, exist_ok=True)
    command = [args.tenantstack, "diff", "--fleet", "--details", "--fail-on-replace", "--json-out", str(json_file)]
    command += [str(Path(args.environments) / ("%s.env" % ns)) for ns in previewed]
    command += [item for value in allowed for item in ("--allow-replace", value)]
    result = subprocess.run(command, capture_output=True, text=True)
    sys.stderr.write(result.stderr)
    document = json.loads(json_file.read_text()) if json_file.exists() else dict(skipped, exit_code=result.returncode,
                                                                                 error=result.stderr.strip())
    json_file.unlink(missing_ok=True)
    write(args.out, dict(document, **extra), "\n".join(header) + "\n" + result.stdout)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
