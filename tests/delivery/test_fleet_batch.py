"""`tenantstack deploy --fleet --on codebuild`, end to end: the batch the CLI describes, run by the local runner.

The local endpoint has no CodeBuild batch builds (StartBuildBatch is not implemented: the
endpoint-gaps table of docs/architecture.md), so the local runner plays CodeBuild: the real CLI
checks the fleet, writes its batch buildspec and calls StartBuildBatch (which the endpoint
refuses); scripts/local_codebuild.py --batch then runs that very file, one build of
buildspecs/fleet.yml per tenant, three at a time, each the real `tenantstack deploy` against the
endpoint. The builds' reports are read as the CLI reads BatchGetBuilds (hooks/run/batch_plan.py),
and the endpoint's state must tell the same story. The CLI's following of a batch is tested with
Stubber in tests/hooks/run/test_codebuild_fleet.py.
"""
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import codebuild_batch
import codebuild_spec
from hooks import naming
from hooks.config import envfile
from hooks.run import batch_plan, fleet
from tests.delivery.test_buildspecs import RUNNER, TIMEOUT
from tests.e2e import tenants as tenants_module
from tests.e2e.stacker_cli import REPO
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants

pytestmark = pytest.mark.e2e
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
PROJECT = "ab-0003"
ENVIRONMENTS = ("dev", "qa", "uat", "stage", "prod")
MISSING_SNAPSHOT = "%s-uat" % PROJECT  # its env file asks for a snapshot the dev team never took


def tenant_env_file(directory, namespace, priority, timestamp):
    prod = namespace.endswith("-prod")
    path = directory / ("%s.env" % namespace)
    path.write_text(
        "namespace: %s\nshared_namespace: %s\ndb_timestamp: %s\nhostname: %s.%s\nlistener_priority: %d\n"
        "nginx_image: public.ecr.aws/nginx/nginx:1.27.3\nphp_image: public.ecr.aws/docker/library/php:8.3.14-fpm\n"
        "desired_count: 2\n%s" % (namespace, "common-prod" if prod else "common-nonprod", timestamp, namespace,
                                  "apps.example.com" if prod else "apps-nonprod.example.com", priority,
                                  "bake_seconds: 0\n" if prod else "")
    )
    return path


def test_the_generated_batch_sets_what_the_committed_fleet_buildspec_declares():
    """The two halves of the batch stay in sync: every build the CLI generates runs the committed
    buildspecs/fleet.yml with exactly the variables it declares, and the runner accepts the batch."""
    prepared = fleet.check_fleet([str(REPO / naming.env_file_path("xy-0146-%s" % e)) for e in ("dev", "qa", "prod")])
    builds = codebuild_batch.parse_batch(batch_plan.batch_buildspec(batch_plan.batch_spec(prepared, 2, 40.0)))
    phases = codebuild_spec.parse((REPO / naming.FLEET_BUILDSPEC).read_text(), naming.FLEET_BUILDSPEC)
    declared = {name for name, _ in phases.variables}
    assert declared == {batch_plan.ENV_FILE_VARIABLE, batch_plan.RATE_VARIABLE}
    assert [(b.buildspec, {n for n, _ in b.variables}) for b in builds] == [(naming.FLEET_BUILDSPEC, declared)] * 3
    assert [b.depend_on for b in builds] == [(), (), ("xy_0146_dev",)]
    assert batch_plan.EXIT_VARIABLE in phases.exported_variables


@pytest.fixture
def project_fleet(aws, monkeypatch):
    """Both tiers, the project's first dev snapshot, and its five env files inside the project (a build
    sees only the project's source), removed afterwards."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.tier("common-prod", images=False)
    tenants.snapshot("%s-dev" % PROJECT, TS1)
    directory = REPO / ".run" / ("fleet-batch-%s" % uuid.uuid4().hex[:8])
    directory.mkdir(parents=True)
    files = [tenant_env_file(directory, "%s-%s" % (PROJECT, environment), 300 + index,
                             TS2 if "%s-%s" % (PROJECT, environment) == MISSING_SNAPSHOT else TS1)
             for index, environment in enumerate(ENVIRONMENTS)]
    monkeypatch.setattr(tenants_module, "tenant_settings",
                        lambda namespace: envfile.load(directory / ("%s.env" % namespace)))
    yield tenants, files
    shutil.rmtree(str(directory), ignore_errors=True)


def test_a_fleet_of_five_as_one_batch_promotes_four_and_leaves_the_failed_one_unchanged(project_fleet, tmp_path):
    tenants, files = project_fleet
    log_dir = tmp_path / "fleet"
    cli = subprocess.run(
        [TENANTSTACK, "deploy", "--fleet", *map(str, files), "--on", "codebuild", "--parallel", "3",
         "--max-api-rate", "30", "--log-dir", str(log_dir)],
        cwd=str(REPO), env=tenants.env, capture_output=True, text=True, timeout=120,
    )
    assert cli.returncode == 1 and "StartBuildBatch" in cli.stderr, cli.stderr[-3000:]  # the endpoint's gap
    buildspec = log_dir / "batch-buildspec.yml"

    report_path = tmp_path / "batch.json"
    run = subprocess.run(
        [sys.executable, str(RUNNER), "--batch", str(buildspec), "--source-dir", str(REPO), "--project",
         naming.fleet_project_name(PROJECT), "--logs-dir", str(tmp_path / "builds"), "--report", str(report_path),
         "--timeout", str(TIMEOUT)],
        cwd=str(REPO), env=tenants.env, capture_output=True, text=True, timeout=TIMEOUT + 60,
    )
    report = json.loads(report_path.read_text())
    # ignore-failure on every build: the batch succeeds, the failed tenant is in its build's status.
    assert (run.returncode, report["buildBatch"]["buildBatchStatus"]) == (0, "SUCCEEDED"), run.stdout[-3000:]
    started = [line.split()[2] for line in run.stdout.splitlines() if line.endswith(" started")]
    assert set(started[:3]) == {"ab_0003_dev", "ab_0003_qa", "ab_0003_uat"}  # three lanes: the first three start first
    assert (started.index("ab_0003_stage") > started.index("ab_0003_dev")) and "ab_0003_prod" in started

    by_namespace = {naming.namespace_of_batch_identifier(b["identifier"]): b for b in report["builds"]}
    prepared = fleet.check_fleet([str(path) for path in files])
    results = {item.namespace: batch_plan.tenant_result(item, by_namespace[item.namespace]) for item in prepared}
    assert {ns: r.exit_code for ns, r in results.items()} == {
        "ab-0003-dev": 0, "ab-0003-qa": 0, "ab-0003-uat": 2, "ab-0003-stage": 0, "ab-0003-prod": 0}
    assert fleet.fleet_exit_code([r.exit_code for r in results.values()]) == 2
    failed = by_namespace[MISSING_SNAPSHOT]
    assert {v["name"]: v["value"] for v in failed["exportedEnvironmentVariables"]} == {
        "DEPLOY_EXIT_CODE": "2", "DEPLOY_NAMESPACE": MISSING_SNAPSHOT}
    assert "Reason: exit status 2" in results[MISSING_SNAPSHOT].message

    for namespace in results:
        state = tenants.state(namespace)
        if namespace == MISSING_SNAPSHOT:
            assert (state.active, state.pointer_version, state.instances, state.lock) == (None, 0, {}, None)
        else:
            assert (state.active, state.pointer_version) == (TS1, 1)
            assert_invariants(state, TS1)
