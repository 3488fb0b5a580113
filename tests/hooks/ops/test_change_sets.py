"""hooks/ops/change_sets.py: a preview's change set is created, read to its last page and ALWAYS deleted.

Stubber answers as AWS does (asynchronous creation, a FAILED change set for "no changes", pages,
refusing to delete a change set still being created); the local endpoint's way (a
ValidationError at once for "no changes") is tested end to end in tests/e2e/test_diff.py."""
import os
import signal

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from hooks.aws.wait import Wait
from hooks.errors import PreviewFailed
from hooks.ops import change_sets

STACK, NAME = "xy-0146-qa-service", "tenantstack-preview-20261204t101500z-0a1b2c3d"
NOW = Wait(poll_seconds=0, budget_seconds=5)
PARAMETERS = [{"ParameterKey": "DesiredCount", "ParameterValue": "2"}]
TAGS = {"Namespace": "xy-0146-qa"}
CAPABILITIES = ("CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/%s/1" % NAME
STACK_ARN = "arn:aws:cloudformation:us-east-1:123456789012:stack/%s/1" % STACK
MODIFY = {"Type": "Resource", "ResourceChange": {"Action": "Modify", "LogicalResourceId": "Service",
                                                 "ResourceType": "AWS::ECS::Service", "Replacement": "False"}}
ADD = {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "Alarm",
                                              "ResourceType": "AWS::CloudWatch::Alarm"}}
BY_NAME = {"StackName": STACK, "ChangeSetName": NAME}


def described(status, changes=(), token=None, reason=None):
    answer = {"ChangeSetName": NAME, "ChangeSetId": ARN, "StackName": STACK, "StackId": STACK_ARN, "Status": status,
              "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
              "Changes": list(changes)}
    if token:
        answer["NextToken"] = token
    if reason:
        answer["StatusReason"] = reason
    return answer


def stubbed():
    cfn = botocore.session.get_session().create_client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return cfn, Stubber(cfn)


def expect_create(stubber):
    stubber.add_response("create_change_set", {"Id": ARN, "StackId": STACK_ARN}, {
        "StackName": STACK, "ChangeSetName": NAME, "ChangeSetType": "UPDATE", "TemplateBody": "{}",
        "Parameters": PARAMETERS, "Tags": [{"Key": "Namespace", "Value": "xy-0146-qa"}],
        "Capabilities": list(CAPABILITIES), "Description": change_sets.DESCRIPTION})


def expect_delete(stubber, status="CREATE_COMPLETE"):
    stubber.add_response("describe_change_set", described(status), BY_NAME)
    stubber.add_response("delete_change_set", {}, BY_NAME)


def preview(cfn, registry=None):
    return change_sets.preview_update(cfn, STACK, "{}", PARAMETERS, TAGS, CAPABILITIES,
                                      registry or change_sets.ChangeSets(), NOW, NAME)


def test_a_change_set_is_waited_for_read_to_its_last_page_and_deleted():
    cfn, stubber = stubbed()
    expect_create(stubber)
    stubber.add_response("describe_change_set", described("CREATE_PENDING"), BY_NAME)
    stubber.add_response("describe_change_set", described("CREATE_IN_PROGRESS"), BY_NAME)
    stubber.add_response("describe_change_set", described("CREATE_COMPLETE", [MODIFY], token="page-2"), BY_NAME)
    stubber.add_response("describe_change_set", described("CREATE_COMPLETE", [ADD]), dict(BY_NAME, NextToken="page-2"))
    expect_delete(stubber)
    registry = change_sets.ChangeSets()
    with stubber:
        assert preview(cfn, registry) == ([MODIFY, ADD], None)
    stubber.assert_no_pending_responses()
    assert registry.open() == []


@pytest.mark.parametrize("reason", [
    "The submitted information didn't contain changes. Submit different information to create a change set.",
    "No updates are to be performed.",
])
def test_a_failed_change_set_that_holds_no_change_means_unchanged_and_is_deleted_too(reason):
    cfn, stubber = stubbed()
    expect_create(stubber)
    stubber.add_response("describe_change_set", described("FAILED", reason=reason), BY_NAME)
    stubber.add_response("describe_change_set", described("FAILED", reason=reason), BY_NAME)
    stubber.add_response("delete_change_set", {}, BY_NAME)
    with stubber:
        assert preview(cfn) == ([], None)
    stubber.assert_no_pending_responses()


def test_a_change_set_without_resource_changes_says_so():
    cfn, stubber = stubbed()
    expect_create(stubber)
    stubber.add_response("describe_change_set", described("CREATE_COMPLETE"), BY_NAME)
    expect_delete(stubber)
    with stubber:
        assert preview(cfn) == ([], "the update changes no resource (parameters, tags or outputs only)")


def test_a_change_set_cloudformation_cannot_make_fails_the_preview_and_is_deleted():
    cfn, stubber = stubbed()
    expect_create(stubber)
    reason = "Parameter validation failed: parameter value sg-9 for parameter name ServiceSecurityGroupId does not exist"
    stubber.add_response("describe_change_set", described("FAILED", reason=reason), BY_NAME)
    stubber.add_response("describe_change_set", described("FAILED", reason=reason), BY_NAME)
    stubber.add_response("delete_change_set", {}, BY_NAME)
    with stubber, pytest.raises(PreviewFailed) as failed:
        preview(cfn)
    assert str(failed.value) == "CloudFormation could not preview %s: %s" % (STACK, reason)
    stubber.assert_no_pending_responses()


def test_the_endpoints_immediate_refusal_means_unchanged_and_nothing_is_left_to_delete():
    cfn, stubber = stubbed()
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.")
    stubber.add_client_error("describe_change_set", "ChangeSetNotFound", "ChangeSet %s does not exist" % NAME)
    with stubber:
        assert preview(cfn) == ([], None)
    stubber.assert_no_pending_responses()


def test_a_refused_create_propagates_and_still_looks_for_a_change_set_to_delete():
    cfn, stubber = stubbed()
    stubber.add_client_error("create_change_set", "InsufficientCapabilitiesException", "Requires capabilities")
    stubber.add_client_error("describe_change_set", "ChangeSetNotFound", "ChangeSet %s does not exist" % NAME)
    with stubber, pytest.raises(ClientError):
        preview(cfn)
    stubber.assert_no_pending_responses()


def test_ctrl_c_between_create_and_describe_still_deletes_the_change_set():
    cfn, stubber = stubbed()
    expect_create(stubber)
    stubber.add_response("describe_change_set", described("CREATE_IN_PROGRESS"), BY_NAME)  # waited for,
    expect_delete(stubber)  # then deleted
    cfn.meta.events.register("after-call.cloudformation.CreateChangeSet", interrupt)
    registry = change_sets.ChangeSets()
    with stubber, pytest.raises(KeyboardInterrupt):
        change_sets.preview_update(cfn, STACK, "{}", PARAMETERS, TAGS, CAPABILITIES, registry, NOW, NAME)
    stubber.assert_no_pending_responses()
    assert registry.open() == []


def interrupt(**kwargs):
    raise KeyboardInterrupt


def test_a_change_set_being_created_is_deleted_once_aws_lets_it():
    cfn, stubber = stubbed()
    stubber.add_response("describe_change_set", described("CREATE_COMPLETE"), BY_NAME)
    stubber.add_client_error("delete_change_set", "InvalidChangeSetStatus", "Cannot delete ChangeSet in status "
                                                                              "CREATE_IN_PROGRESS")
    stubber.add_response("describe_change_set", described("CREATE_COMPLETE"), BY_NAME)
    stubber.add_response("delete_change_set", {}, BY_NAME)
    with stubber:
        assert change_sets.delete_change_set(cfn, STACK, NAME, NOW) is True
    stubber.assert_no_pending_responses()


def test_the_registry_deletes_what_is_left_and_reports_what_it_could_not():
    cfn, stubber = stubbed()
    registry = change_sets.ChangeSets()
    registry.add(cfn, STACK, NAME)
    registry.add(cfn, "xy-0146-qa-base", "other")
    expect_delete(stubber)
    stubber.add_client_error("describe_change_set", "AccessDenied", "no", expected_params={
        "StackName": "xy-0146-qa-base", "ChangeSetName": "other"})
    with stubber:
        assert registry.delete_all(NOW) == [("xy-0146-qa-base", "other")]
    assert registry.open() == [("xy-0146-qa-base", "other")]


def test_a_change_set_name_says_what_made_it_and_follows_cloudformations_rule():
    import datetime
    import re

    name = change_sets.change_set_name(datetime.datetime(2026, 12, 4, 10, 15, tzinfo=datetime.timezone.utc))
    assert re.match(r"^tenantstack-preview-20261204t101500z-[0-9a-f]{8}$", name)
    assert re.match(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$", name)


# --- signals -------------------------------------------------------------------------------------


def test_sigterm_interrupts_the_preview_like_ctrl_c():
    previous, reached = signal.getsignal(signal.SIGTERM), []
    with pytest.raises(KeyboardInterrupt), change_sets.sigterm_interrupts():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs between two bytecodes
            reached.append(1)
    assert len(reached) < 1000
    assert signal.getsignal(signal.SIGTERM) is previous


def test_ctrl_c_during_a_clean_up_waits_for_its_end():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with change_sets.deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("the clean-up went on")
    assert done == ["the clean-up went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_signal_no_interrupt():
    with change_sets.deferred_signals():
        pass

