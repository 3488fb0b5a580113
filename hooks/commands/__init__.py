"""The `tenantstack` subcommands, one module each (see hooks/cli.py).

Commands are thin: they parse, call the planning and AWS layers in hooks/, and print.
Listed in the order `tenantstack --help` shows them.
"""

COMMAND_MODULES = (
    "unlock",
)
