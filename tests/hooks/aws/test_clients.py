import threading

import pytest
from botocore.exceptions import ClientError

from hooks.aws import clients as aws_module
from hooks.aws import drills, endpoint_quirks

# --- one boto3 session per thread and AWS environment ----------------------------------------


@pytest.fixture
def aws_environment(aws, monkeypatch):
    """This process's AWS environment pointed at the local endpoint, as the CLI sees it."""
    for key, value in aws.env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    return aws


def test_the_fingerprint_covers_the_aws_variables_only():
    base = {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "HOME": "/root"}
    fingerprint = aws_module.environment_fingerprint(base)
    assert aws_module.environment_fingerprint(dict(base, HOME="/tmp", PATH="/bin")) == fingerprint
    assert aws_module.environment_fingerprint(dict(reversed(list(base.items())))) == fingerprint
    for changed in ({"AWS_ENDPOINT_URL": "http://127.0.0.1:2"}, {"AWS_PROFILE": "prod"},
                    {"AWS_SECRET_ACCESS_KEY": "other"}):
        assert aws_module.environment_fingerprint(dict(base, **changed)) != fingerprint, changed


def test_a_thread_reuses_its_session_while_the_environment_stays(aws_environment):
    first = aws_module.session()
    ssm, rds = aws_module.client("ssm"), aws_module.client("rds")
    assert aws_module.session() is first
    assert ssm is not aws_module.client("ssm")  # clients are not cached: each carries its own drills
    assert (ssm.meta.endpoint_url, rds.meta.endpoint_url) == (aws_environment.url, aws_environment.url)


def test_a_changed_aws_endpoint_gets_a_new_session(aws_environment, monkeypatch):
    before = aws_module.session()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    after = aws_module.session()
    assert after is not before
    assert aws_module.client("ssm").meta.endpoint_url == "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_environment.url)
    assert aws_module.session() is not after
    assert aws_module.client("ssm").meta.endpoint_url == aws_environment.url


def test_each_thread_has_a_session_of_its_own(aws_environment):
    sessions, barrier = {}, threading.Barrier(2)

    def make(name):
        sessions[name] = (aws_module.session(), aws_module.session())
        barrier.wait(10)  # both threads (and their sessions) are alive at once

    threads = [threading.Thread(target=make, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    (a, a_again), (b, b_again) = sessions["a"], sessions["b"]
    assert a is a_again and b is b_again
    assert len({id(a), id(b), id(aws_module.session())}) == 3


def test_the_drills_stay_per_client_with_a_shared_session(aws_environment, monkeypatch):
    monkeypatch.setenv(drills.THROTTLE_VARIABLE, "ssm.DescribeParameters*1")
    first, second = aws_module.client("ssm"), aws_module.client("ssm")
    assert first.describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 1
    assert second.describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 1  # its own first request
    assert first.describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 0
    monkeypatch.delenv(drills.THROTTLE_VARIABLE)
    assert aws_module.client("ssm").describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 0


def test_or_none_answers_none_only_for_the_named_absence(aws_environment):
    rds = aws_module.client("rds")
    assert aws_module.or_none(rds.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier="xy-0146-qa-db-x") is None
    with pytest.raises(ClientError) as raised:  # another code is not an absence: it propagates
        aws_module.or_none(rds.describe_db_instances, ("DBSnapshotNotFound",), DBInstanceIdentifier="xy-0146-qa-db-x")
    assert aws_module.error_code(raised.value) == "DBInstanceNotFound"


def test_clients_are_made_once_per_service(aws_environment):
    clients = aws_module.Clients()
    assert clients("ssm") is clients("ssm")
    assert clients("ssm") is not clients("rds")


def test_cloudwatch_speaks_the_query_protocol_to_the_local_endpoint(aws_environment, monkeypatch):
    # botocore 1.37+ prefers CloudWatch's JSON/CBOR protocols, which moto 5.2 does not answer.
    monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    cloudwatch = aws_module.client("cloudwatch")
    assert cloudwatch.meta.service_model.protocol == "query"
    assert cloudwatch.describe_alarms(AlarmNamePrefix="xy-0146-qa-")["MetricAlarms"] == []


def test_the_local_endpoint_switch_is_part_of_the_fingerprint():
    base = {"AWS_DEFAULT_REGION": "eu-west-1"}
    switched = dict(base, **{endpoint_quirks.SWITCH: endpoint_quirks.SWITCH_VALUE})
    assert aws_module.environment_fingerprint(switched) != aws_module.environment_fingerprint(base)
