"""hooks/engine/stacker_compat.py: which env file a stacker run read (env_file_of)."""
import types

import pytest

from hooks.config import envfile
from hooks.engine import stacker_compat
from tests.conftest import REPO_ROOT

STACKER_ONLY = pytest.mark.skipif(stacker_compat.ENGINE != "stacker", reason="stacker's command line (the "
                                  "stacker venv runs these)")
CFNGIN_ONLY = pytest.mark.skipif(stacker_compat.ENGINE != "cfngin", reason="tenantstack-cfngin's record (the "
                                 "CFNgin venv runs these)")

QA_ENV = str(REPO_ROOT / "environments" / "xy-0146-qa.env")
STACKER = "/venv/bin/stacker"
TS2 = "20261115t120000z"
VALUES = envfile.read(QA_ENV)


@STACKER_ONLY
@pytest.mark.parametrize(
    "argv, environment, expected",
    [
        pytest.param([STACKER, "build", QA_ENV, "stacker/tenant.yaml"], VALUES, QA_ENV, id="plain-build"),
        pytest.param([STACKER, "build", "-e", "db_timestamp=%s" % TS2, "--tail", "-j", "2", QA_ENV, "x.yaml"],
                     dict(VALUES, db_timestamp=TS2), QA_ENV, id="with-options-and-an-override"),
        pytest.param([STACKER, "build", "-e", "db_timestamp=%s" % TS2, QA_ENV, "x.yaml"], VALUES, None,
                     id="values-are-not-this-run"),
        pytest.param([STACKER, "build", "-j", QA_ENV, "x.yaml"], VALUES, None, id="unparseable"),
        pytest.param([STACKER, "build", "x.yaml"], VALUES, None, id="no-env-file"),
        pytest.param([STACKER, "diff", QA_ENV, "x.yaml"], VALUES, None, id="not-build"),
        pytest.param(["/venv/bin/runway", "build", QA_ENV, "x.yaml"], VALUES, None, id="not-stacker"),
        pytest.param([STACKER, "build", "/nope/xy-0146-qa.env", "x.yaml"], VALUES, None, id="file-gone"),
        pytest.param(["pytest"], VALUES, None, id="a-hook-called-from-python"),
    ],
)
def test_env_file_of_reads_stackers_command_line(argv, environment, expected):
    context = types.SimpleNamespace(environment=dict(environment))
    assert stacker_compat.env_file_of(context, argv) == expected


@STACKER_ONLY
def test_env_file_of_defaults_to_this_process_command_line():
    assert stacker_compat.env_file_of(types.SimpleNamespace(environment=dict(VALUES))) is None  # pytest's argv


@CFNGIN_ONLY
def test_under_cfngin_the_env_file_is_the_one_tenantstack_cfngin_read_for_these_values(monkeypatch):
    monkeypatch.setattr(stacker_compat, "_ENV_FILE_READ", {})
    context = types.SimpleNamespace(parameters=dict(VALUES, environment="xy-0146-qa", region="us-east-1"))
    assert stacker_compat.env_file_of(context) is None  # runway deploy: no file argument
    stacker_compat.record_env_file(QA_ENV, VALUES)
    assert stacker_compat.env_file_of(context) == QA_ENV
    other = types.SimpleNamespace(parameters=dict(VALUES, db_timestamp=TS2))
    assert stacker_compat.env_file_of(other) is None  # not the values that file holds
