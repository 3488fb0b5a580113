import types

import pytest

from hooks.config import envfile, settings
from hooks.config.hookargs import HookArgumentError
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


def test_unknown_hook_argument_is_an_error():
    with pytest.raises(HookArgumentError) as raised:
        preflight.check_environment(context_with(namespace="xy-0146-qa"), strict="yes")
    assert str(raised.value) == "hook check_environment: unknown argument(s) strict; accepted: none"
