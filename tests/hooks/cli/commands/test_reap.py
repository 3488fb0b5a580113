"""`tenantstack reap`: a dry run by default; --apply retires under the deploy lock, final snapshot first."""
import datetime

import pytest

from hooks import cli, naming
from hooks.aws import drills
from hooks.lock import deploy_lock
from tests.hooks.cli.commands.seeded import environments, files_tier, hold_lock, tenant
from tests.hooks.steps.test_retention import seed_finals
from tests.hooks.tenant.test_inventory import T1, T2, T3, T4

QA = "xy-0146-qa"


@pytest.fixture
def envs(tmp_path):
    return environments(tmp_path, **{QA: {"retain_previous": 1}})


@pytest.fixture
def orphans(cli_aws):
    """qa flipped T1 -> T2 -> T3 (T2 retained, T1 past retain_previous) and T4 a failed run's leftover, whose
    restore copy under the tier key is still there."""
    tenant(cli_aws, QA, flips=[T1, T2, T3], leftovers=[T4])
    rds = cli_aws.client("rds")
    source = naming.snapshot_id("xy-0146-dev", T4)
    rds.create_db_snapshot(DBSnapshotIdentifier=source, DBInstanceIdentifier=naming.db_instance_id(QA, T4))
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=source,
                         TargetDBSnapshotIdentifier=naming.restore_snapshot_id(QA, T4),
                         Tags=[{"Key": naming.COPIED_FROM_TAG, "Value": source}])
    return cli_aws


def reap(capsys, envs, *args):
    code = cli.main(["reap", QA, "--environments", str(envs), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def databases(aws):
    found = aws.client("rds").describe_db_instances()["DBInstances"]
    return sorted(naming.parse_db_instance_id(db["DBInstanceIdentifier"])[1] for db in found)


def final_snapshots(aws):
    found = aws.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return {
        naming.parse_final_snapshot_id(s["DBSnapshotIdentifier"])[1]: s["Status"]
        for s in found
        if "-final-" in s["DBSnapshotIdentifier"]
    }


TABLE = [
    "  TIMESTAMP         ROLE      REAP    WHY",
    "  20260101t000000z  orphan    retire  previously active, beyond retain_previous=1",
    "  20260102t000000z  retained  keep    retained: previous #1",
    "  20260103t000000z  active    keep    active",
    "  20260104t000000z  orphan    retire  never active: leftover of a failed run",
]


def test_reap_without_apply_lists_what_it_would_retire_and_changes_nothing(orphans, envs, capsys):
    assert reap(capsys, envs) == (0, "\n".join([
        "xy-0146-qa: would retire 2 database(s): 20260101t000000z, 20260104t000000z (dry run: nothing was changed; "
        "--apply retires them)",
        *TABLE,
        "",
    ]), "")
    assert databases(orphans) == [T1, T2, T3, T4]
    assert final_snapshots(orphans) == {}


def test_reap_apply_retires_the_orphans_with_final_snapshots_and_releases_the_lock(orphans, envs, capsys):
    code, out, err = reap(capsys, envs, "--apply")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "xy-0146-qa: retired 2 database(s)"
    assert lines[1].startswith("  20260101t000000z: final snapshot xy-0146-qa-db-20260101t000000z-final-")
    assert lines[1].endswith("; deleted instance, stack")
    assert lines[2].startswith("  20260104t000000z: final snapshot xy-0146-qa-db-20260104t000000z-final-")
    assert lines[2].endswith("; deleted instance, stack, restore copy xy-0146-qa-20260104t000000z")
    assert lines[3:] == ["  20260102t000000z: kept (retained: previous #1)", "  20260103t000000z: kept (active)"]
    assert "taking final snapshot xy-0146-qa-db-20260101t000000z-final-" in err  # progress, on stderr
    assert databases(orphans) == [T2, T3]
    assert final_snapshots(orphans) == {T1: "available", T4: "available"}
    assert deploy_lock.read(orphans.client("ssm"), QA) is None
    assert reap(capsys, envs, "--apply") == (0, "xy-0146-qa: nothing to retire; nothing was changed\n", "")


def test_reap_apply_while_a_deploy_holds_the_lock_changes_nothing(orphans, envs, capsys):
    held = hold_lock(orphans.client("ssm"), QA, T3, datetime.datetime.now(datetime.timezone.utc))
    code, out, err = reap(capsys, envs, "--apply")
    assert (code, out) == (3, "")
    assert err.startswith(
        "tenantstack reap: namespace xy-0146-qa is locked by another deploy: deployer@ci-7:4242 (user deployer on "
        "host ci-7, pid 4242) took the lock "
    )
    assert err.endswith("if you know it is dead, clear the lock with: tenantstack unlock xy-0146-qa --holder "
                        "'deployer@ci-7:4242'\n")
    assert databases(orphans) == [T1, T2, T3, T4]
    assert deploy_lock.read(orphans.client("ssm"), QA) == held


def test_reap_apply_that_fails_to_delete_keeps_the_databases_and_releases_the_lock(orphans, envs, capsys, monkeypatch):
    monkeypatch.setenv("TENANTSTACK_FAIL_CALLS", "rds.DeleteDBInstance")
    code, out, err = reap(capsys, envs, "--apply")
    assert (code, out) == (4, "")
    assert "tenantstack reap: retiring 2 database(s) of xy-0146-qa failed; the others were handled:\n" in err
    assert "xy-0146-qa-db-20260101t000000z: An error occurred (InjectedFault) when calling the DeleteDBInstance " in err
    assert err.endswith("or run `tenantstack reap xy-0146-qa --apply` once it exists.\n")
    assert databases(orphans) == [T1, T2, T3, T4]
    assert final_snapshots(orphans) == {T1: "available", T4: "available"}  # taken first, kept
    assert deploy_lock.read(orphans.client("ssm"), QA) is None


def test_reap_of_a_tenant_without_databases(cli_aws, envs, capsys):
    assert reap(capsys, envs) == (0, "xy-0146-qa: nothing to retire (dry run: nothing was changed; --apply retires "
                                     "them)\n", "")


def test_reap_needs_the_tenants_env_file(cli_aws, tmp_path, capsys):
    code, out, err = reap(capsys, tmp_path, "--apply")
    assert (code, out) == (2, "")
    assert err == (
        "tenantstack reap: env file %s/xy-0146-qa.env of xy-0146-qa not found; run from the repository root, or name "
        "the directory with --environments DIR (or the file with --env-file PATH)\n" % tmp_path
    )


def test_reap_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["reap", "--help"])
    assert exited.value.code == 0
    assert "  tenantstack reap xy-0146-qa --apply" in capsys.readouterr().out


def test_reap_prunes_final_snapshots_by_the_env_files_retention_and_lists_them_first(cli_aws, tmp_path, capsys):
    envs = environments(tmp_path, **{QA: {"keep_final_snapshots": 1, "keep_final_snapshot_days": 30}})
    tenant(cli_aws, QA, flips=[T1])
    rds = cli_aws.client("rds")
    newest, older, oldest = seed_finals(rds, QA, [100, 200, 300], timestamp=T1)
    # The files of each retired timestamp, and of the active one (its database exists: never deleted).
    s3, bucket = cli_aws.client("s3"), files_tier(cli_aws)
    timestamps = [naming.parse_final_snapshot_id(final)[1] for final in (newest, older, oldest)] + [T1]
    for timestamp in timestamps:
        s3.put_object(Bucket=bucket, Key=naming.files_prefix(QA, timestamp) + "upload.pdf", Body=b"%")
    code, out, err = reap(capsys, envs)
    assert (code, err) == (0, "")
    assert out.splitlines()[3:] == [  # after the databases' table (one active database)
        "xy-0146-qa: final snapshots: 3, retention would delete 2",
        "  FINAL SNAPSHOT%s  RETENTION  WHY" % (" " * (len(newest) - len("FINAL SNAPSHOT"))),
        "  %s  keep       one of the newest 1" % newest,
        "  %s  delete     older than 30 days and not one of the newest 1" % older,
        "  %s  delete     older than 30 days and not one of the newest 1" % oldest,
    ] + ["  files %s: would be deleted with the last final snapshot of %s" % (naming.files_prefix(QA, timestamp),
                                                                            timestamp) for timestamp in timestamps[1:3]]
    code, out, err = reap(capsys, envs, "--apply")
    assert code == 0, err
    assert out.splitlines() == [
        "xy-0146-qa: deleted 2 final snapshot(s) by retention",
        "  %s: deleted" % older,
        "  %s: deleted" % oldest,
        "  %s: kept (one of the newest 1)" % newest,
    ] + ["  files %s: deleted with the last final snapshot of %s" % (naming.files_prefix(QA, timestamp), timestamp)
         for timestamp in timestamps[1:3]]
    remaining = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    assert remaining == {newest}
    files = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(files) == sorted(naming.files_prefix(QA, timestamp) + "upload.pdf" for timestamp in
                                   (timestamps[0], T1))


def test_a_final_snapshot_retention_cannot_delete_fails_reap_with_exit_4_and_the_rest_still_go(
        cli_aws, tmp_path, capsys, monkeypatch):
    envs = environments(tmp_path, **{QA: {"keep_final_snapshots": 1, "keep_final_snapshot_days": 0}})
    tenant(cli_aws, QA, flips=[T1])
    rds = cli_aws.client("rds")
    newest, stuck, gone = seed_finals(rds, QA, [100, 200, 300], timestamp=T1)
    monkeypatch.setenv(drills.FAULTS_VARIABLE, "rds.DeleteDBSnapshot@%s" % stuck)
    code, out, err = reap(capsys, envs, "--apply")
    assert code == 4
    assert "reap could not clean up xy-0146-qa: final snapshot %s (" % stuck in err
    assert "run reap --apply again" in err
    remaining = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    assert remaining == {newest, stuck}
