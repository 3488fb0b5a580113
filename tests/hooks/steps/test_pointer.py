import datetime

import pytest
from seed import create_dev_database

from hooks import naming
from hooks.errors import DeployFailed
from hooks.steps import pointer

NS, OLD, NEW = "xy-0146-qa", "20261101t090000z", "20261115t120000z"
NOW = datetime.datetime(2026, 11, 29, 16, 0, 0, tzinfo=datetime.timezone.utc)


def test_flip_description_is_the_audit_line():
    assert pointer.flip_description(OLD, NEW, "ci@host:1", NOW) == (
        "20261115t120000z (was 20261101t090000z) set by ci@host:1 at 2026-11-29T16:00:00Z"
    )
    assert pointer.flip_description(None, NEW, "ci@host:1", NOW).startswith(
        "20261115t120000z (was nothing: first deploy)"
    )


def test_first_flip_creates_a_tagged_pointer_and_a_second_is_a_no_op(aws):
    ssm, rds = aws.client("ssm"), aws.client("rds")
    create_dev_database(rds, NS, NEW)
    assert pointer.flip(ssm, rds, NS, NEW, "ci@host:1", NOW) == {"status": "flipped", "from": None, "to": NEW}
    name = naming.ssm_active_parameter(NS)
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == naming.tags(NS)
    assert pointer.flip(ssm, rds, NS, NEW, "ci@host:1", NOW) == {"status": "unchanged", "from": NEW, "to": NEW}
    assert len(ssm.get_parameter_history(Name=name)["Parameters"]) == 1


def test_the_pointer_never_names_a_missing_database(aws):
    ssm, rds = aws.client("ssm"), aws.client("rds")
    create_dev_database(rds, NS, OLD)
    pointer.flip(ssm, rds, NS, OLD, "ci@host:1", NOW)
    with pytest.raises(DeployFailed) as raised:
        pointer.flip(ssm, rds, NS, NEW, "ci@host:2", NOW)
    assert str(raised.value) == (
        "refusing to point /xy-0146-qa/db/active at 20261115t120000z: database "
        "xy-0146-qa-db-20261115t120000z is missing; the pointer still names 20261101t090000z"
    )
    assert ssm.get_parameter(Name=naming.ssm_active_parameter(NS))["Parameter"]["Value"] == OLD
