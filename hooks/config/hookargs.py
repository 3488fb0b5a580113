"""The arguments a stacker hook accepts, each with its rule; checked before any AWS call.

A hook declares its arguments once (hooks/steps/wiring.py passes them here):

    @stacker_hook(poll_seconds=POLL_SECONDS, wait_seconds=seconds(default=1800))

`check` refuses an unknown argument (naming it and the accepted ones) and a value that
breaks its rule (naming the hook, the argument, the value and the rule), and returns every
declared argument parsed, with its default filled in (None: the hook derives it from the
env settings, e.g. `timeout_seconds` from `stable_timeout`).

TENANTSTACK_POLL_SECONDS overrides every hook's `poll_seconds` (tests and local runs poll
without waiting). Pure, apart from reading that variable from the environment it is given.
"""
import os
from dataclasses import dataclass, replace
from typing import Any, Callable

from hooks.errors import BadInput, HookArgumentError

POLL_VARIABLE = "TENANTSTACK_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 15


@dataclass(frozen=True)
class Argument:
    """One hook argument: how to read it (None when it breaks the rule), the rule, its default."""

    read: Callable[[Any], Any]
    rule: str
    default: Any = None
    environ_override: str = None  # an environment variable whose value wins over the argument


def number_of_seconds(value, exclusive=False):
    """`value` as a number of seconds (> 0 or >= 0); None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if (number > 0 if exclusive else number >= 0) else None


def seconds(default=None, exclusive=False):
    """A number of seconds (>= 0, or > 0 when `exclusive`)."""
    return Argument(
        lambda value: number_of_seconds(value, exclusive),
        "expected a number of seconds %s 0" % (">" if exclusive else ">="),
        default,
    )


def whole_number(low, high, default=None, default_text=""):
    """A whole number from `low` to `high`."""

    def read(value):
        ok = not isinstance(value, bool) and str(value).isdigit() and low <= int(value) <= high
        return int(value) if ok else None

    rule = "expected a whole number of seconds from %d to %d%s" % (low, high, default_text and " (%s)" % default_text)
    return Argument(read, rule, default)


def flag(default):
    """true or false (YAML's booleans, or the words)."""
    words = {"true": True, "false": False}
    return Argument(lambda value: value if isinstance(value, bool) else words.get(str(value).lower()),
                    "expected true or false", default)


POLL_SECONDS = Argument(
    lambda value: number_of_seconds(value), "expected a number of seconds >= 0", DEFAULT_POLL_SECONDS, POLL_VARIABLE
)


def check(hook, given, declared, environ=None):
    """{name: parsed value} of every declared argument; HookArgumentError (or BadInput for a bad
    override variable) naming what is wrong."""
    environ = os.environ if environ is None else environ
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise HookArgumentError(
            "hook %s: unknown argument(s) %s; accepted: %s"
            % (hook, ", ".join(unknown), ", ".join(sorted(declared)) or "none")
        )
    parsed = {}
    for name, argument in declared.items():
        override = environ.get(argument.environ_override) if argument.environ_override else None
        if override is not None:
            parsed[name] = argument.read(override)
            if parsed[name] is None:
                raise BadInput("environment variable %s %r is invalid: %s"
                               % (argument.environ_override, override, argument.rule))
        elif given.get(name) is None:
            parsed[name] = argument.default
        else:
            parsed[name] = argument.read(given[name])
            if parsed[name] is None:
                raise HookArgumentError(
                    "hook %s: argument %s %r is invalid: %s" % (hook, name, given[name], argument.rule)
                )
    return parsed


def poll_seconds(default=DEFAULT_POLL_SECONDS, environ=None):
    """The poll interval of a wait outside a hook (the CLI, recovery): TENANTSTACK_POLL_SECONDS, else `default`."""
    return check("tenantstack", {}, {"poll_seconds": replace(POLL_SECONDS, default=default)}, environ)["poll_seconds"]
