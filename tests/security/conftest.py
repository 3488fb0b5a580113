"""Session-wide inputs of the security gates: the deployed-as-if world and the allowlist."""
import pytest

from tests.security import allowlist, audit, crosscheck
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


def pytest_terminal_summary(terminalreporter):
    """The IAM evaluator cross-check's coverage and agreement counts (test_crosscheck.py), shown
    by every run that compared, `make gates` included."""
    if audit.SUMMARY:
        terminalreporter.section("dependency audit (tests/security/test_dependency_audit.py)")
        for line in audit.SUMMARY:
            terminalreporter.write_line(line)
    if crosscheck.SUMMARY:
        terminalreporter.section("IAM evaluators cross-check (tests/security/crosscheck.py)")
        for line in crosscheck.SUMMARY:
            terminalreporter.write_line(line)
