"""Files travel with the data, end to end: the real engine CLI and `tenantstack snapshot` against the local
endpoint; every assertion reads the endpoint's state (docs/pipeline.md, "Files travel with the data")."""
import subprocess
import sys
from pathlib import Path

import pytest
from seed import create_dev_database, tier_key_arn

from hooks import naming
from hooks.aws import file_copy
from hooks.steps import retention
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants, assert_retired_with_final_snapshot
from tests.hooks.cli.commands.seeded import flip

pytestmark = pytest.mark.e2e
DEV, QA, OTHER = "xy-0146-dev", "xy-0146-qa", "ab-0212-qa"
REPO = Path(__file__).resolve().parents[2]
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")


@pytest.fixture
def tenants(aws):
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    return tenants


def bucket(tenants):
    return file_copy.files_bucket(tenants.aws.client("cloudformation"), "common-nonprod")


def put(tenants, prefix, files):
    for name, body in files.items():
        tenants.aws.client("s3").put_object(Bucket=bucket(tenants), Key=prefix + name, Body=body)


def files_at(tenants, prefix):
    s3 = tenants.aws.client("s3")
    return {name: s3.get_object(Bucket=bucket(tenants), Key=prefix + name)["Body"].read()
            for name, _, _ in file_copy.list_files(s3, bucket(tenants), prefix)}


def files_prefix_of_service(tenants, namespace):
    ecs = tenants.aws.client("ecs")
    service = ecs.describe_services(cluster="common-nonprod", services=[naming.service_name(namespace)])["services"][0]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    php = next(c for c in task["containerDefinitions"] if c["name"] == naming.PHP_CONTAINER)
    return {e["name"]: e["value"] for e in php["environment"]}["APP_FILES_PREFIX"]


def snapshot(tenants, namespace):
    """`tenantstack snapshot`: the active database and its files, under one new timestamp."""
    done = subprocess.run([TENANTSTACK, "snapshot", namespace], cwd=str(REPO), env=tenants.env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_files_written_in_dev_travel_with_its_snapshot_and_go_with_the_last_final_snapshot(tenants):
    # The dev team's namespace serves its database of TS1 (the endpoint restores no data, so the database is
    # made through the API, as seed.py makes every dev database) and writes files to <dev>/files/TS1/.
    create_dev_database(tenants.aws.client("rds"), DEV, TS1, kms_key_id=tier_key_arn(tenants.aws.client("kms"), DEV))
    flip(tenants.aws.client("ssm"), DEV, TS1)
    first = {"uploads/contract.pdf": b"%PDF-1", "uploads/logo.png": b"PNG" * 1000}
    put(tenants, naming.files_prefix(DEV, TS1), first)
    captured = snapshot(tenants, DEV)
    put(tenants, naming.files_prefix(DEV, TS1), {"uploads/after-the-snapshot.txt": b"later"})

    tenants.deploy(QA, captured)
    assert_invariants(tenants.state(QA), captured)
    assert files_at(tenants, naming.files_prefix(QA, captured)) == first  # exactly the captured data set
    assert files_prefix_of_service(tenants, QA) == naming.files_prefix(QA, captured)

    second = dict(first, **{"uploads/contract.pdf": b"%PDF-2"})
    put(tenants, naming.files_prefix(DEV, TS1), second)
    newer = snapshot(tenants, DEV)
    tenants.deploy(QA, newer)
    state = tenants.state(QA)
    assert_invariants(state, newer)
    assert_retired_with_final_snapshot(state, captured)
    assert files_at(tenants, naming.files_prefix(QA, newer))["uploads/contract.pdf"] == b"%PDF-2"
    assert files_at(tenants, naming.files_prefix(QA, captured)) == first  # recoverable with its final snapshot

    aws = tenants.aws
    pruned = retention.prune_namespace(
        aws.client("rds"), aws.client("resourcegroupstaggingapi"), aws.client("cloudformation"), aws.client("ssm"),
        aws.client("s3"), QA, "common-nonprod", keep=0, days=0)
    assert pruned["deleted"] == state.final_snapshots[captured] and pruned["failed"] == []
    assert pruned["files"] == {captured: naming.files_prefix(QA, captured)}
    everything = sorted({"/".join(key.split("/")[:3]) for key, _, _ in  # <ns>/files/<ts>
                         file_copy.list_files(aws.client("s3"), bucket(tenants), "")})
    assert everything == sorted(["%s/files/%s" % (DEV, ts) for ts in (TS1, captured, newer)] +
                                ["%s/files/%s" % (QA, newer)])


def test_a_file_copy_that_fails_leaves_the_tenant_serving_and_a_rerun_converges(tenants):
    dev_files = {"a.txt": b"a", "b.txt": b"b" * 100, "c/d.txt": b"d"}
    tenants.snapshot(DEV, TS1)
    put(tenants, naming.files_prefix(DEV, TS1), {"old.txt": b"old"})
    tenants.snapshot("ab-0212-dev", TS1)
    put(tenants, naming.files_prefix("ab-0212-dev", TS1), {"theirs.txt": b"ab"})
    tenants.deploy(QA)
    tenants.deploy(OTHER)
    tenants.snapshot(DEV, TS2)
    put(tenants, naming.files_prefix(DEV, TS2), dev_files)

    fault = {"TENANTSTACK_FAIL_CALLS": "s3.CopyObject@%sb.txt" % naming.files_prefix(QA, TS2)}
    result = tenants.deploy(QA, TS2, check=False, env=fault)
    assert result.returncode != 0
    assert "1 of 3 object(s) could not be copied (b.txt: InjectedFault" in result.stdout + result.stderr
    state = tenants.state(QA)
    assert (state.active, state.service_timestamp, state.lock) == (TS1, TS1, None)
    assert TS2 not in state.instances  # the files are copied before any stack changes
    assert files_at(tenants, naming.files_prefix(QA, TS1)) == {"old.txt": b"old"}
    assert sorted(files_at(tenants, naming.files_prefix(QA, TS2))) == ["a.txt", "c/d.txt"]

    tenants.deploy(QA, TS2)
    assert_invariants(tenants.state(QA), TS2)
    assert files_at(tenants, naming.files_prefix(QA, TS2)) == dev_files
    assert files_at(tenants, naming.files_prefix(QA, TS1)) == {"old.txt": b"old"}  # until retention prunes it
    # The other project's tenant on the same tier: its own data set only, untouched.
    assert files_at(tenants, naming.files_prefix(OTHER, TS1)) == {"theirs.txt": b"ab"}
    assert sorted(key for key, _, _ in file_copy.list_files(tenants.aws.client("s3"), bucket(tenants),
                                                            naming.s3_prefix(OTHER))) == ["files/%s/theirs.txt" % TS1]
