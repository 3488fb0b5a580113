"""Fixtures for the command tests: the CLI's own environment pointed at the local endpoint."""
import pytest

from tests.hooks.tenant.test_inventory import Clients

CLI_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "TENANTSTACK_LOCAL_ENDPOINT")


@pytest.fixture
def cli_aws(aws, monkeypatch):
    """A reset endpoint that `cli.main` in this process talks to (as `tenantstack` would), with
    cached clients for the test's own calls (tests.hooks.tenant.test_inventory.Clients)."""
    for key in CLI_VARIABLES:
        monkeypatch.setenv(key, aws.env[key])
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TENANTSTACK_FAIL_CALLS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TENANTSTACK_POLL_SECONDS", "0")
    return Clients(aws)
