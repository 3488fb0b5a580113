"""Failure drills (hooks/aws/drills.py): an injected fault fails exactly the calls it names."""
import pytest
from botocore.exceptions import ClientError

from hooks.aws import clients, drills


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
    assert drills.injected_faults({drills.FAULTS_VARIABLE: raw}) == expected


def test_injected_faults_refuse_a_malformed_entry():
    with pytest.raises(ValueError, match="'PutParameter' is not service.Operation"):
        drills.injected_faults({drills.FAULTS_VARIABLE: "PutParameter"})


def test_injected_fault_fails_only_the_matching_call(aws, monkeypatch):
    monkeypatch.setenv(drills.FAULTS_VARIABLE, "ssm.PutParameter@/xy-0146-qa/db/active")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    for key in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    ssm = clients.client("ssm")
    ssm.put_parameter(Name="/xy-0146-qa/db/other", Value="x", Type="String")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/xy-0146-qa/db/active", Value="x", Type="String")
    assert clients.error_code(raised.value) == "InjectedFault"
    assert aws.client("ssm").describe_parameters()["Parameters"][0]["Name"] == "/xy-0146-qa/db/other"
