import types

import pytest

from hooks.config import envfile, settings
from hooks.config.hookargs import HookArgumentError
from hooks.engine import stacker_compat
from hooks.errors import BadInput
from hooks.steps import preflight


def context_with(**environment):
    return types.SimpleNamespace(environment=environment)


def test_valid_environment_passes():
    env = envfile.parse(open("environments/xy-0146-qa.env").read())
    assert preflight.check_environment(context_with(**env)) == {"status": "valid", "namespace": "xy-0146-qa"}


def test_invalid_environment_raises_with_every_problem():
    env = envfile.parse(open("environments/xy-0146-qa.env").read())
    env.update(db_timestamp="nope", listener_priority="0")
    with pytest.raises(settings.SettingsError) as raised:
        preflight.check_environment(context_with(**env))
    assert len(raised.value.problems) == 2


def test_an_unresolved_latest_is_refused_naming_the_way_out():
    env = envfile.parse(open("environments/xy-0146-qa.env").read())
    env.update(db_timestamp="latest")
    with pytest.raises(BadInput) as raised:
        preflight.check_environment(context_with(**env))
    assert str(raised.value) == (
        "db_timestamp latest reached the engine unresolved: the engine names the database stack by db_timestamp "
        "before any hook runs, so latest is resolved to the newest available snapshot of xy-0146-dev before the "
        "engine starts, by `tenantstack deploy` (or `tenantstack diff`). Run `tenantstack deploy <env file>`, or "
        "name the timestamp (-e db_timestamp=<timestamp>); nothing was changed")


def test_unknown_hook_argument_is_an_error():
    with pytest.raises(HookArgumentError) as raised:
        preflight.check_environment(context_with(namespace="xy-0146-qa"), strict="yes")
    assert str(raised.value) == "hook check_environment: unknown argument(s) strict; accepted: none"


def stacker_build_of(monkeypatch, env_file):
    """This process as `stacker build <env_file> stacker/tenant.yaml` (what a hook sees in stacker)."""
    monkeypatch.setattr("sys.argv", ["/venv/bin/stacker", "build", str(env_file), "stacker/tenant.yaml"])


@pytest.mark.skipif(stacker_compat.ENGINE != "stacker", reason="stacker's command line only")
@pytest.mark.parametrize(
    "file_name, expected",
    [
        pytest.param("xy-0146-qa.env", None, id="named-after-its-namespace"),
        pytest.param("ab-0212-uat.env", "env file {path} sets namespace xy-0146-qa, but an env file must be named "
                     "after its namespace (environments/<namespace>.env); rename it to xy-0146-qa.env, or set "
                     "`namespace: ab-0212-uat` if it is ab-0212-uat's file", id="another-namespaces-name"),
    ],
)
def test_the_env_file_is_named_after_its_namespace(tmp_path, monkeypatch, file_name, expected):
    path = tmp_path / file_name
    path.write_text(open("environments/xy-0146-qa.env").read())
    stacker_build_of(monkeypatch, path)
    context = context_with(**envfile.read(path))
    if expected is None:
        assert preflight.check_environment(context)["status"] == "valid"
        return
    with pytest.raises(BadInput) as raised:
        preflight.check_environment(context)
    assert str(raised.value) == expected.format(path=path)


def test_without_stackers_command_line_the_name_is_not_checked_and_a_warning_says_so(caplog):
    env = envfile.parse(open("environments/xy-0146-qa.env").read())
    with caplog.at_level("WARNING", logger="hooks.steps.preflight"):
        assert preflight.check_environment(context_with(**env))["status"] == "valid"
    assert "cannot tell which env file this run read" in caplog.text
