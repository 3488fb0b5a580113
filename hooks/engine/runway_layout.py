"""runway's own way to run the configs: the CFNgin modules runway.yml names, as relative symlinks.

    python -m hooks.engine.runway_layout            # (re)write runway-modules/ (`make templates` does)
    python -m hooks.engine.runway_layout --check    # exit 1 and list what is stale

A runway CFNgin module is a directory: runway deploys every config in it, with the values of
`<DEPLOY_ENVIRONMENT>.env` found in it (docs/engines.md, "runway's way"). So each config
gets a module directory holding a link to the config and a link to every env file it
deploys, and nothing else:

    runway-modules/shared.cfn/    shared.yaml -> stacker/shared.yaml, common-*.env
    runway-modules/tenant.cfn/    tenant.yaml -> stacker/tenant.yaml, one <namespace>.env per tenant
    runway-modules/pipeline.cfn/  pipeline.yaml -> stacker/pipeline.yaml, environments/pipelines/*.env

`DEPLOY_ENVIRONMENT=xy-0146-qa runway deploy --ci` then deploys stacker/tenant.yaml with
environments/xy-0146-qa.env; the other two modules find no xy-0146-qa.env and are skipped.
Links, not copies: stacker/*.yaml and environments/ stay the one source of truth, and
`make templates` rewrites the links as it rewrites templates/ (a new env file needs both).
"""
import argparse
import os
import sys
from pathlib import Path

from hooks import naming
from hooks.config import envfile, project

MODULES_DIR = "runway-modules"
REFRESH_COMMAND = "make templates"


def module_of(kind):
    return "%s/%s.cfn" % (MODULES_DIR, kind)


def expected_links(root):
    """{link path relative to root: link target relative to the link's directory}."""
    root = Path(root)
    links = {}
    environments = project.environments_dir(root)
    for kind in ("shared", "tenant", "pipeline"):
        config = project.config_path(root, kind)
        links["%s/%s" % (module_of(kind), config.name)] = os.path.relpath(config, root / module_of(kind))
    for path in sorted(environments.glob("*" + naming.ENV_FILE_SUFFIX)):
        kind = "shared" if envfile.read(path).get("namespace") in naming.SHARED_NAMESPACES else "tenant"
        links["%s/%s" % (module_of(kind), path.name)] = os.path.relpath(path, root / module_of(kind))
    for path in sorted((environments / "pipelines").glob("*" + naming.ENV_FILE_SUFFIX)):
        links["%s/%s" % (module_of("pipeline"), path.name)] = os.path.relpath(path, root / module_of("pipeline"))
    return links


def present_links(root):
    directory = Path(root) / MODULES_DIR
    if not directory.is_dir():
        return {}
    return {str(path.relative_to(root)): os.readlink(str(path)) if path.is_symlink() else None
            for path in sorted(directory.rglob("*")) if not path.is_dir() or path.is_symlink()}


def stale_links(root):
    """Links that are missing, point elsewhere, or are extra (or are files, not links)."""
    expected, present = expected_links(root), present_links(root)
    return sorted({path for path in set(expected) | set(present) if expected.get(path) != present.get(path)})


def write(root):
    root = Path(root)
    expected = expected_links(root)
    for path in stale_links(root):
        link = root / path
        if link.is_symlink() or link.exists():
            link.unlink()
        if path in expected:
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(expected[path], str(link))
    return sorted(expected)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list stale links and exit 1; change nothing")
    parser.add_argument("--project-root", help="the project (default: found from the current directory)")
    args = parser.parse_args(argv)
    root = project.find_root(start=Path.cwd(), given=args.project_root)
    if args.check:
        stale = stale_links(root)
        for path in stale:
            print("stale: %s (run `%s`)" % (path, REFRESH_COMMAND))
        return 1 if stale else 0
    written = write(root)
    print("%s: %d links" % (MODULES_DIR, len(written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
