"""`tenantstack snapshot`: the active database's snapshot, fit to promote; its timestamp alone on stdout."""
import datetime
import json

import pytest
from seed import create_dev_database

from hooks import cli, naming
from hooks.aws import drills, file_copy
from hooks.steps import source_snapshot
from tests.hooks.cli.commands.seeded import files_tier, flip

DEV = "xy-0146-dev"
DEV_DATABASE = "20261001t080000z"


@pytest.fixture
def dev(cli_aws):
    """xy-0146-dev serving its database of DEV_DATABASE (encrypted MySQL 8, as the dev team runs it), on its tier."""
    files_tier(cli_aws)
    create_dev_database(cli_aws.client("rds"), DEV, DEV_DATABASE)
    flip(cli_aws.client("ssm"), DEV, DEV_DATABASE)
    return cli_aws


def snapshot(capsys, *args):
    code = cli.main(["snapshot", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_snapshot_prints_the_timestamp_of_a_snapshot_a_promotion_accepts(dev, capsys):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    code, out, err = snapshot(capsys, DEV)
    assert code == 0, err
    timestamp = out.rstrip("\n")
    assert out == timestamp + "\n"
    assert before <= naming.timestamp_datetime(timestamp) <= datetime.datetime.now(datetime.timezone.utc)
    snapshot_id = "xy-0146-dev-%s" % timestamp
    assert err == (
        "taking snapshot %s of xy-0146-dev's active database\n"
        "captured 0 file(s), 0 byte(s) at s3://%s/xy-0146-dev/files/%s/\n"
        "snapshot %s is available after 0 s\n" % (snapshot_id, files_tier(dev), timestamp, snapshot_id)
    )
    rds = dev.client("rds")
    taken = source_snapshot.describe_source_snapshot(rds, DEV, timestamp)  # raises unless fit to promote
    assert taken["DBInstanceIdentifier"] == naming.db_instance_id(DEV, DEV_DATABASE)
    tags = rds.list_tags_for_resource(ResourceName=taken["DBSnapshotArn"])["TagList"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == naming.tags(DEV)


def test_snapshot_captures_the_files_of_the_active_data_set_under_its_timestamp(dev, capsys):
    s3, bucket = dev.client("s3"), files_tier(dev)
    live = {"uploads/a.pdf": b"%PDF", "uploads/b.png": b"PNG" * 10}
    for name, body in live.items():
        s3.put_object(Bucket=bucket, Key=naming.files_prefix(DEV, DEV_DATABASE) + name, Body=body)
    s3.put_object(Bucket=bucket, Key=naming.files_prefix("xy-0146-qa", DEV_DATABASE) + "other.txt", Body=b"qa")
    code, out, err = snapshot(capsys, DEV)
    assert code == 0, err
    timestamp = out.rstrip("\n")
    captured = naming.files_prefix(DEV, timestamp)
    assert "captured 2 file(s), 34 byte(s) at s3://%s/%s\n" % (bucket, captured) in err
    assert {name: s3.get_object(Bucket=bucket, Key=captured + name)["Body"].read()
            for name, _, _ in file_copy.list_files(s3, bucket, captured)} == live


def test_files_that_cannot_be_captured_leave_nothing_to_promote(dev, capsys, monkeypatch):
    s3, bucket = dev.client("s3"), files_tier(dev)
    for name in ("a.pdf", "b.pdf"):
        s3.put_object(Bucket=bucket, Key=naming.files_prefix(DEV, DEV_DATABASE) + name, Body=b"%PDF")
    monkeypatch.setenv(drills.FAULTS_VARIABLE, "s3.CopyObject")
    code, out, err = snapshot(capsys, DEV)
    assert (code, out) == (4, "")
    assert "2 of 2 object(s) could not be copied (a.pdf: InjectedFault" in err
    assert "and its partial files were deleted, nothing promotable is left; the live database and files are " \
           "untouched: run `tenantstack snapshot xy-0146-dev` again" in err
    assert dev.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    assert [key for key, _, _ in file_copy.list_files(s3, bucket, "")] == [
        naming.files_prefix(DEV, DEV_DATABASE) + name for name in ("a.pdf", "b.pdf")]


def test_snapshot_without_its_tier_changes_nothing(cli_aws, capsys):
    create_dev_database(cli_aws.client("rds"), DEV, DEV_DATABASE)
    flip(cli_aws.client("ssm"), DEV, DEV_DATABASE)
    code, out, err = snapshot(capsys, DEV)
    assert (code, out) == (2, "")
    assert "the tier stack common-nonprod-tier" in err and "build the shared stacks first" in err
    assert cli_aws.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []


def test_snapshot_of_a_namespace_without_an_active_database_changes_nothing(cli_aws, capsys):
    files_tier(cli_aws)
    assert snapshot(capsys, DEV) == (2, "", (
        "tenantstack snapshot: xy-0146-dev has no active database (/xy-0146-dev/db/active is not set), so there is "
        "nothing to snapshot; deploy it first, or snapshot another namespace; nothing was changed\n"
    ))
    assert cli_aws.client("rds").describe_db_snapshots()["DBSnapshots"] == []


def test_snapshot_when_the_pointer_names_a_missing_database(cli_aws, capsys):
    files_tier(cli_aws)
    flip(cli_aws.client("ssm"), DEV, DEV_DATABASE)
    assert snapshot(capsys, DEV) == (2, "", (
        "tenantstack snapshot: the active pointer /xy-0146-dev/db/active names 20261001t080000z, but database "
        "xy-0146-dev-db-20261001t080000z does not exist; see `tenantstack status xy-0146-dev`; nothing was changed\n"
    ))


@pytest.mark.parametrize("timeout", ["0", "-5", "soon"])
def test_snapshot_refuses_a_bad_timeout_before_any_call(capsys, timeout):
    assert snapshot(capsys, DEV, "--timeout", timeout) == (2, "", (
        "tenantstack snapshot: --timeout %r is invalid: expected a number of seconds > 0\n" % timeout
    ))


def test_snapshot_help_shows_how_a_script_uses_it(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["snapshot", "--help"])
    assert exited.value.code == 0
    assert '  ts=$(tenantstack snapshot xy-0146-dev) && tenantstack promote' in capsys.readouterr().out


def test_snapshot_json_names_the_namespace_snapshot_and_timestamp(dev, capsys):
    code, out, err = snapshot(capsys, DEV, "--json")
    assert code == 0, err
    document = json.loads(out)
    timestamp = document["timestamp"]
    naming.parse_timestamp(timestamp)
    assert document == {"namespace": DEV, "snapshot": "xy-0146-dev-%s" % timestamp, "timestamp": timestamp,
                        "schema_version": 1}
    source_snapshot.describe_source_snapshot(dev.client("rds"), DEV, timestamp)  # taken, and fit to promote


def test_snapshot_json_of_a_namespace_without_an_active_database_prints_nothing(cli_aws, capsys):
    code, out, _ = snapshot(capsys, DEV, "--json")
    assert (code, out) == (2, "")
