"""The `tenantstack` command line."""
from hooks.cli.main import main  # noqa: F401
