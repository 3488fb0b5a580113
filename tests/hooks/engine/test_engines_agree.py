"""stacker 1.7.2 (Python 3.9) and runway's CFNgin (Python 3.12) render every stack of every env
file to the same bytes, and both equal the committed templates/.

Each engine renders in its own venv, in a child process (the renderer, hooks/engine/render.py,
runs unchanged under both); the comparison is per env file, so a difference names the
namespace and the stack.
"""
import json
import os
import subprocess

import pytest

from hooks.config import envfile, project
from hooks.engine import render
from tests.conftest import REPO_ROOT

VENVS = {"stacker": REPO_ROOT / ".venv", "cfngin": REPO_ROOT / ".venv-cfngin"}
RENDER = ("import json, sys; from hooks.engine import render, stacker_compat; "
          "json.dump({'engine': stacker_compat.ENGINE, 'files': render.render_templates(sys.argv[1])}, sys.stdout)")
ENV_FILES = render.env_files(REPO_ROOT) + render.pipeline_env_files(REPO_ROOT)


def render_in(engine):
    python = VENVS[engine] / "bin" / "python"
    assert python.exists(), "%s is missing: run `make setup` (it builds both engines' venvs)" % python.parent.parent
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "TENANTSTACK_LOCAL_ENDPOINT")}
    env["TENANTSTACK_ENGINE"] = engine
    result = subprocess.run([str(python), "-c", RENDER, str(REPO_ROOT)], cwd=str(REPO_ROOT), env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, "%s could not render:\n%s" % (engine, result.stderr[-3000:])
    rendered = json.loads(result.stdout)
    assert rendered["engine"] == engine
    return rendered["files"]


@pytest.fixture(scope="module")
def rendered():
    return {engine: render_in(engine) for engine in VENVS}


def committed(prefix):
    return {str(path.relative_to(project.templates_dir(REPO_ROOT))): path.read_text()
            for path in (project.templates_dir(REPO_ROOT) / prefix).glob("*.json")}


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda path: path.name)
def test_both_engines_render_the_env_files_stacks_byte_for_byte(rendered, env_file):
    prefix = envfile.read(env_file)["namespace"] + "/"
    stacker = {path: text for path, text in rendered["stacker"].items() if path.startswith(prefix)}
    cfngin = {path: text for path, text in rendered["cfngin"].items() if path.startswith(prefix)}
    assert stacker, "stacker rendered nothing for %s" % env_file.name
    assert sorted(stacker) == sorted(cfngin)
    different = [path for path in stacker if stacker[path] != cfngin[path]]
    assert different == [], "stacker and CFNgin render these differently: %s" % different
    assert cfngin == committed(prefix), "templates/%s is not what both engines render: run `make templates`" % prefix


def test_every_rendered_file_belongs_to_an_env_file(rendered):
    prefixes = {envfile.read(path)["namespace"] + "/" for path in ENV_FILES}
    assert {path.split("/", 1)[0] + "/" for path in rendered["cfngin"]} == prefixes
