"""Hook arguments (hooks/config/hookargs.py): declared once, each with its rule, checked before anything."""
import pytest

from hooks.config import hookargs
from hooks.errors import BadInput, HookArgumentError

DECLARED = {"poll_seconds": hookargs.POLL_SECONDS, "wait_seconds": hookargs.seconds(default=600),
            "ttl_seconds": hookargs.whole_number(60, 3600, default_text="default 2 x something")}


@pytest.mark.parametrize(
    "given, environ, expected",
    [
        pytest.param({}, {}, {"poll_seconds": 15, "wait_seconds": 600, "ttl_seconds": None}, id="defaults"),
        pytest.param({"poll_seconds": "30", "ttl_seconds": "120"}, {},
                     {"poll_seconds": 30, "wait_seconds": 600, "ttl_seconds": 120}, id="given"),
        pytest.param({"poll_seconds": 30}, {"TENANTSTACK_POLL_SECONDS": "0"},
                     {"poll_seconds": 0, "wait_seconds": 600, "ttl_seconds": None}, id="environment-overrides"),
        pytest.param({}, {"TENANTSTACK_POLL_SECONDS": "0.5"},
                     {"poll_seconds": 0.5, "wait_seconds": 600, "ttl_seconds": None}, id="environment-fraction"),
    ],
)
def test_every_declared_argument_comes_back_parsed_with_its_default(given, environ, expected):
    assert hookargs.check("a_hook", given, DECLARED, environ) == expected


@pytest.mark.parametrize(
    "given, message",
    [
        pytest.param({"pol_seconds": 5}, "hook a_hook: unknown argument(s) pol_seconds; accepted: poll_seconds, "
                     "ttl_seconds, wait_seconds", id="unknown"),
        pytest.param({"wait_seconds": -1}, "hook a_hook: argument wait_seconds -1 is invalid: expected a number of "
                     "seconds >= 0", id="negative"),
        pytest.param({"poll_seconds": True}, "hook a_hook: argument poll_seconds True is invalid: expected a number "
                     "of seconds >= 0", id="boolean"),
        pytest.param({"ttl_seconds": "1.5"}, "hook a_hook: argument ttl_seconds '1.5' is invalid: expected a whole "
                     "number of seconds from 60 to 3600 (default 2 x something)", id="not-whole"),
        pytest.param({"ttl_seconds": 59}, "hook a_hook: argument ttl_seconds 59 is invalid: expected a whole "
                     "number of seconds from 60 to 3600 (default 2 x something)", id="below-range"),
    ],
)
def test_a_bad_argument_names_the_hook_the_argument_the_value_and_the_rule(given, message):
    with pytest.raises(HookArgumentError) as raised:
        hookargs.check("a_hook", given, DECLARED, {})
    assert str(raised.value) == message


def test_a_bad_poll_override_is_bad_input_naming_the_variable():
    with pytest.raises(BadInput) as raised:
        hookargs.check("a_hook", {}, DECLARED, {"TENANTSTACK_POLL_SECONDS": "fast"})
    assert str(raised.value) == (
        "environment variable TENANTSTACK_POLL_SECONDS 'fast' is invalid: expected a number of seconds >= 0"
    )


def test_the_cli_poll_interval_follows_the_override():
    assert hookargs.poll_seconds(20, {}) == 20
    assert hookargs.poll_seconds(20, {"TENANTSTACK_POLL_SECONDS": "0"}) == 0


@pytest.mark.parametrize("given, expected", [({}, True), ({"wait": False}, False), ({"wait": "false"}, False),
                                             ({"wait": "True"}, True)])
def test_a_flag_reads_yaml_booleans_and_the_words(given, expected):
    assert hookargs.check("a_hook", given, {"wait": hookargs.flag(True)}, {}) == {"wait": expected}


def test_a_flag_refuses_anything_else():
    with pytest.raises(HookArgumentError, match="expected true or false"):
        hookargs.check("a_hook", {"wait": "later"}, {"wait": hookargs.flag(True)}, {})
