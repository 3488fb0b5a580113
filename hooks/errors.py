"""Error classes the hooks raise and the CLI maps to exit codes.

Every message names what went wrong (the value, the resource) and what to do.
"""


class TenantstackError(Exception):
    """Base of every error tenantstack raises on purpose."""

    exit_code = 1


class BadInput(TenantstackError, ValueError):
    """The input (env file, argument, source snapshot) is wrong; nothing was changed."""

    exit_code = 2


class LockHeld(TenantstackError):
    """Another deploy holds the namespace's lock."""

    exit_code = 3


class DeployFailed(TenantstackError):
    """A deploy step failed; the message says what the tenant is left with."""

    exit_code = 4
