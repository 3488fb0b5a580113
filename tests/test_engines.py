"""tests/engines.py, the policy of which tests run on which engine, and the venvs it runs in."""
import ast
import subprocess

import pytest

from tests import engines
from tests.conftest import REPO_ROOT

ENTRIES = engines.BOTH_ENGINES + engines.STACKER_ONLY


def function_names(path):
    return {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)
            and node.name.startswith("test")}


@pytest.mark.parametrize("entry", ENTRIES)
def test_every_policy_entry_names_tests_that_exist(entry):
    """A renamed test or file cannot silently drop out of the stacker run."""
    path, _, name = entry.partition("::")
    assert (REPO_ROOT / path).exists(), "%s: no such test file or directory" % entry
    if name:
        assert name in function_names(REPO_ROOT / path), "%s: no such test" % entry


@pytest.mark.parametrize("nodeid, engine, runs", [
    pytest.param("tests/security/test_checkov.py::test_x", "cfngin", True, id="gates-on-cfngin"),
    pytest.param("tests/security/test_checkov.py::test_x", "stacker", False, id="gates-not-on-stacker"),
    pytest.param("tests/hooks/run/test_deploy.py::test_x[a]", "stacker", True, id="unit-on-stacker"),
    pytest.param("tests/e2e/test_promotion.py::test_two_deploys_of_one_namespace_never_interleave", "stacker", True,
                 id="lock-scenario-on-stacker"),
    pytest.param("tests/e2e/test_promotion.py::test_a_run_killed_at_a_step_boundary_converges_when_run_again[lock]",
                 "stacker", False, id="kills-not-on-stacker"),
    pytest.param("tests/bench/test_run.py::test_x", "cfngin", False, id="bench-not-on-cfngin"),
    pytest.param("tests/bench/test_run.py::test_x", "stacker", True, id="bench-on-stacker"),
])
def test_runs_here(nodeid, engine, runs):
    assert engines.runs_here(nodeid, engine) is runs


@pytest.mark.parametrize("venv", [".venv-cfngin", ".venv"])
def test_each_venv_is_consistent(venv):
    """Every pin of a venv's requirements file installs together (`pip check`)."""
    python = REPO_ROOT / venv / "bin" / "python"
    assert python.exists(), "%s is missing: run `make setup`" % venv
    result = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
