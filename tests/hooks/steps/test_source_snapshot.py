import types

import pytest
from seed import create_dev_database, snapshot_database

from hooks.config import envfile
from hooks.errors import BadInput
from hooks.steps import source_snapshot
from tests.conftest import REPO_ROOT
from tests.hooks.tenant.test_inventory import Clients, create_database

GOOD = {
    "DBSnapshotIdentifier": "xy-0146-dev-20261101t090000z",
    "DBInstanceIdentifier": "xy-0146-dev-db-20261001t080000z",
    "Status": "available",
    "Engine": "mysql",
    "EngineVersion": "8.0.39",
    "Encrypted": True,
    "TagList": [],
}


@pytest.mark.parametrize(
    "changes, problem",
    [
        pytest.param({"Status": "creating"}, "it is 'creating', not 'available'", id="not-available"),
        pytest.param({"Engine": "postgres"}, "its engine is 'postgres'; tenant databases are mysql", id="engine"),
        pytest.param({"EngineVersion": "5.7.44"}, "its engine version is '5.7.44'; tenant databases run MySQL 8", id="mysql-5"),
        pytest.param({"Encrypted": False}, "it is not encrypted; copy it with a KMS key first", id="unencrypted"),
        pytest.param(
            {"DBInstanceIdentifier": "ab-0212-dev-db-20261001t080000z"},
            "it holds data of ab-0212-dev, not of xy-0146-dev",
            id="other-namespace",
        ),
        pytest.param(
            {"DBInstanceIdentifier": "legacy-db", "TagList": [{"Key": "Namespace", "Value": "ab-0212-dev"}]},
            "it holds data of ab-0212-dev, not of xy-0146-dev",
            id="other-namespace-by-tag",
        ),
        pytest.param(
            {"DBInstanceIdentifier": "legacy-db"},
            "nothing shows it belongs to xy-0146-dev: its DB instance 'legacy-db' does not follow",
            id="no-evidence",
        ),
    ],
)
def test_snapshot_problems_name_what_is_wrong(changes, problem):
    problems = source_snapshot.snapshot_problems(dict(GOOD, **changes), "xy-0146-dev")
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_fit_snapshot_has_no_problem():
    assert source_snapshot.snapshot_problems(GOOD, "xy-0146-dev") == []
    tagged = dict(GOOD, DBInstanceIdentifier="legacy-db", TagList=[{"Key": "Namespace", "Value": "xy-0146-dev"}])
    assert source_snapshot.snapshot_problems(tagged, "xy-0146-dev") == []


def test_a_missing_snapshot_names_the_snapshot_and_how_to_list_them(aws):
    with pytest.raises(BadInput) as raised:
        source_snapshot.describe_source_snapshot(aws.client("rds"), "xy-0146-dev", "20261101t090000z")
    message = str(raised.value)
    assert message.startswith("source snapshot xy-0146-dev-20261101t090000z not found: db_timestamp 20261101t090000z")
    assert "aws rds describe-db-snapshots" in message



# --- redeploying a database the namespace still has (a rollback) --------------------------------

QA, TS = "xy-0146-qa", "20261101t090000z"


@pytest.fixture
def endpoint_hook(aws, monkeypatch):
    """(clients, context, provider) for calling the hook against the endpoint for xy-0146-qa at TS."""
    for key in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    text = (REPO_ROOT / "environments" / "xy-0146-qa.env").read_text()
    context = types.SimpleNamespace(environment=dict(envfile.parse(text), db_timestamp=TS))
    return Clients(aws), context, types.SimpleNamespace(region=aws.region)


def restore_source(clients):
    return source_snapshot.describe_restore_source(clients.client("rds"), clients.client("ssm"), QA, "xy-0146-dev", TS)


def test_without_the_source_snapshot_a_registered_existing_database_is_the_restore_source(endpoint_hook):
    clients, context, provider = endpoint_hook
    create_database(clients, QA, TS)  # instance, stack and registration, as a deploy leaves them
    found = restore_source(clients)
    assert (found["DBInstanceIdentifier"], found["MasterUsername"]) == ("xy-0146-qa-db-%s" % TS, "dbadmin")
    assert source_snapshot.check_source_snapshot(context, provider) == {
        "status": "database exists", "snapshot": None, "database": "xy-0146-qa-db-%s" % TS, "master_username": "dbadmin",
    }


@pytest.mark.parametrize(
    "instance, registered",
    [
        pytest.param(True, False, id="leftover-instance-never-registered"),
        pytest.param(False, True, id="registration-without-instance"),
        pytest.param(False, False, id="nothing"),
    ],
)
def test_without_the_source_snapshot_anything_less_is_refused(endpoint_hook, instance, registered):
    clients, context, provider = endpoint_hook
    if instance or registered:
        create_database(clients, QA, TS, instance=instance, stack=False, registered=registered)
    with pytest.raises(source_snapshot.SourceSnapshotMissing, match="^source snapshot xy-0146-dev-%s not found" % TS):
        restore_source(clients)
    with pytest.raises(source_snapshot.SourceSnapshotMissing, match="^source snapshot xy-0146-dev-%s not found" % TS):
        source_snapshot.check_source_snapshot(context, provider)


def test_an_unfit_source_snapshot_is_refused_even_when_the_database_exists(endpoint_hook):
    clients, _, _ = endpoint_hook
    create_database(clients, QA, TS)
    rds = clients.client("rds")
    snapshot_database(rds, create_dev_database(rds, "ab-0212-dev", "20261001t080000z"), "xy-0146-dev", TS)
    with pytest.raises(BadInput, match="it holds data of ab-0212-dev, not of xy-0146-dev"):
        restore_source(clients)
