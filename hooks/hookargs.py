"""Argument checks shared by every hook: unknown arguments are an error, not ignored."""


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
