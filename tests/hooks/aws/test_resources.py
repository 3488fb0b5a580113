"""One resource by identifier (hooks/aws/resources.py): described, or None only when it is absent."""
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from hooks import naming
from hooks.aws import resources
from tests.hooks.tenant.test_inventory import NS, T1, T2, count_calls, create_instance


def test_describe_instance_names_the_instance_and_reports_a_missing_one_as_absent(aws):
    create_instance(aws.client("rds"), NS, T1)
    rds = aws.client("rds")
    calls = count_calls(rds)
    assert resources.describe_instance(rds, naming.db_instance_id(NS, T1))["DBInstanceIdentifier"] == (
        naming.db_instance_id(NS, T1))
    assert resources.describe_instance(rds, naming.db_instance_id(NS, T2)) is None
    assert resources.describe_instances(rds, [naming.db_instance_id(NS, ts) for ts in (T1, T2)]).keys() == {
        naming.db_instance_id(NS, T1)}
    assert calls == [("DescribeDBInstances", {"DBInstanceIdentifier": naming.db_instance_id(NS, ts)})
                     for ts in (T1, T2, T1, T2)]


def test_describe_instance_raises_what_is_not_a_missing_instance(aws):
    # moto enforces no IAM here: botocore's Stubber gives the AccessDenied a real account would.
    rds = aws.client("rds")
    with Stubber(rds) as stubber:
        stubber.add_client_error("describe_db_instances", "AccessDenied", "not authorized",
                                 expected_params={"DBInstanceIdentifier": naming.db_instance_id(NS, T1)})
        with pytest.raises(ClientError) as error:
            resources.describe_instance(rds, naming.db_instance_id(NS, T1))
    assert error.value.response["Error"]["Code"] == "AccessDenied"
