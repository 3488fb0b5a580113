"""`tenantstack rollback`: back to a retained database without a restore, or a refusal with the ways back."""
import json
import re
import shlex

import pytest

from hooks import cli, naming
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants, assert_retired_with_final_snapshot
from tests.hooks.cli.commands.seeded import environments, tenant
from tests.hooks.tenant.test_inventory import T1, T2, T3

QA = "xy-0146-qa"


def rollback(capsys, envs, *args):
    code = cli.main(["rollback", QA, "--environments", str(envs), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- refusals: state made through the API -------------------------------------------------------


@pytest.fixture
def envs(tmp_path):
    """The env files, xy-0146-qa's promoted to TS2 and keeping one previous database."""
    return environments(tmp_path, **{QA: {"retain_previous": 1, "db_timestamp": TS2}})


def test_rollback_to_a_timestamp_it_cannot_go_back_to_changes_nothing(cli_aws, envs, capsys):
    tenant(cli_aws, QA, flips=[T1, T2, T3], leftovers=[])
    before = cli_aws.client("ssm").get_parameter(Name=naming.ssm_active_parameter(QA))["Parameter"]["Version"]
    assert rollback(capsys, envs, "--to", "20260104t000000z") == (2, "", (
        "tenantstack rollback: cannot roll xy-0146-qa back to 20260104t000000z: the pointer never named it (never "
        "active). It can roll back to: 20260102t000000z, 20260101t000000z; nothing was changed\n"
    ))
    assert cli_aws.client("ssm").get_parameter(Name=naming.ssm_active_parameter(QA))["Parameter"]["Version"] == before


def test_rollback_of_a_tenant_never_deployed(cli_aws, envs, capsys):
    assert rollback(capsys, envs) == (2, "", (
        "tenantstack rollback: xy-0146-qa has no active database (/xy-0146-qa/db/active is not set): there is nothing "
        "to roll back from; nothing was changed\n"
    ))


def test_rollback_refuses_a_bad_timestamp_before_any_call(envs, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: any call would fail
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    code, out, err = rollback(capsys, envs, "--to", "yesterday")
    assert (code, out) == (2, "")
    assert err.startswith("tenantstack rollback: --to 'yesterday' is invalid: expected YYYYMMDDtHHMMSSz")


def test_rollback_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["rollback", "--help"])
    assert exited.value.code == 0
    assert "  tenantstack rollback xy-0146-prod --to 20261101t090000z" in capsys.readouterr().out


# --- the real pipeline (stacker through hooks/run/deploy.py) -----------------------------------------


@pytest.fixture
def promoted_twice(cli_aws):
    """common-nonprod built; xy-0146-qa deployed on TS1, then TS2 (retain_previous 1: TS1 kept)."""
    tenants = Tenants(cli_aws.endpoint)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    tenants.snapshot("xy-0146-dev", TS2)
    tenants.deploy(QA, TS1, retain_previous=1)
    restored_as_aws_does(cli_aws.client("rds"), QA, TS1)
    tenants.deploy(QA, TS2, retain_previous=1)
    assert_invariants(tenants.state(QA), TS2, retained=[TS1])
    return tenants


@pytest.mark.e2e
def test_rollback_redeploys_the_retained_database_without_a_restore(promoted_twice, cli_aws, envs, capsys):
    cfn = cli_aws.client("cloudformation")
    created = cfn.describe_stacks(StackName=naming.db_stack_name(QA, TS1))["Stacks"][0]["CreationTime"]
    # The dev team has deleted the snapshot TS1 came from: the retained database is the source now.
    cli_aws.client("rds").delete_db_snapshot(DBSnapshotIdentifier=naming.snapshot_id("xy-0146-dev", TS1))
    code, out, err = rollback(capsys, envs)
    assert code == 0, err[-4000:]
    assert err.startswith("rolling xy-0146-qa back from %s to %s (its database exists: nothing is restored)\n"
                          % (TS2, TS1))
    assert out == (
        "rolled xy-0146-qa back from %s to %s\n"
        "%s/xy-0146-qa.env still sets db_timestamp %s: change it to %s (a one-line change), or the next deploy from "
        "it moves xy-0146-qa forward again\n" % (TS2, TS1, envs, TS2, TS1)
    )
    state = promoted_twice.state(QA)
    assert_invariants(state, TS1, retained=[TS2])  # pointer, service task definition, databases, lock
    assert state.final_snapshots == {}
    assert cfn.describe_stacks(StackName=naming.db_stack_name(QA, TS1))["Stacks"][0]["CreationTime"] == created
    history = cli_aws.client("ssm").get_parameter_history(Name=naming.ssm_active_parameter(QA))["Parameters"]
    assert [version["Value"] for version in history] == [TS1, TS2, TS1]

    # status tells the same from the deployed state: TS2 is now the database to roll back to.
    assert cli.main(["status", QA, "--environments", str(envs), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["tenants"][0]
    assert [(db["timestamp"], db["role"], db["reap"]) for db in shown["databases"]] == [
        (TS1, "active", "keep"), (TS2, "retained", "keep"),
    ]
    assert (shown["service"]["state"], shown["lock"]) == ("stable", None)
    assert [(flip["from"], flip["to"]) for flip in shown["recent_flips"]] == [(None, TS1), (TS1, TS2), (TS2, TS1)]
    assert all(re.match(r"^\S+@\S+:\d+$", flip["by"]) for flip in shown["recent_flips"])  # user@host:pid


@pytest.fixture
def replaced(cli_aws):
    """common-nonprod built; xy-0146-qa deployed on TS1, then TS2 (retain_previous 0: TS1 retired)."""
    tenants = Tenants(cli_aws.endpoint)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    tenants.snapshot("xy-0146-dev", TS2)
    tenants.deploy(QA, TS1)
    restored_as_aws_does(cli_aws.client("rds"), QA, TS1)
    tenants.deploy(QA, TS2)
    state = tenants.state(QA)
    assert_invariants(state, TS2)
    assert_retired_with_final_snapshot(state, TS1)
    return tenants


def restored_as_aws_does(rds, namespace, timestamp):
    """Replace the deployed database by a restore of its source snapshot, as AWS's stack makes it.

    The endpoint's CloudFormation ignores DBSnapshotIdentifier (docs/architecture.md, "The local endpoint"): it
    creates the database afresh, with its default engine (MySQL 5.6) and no master user,
    where AWS restores the snapshot: MySQL 8, its master user, its encryption. The database's
    final snapshot, which the rollback's commands restore, must hold what AWS's would (the
    source snapshot check wants MySQL 8, the secret hook the master user). Same identifier,
    so its stack, registration and service still name it.
    """
    instance_id = naming.db_instance_id(namespace, timestamp)
    rds.modify_db_instance(DBInstanceIdentifier=instance_id, DeletionProtection=False, ApplyImmediately=True)
    rds.delete_db_instance(DBInstanceIdentifier=instance_id, SkipFinalSnapshot=True)  # created a moment ago: no data
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier=instance_id,
        DBSnapshotIdentifier=naming.restores_from(namespace, "xy-0146-dev", timestamp),  # what its stack names
        DeletionProtection=True,
        CopyTagsToSnapshot=True,
        Tags=[{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()],
    )


def commands_in(message, prefix):
    """The argument lists (program name dropped) of the message's command lines starting with `prefix`."""
    return [shlex.split(line)[1:] for line in message.splitlines() if line.strip().startswith(prefix + " ")]


AWS_RDS_CALLS = {
    ("rds", "copy-db-snapshot"): lambda rds, args: rds.copy_db_snapshot(
        SourceDBSnapshotIdentifier=args["--source-db-snapshot-identifier"],
        TargetDBSnapshotIdentifier=args["--target-db-snapshot-identifier"],
        KmsKeyId=args["--kms-key-id"],
        Tags=[dict(part.split("=", 1) for part in tag.split(",")) for tag in args["--tags"]],
    ),
    ("rds", "wait"): lambda rds, args: rds.get_waiter("db_snapshot_available").wait(
        DBSnapshotIdentifier=args["--db-snapshot-identifier"], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    ),
}


def run_aws(rds, argv):
    """One `aws rds ...` command line of the message, as the same API call (the CLI is no test dependency)."""
    service, operation, rest = argv[0], argv[1], argv[2:]
    if operation == "wait":
        rest = rest[1:]  # the waiter's name: db-snapshot-available
    args, option = {}, None
    for word in rest:
        if word.startswith("--"):
            option = word
            args[option] = None
        elif args[option] is None:
            args[option] = word
        else:  # a list option (--tags): every value up to the next option
            args[option] = (args[option] if isinstance(args[option], list) else [args[option]]) + [word]
    if isinstance(args.get("--tags"), str):
        args["--tags"] = [args["--tags"]]
    AWS_RDS_CALLS[(service, operation)](rds, args)


@pytest.mark.e2e
def test_without_a_retained_database_rollback_refuses_and_its_commands_bring_the_data_back(
    replaced, cli_aws, tmp_path, capsys
):
    envs = environments(tmp_path)
    code, out, err = rollback(capsys, envs)
    assert (code, out) == (2, "")
    lines = err.splitlines()
    final = replaced.state(QA).final_snapshots[TS1][0]
    assert lines[:5] == [
        "tenantstack rollback: xy-0146-qa has no previous database to roll back to (retain_previous is 0 in "
        "%s/xy-0146-qa.env; active: %s); nothing was changed." % (envs, TS2),
        "Final snapshots of its previous databases, newest first:",
        "  %s  %s" % (TS1, final),
        "To bring back the data of %s, the database before the active one:" % TS1,
        "  as it was promoted (its source snapshot xy-0146-dev-%s exists):" % TS1,
    ]
    copy_command, wait_command = commands_in(err, "aws rds")
    from_source, from_final = commands_in(err, "tenantstack deploy")
    restored_as = from_final[-1].split("=", 1)[1]

    # As it was retired: copy its final snapshot as the tenant's own, deploy that.
    rds = cli_aws.client("rds")
    run_aws(rds, copy_command)
    run_aws(rds, wait_command)
    assert cli.main(from_final) == 0, capsys.readouterr().err[-4000:]
    state = replaced.state(QA)
    assert_invariants(state, restored_as, copied_from={restored_as: final})  # the copy: a restore copy
    assert_retired_with_final_snapshot(state, TS1, TS2)
    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=naming.snapshot_id(QA, restored_as))["DBSnapshots"][0]
    assert snapshot["DBInstanceIdentifier"] == naming.db_instance_id(QA, TS1)  # the retired database's data

    # As it was promoted: the dev snapshot, restored afresh under its own timestamp.
    assert cli.main(from_source) == 0, capsys.readouterr().err[-4000:]
    assert from_source == ["deploy", "%s/xy-0146-qa.env" % envs, "-e", "db_timestamp=%s" % TS1]
    state = replaced.state(QA)
    assert_invariants(state, TS1)
    assert_retired_with_final_snapshot(state, TS2, restored_as)
    # The rollback's copy was a restore copy like the pipeline's: retired with its database, its origin kept.
    kept = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    assert naming.snapshot_id(QA, restored_as) not in kept and final in kept
