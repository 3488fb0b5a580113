"""The `tenantstack` subcommands, one module each (see hooks/cli/main.py).

Commands are thin: they parse, call the planning and AWS layers in hooks/, and print.
Listed in the order `tenantstack --help` shows them. `output` and `options` are the
helpers they share, not commands.
"""

COMMAND_MODULES = (
    "status",
    "history",
    "snapshot",
    "promote",
    "rollback",
    "reap",
    "deploy",
    "diff",
    "unlock",
    "render",
)
