"""hooks/ops/preview.py: reading CloudFormation's changes, the safety rule, results and allowances (pure).

The Changes entries are shaped as AWS's DescribeChangeSet gives them (the local endpoint reports
neither Replacement nor Details: tests/e2e/test_diff.py)."""
import pytest

from hooks.errors import BadInput
from hooks.ops import preview
from hooks.ops.preview import Cause, ResourceChange, StackPreview, Step, TenantPreview


def aws_change(logical_id, resource_type, action="Modify", replacement=None, details=()):
    change = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource_type}
    if replacement is not None:
        change.update(Replacement=replacement, Details=list(details), PhysicalResourceId="physical-" + logical_id)
    return {"Type": "Resource", "ResourceChange": change}


def detail(name, recreation, source="DirectModification", entity=None, attribute="Properties"):
    target = {"Attribute": attribute, "RequiresRecreation": recreation}
    if name:
        target["Name"] = name
    found = {"Target": target, "Evaluation": "Static", "ChangeSource": source}
    if entity:
        found["CausingEntity"] = entity
    return found


@pytest.mark.parametrize("entry, expected", [
    pytest.param(aws_change("ServiceSecurityGroup", "AWS::EC2::SecurityGroup", replacement="True",
                            details=[detail("GroupDescription", "Always"), detail("Tags", "Never")]),
                 ResourceChange("ServiceSecurityGroup", "AWS::EC2::SecurityGroup", "modify", "True",
                                (Cause("Properties.GroupDescription", "Always", "DirectModification"),),
                                "physical-ServiceSecurityGroup"), id="replaced-by-a-property"),
    pytest.param(aws_change("ListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule", replacement="Conditional",
                            details=[detail("ListenerArn", "Conditionally", "ParameterReference", "HttpsListenerArn")]),
                 ResourceChange("ListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule", "modify", "Conditional",
                                (Cause("Properties.ListenerArn", "Conditionally", "ParameterReference",
                                       "HttpsListenerArn"),), "physical-ListenerRule"), id="conditional"),
    pytest.param(aws_change("Service", "AWS::ECS::Service", replacement="False",
                            details=[detail("TaskDefinition", "Never", "ResourceReference", "TaskDefinition")]),
                 ResourceChange("Service", "AWS::ECS::Service", "modify", "False", (), "physical-Service"),
                 id="in-place"),
    pytest.param(aws_change("TaskRole", "AWS::IAM::Role", replacement="True", details=[detail(None, "Always",
                                                                                                attribute="Metadata")]),
                 ResourceChange("TaskRole", "AWS::IAM::Role", "modify", "True", (Cause("Metadata", "Always",
                                                                                       "DirectModification"),),
                                "physical-TaskRole"), id="an-attribute-without-a-name"),
    pytest.param(aws_change("Database", "AWS::RDS::DBInstance", action="Remove"),
                 ResourceChange("Database", "AWS::RDS::DBInstance", "remove"), id="the-endpoint-a-removal"),
    pytest.param(aws_change("LogGroup", "AWS::Logs::LogGroup", action="Add"),
                 ResourceChange("LogGroup", "AWS::Logs::LogGroup", "add"), id="an-addition"),
])
def test_a_change_is_read_with_the_properties_that_force_its_replacement(entry, expected):
    assert preview.resource_change(entry) == expected


@pytest.mark.parametrize("resource_type, action, replacement, flagged", [
    ("AWS::ElasticLoadBalancingV2::ListenerRule", "modify", "True", True),
    ("AWS::ElasticLoadBalancingV2::ListenerRule", "modify", "False", False),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "modify", "Conditional", True),
    ("AWS::ECS::Service", "modify", "True", True),
    ("AWS::EC2::SecurityGroup", "modify", "Conditional", True),
    ("AWS::IAM::Role", "modify", "True", True),
    ("AWS::RDS::DBInstance", "modify", "True", True),
    ("AWS::RDS::DBInstance", "modify", None, False),  # the endpoint: not reported, so not claimed
    ("AWS::RDS::DBInstance", "remove", None, True),
    ("AWS::RDS::DBParameterGroup", "modify", "True", True),
    ("AWS::KMS::Key", "modify", "True", True),
    ("AWS::ECS::TaskDefinition", "modify", "True", False),  # a new task definition is the normal rollout
    ("AWS::ECS::TaskDefinition", "remove", None, False),
    ("AWS::SSM::Parameter", "modify", "True", False),
    ("AWS::EC2::SecurityGroup", "add", None, False),
])
def test_only_a_replaced_or_removed_guarded_resource_is_flagged(resource_type, action, replacement, flagged):
    assert ResourceChange("X", resource_type, action, replacement).flagged is flagged


def test_additions_list_every_resource_of_a_template():
    resources = {"B": {"Type": "AWS::IAM::Role"}, "A": {"Type": "AWS::ECS::Service"}}
    assert preview.additions(resources) == (ResourceChange("A", "AWS::ECS::Service", "add"),
                                            ResourceChange("B", "AWS::IAM::Role", "add"))


MODIFY = ResourceChange("Service", "AWS::ECS::Service", "modify", "False")
REPLACE = ResourceChange("ServiceSecurityGroup", "AWS::EC2::SecurityGroup", "modify", "True")


@pytest.mark.parametrize("stack, result", [
    (StackPreview("db", "ns-db-t", None, (ResourceChange("Database", "AWS::RDS::DBInstance", "add"),)), "new"),
    (StackPreview("service", "ns-service", "UPDATE_COMPLETE"), "unchanged"),
    (StackPreview("service", "ns-service", "UPDATE_COMPLETE", (MODIFY,)), "changes"),
    (StackPreview("service", "ns-service", "UPDATE_COMPLETE", note="the update changes no resource"), "changes"),
    (StackPreview("base", "ns-base", "CREATE_COMPLETE", (MODIFY, REPLACE)), "replacements"),
])
def test_a_stacks_result(stack, result):
    assert stack.result == result


BASE = StackPreview("base", "xy-0146-qa-base", "CREATE_COMPLETE")
NEW_DB = StackPreview("db", "xy-0146-qa-db-20261115t120000z", None)
SERVICE = StackPreview("service", "xy-0146-qa-service", "UPDATE_COMPLETE", (MODIFY,))
REPLACED_BASE = StackPreview("base", "xy-0146-qa-base", "CREATE_COMPLETE", (REPLACE,))
FLIP = Step("flip", "pointer moves", True)
STAYS = Step("flip", "pointer stays", False)


@pytest.mark.parametrize("tenant, result", [
    (TenantPreview("xy-0146-qa", "e", stacks=(BASE,), steps=(STAYS,)), "unchanged"),
    (TenantPreview("xy-0146-qa", "e", stacks=(BASE,), steps=(FLIP,)), "changes"),
    (TenantPreview("xy-0146-qa", "e", stacks=(BASE, NEW_DB), steps=(STAYS,)), "changes"),
    (TenantPreview("xy-0146-qa", "e", stacks=(BASE, SERVICE)), "changes"),
    (TenantPreview("xy-0146-qa", "e", stacks=(REPLACED_BASE, SERVICE)), "replacements"),
    (TenantPreview("xy-0146-qa", "e", stacks=(StackPreview("base", "b", None), NEW_DB), steps=(FLIP,)), "new"),
    (TenantPreview("xy-0146-qa", "e", error="source snapshot missing", exit_code=2), "error"),
])
def test_a_tenants_result(tenant, result):
    assert tenant.result == result


def test_an_allowance_names_one_change_and_only_that_one_passes():
    tenant = TenantPreview("xy-0146-qa", "e", stacks=(REPLACED_BASE, StackPreview(
        "service", "xy-0146-qa-service", "UPDATE_COMPLETE",
        (ResourceChange("ListenerRule", "AWS::ElasticLoadBalancingV2::ListenerRule", "modify", "True"), MODIFY))))
    allowed = preview.allow(tenant, [("xy-0146-qa", "service", "ListenerRule"), ("xy-0146-qa", "db", "Database")])
    assert [(stack.name, change.logical_id) for stack, change in allowed.flagged] == [
        ("base", "ServiceSecurityGroup"), ("service", "ListenerRule")]
    assert [(stack.name, change.logical_id) for stack, change in allowed.refused] == [("base", "ServiceSecurityGroup")]
    assert allowed.stacks[1].changes[1] == MODIFY  # an unflagged change is never marked
    assert preview.unused_allowances([allowed], [("xy-0146-qa", "service", "ListenerRule"),
                                                 ("xy-0146-qa", "db", "Database")]) == [("xy-0146-qa", "db", "Database")]


@pytest.mark.parametrize("value, message", [
    ("xy-0146-qa/service", "--allow-replace 'xy-0146-qa/service' is invalid: expected NAMESPACE/STACK/LOGICAL_ID, "
                           "e.g. xy-0146-qa/service/ListenerRule"),
    ("xy-0146-qa//ListenerRule", "--allow-replace 'xy-0146-qa//ListenerRule' is invalid: expected "
                                 "NAMESPACE/STACK/LOGICAL_ID, e.g. xy-0146-qa/service/ListenerRule"),
    ("XY-0146-qa/service/ListenerRule", "--allow-replace namespace 'XY-0146-qa' is invalid"),
])
def test_a_malformed_allowance_is_refused_naming_it(value, message):
    with pytest.raises(BadInput) as refused:
        preview.parse_allowance(value)
    assert str(refused.value).startswith(message)


def test_a_wellformed_allowance_is_split():
    assert preview.parse_allowance(" xy-0146-qa/db/Database ") == ("xy-0146-qa", "db", "Database")
