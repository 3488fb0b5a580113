"""`tenantstack reap <dev namespace>`: its snapshots go only when no environment runs, retains or names them."""
import json

from hooks import cli, naming
from tests.hooks.cli.commands.seeded import environments, files_tier, hold_lock
from tests.hooks.steps.test_source_retention import DEV, NOW, PROD, QA, ago
from tests.hooks.tenant.test_inventory import aws_tags, create_instance


def snapshot(rds, timestamp, **extra_tags):
    snapshot_id = naming.snapshot_id(DEV, timestamp)
    rds.create_db_snapshot(DBSnapshotIdentifier=snapshot_id, DBInstanceIdentifier=naming.db_instance_id(DEV, ago(400)),
                           Tags=aws_tags(DEV, **extra_tags))
    return snapshot_id


def register(ssm, namespace, timestamp, source_timestamp):
    ssm.put_parameter(Name=naming.ssm_database_parameter(namespace, timestamp), Type="String", Value=json.dumps(
        {"instance_id": naming.db_instance_id(namespace, timestamp),
         "snapshot": naming.restore_snapshot_id(namespace, timestamp),
         "source": naming.snapshot_id(DEV, source_timestamp)}))


def test_reap_of_the_dev_namespace_deletes_only_snapshots_no_environment_runs_retains_or_names(
        cli_aws, tmp_path, capsys):
    rds, ssm = cli_aws.client("rds"), cli_aws.client("ssm")
    create_instance(rds, DEV, ago(400))  # dev's active database
    ssm.put_parameter(Name=naming.ssm_active_parameter(DEV), Value=ago(400), Type="String")
    ages = {"active": 400, "prod-runs": 300, "env-file": 250, "lock": 200, "old": 100, "older": 120,
            "newest": 1, "recent": 5}
    ts = {name: ago(age) for name, age in ages.items()}
    made = {name: snapshot(rds, stamp) for name, stamp in ts.items()}
    register(ssm, PROD, ts["prod-runs"], ts["prod-runs"])  # prod's database, restored from its copy of it
    hold_lock(ssm, QA, ts["lock"], NOW)  # a deploy of qa in flight
    s3, bucket = cli_aws.client("s3"), files_tier(cli_aws)
    for name in ("old", "newest"):  # the files captured with two of them
        s3.put_object(Bucket=bucket, Key=naming.files_prefix(DEV, ts[name]) + "uploads/a.png", Body=b"png")
    envs = environments(tmp_path, **{DEV: {"keep_source_snapshots": 2, "keep_source_snapshot_days": 14},
                                     "ab-0212-qa": {"db_timestamp": ts["old"]},  # another project's: no reference
                                     QA: {"db_timestamp": ts["env-file"]}})

    assert cli.main(["reap", DEV, "--environments", str(envs)]) == 0
    out = capsys.readouterr().out
    assert "xy-0146-dev: source snapshots: 8, retention would delete 2" in out
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in out.splitlines() if line.startswith("  xy-0146-dev-2")}
    assert rows[made["prod-runs"]] == ["keep", "database %s holds its data" % naming.db_instance_id(PROD, ts["prod-runs"])]
    assert rows[made["env-file"]] == ["keep", "%s/%s.env names it (db_timestamp)" % (envs, QA)]
    assert rows[made["lock"]] == ["keep", "%s's deploy lock targets it" % QA]
    assert rows[made["active"]] == ["keep", "%s's active pointer names its timestamp" % DEV]
    assert rows[made["old"]][0] == rows[made["older"]][0] == "delete"
    listed = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    assert set(made.values()) <= listed  # the dry run deleted nothing

    assert cli.main(["reap", DEV, "--environments", str(envs), "--apply"]) == 0
    listed = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    assert listed == set(made.values()) - {made["old"], made["older"]}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys == {naming.files_prefix(DEV, ts["newest"]) + "uploads/a.png"}  # the old capture's files went with it


def test_an_unreadable_env_file_prunes_nothing(cli_aws, tmp_path, capsys):
    rds = cli_aws.client("rds")
    files_tier(cli_aws)
    create_instance(rds, DEV, ago(400))
    made = snapshot(rds, ago(100))
    envs = environments(tmp_path, **{DEV: {"keep_source_snapshots": 1, "keep_source_snapshot_days": 0}})
    (envs / "xy-0146-uat.env").write_text("namespace: xy-0146-uat\nlisterner_priority: 3\n")
    assert cli.main(["reap", DEV, "--environments", str(envs), "--apply"]) == 2
    assert "Nothing was pruned" in capsys.readouterr().err
    assert made in {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
