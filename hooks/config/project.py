"""Where a tenantstack project lives: the directory that holds `environments/` and `stacker/`.

The code (blueprints and hooks) is an installed package; the project is the deployment
repository that uses it: its env files, its stacker configs, its rendered templates. The
CLI finds the project root by one rule, the same from an editable checkout or a wheel:

1. `--project-root DIR` (or the environment variable TENANTSTACK_PROJECT_ROOT), if given;
2. otherwise the nearest directory, from the env file's directory (for a command given an
   env file) or the current directory upward, that holds `stacker/tenant.yaml`.

The stacker configs are `<root>/stacker/{shared,tenant,pipeline}.yaml`; env files live in
`<root>/environments/`; templates render to `<root>/templates/`. Pure, apart from looking
at the file system.
"""
import os
from pathlib import Path

from hooks.errors import BadInput

ROOT_VARIABLE = "TENANTSTACK_PROJECT_ROOT"
CONFIG_DIR, ENVIRONMENTS_DIR, TEMPLATES_DIR = "stacker", "environments", "templates"
CONFIG_FOR_KIND = {"shared": "shared.yaml", "tenant": "tenant.yaml", "pipeline": "pipeline.yaml"}
MARKER = Path(CONFIG_DIR) / CONFIG_FOR_KIND["tenant"]


def find_root(start=None, given=None, environ=None):
    """The project root by the rule above; BadInput naming where it looked and how to fix it."""
    environ = os.environ if environ is None else environ
    explicit = given or environ.get(ROOT_VARIABLE)
    if explicit:
        root = Path(explicit).resolve()
        if not (root / MARKER).is_file():
            source = "--project-root" if given else ROOT_VARIABLE
            raise BadInput("%s %s is not a tenantstack project: it has no %s" % (source, root, MARKER))
        return root
    start = Path(start or Path.cwd()).resolve()
    if start.is_file():
        start = start.parent
    for candidate in (start, *start.parents):
        if (candidate / MARKER).is_file():
            return candidate
    raise BadInput(
        "no tenantstack project found: neither %s nor any directory above it holds %s; run from the "
        "project (the repository with environments/ and stacker/), or pass --project-root DIR "
        "(or set %s)" % (start, MARKER, ROOT_VARIABLE)
    )


def config_path(root, kind):
    """The stacker config of `kind` (shared, tenant, pipeline) in the project at `root`."""
    path = Path(root) / CONFIG_DIR / CONFIG_FOR_KIND[kind]
    if not path.is_file():
        raise BadInput("stacker config %s not found in the project %s" % (path, root))
    return path


def environments_dir(root):
    return Path(root) / ENVIRONMENTS_DIR


def templates_dir(root):
    return Path(root) / TEMPLATES_DIR
