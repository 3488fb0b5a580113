"""Argument checks shared by every hook: unknown arguments are an error, not ignored."""
from hooks.errors import BadInput


class HookArgumentError(ValueError):
    """A hook was given an argument it does not accept, or a bad value for one."""


def check_arguments(hook, given, accepted):
    """Raise HookArgumentError naming each unknown argument and the accepted ones."""
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise HookArgumentError(
            "hook %s: unknown argument(s) %s; accepted: %s"
            % (hook, ", ".join(unknown), ", ".join(sorted(accepted)) or "none")
        )


def environment_of(context):
    """The env file values (plus `-e` overrides) stacker was started with."""
    return dict(context.environment or {})


POLL_VARIABLE = "TENANTSTACK_POLL_SECONDS"  # overrides every hook's poll_seconds (tests, local runs)


def seconds(value, exclusive=False):
    """`value` as a number of seconds (> 0 or >= 0); None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if (number > 0 if exclusive else number >= 0) else None


def seconds_argument(hook, name, value, exclusive=False):
    """A hook argument that is a number of seconds; HookArgumentError naming it otherwise."""
    number = seconds(value, exclusive)
    if number is None:
        raise HookArgumentError(
            "hook %s: argument %s %r is invalid: expected a number of seconds %s 0"
            % (hook, name, value, ">" if exclusive else ">=")
        )
    return number


def poll_seconds(hook, argument, default, environ):
    """The hook's poll_seconds (or its default), unless TENANTSTACK_POLL_SECONDS overrides it."""
    raw = environ.get(POLL_VARIABLE)
    if raw is None:
        return default if argument is None else seconds_argument(hook, "poll_seconds", argument)
    number = seconds(raw)
    if number is None:
        raise BadInput("environment variable %s %r is invalid: expected a number of seconds >= 0" % (POLL_VARIABLE, raw))
    return number
