"""hooks/engine/stacker_compat.py: which engine runs, and the one face it gives the rest of the code."""
import pytest

from hooks.config import envfile
from hooks.engine import render, stacker_compat
from hooks.errors import BadInput
from tests.conftest import REPO_ROOT


def installed(*engines):
    return lambda engine: engine in engines


@pytest.mark.parametrize("environ, modules, present, expected", [
    pytest.param({}, {}, ("stacker", "cfngin"), "cfngin", id="both-installed-cfngin"),
    pytest.param({}, {}, ("stacker",), "stacker", id="only-stacker"),
    pytest.param({}, {}, ("cfngin",), "cfngin", id="only-cfngin"),
    pytest.param({"TENANTSTACK_ENGINE": "stacker"}, {}, ("stacker", "cfngin"), "stacker", id="chosen-stacker"),
    pytest.param({"TENANTSTACK_ENGINE": "cfngin"}, {}, ("stacker", "cfngin"), "cfngin", id="chosen-cfngin"),
    pytest.param({"TENANTSTACK_ENGINE": "cfngin"}, {"stacker.commands": object()}, ("stacker", "cfngin"), "stacker",
                 id="inside-stacker-build"),
    pytest.param({"TENANTSTACK_ENGINE": "stacker"}, {"runway._cli": object()}, ("stacker", "cfngin"), "cfngin",
                 id="inside-runway"),
])
def test_choose_engine(environ, modules, present, expected):
    assert stacker_compat.choose_engine(environ, modules, installed(*present)) == expected


@pytest.mark.parametrize("environ, present, message", [
    pytest.param({"TENANTSTACK_ENGINE": "terraform"}, ("cfngin",),
                 "TENANTSTACK_ENGINE='terraform' is invalid: expected one of stacker, cfngin", id="unknown"),
    pytest.param({"TENANTSTACK_ENGINE": "stacker"}, ("cfngin",),
                 "TENANTSTACK_ENGINE=stacker: that engine is not installed here; stacker 1.7.2 runs on Python 3.9",
                 id="not-installed"),
    pytest.param({}, (), "no deployment engine installed", id="none"),
])
def test_choose_engine_refuses(environ, present, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        stacker_compat.choose_engine(environ, {}, installed(*present))


def test_this_venv_runs_the_engine_it_has():
    expected = {"stacker": "stacker.blueprints.base", "cfngin": "runway.cfngin.blueprints.base"}[stacker_compat.ENGINE]
    assert stacker_compat.Blueprint.__mro__[1].__module__ == expected


class Context:
    """A context as each engine hands it to hooks and lookups."""

    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def test_environment_of_reads_the_engines_values_without_cfngins_own():
    values = {"namespace": "xy-0146-qa", "db_timestamp": "20261101t090000z"}
    if stacker_compat.ENGINE == "stacker":
        context = Context(environment=dict(values))
    else:
        from runway.utils import MutableMap

        context = Context(parameters=MutableMap(environment="xy-0146-qa", region="eu-west-1", **values))
        context.parameters.find("namespace")  # fills MutableMap's own cache, which is no env value
    assert stacker_compat.environment_of(context) == values


@pytest.mark.parametrize("text", [
    pytest.param("namespace: xy-0146-qa\n# comment\n\nkey:  value with: colon  \n", id="comments-colons"),
    pytest.param("namespace : spaced\n", id="space-before-colon"),
    pytest.param("a: 1\r\nb: 2\r\n", id="crlf"),
])
def test_both_engines_parse_env_files_by_one_rule(text):
    """stacker's and CFNgin's parsers are the same function; this pins what both return."""
    parsed = stacker_compat.parse_environment(text)
    expected = {}
    for line in text.split("\n"):
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = line.split(":", 1)
            expected[key] = value.strip()
    assert parsed == expected


@pytest.mark.parametrize("path", render.env_files(REPO_ROOT) + render.pipeline_env_files(REPO_ROOT),
                         ids=lambda path: path.name)
def test_every_env_file_reads_the_same_through_the_engine_and_our_reader(path):
    assert envfile.read(path) == stacker_compat.parse_environment(path.read_text())


def test_parameter_types_are_told_apart_from_plain_ones():
    assert stacker_compat.is_parameter_type(stacker_compat.EC2VPCId)
    assert stacker_compat.is_parameter_type(stacker_compat.CFNString)
    assert not stacker_compat.is_parameter_type(str)
    assert not stacker_compat.is_parameter_type(None)


@pytest.mark.parametrize("config", sorted((REPO_ROOT / "stacker").glob("*.yaml")), ids=lambda path: path.name)
def test_no_hook_argument_uses_a_lookup(config):
    """stacker passes hook args as written, CFNgin resolves their lookups: with none, both pass the same."""
    import yaml

    data = yaml.safe_load(config.read_text())
    for stage in ("pre_build", "post_build", "pre_deploy", "post_deploy"):
        for hook in data.get(stage) or []:
            assert "${" not in repr(hook.get("args", {})), "%s %s %s" % (config.name, stage, hook["path"])


def test_the_engines_poll_time_is_zero_in_tests():
    """Each engine reads its own variable once, on import; tests/conftest.py sets both before that."""
    if stacker_compat.ENGINE == "cfngin":
        from runway.cfngin.actions.base import STACK_POLL_TIME
    else:
        from stacker.actions.base import STACK_POLL_TIME
    assert (stacker_compat.POLL_TIME_VARIABLE, STACK_POLL_TIME) == (
        {"stacker": "STACKER_STACK_POLL_TIME", "cfngin": "CFNGIN_STACK_POLL_TIME"}[stacker_compat.ENGINE], 0)
