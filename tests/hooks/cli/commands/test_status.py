"""`tenantstack status`: every database's role, the service, the lock and the last flips."""
import datetime
import json
import re

import pytest

from hooks import cli, naming
from tests.hooks.cli.commands.seeded import environments, hold_lock, masked, run_service, tenant
from tests.hooks.tenant.test_inventory import T1, T2, T3, T4, create_database

QA, PROD = "xy-0146-qa", "xy-0146-prod"
T5 = "20260105t000000z"


def now():
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture
def envs(tmp_path):
    return environments(tmp_path, **{QA: {"retain_previous": 1}})


def status(capsys, *args):
    code = cli.main(["status", *args])
    captured = capsys.readouterr()
    return code, masked(captured.out), captured.err


def every_role(aws):
    """qa: T1 -> T2 -> T3 flipped (T2 retained, T1 past retain_previous), T5 a failed run's
    leftover, and a deploy on another host brings up T4."""
    tenant(aws, QA, flips=[T1, T2, T3], leftovers=[T4, T5])
    hold_lock(aws.client("ssm"), QA, T4, now() - datetime.timedelta(minutes=10))


def test_status_shows_each_databases_role_the_service_the_lock_and_the_flips(cli_aws, envs, capsys):
    every_role(cli_aws)
    code, out, err = status(capsys, QA, "--environments", str(envs))
    assert (code, err) == (0, "")
    out = re.sub(r"held by (\S+) for .+? \(since", r"held by \1 for <age> (since", out)
    assert out == "\n".join([
        "xy-0146-qa  (tier common-nonprod, retain_previous 1, from %s/xy-0146-qa.env)" % envs,
        "active database: 20260103t000000z",
        "active files: xy-0146-qa/files/20260103t000000z/ (in the tier's files bucket)",
        "databases:",
        "  TIMESTAMP         ROLE       INSTANCE   STACK            REAP    WHY",
        "  20260101t000000z  orphan     available  CREATE_COMPLETE  retire  previously active, beyond retain_previous=1",
        "  20260102t000000z  retained   available  CREATE_COMPLETE  keep    retained: previous #1",
        "  20260103t000000z  active     available  CREATE_COMPLETE  keep    active",
        "  20260104t000000z  in flight  available  CREATE_COMPLETE  keep    in flight",
        "  20260105t000000z  orphan     available  CREATE_COMPLETE  retire  never active: leftover of a failed run",
        "service xy-0146-qa in cluster common-nonprod: stable: 2 of 2 tasks running on xy-0146-qa:1 (rollout COMPLETED)",
        "  task definition xy-0146-qa:1, runs against database 20260103t000000z",
        "  deployment PRIMARY on xy-0146-qa:1: rollout COMPLETED, 2 of 2 running",
        "deploy lock: held by deployer@ci-7:4242 for <age> (since YYYY-MM-DDTHH:MM:SSZ, ttl 2 h 0 min) to deploy 20260104t000000z",
        "  live: it was taken on another host (ci-7), whose processes this host cannot see, and it is within its "
        "ttl of 2 h 0 min (stale after YYYY-MM-DDTHH:MM:SSZ)",
        "  if you know its holder is dead: tenantstack unlock xy-0146-qa --holder 'deployer@ci-7:4242'",
        "alarms: none",
        "last pointer flips:",
        "  VERSION  WHEN (UTC)            FROM              TO                BY",
        "  1        YYYY-MM-DDTHH:MM:SSZ  -                 20260101t000000z  deployer@ci-7:4242",
        "  2        YYYY-MM-DDTHH:MM:SSZ  20260101t000000z  20260102t000000z  deployer@ci-7:4242",
        "  3        YYYY-MM-DDTHH:MM:SSZ  20260102t000000z  20260103t000000z  deployer@ci-7:4242",
        "",
    ])


def database_json(timestamp, role, reap, reason):
    return {
        "timestamp": timestamp,
        "instance_id": naming.db_instance_id(QA, timestamp),
        "stack_name": naming.db_stack_name(QA, timestamp),
        "registered": True,
        "instance_status": "available",
        "stack_status": "CREATE_COMPLETE",
        "restore_copy_only": False,
        "role": role,
        "reap": reap,
        "reason": reason,
    }


def flip_json(version, old, new):
    return {
        "version": version,
        "at": "YYYY-MM-DDTHH:MM:SSZ",
        "from": old,
        "to": new,
        "by": "deployer@ci-7:4242",
        "description": "%s (was %s) set by deployer@ci-7:4242 at YYYY-MM-DDTHH:MM:SSZ" % (new, old or "nothing: first deploy"),
        "requested": None,
    }


def test_status_json_is_the_documented_schema(cli_aws, envs, capsys):
    every_role(cli_aws)
    code, out, err = status(capsys, QA, "--environments", str(envs), "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    lock = document["tenants"][0]["lock"]
    assert 600 <= lock.pop("age_seconds") <= 660
    assert out == json.dumps(json.loads(out), sort_keys=True, indent=2) + "\n"  # sorted keys, stable layout
    assert document == {
        "schema_version": 1,
        "tenants": [
            {
                "namespace": QA,
                "env_file": "%s/xy-0146-qa.env" % envs,
                "shared_namespace": "common-nonprod",
                "retain_previous": 1,
                "active": T3,
                "active_files": "xy-0146-qa/files/%s/" % T3,
                "databases": [
                    database_json(T1, "orphan", "retire", "previously active, beyond retain_previous=1"),
                    database_json(T2, "retained", "keep", "retained: previous #1"),
                    database_json(T3, "active", "keep", "active"),
                    database_json(T4, "in flight", "keep", "in flight"),
                    database_json(T5, "orphan", "retire", "never active: leftover of a failed run"),
                ],
                "service": {
                    "name": QA,
                    "cluster": "common-nonprod",
                    "status": "ACTIVE",
                    "task_definition": "xy-0146-qa:1",
                    "desired_count": 2,
                    "running_count": 2,
                    "state": "stable",
                    "state_reason": "2 of 2 tasks running on xy-0146-qa:1 (rollout COMPLETED)",
                    "deployments": [
                        {"status": "PRIMARY", "task_definition": "xy-0146-qa:1", "rollout_state": "COMPLETED",
                         "running": 2, "desired": 2},
                    ],
                },
                "lock": {
                    "holder": "deployer@ci-7:4242",
                    "user": "deployer",
                    "host": "ci-7",
                    "pid": 4242,
                    "build_id": None,
                    "acquired_at": "YYYY-MM-DDTHH:MM:SSZ",
                    "ttl_seconds": 7200,
                    "target_timestamp": T4,
                    "stale": False,
                    "verdict": "it was taken on another host (ci-7), whose processes this host cannot see, and it is "
                    "within its ttl of 2 h 0 min (stale after YYYY-MM-DDTHH:MM:SSZ)",
                },
                "recent_flips": [flip_json(1, None, T1), flip_json(2, T1, T2), flip_json(3, T2, T3)],
                "alarms": [],
            }
        ],
    }


def test_status_all_reads_every_tenant_env_file_and_skips_the_shared_ones(cli_aws, envs, capsys):
    tenant(cli_aws, PROD, flips=[T2], shared_namespace="common-prod")
    code, out, err = status(capsys, "--all", "--environments", str(envs), "--json")
    assert (code, err) == (0, "")
    tenants = json.loads(out)["tenants"]
    assert [(t["namespace"], t["shared_namespace"], t["active"]) for t in tenants] == [
        ("ab-0212-prod", "common-prod", None),
        ("ab-0212-qa", "common-nonprod", None),
        ("xy-0146-dev", "common-nonprod", None),
        ("xy-0146-prod", "common-prod", T2),
        ("xy-0146-qa", "common-nonprod", None),
    ]
    assert tenants[3]["service"]["cluster"] == "common-prod"


def test_status_of_a_tenant_never_deployed_says_so(cli_aws, envs, capsys):
    code, out, err = status(capsys, "xy-0146-dev", "--environments", str(envs))
    assert (code, err) == (0, "")
    assert out == "\n".join([
        "xy-0146-dev  (tier common-nonprod, retain_previous 0, from %s/xy-0146-dev.env)" % envs,
        "active database: none (/xy-0146-dev/db/active is not set)",
        "databases: none",
        "service: none",
        "deploy lock: free",
        "alarms: none",
        "last pointer flips: none",
        "",
    ])


def test_status_before_the_first_flip_shows_the_in_flight_database_and_a_stale_lock(cli_aws, envs, capsys):
    create_database(cli_aws, QA, T1)
    create_database(cli_aws, QA, T2)
    hold_lock(cli_aws.client("ssm"), QA, T1, now() - datetime.timedelta(hours=2, seconds=5), ttl=3600)
    run_service(cli_aws.client("ecs"), QA, T1)
    code, out, err = status(capsys, QA, "--environments", str(envs))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1:6] == [
        "active database: none (/xy-0146-qa/db/active is not set)",
        "databases:",
        "  TIMESTAMP         ROLE       INSTANCE   STACK            REAP  WHY",
        "  20260101t000000z  in flight  available  CREATE_COMPLETE  keep  in flight",
        "  20260102t000000z  orphan     available  CREATE_COMPLETE  keep  no active database yet: nothing is retired "
        "before the first flip",
    ]
    assert lines[9:] == [
        "deploy lock: held by deployer@ci-7:4242 for 2 h 0 min (since YYYY-MM-DDTHH:MM:SSZ, ttl 1 h 0 min) to deploy "
        "20260101t000000z",
        "  stale: it is 2 h 0 min old, past its ttl of 1 h 0 min; the next deploy takes it over by itself",
        "alarms: none",
        "last pointer flips: none",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param([], "name at least one NAMESPACE (e.g. tenantstack status xy-0146-qa), or pass --all",
                     id="nothing-asked"),
        pytest.param(["--all", QA], "give NAMESPACE... or --all, not both (got --all and xy-0146-qa)", id="both"),
        pytest.param(["common-prod"], "namespace 'common-prod' is invalid: it is a shared namespace; a tenant namespace "
                     "is expected (<customer: a letter then 1-5 letters/digits>-<4-digit project>-<dev|qa|uat|stage|prod>, "
                     "e.g. xy-0146-dev)", id="shared-namespace"),
        pytest.param(["xy-0146-uat"], "env file {envs}/xy-0146-uat.env of xy-0146-uat not found; run from the repository "
                     "root, or name the directory with --environments DIR (or the file with --env-file PATH)",
                     id="no-env-file"),
    ],
)
def test_status_refuses_bad_input_naming_it(cli_aws, envs, capsys, args, message):
    code, out, err = status(capsys, *args, "--environments", str(envs))
    assert (code, out) == (2, "")
    assert err == "tenantstack status: %s\n" % message.format(envs=envs)


def test_status_help_names_the_roles_and_shows_examples(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["status", "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "active, in flight,\nreferenced, retained, orphan" in help_text
    assert "  tenantstack status --all --json" in help_text


def test_a_restore_copy_left_without_its_database_is_an_orphan_reap_retires(cli_aws, envs, capsys):
    tenant(cli_aws, QA, flips=[T1])
    rds = cli_aws.client("rds")
    source = naming.snapshot_id("xy-0146-dev", T2)
    rds.create_db_snapshot(DBSnapshotIdentifier=source, DBInstanceIdentifier=naming.db_instance_id(QA, T1))
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=source, TargetDBSnapshotIdentifier=naming.restore_snapshot_id(QA, T2),
                         Tags=[{"Key": key, "Value": value} for key, value in
                               dict(naming.tags(QA), **{naming.COPIED_FROM_TAG: source}).items()])
    code, out, err = status(capsys, QA, "--environments", str(envs))
    assert (code, err) == (0, "")
    (row,) = [line for line in out.splitlines() if line.startswith("  %s" % T2)]
    assert row.split()[:2] == [T2, "orphan"]
    assert re.split(" {2,}", row.strip())[2:5] == ["none; its restore copy xy-0146-qa-%s is left" % T2, "none", "retire"]
    code, out, err = status(capsys, QA, "--environments", str(envs), "--json")
    (document,) = json.loads(out)["tenants"]
    (copy_only,) = [d for d in document["databases"] if d["timestamp"] == T2]
    assert (copy_only["restore_copy_only"], copy_only["role"], copy_only["reap"]) == (True, "orphan", "retire")
