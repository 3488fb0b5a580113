"""Both engines end to end on one local endpoint: the same promotion leaves the same state.

Runs in the CFNgin run of `make test` (tests/engines.py) and drives each engine's own CLI
as a child process: `.venv/bin/stacker` (stacker 1.7.2, Python 3.9) and
`.venv-cfngin/bin/tenantstack-cfngin` (CFNgin, Python 3.12); then runway's own way,
`runway deploy` with runway.yml, deploys and promotes a tenant from a copy of the project.
"""
import shutil
import subprocess

import pytest
from seed import local_certificate, pinned_images, seed_images

from hooks import naming
from hooks.config import envfile
from tests.conftest import REPO_ROOT, Aws
from tests.e2e.stacker_cli import POLL_NOW, TIMEOUT
from tests.e2e.tenants import (
    DOMAIN_OF,
    TS1,
    TS2,
    Tenants,
    assert_invariants,
    assert_retired_with_final_snapshot,
    env_file,
)

pytestmark = pytest.mark.e2e
QA = "xy-0146-qa"
CLIS = {"stacker": REPO_ROOT / ".venv" / "bin" / "stacker", "cfngin": REPO_ROOT / ".venv-cfngin" / "bin" / "tenantstack-cfngin"}
RUNWAY = REPO_ROOT / ".venv-cfngin" / "bin" / "runway"


def promote_twice(endpoint, engine):
    """On a reset endpoint: the tier, QA on TS1, then on TS2; QA's state afterwards."""
    assert CLIS[engine].exists(), "%s is missing: run `make setup` (it builds both engines' venvs)" % CLIS[engine]
    endpoint.reset()
    tenants = Tenants(Aws(endpoint.url), cli=str(CLIS[engine]), engine=engine)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    tenants.deploy(QA)
    tenants.snapshot("xy-0146-dev", TS2)
    tenants.deploy(QA, TS2)
    state = tenants.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)
    return state


def comparable(state):
    """What must be equal between engines: ids that embed a time or a random key are reduced to their meaning."""
    return {
        "active": state.active,
        "pointer_version": state.pointer_version,
        "instances": state.instances,
        "db_stacks": state.db_stacks,
        "registrations": state.registrations,
        "final_snapshots": {timestamp: len(ids) for timestamp, ids in state.final_snapshots.items()},
        "service_timestamp": state.service_timestamp,
        "lock": state.lock,
        "restore_copies": {timestamp: (key == state.tier_key, tags)
                           for timestamp, (key, tags) in state.restore_copies.items()},
    }


def test_a_promotion_leaves_the_same_state_under_both_engines(endpoint):
    states = {engine: promote_twice(endpoint, engine) for engine in ("stacker", "cfngin")}
    assert comparable(states["stacker"]) == comparable(states["cfngin"])


def runway(project, deploy_environment, env):
    result = subprocess.run([str(RUNWAY), "deploy", "--ci", "--deploy-environment", deploy_environment],
                            cwd=str(project), env=dict(env, **POLL_NOW), capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, "runway deploy -e %s exited %d:\n%s" % (
        deploy_environment, result.returncode, result.stderr[-6000:])
    return result


@pytest.fixture
def project(tmp_path, aws):
    """A copy of the project runway deploys from, with a certificate the endpoint knows."""
    root = tmp_path / "project"
    for item in ("environments", "stacker", "runway-modules"):
        shutil.copytree(REPO_ROOT / item, root / item, symlinks=True)
    shutil.copy(REPO_ROOT / "runway.yml", root / "runway.yml")
    shared = root / env_file("common-nonprod")
    certificate = local_certificate(aws.client("acm"), DOMAIN_OF["common-nonprod"])
    shared.write_text("".join("certificate_arn: %s\n" % certificate if line.startswith("certificate_arn:") else line
                              for line in shared.read_text().splitlines(keepends=True)))
    return root


def test_runway_deploys_and_promotes_a_tenant_from_runway_yml(aws, project):
    tenants = Tenants(aws, engine="cfngin")
    env = dict(tenants.env, TENANTSTACK_PROJECT_ROOT=str(project))
    runway(project, "common-nonprod", env)
    seed_images(aws.client("ecr"), pinned_images(sorted((project / "environments").glob("*.env"))))  # as pipelines push them
    tenants.snapshot("xy-0146-dev", TS1)
    first = runway(project, QA, env)
    assert "skipped; no parameters and environment file not found" in first.stdout + first.stderr  # shared, pipeline
    assert_invariants(tenants.state(QA), TS1)

    tenants.snapshot("xy-0146-dev", TS2)
    qa = project / env_file(QA)  # the promotion: the env file's one-line change
    envfile.write_text(qa, envfile.set_db_timestamp(envfile.read_text(qa), TS2))
    runway(project, QA, env)
    state = tenants.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)
    assert naming.db_stack_name(QA, TS1) not in {s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]}
