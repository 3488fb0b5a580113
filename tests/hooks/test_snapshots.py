import pytest

from hooks import snapshots
from hooks.errors import BadInput

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
    problems = snapshots.snapshot_problems(dict(GOOD, **changes), "xy-0146-dev")
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_fit_snapshot_has_no_problem():
    assert snapshots.snapshot_problems(GOOD, "xy-0146-dev") == []
    tagged = dict(GOOD, DBInstanceIdentifier="legacy-db", TagList=[{"Key": "Namespace", "Value": "xy-0146-dev"}])
    assert snapshots.snapshot_problems(tagged, "xy-0146-dev") == []


def test_a_missing_snapshot_names_the_snapshot_and_how_to_list_them(aws):
    with pytest.raises(BadInput) as raised:
        snapshots.describe_source_snapshot(aws.client("rds"), "xy-0146-dev", "20261101t090000z")
    message = str(raised.value)
    assert message.startswith("source snapshot xy-0146-dev-20261101t090000z not found: db_timestamp 20261101t090000z")
    assert "aws rds describe-db-snapshots" in message
