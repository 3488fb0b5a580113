import threading

import pytest

from botocore.exceptions import ClientError

from hooks.aws import clients as aws_module


@pytest.mark.parametrize(
    "raw, expected",
    [
        pytest.param("", set(), id="unset"),
        pytest.param("ssm.PutParameter", {("ssm", "PutParameter", None)}, id="operation"),
        pytest.param(
            "ssm.PutParameter@/xy-0146-qa/db/active, rds.DeleteDBInstance",
            {("ssm", "PutParameter", "/xy-0146-qa/db/active"), ("rds", "DeleteDBInstance", None)},
            id="filtered-and-plain",
        ),
    ],
)
def test_injected_faults_parse(raw, expected):
    assert aws_module.injected_faults({aws_module.FAULTS_VARIABLE: raw}) == expected


def test_injected_faults_refuse_a_malformed_entry():
    with pytest.raises(ValueError, match="'PutParameter' is not service.Operation"):
        aws_module.injected_faults({aws_module.FAULTS_VARIABLE: "PutParameter"})


def test_injected_fault_fails_only_the_matching_call(aws, monkeypatch):
    monkeypatch.setenv(aws_module.FAULTS_VARIABLE, "ssm.PutParameter@/xy-0146-qa/db/active")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    for key in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    ssm = aws_module.client("ssm")
    ssm.put_parameter(Name="/xy-0146-qa/db/other", Value="x", Type="String")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/xy-0146-qa/db/active", Value="x", Type="String")
    assert aws_module.error_code(raised.value) == "InjectedFault"
    assert aws.client("ssm").describe_parameters()["Parameters"][0]["Name"] == "/xy-0146-qa/db/other"


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
    monkeypatch.setenv(aws_module.THROTTLE_VARIABLE, "ssm.DescribeParameters*1")
    first, second = aws_module.client("ssm"), aws_module.client("ssm")
    assert first.describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 1
    assert second.describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 1  # its own first request
    assert first.describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 0
    monkeypatch.delenv(aws_module.THROTTLE_VARIABLE)
    assert aws_module.client("ssm").describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 0
