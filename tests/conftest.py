"""Session-wide test fixtures: one local AWS endpoint (moto server) for the whole run.

``endpoint`` is the running server; ``aws`` gives a test a freshly reset endpoint, the
environment for a child process (stacker, the CLI) and boto3 clients pointed at it.
"""
import os
import sys
from pathlib import Path

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = REPO_ROOT / "scripts"
# The server's own log (its tracebacks explain a 500 from the endpoint); kept after the run.
ENDPOINT_LOG = REPO_ROOT / ".run" / "test-endpoint.log"
sys.path.insert(0, str(SCRIPTS))

from local_endpoint import DEFAULT_REGION, LocalEndpoint, client_env  # noqa: E402

# stacker and CFNgin wait 30 s between stack status polls unless told otherwise, each
# through its own variable (CFNgin reads its variable when it is imported).
os.environ["STACKER_STACK_POLL_TIME"] = "0"
os.environ["CFNGIN_STACK_POLL_TIME"] = "0"

from tests import engines  # noqa: E402  (imports the engine: after its poll-time variable)
from hooks.aws import endpoint_quirks  # noqa: E402

# One log per engine's run (make test runs both, one after the other).
ENDPOINT_LOG = ENDPOINT_LOG.with_name("test-endpoint-%s.log" % engines.ENGINE)
# The project (stacker configs) of env files the tests write to temporary directories:
# this repository. Tests of the project-root rule itself unset it.
os.environ.setdefault("TENANTSTACK_PROJECT_ROOT", str(REPO_ROOT))

ECS_RUNNING = 2  # moto reports exactly this many running tasks for every service; env files use 2


def pytest_configure(config):
    if not any(line.split(":")[0].strip() == "e2e" for line in config.getini("markers")):
        config.addinivalue_line("markers", "e2e: runs the real stacker CLI against the local AWS endpoint")
    # boto3 warns on every session that it drops Python 3.9; the stacker venv is 3.9 (known).
    config.addinivalue_line("filterwarnings", "ignore::boto3.exceptions.PythonDeprecationWarning")


def pytest_report_header(config):
    return ["local AWS endpoint log: %s" % ENDPOINT_LOG,
            "engine: %s (tests/engines.py says which tests run on which engine)" % engines.ENGINE]


def pytest_collection_modifyitems(config, items):
    engines.select(config, items)


class Aws:
    """A reset local endpoint, as a test sees it."""

    def __init__(self, url, region=DEFAULT_REGION):
        self.url = url
        self.region = region
        self.env = client_env(url, region)

    def client(self, service_name):
        session = boto3.session.Session()
        if service_name == "cloudwatch":  # behaviour "cloudwatch-query-protocol-only", as hooks/aws/clients.py
            endpoint_quirks.query_protocol_only(session._session.get_component("data_loader"))
        return session.client(
            service_name,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def endpoint():
    ENDPOINT_LOG.parent.mkdir(exist_ok=True)
    if ENDPOINT_LOG.exists():
        ENDPOINT_LOG.unlink()
    server = LocalEndpoint(ecs_running=ECS_RUNNING, log_path=ENDPOINT_LOG)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws(endpoint):
    endpoint.reset()
    return Aws(endpoint.url)
