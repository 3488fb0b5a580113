"""hooks/tenant/drift.py: drift detection on a tenant's stacks, with Stubber (the local endpoint, moto 5.2,
implements no drift detection: its DetectStackDrift answers 500)."""
import botocore.session
import pytest
from botocore.stub import Stubber

from hooks.aws.wait import Wait
from hooks.tenant import drift

NOW = Wait(poll_seconds=0, budget_seconds=5)
BASE, DB, SERVICE = "xy-0146-qa-base", "xy-0146-qa-db-20261101t090000z", "xy-0146-qa-service"


def stubbed():
    cfn = botocore.session.get_session().create_client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return cfn, Stubber(cfn)


def started(stubber, stack, detection):
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": detection}, {"StackName": stack})


def status(stubber, stack, detection, state, drifted=None, reason=None):
    answer = {"StackId": "arn:%s" % stack, "StackDriftDetectionId": detection, "DetectionStatus": state,
              "Timestamp": "2026-12-04T10:15:00Z"}
    if drifted:
        answer["StackDriftStatus"] = drifted
    if reason:
        answer["DetectionStatusReason"] = reason
    stubber.add_response("describe_stack_drift_detection_status", answer, {"StackDriftDetectionId": detection})


def resource_drifts(stubber, stack, entries, token=None, given_token=None):
    answer = {"StackResourceDrifts": [dict(entry, StackId="arn:%s" % stack, Timestamp="2026-12-04T10:15:00Z")
                                      for entry in entries]}
    if token:
        answer["NextToken"] = token
    expected = {"StackName": stack, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
    if given_token:
        expected["NextToken"] = given_token
    stubber.add_response("describe_stack_resource_drifts", answer, expected)


RULE = {"LogicalResourceId": "ListenerRule", "ResourceType": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "StackResourceDriftStatus": "MODIFIED", "PropertyDifferences": [
            {"PropertyPath": "/Priority", "ExpectedValue": "1462", "ActualValue": "1", "DifferenceType": "NOT_EQUAL"}]}
GROUP = {"LogicalResourceId": "ServiceSecurityGroup", "ResourceType": "AWS::EC2::SecurityGroup",
         "StackResourceDriftStatus": "DELETED"}


def test_every_detection_starts_first_then_each_is_waited_for_and_what_drifted_is_read_to_the_last_page():
    cfn, stubber = stubbed()
    started(stubber, BASE, "d-base")
    started(stubber, SERVICE, "d-service")
    status(stubber, BASE, "d-base", "DETECTION_IN_PROGRESS")
    status(stubber, BASE, "d-base", "DETECTION_COMPLETE", "DRIFTED")
    resource_drifts(stubber, BASE, [GROUP])
    status(stubber, SERVICE, "d-service", "DETECTION_COMPLETE", "DRIFTED")
    resource_drifts(stubber, SERVICE, [RULE], token="more")
    resource_drifts(stubber, SERVICE, [], given_token="more")
    with stubber:
        found = drift.detect(cfn, [BASE, SERVICE], NOW)
    stubber.assert_no_pending_responses()
    assert found == [
        drift.StackDrift(BASE, "DRIFTED", "DETECTION_COMPLETE", None,
                         (drift.ResourceDrift("ServiceSecurityGroup", "AWS::EC2::SecurityGroup", "DELETED"),)),
        drift.StackDrift(SERVICE, "DRIFTED", "DETECTION_COMPLETE", None, (drift.ResourceDrift(
            "ListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule", "MODIFIED",
            ({"path": "/Priority", "type": "NOT_EQUAL", "expected": "1462", "actual": "1"},)),)),
    ]


@pytest.mark.parametrize("answers, expected", [
    pytest.param(lambda s: status(s, DB, "d", "DETECTION_COMPLETE", "IN_SYNC"),
                 drift.StackDrift(DB, "IN_SYNC", "DETECTION_COMPLETE"), id="in-sync"),
    pytest.param(lambda s: status(s, DB, "d", "DETECTION_FAILED", "UNKNOWN", reason="Failed to detect drift on "
                                  "resource Database"),
                 drift.StackDrift(DB, "UNKNOWN", "DETECTION_FAILED", "Failed to detect drift on resource Database"),
                 id="failed"),
    pytest.param(lambda s: s.add_client_error("describe_stack_drift_detection_status", "Throttling", "Rate exceeded"),
                 drift.StackDrift(DB, error="ClientError: An error occurred (Throttling) when calling the "
                                            "DescribeStackDriftDetectionStatus operation: Rate exceeded"),
                 id="unreadable"),
])
def test_each_stacks_outcome(answers, expected):
    cfn, stubber = stubbed()
    started(stubber, DB, "d")
    answers(stubber)
    with stubber:
        assert drift.detect(cfn, [DB], NOW) == [expected]


def test_a_detection_that_cannot_start_is_reported_and_the_others_still_run():
    cfn, stubber = stubbed()
    stubber.add_client_error("detect_stack_drift", "AccessDenied", "not allowed", expected_params={"StackName": BASE})
    started(stubber, SERVICE, "d-service")
    status(stubber, SERVICE, "d-service", "DETECTION_COMPLETE", "IN_SYNC")
    with stubber:
        found = drift.detect(cfn, [BASE, SERVICE], NOW)
    assert [(d.stack_name, d.status, d.error) for d in found] == [
        (BASE, None, "ClientError: An error occurred (AccessDenied) when calling the DetectStackDrift operation: "
                     "not allowed"),
        (SERVICE, "IN_SYNC", None)]


def test_the_tenants_stacks_are_its_base_databases_and_service_and_only_those_that_exist():
    assert drift.stack_names("xy-0146-qa", [DB]) == [BASE, DB, SERVICE]
    cfn, stubber = stubbed()
    stubber.add_client_error("describe_stacks", "ValidationError", "Stack with id %s does not exist" % BASE,
                             expected_params={"StackName": BASE})
    stubber.add_response("describe_stacks", {"Stacks": [{"StackName": SERVICE, "StackStatus": "UPDATE_COMPLETE",
                                                         "CreationTime": "2026-11-01T09:00:00Z"}]},
                         {"StackName": SERVICE})
    started(stubber, SERVICE, "d")
    status(stubber, SERVICE, "d", "DETECTION_COMPLETE", "IN_SYNC")
    with stubber:
        assert [d.stack_name for d in drift.tenant_drift(cfn, "xy-0146-qa", [], NOW)] == [SERVICE]
