"""Session-wide inputs of the security gates: the deployed-as-if world and the allowlist."""
import pytest

from tests.security import allowlist
from tests.security.world import TEMPLATES, World


@pytest.fixture(scope="session")
def world():
    return World()


@pytest.fixture(scope="session")
def allowed():
    return allowlist.load()


@pytest.fixture(scope="session")
def template_paths():
    paths = sorted(TEMPLATES.rglob("*.json"))
    assert paths, "no rendered templates; run `make templates`"
    return paths
