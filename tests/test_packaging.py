"""The distribution works from a wheel, not only from this checkout.

A wheel built from the repository is installed into a fresh virtual environment (with the
pinned requirements as constraints), and a project directory that holds nothing but a copy
of `environments/` and `stacker/` is used from a directory outside the checkout: `--help`,
`render` (byte-identical to the committed templates) and a full first deploy against the
local endpoint, whose end state is read from the endpoint. Nothing of the checkout is on
sys.path in those processes: each imports `hooks` from the fresh venv (asserted).
"""
import filecmp
import os
import shutil
import subprocess
import sys

import pytest

from hooks import __version__, naming
from tests.conftest import REPO_ROOT
from tests.e2e.stacker_cli import ENGINE
from tests.e2e.tenants import TS1, Tenants, assert_invariants

TIMEOUT = 300
PROJECT_ITEMS = ("environments", "stacker")
SOURCE_ITEMS = ("pyproject.toml", "setup.py", "README.md", "hooks", "blueprints")
# The wheel's dependencies follow the Python it installs into (runway on 3.10+, stacker on 3.9):
# constrained by that engine's venv pins.
PINS = {"cfngin": "cfngin.txt", "stacker": "project.txt"}


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    assert result.returncode == 0, "%s exited %d\n%s\n%s" % (command, result.returncode, result.stdout[-3000:],
                                                            result.stderr[-6000:])
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin directory of a fresh venv with the wheel installed, a project copy, a neutral cwd)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # a copy: an in-tree build would leave build/ in the checkout
    source.mkdir()
    for item in SOURCE_ITEMS:
        copy = shutil.copytree if (REPO_ROOT / item).is_dir() else shutil.copy2
        copy(REPO_ROOT / item, source / item, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                                 if (REPO_ROOT / item).is_dir() else {}))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--wheel-dir", str(base / "dist"), str(source)])
    wheel = next((base / "dist").glob("tenantstack-%s-*.whl" % __version__))
    run([sys.executable, "-m", "venv", str(base / "venv")])
    bin_dir = base / "venv" / "bin"
    run([str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check",
         "--constraint", str(REPO_ROOT / "requirements" / PINS[ENGINE]), str(wheel)])
    project = base / "project"
    for item in PROJECT_ITEMS:
        shutil.copytree(REPO_ROOT / item, project / item)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return bin_dir, project, elsewhere


def environment(extra=None):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "TENANTSTACK_PROJECT_ROOT")}
    return dict(env, **(extra or {}))


def test_the_wheel_imports_its_own_copy_and_answers_help(installed):
    bin_dir, _, elsewhere = installed
    where = run([str(bin_dir / "python"), "-c", "import hooks, blueprints; print(hooks.__file__, blueprints.__file__)"],
                cwd=str(elsewhere), env=environment()).stdout
    assert str(REPO_ROOT) not in where and str(bin_dir.parent) in where
    assert "deploy" in run([str(bin_dir / "tenantstack"), "--help"], cwd=str(elsewhere), env=environment()).stdout


def test_the_wheel_renders_the_committed_templates(installed, tmp_path):
    bin_dir, project, elsewhere = installed
    out = tmp_path / "templates"
    run([str(bin_dir / "tenantstack"), "render", "--project-root", str(project), "--out", str(out)],
        cwd=str(elsewhere), env=environment())
    comparison = filecmp.dircmp(str(out), str(REPO_ROOT / "templates"))
    assert not (comparison.left_only or comparison.right_only or comparison.diff_files)
    for name in comparison.common_dirs:
        sub = comparison.subdirs[name]
        assert not (sub.left_only or sub.right_only or sub.diff_files), name


@pytest.mark.e2e
def test_the_wheel_deploys_a_tenant_against_the_local_endpoint(installed, aws):
    bin_dir, project, elsewhere = installed
    tenants = Tenants(aws)
    tenants.tier()
    tenants.snapshot("xy-0146-dev", TS1)
    env_file = project / naming.env_file_path("xy-0146-qa")
    result = subprocess.run([str(bin_dir / "tenantstack"), "deploy", str(env_file)], cwd=str(elsewhere),
                            env=environment(dict(tenants.env, STACKER_STACK_POLL_TIME="0")),
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr[-6000:]
    assert result.stdout.startswith("xy-0146-qa: ok (deployed xy-0146-qa with db_timestamp %s" % TS1)
    assert_invariants(tenants.state("xy-0146-qa"), active=TS1)
