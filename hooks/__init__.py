"""tenantstack hooks: stacker pre/post_build hooks and the code they share with the CLI."""

__version__ = "0.1.0"
