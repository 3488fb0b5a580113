"""`tenantstack deploy --fleet`, end to end: 12 tenants on one tier, 4 at a time, one made to fail.

The real CLI runs the real stacker for every tenant against the local endpoint; the
summary, the exit code and the endpoint's state must all tell the same story.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import calls as bench_calls
from bench import harness as bench_harness
from hooks import naming
from hooks.config import envfile
from tests.e2e import tenants as tenants_module
from tests.e2e.stacker_cli import ENGINE, REPO
from tests.e2e.tenants import TS1, Tenants, assert_invariants

pytestmark = pytest.mark.e2e
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
PROJECTS = ("ab-0001", "ab-0002", "ab-0003")
ENVIRONMENTS = ("dev", "qa", "uat", "stage")
FAILING = "ab-0002-uat"
FLEET_TIMEOUT = 300


def tenant_env_file(directory, namespace, priority):
    path = Path(directory) / ("%s.env" % namespace)
    path.write_text(
        "namespace: %s\nshared_namespace: common-nonprod\ndb_timestamp: %s\n"
        "hostname: %s.apps-nonprod.example.com\nlistener_priority: %d\n"
        "nginx_image: public.ecr.aws/nginx/nginx:1.27.3\nphp_image: public.ecr.aws/docker/library/php:8.3.14-fpm\n"
        "desired_count: 2\n" % (namespace, TS1, namespace, priority)
    )
    return path


@pytest.fixture
def fleet(aws, tmp_path, monkeypatch):
    """common-nonprod built; 3 projects' dev snapshots; 12 tenant env files in tmp_path."""
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    files = []
    for number, project in enumerate(PROJECTS, start=1):
        tenants.snapshot("%s-dev" % project, TS1)
        for index, environment in enumerate(ENVIRONMENTS):
            files.append(tenant_env_file(tmp_path, "%s-%s" % (project, environment), 100 * number + index))
    # Tenants.state reads a tenant's tier from environments/<ns>.env; these live in tmp_path.
    monkeypatch.setattr(tenants_module, "tenant_settings",
                        lambda namespace: envfile.load(tmp_path / ("%s.env" % namespace)))
    return tenants, files


def test_a_fleet_of_twelve_with_one_failing_tenant(fleet, tmp_path):
    tenants, files = fleet
    # The failing tenant's database stack cannot create its own registration parameter.
    tenants.aws.client("ssm").put_parameter(
        Name=naming.ssm_database_parameter(FAILING, TS1), Value="left over", Type="String"
    )
    log_dir, calls_dir = tmp_path / "logs", tmp_path / "calls"
    calls_dir.mkdir()
    run = subprocess.run(
        [TENANTSTACK, "deploy", "--fleet", *map(str, files), "--parallel", "4", "--json", "--log-dir", str(log_dir)],
        cwd=str(REPO), env=bench_harness.child_env(tenants.env, calls_dir), capture_output=True, text=True,
        timeout=FLEET_TIMEOUT,
    )
    assert run.returncode == 4, run.stderr[-4000:]
    summary = json.loads(run.stdout)
    assert summary["counts"] == {"ok": 11, "failed": 1, "bad-input": 0, "lock-held": 0, "skipped": 0}
    assert (summary["exit_code"], summary["parallel"], summary["interrupted"]) == (4, 4, False)
    by_namespace = {tenant["namespace"]: tenant for tenant in summary["tenants"]}
    assert [tenant["namespace"] for tenant in summary["tenants"]] == [path.stem for path in files]

    failed = by_namespace.pop(FAILING)
    assert (failed["result"], failed["exit_code"], failed["stacker_exit"]) == ("failed", 4, 1)
    assert failed["message"].startswith("%s: The following steps failed: db, service" % ENGINE)
    assert failed["recovery"]["status"] == "done"
    assert failed["recovery"]["actions"][-1] == "released the deploy lock"
    final_snapshot = failed["recovery"]["final_snapshot"]
    assert final_snapshot.startswith("%s-final-" % naming.db_instance_id(FAILING, TS1))
    state = tenants.state(FAILING)
    assert (state.active, state.instances, state.lock, state.service_timestamp) == (None, {}, None, None)
    assert state.final_snapshots == {TS1: [final_snapshot]}
    assert "The following steps failed: db, service" in Path(failed["log_file"]).read_text()

    for namespace, tenant in by_namespace.items():
        assert (tenant["result"], tenant["exit_code"], tenant["recovery"]) == ("ok", 0, None), tenant
        assert Path(tenant["log_file"]) == log_dir / ("%s.log" % namespace)
        assert_invariants(tenants.state(namespace), TS1)

    # Every request of every process (each stacker, and the CLI's clean-up of the failed tenant), as each
    # process recorded it after the fleet's one bucket let it go: the default budget holds in every second.
    calls = bench_calls.read_calls(calls_dir)
    assert bench_calls.process_count(calls) == 13
    assert bench_calls.peak_rate(calls) <= summary["max_api_rate"] == 40.0

    progress = run.stderr.splitlines()
    assert sum(" start    " in line for line in progress) == 12
    assert any(" failed   %s in " % FAILING in line and "(exit 4)" in line for line in progress)
    assert progress[-1].endswith("done     11 ok, 1 failed (exit 4)")
