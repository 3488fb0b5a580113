"""`tenantstack promote`: the source's data timestamp into the target's env file, one line, as a diff."""
import datetime

import pytest
from seed import seed_dev_snapshot

from hooks import cli
from hooks.config import envfile
from hooks.lock import deploy_lock
from tests.e2e.tenants import TS1, TS2, Tenants, assert_invariants
from tests.hooks.cli.commands.seeded import environments, flip, hold_lock

QA, PROD = "xy-0146-qa", "xy-0146-prod"


@pytest.fixture
def envs(tmp_path):
    return environments(tmp_path)


@pytest.fixture
def qa_on_ts2(cli_aws):
    """xy-0146-qa serves TS2, restored from the dev snapshot xy-0146-dev-TS2."""
    seed_dev_snapshot(cli_aws.client("rds"), "xy-0146-dev", TS2, kms=cli_aws.client("kms"))
    flip(cli_aws.client("ssm"), QA, TS1, TS2)
    return cli_aws


def promote(capsys, envs, *args):
    code = cli.main(["promote", *args, "--environments", str(envs)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_promote_writes_one_line_and_shows_the_diff(qa_on_ts2, envs, capsys):
    prod = envs / "xy-0146-prod.env"
    before = prod.read_bytes()
    code, out, err = promote(capsys, envs, QA, PROD)
    assert (code, err) == (0, "")
    assert out == "\n".join([
        "--- a/%s" % prod,
        "+++ b/%s" % prod,
        "@@ -3,7 +3,7 @@",
        " namespace: xy-0146-prod",
        " shared_namespace: common-prod",
        " # The data: snapshot <source_namespace>-<db_timestamp>. Promotion changes this line.",
        "-db_timestamp: 20261101t090000z",
        "+db_timestamp: 20261115t120000z",
        " hostname: xy-0146.apps.example.com",
        " listener_priority: 1465",
        " # Images pinned by digest in the project's ECR repositories; a pipeline deploy passes the",
        "promoted xy-0146-qa to xy-0146-prod: %s now sets db_timestamp 20261115t120000z (was 20261101t090000z)" % prod,
        "review and commit it; the deploy of xy-0146-prod carries it out: tenantstack deploy %s" % prod,
        "",
    ])
    assert prod.read_bytes() == before.replace(b"db_timestamp: 20261101t090000z\n", b"db_timestamp: 20261115t120000z\n")
    assert before.count(b"db_timestamp: 20261101t090000z\n") == 1
    assert promote(capsys, envs, QA, PROD) == (
        0, "%s is already at db_timestamp 20261115t120000z (xy-0146-qa's); nothing was changed\n" % prod, ""
    )


def test_promote_of_a_snapshot_the_dev_team_took(cli_aws, envs, capsys):
    seed_dev_snapshot(cli_aws.client("rds"), "xy-0146-dev", TS2, kms=cli_aws.client("kms"))
    code, out, err = promote(capsys, envs, "xy-0146-dev", QA, "--timestamp", TS2)
    assert (code, err) == (0, "")
    assert "-db_timestamp: 20261101t090000z\n+db_timestamp: 20261115t120000z\n" in out
    assert envfile.settings_of(envs / "xy-0146-qa.env")["db_timestamp"] == TS2


def test_promote_adds_the_line_to_an_env_file_without_it(qa_on_ts2, envs, capsys):
    prod = envs / "xy-0146-prod.env"
    before = prod.read_text().replace("db_timestamp: 20261101t090000z\n", "")
    prod.write_text(before)
    code, out, err = promote(capsys, envs, QA, PROD)
    assert (code, err) == (0, "")
    assert prod.read_text() == before + "db_timestamp: 20261115t120000z\n"
    assert "promoted xy-0146-qa to xy-0146-prod: %s now sets db_timestamp 20261115t120000z (was not set)\n" % prod in out


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(["xy-0146-dev", QA], "xy-0146-dev has no active database (/xy-0146-dev/db/active is not set), so "
                     "there is nothing to promote; deploy it first, or promote a snapshot with --timestamp; nothing "
                     "was changed", id="no-active-database"),
        pytest.param(["ab-0212-qa", PROD], "xy-0146-prod restores from snapshots of xy-0146-dev (its source_namespace), "
                     "but ab-0212-qa serves data from snapshots of ab-0212-dev: every environment restores only from "
                     "its own project's dev namespace; promote to xy-0146-prod from a namespace of project xy-0146; "
                     "nothing was changed", id="other-project"),
        pytest.param([PROD, PROD], "promote copies data between two namespaces; xy-0146-prod was given as both FROM "
                     "and TO", id="same-namespace"),
        pytest.param([QA, PROD, "--timestamp", TS2], "--timestamp names a snapshot of xy-0146-qa, but only snapshots of "
                     "xy-0146-dev (the project's dev namespace) are promoted; without --timestamp, xy-0146-qa's active "
                     "timestamp is promoted; nothing was changed", id="timestamp-of-a-non-dev-namespace"),
        pytest.param(["xy-0146-dev", PROD, "--timestamp", "20261115"], "--timestamp '20261115' is invalid: expected "
                     "YYYYMMDDtHHMMSSz in UTC, lower case, e.g. 20260115t103000z", id="bad-timestamp"),
        pytest.param(["xy-0146-dev", PROD, "--timestamp", "20261120t080000z"], "source snapshot "
                     "xy-0146-dev-20261120t080000z not found: db_timestamp 20261120t080000z names the snapshot "
                     "xy-0146-dev takes as <namespace>-<timestamp>; check the timestamp, or list the snapshots with "
                     "`aws rds describe-db-snapshots --snapshot-type manual --query "
                     "'DBSnapshots[].DBSnapshotIdentifier'`", id="missing-snapshot"),
        pytest.param([QA, "xy-0146-uat"], "env file {envs}/xy-0146-uat.env of xy-0146-uat not found; run from the "
                     "repository root, or name the directory with --environments DIR (or the file with --env-file "
                     "PATH)", id="no-target-env-file"),
    ],
)
def test_promote_refuses_and_writes_nothing(qa_on_ts2, envs, capsys, args, message):
    before = {path.name: path.read_bytes() for path in envs.iterdir()}
    assert promote(capsys, envs, *args) == (2, "", "tenantstack promote: %s\n" % message.format(envs=envs))
    assert {path.name: path.read_bytes() for path in envs.iterdir()} == before


def test_promote_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["promote", "--help"])
    assert exited.value.code == 0
    assert "  tenantstack promote xy-0146-qa xy-0146-prod --deploy" in capsys.readouterr().out


# --- with --deploy: the real stacker CLI (hooks/run/deploy.py) ---------------------------------------


@pytest.mark.e2e
def test_promote_deploy_carries_the_change_out_and_a_retry_after_a_held_lock_deploys(cli_aws, envs, capsys):
    tenants = Tenants(cli_aws.endpoint)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS2)
    held = hold_lock(cli_aws.client("ssm"), QA, TS1, datetime.datetime.now(datetime.timezone.utc))

    code, out, err = promote(capsys, envs, "xy-0146-dev", QA, "--timestamp", TS2, "--deploy")
    assert code == 3
    assert "+db_timestamp: 20261115t120000z\n" in out  # the change is written before the deploy
    assert "tenantstack promote: LockHeld: namespace xy-0146-qa is locked by another deploy: deployer@ci-7:4242" in err
    assert tenants.state(QA).instances == {}

    deploy_lock.force_unlock(cli_aws.client("ssm"), QA, held.holder)
    code, out, err = promote(capsys, envs, "xy-0146-dev", QA, "--timestamp", TS2, "--deploy")
    assert code == 0, err[-3000:]
    assert out == (
        "%s/xy-0146-qa.env is already at db_timestamp 20261115t120000z (xy-0146-dev's); nothing was changed\n"
        "deployed xy-0146-qa with db_timestamp 20261115t120000z\n" % envs
    )
    assert_invariants(tenants.state(QA), TS2)
