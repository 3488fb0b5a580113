"""hooks/ops/preview_run.py: one stack's preview from the engine's template and a change set; a tenant's errors.

The change sets are answered by Stubber as AWS answers (Replacement and the property behind it),
which the local endpoint never reports: tests/e2e/test_diff.py runs the rest end to end."""
import threading

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from hooks import errors
from hooks.aws.wait import Wait
from hooks.engine.deployment import CAPABILITIES, Deployment
from hooks.ops import change_sets, preview_run, preview_steps
from hooks.run import deploy
from tests.conftest import REPO_ROOT

QA = "xy-0146-qa"
ENV_FILE = REPO_ROOT / "environments" / ("%s.env" % QA)
NOW = Wait(poll_seconds=0, budget_seconds=5)


class Outputs(dict):
    """Every output of a live stack: '<stack>.<output>' (subnets: a comma-delimited pair)."""

    def __init__(self, stack_name):
        super().__init__()
        self.stack_name = stack_name

    def __contains__(self, output):
        return True

    def __getitem__(self, output):
        return "subnet-a,subnet-b" if output == "PrivateSubnetIds" else "%s.%s" % (self.stack_name, output)


class Live:
    """preview_run.LiveStacks over described stacks the test gives; any other stack exists with every output."""

    def __init__(self, **described):
        self.described = described

    def __call__(self, stack_name):
        return self.described.get(stack_name)

    def outputs(self, stack_name):
        return Outputs(stack_name)


def service_stack(status="UPDATE_COMPLETE", drift="DRIFTED"):
    return {"StackName": "%s-service" % QA, "StackStatus": status, "CreationTime": "2026-11-01T09:00:00Z",
            "Parameters": [{"ParameterKey": "DatabaseEndpointPort", "ParameterValue": "3306"}],
            "DriftInformation": {"StackDriftStatus": drift}}


def aws_change(logical_id, resource_type, replacement, name=None, recreation="Always"):
    details = [{"Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation},
                "Evaluation": "Static", "ChangeSource": "DirectModification"}] if name else []
    return {"Type": "Resource", "ResourceChange": {"Action": "Modify", "LogicalResourceId": logical_id,
                                                   "ResourceType": resource_type, "Replacement": replacement,
                                                   "Details": details}}


def stubbed_change_set(changes):
    cfn = botocore.session.get_session().create_client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(cfn)
    stubber.add_response("create_change_set", {"Id": "arn:cs", "StackId": "arn:stack"}, {
        "StackName": "%s-service" % QA, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "TemplateBody": ANY,
        "Parameters": ANY, "Tags": [{"Key": "Namespace", "Value": QA}], "Capabilities": list(CAPABILITIES),
        "Description": change_sets.DESCRIPTION})
    complete = {"ChangeSetName": "x", "StackName": "%s-service" % QA, "Status": "CREATE_COMPLETE", "Changes": changes}
    stubber.add_response("describe_change_set", complete, {"StackName": "%s-service" % QA, "ChangeSetName": ANY})
    stubber.add_response("describe_change_set", complete, {"StackName": "%s-service" % QA, "ChangeSetName": ANY})
    stubber.add_response("delete_change_set", {}, {"StackName": "%s-service" % QA, "ChangeSetName": ANY})
    return cfn, stubber


@pytest.fixture(scope="module")
def deployment():
    return Deployment(ENV_FILE, REPO_ROOT)


def test_an_aws_replacement_of_the_listener_rule_is_flagged_with_its_property(deployment):
    cfn, stubber = stubbed_change_set([
        aws_change("ListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule", "True", "ListenerArn"),
        aws_change("TaskDefinition", "AWS::ECS::TaskDefinition", "True", "ContainerDefinitions"),
        aws_change("Service", "AWS::ECS::Service", "False"),
    ])
    registry = change_sets.ChangeSets()
    with stubber:
        stack = preview_run.preview_stack(cfn, deployment, deployment.stack("service"),
                                          Live(**{"%s-service" % QA: service_stack()}), registry, NOW)
    stubber.assert_no_pending_responses()
    assert registry.open() == []
    assert (stack.result, stack.live_status, stack.drift, stack.drifted) == ("replacements", "UPDATE_COMPLETE",
                                                                             "DRIFTED", True)
    assert [(c.logical_id, c.replacement, [cause.target for cause in c.causes], c.flagged) for c in stack.changes] == [
        ("ListenerRule", "True", ["Properties.ListenerArn"], True),
        ("TaskDefinition", "True", ["Properties.ContainerDefinitions"], False),  # the normal rollout
        ("Service", "False", [], False),
    ]


@pytest.mark.parametrize("status, result, note", [
    (None, "new", None),
    ("ROLLBACK_COMPLETE", "new", "the stack is ROLLBACK_COMPLETE: a deploy creates it afresh"),
    ("REVIEW_IN_PROGRESS", "new", "the stack is REVIEW_IN_PROGRESS: a deploy creates it afresh"),
    ("UPDATE_IN_PROGRESS", "changes", "the stack is UPDATE_IN_PROGRESS: no change set can be made until it settles"),
])
def test_a_stack_that_cannot_take_a_change_set_gets_none(deployment, status, result, note):
    described = {"%s-service" % QA: service_stack(status, drift="NOT_CHECKED")} if status else {}
    stack = preview_run.preview_stack(object(), deployment, deployment.stack("service"), Live(**described),
                                      change_sets.ChangeSets(), NOW)  # object(): no AWS call at all
    assert (stack.result, stack.note) == (result, note)
    if result == "new":
        assert {change.action for change in stack.changes} == {"add"}
        assert "ListenerRule" in {change.logical_id for change in stack.changes}


# --- a tenant's preview: its errors ---------------------------------------------------------------


@pytest.mark.parametrize("raised, error, code", [
    (errors.SourceSnapshotMissing("source snapshot xy-0146-dev-20261101t090000z not found"),
     "source snapshot xy-0146-dev-20261101t090000z not found", 2),
    (errors.PreviewFailed("CloudFormation could not preview x: y"), "CloudFormation could not preview x: y", 1),
    (RuntimeError("the endpoint\nfell over"), "RuntimeError: the endpoint fell over", 1),
])
def test_a_failed_preview_is_the_tenants_error_with_its_exit_code(monkeypatch, raised, error, code):
    def plan_steps(*args):
        raise raised

    monkeypatch.setattr(preview_steps, "plan_steps", plan_steps)
    result = preview_run.preview_tenant(deploy.prepare(str(ENV_FILE)), None, change_sets.ChangeSets())
    assert (result.result, result.error, result.exit_code, result.stacks) == ("error", error, code, ())


def test_a_cancelled_fleet_stops_a_preview_before_its_next_stack(monkeypatch):
    monkeypatch.setattr(preview_steps, "plan_steps", lambda *args: [])
    cancel = threading.Event()
    cancel.set()
    result = preview_run.preview_tenant(deploy.prepare(str(ENV_FILE)), lambda service: object(),
                                        change_sets.ChangeSets(), cancel=cancel)
    assert (result.exit_code, result.error) == (130, "interrupted before stack %s-base" % QA)
