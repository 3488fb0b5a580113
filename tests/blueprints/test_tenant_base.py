import pytest

from blueprints.base import BlueprintError
from blueprints.tenant_base import TenantBase
from hooks import naming
from hooks.engine.render import render_blueprint
from hooks.engine.stacker_compat import make_context
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import (
    config_variables,
    consumed_outputs,
    properties,
    resources_of_type,
    tag_problems,
)

GOLDEN_CASES = {
    "tenant-base-xy-0146-qa": {"Namespace": "xy-0146-qa"},
    "tenant-base-xy-0146-prod": {"Namespace": "xy-0146-prod"},
}


def render(namespace="xy-0146-qa"):
    return render_blueprint(TenantBase, {"Namespace": namespace})


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    assert_matches_golden(case_id, TenantBase, GOLDEN_CASES[case_id])


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "xy-0146-prod"])
def test_every_resource_carries_the_namespace_tags(namespace):
    problems, untagged = tag_problems(render(namespace), naming.tags(namespace))
    assert problems == []
    assert untagged == set()


def test_the_service_security_group_admits_http_from_the_alb_only():
    template = render()
    assert list(resources_of_type(template, "AWS::EC2::SecurityGroup")) == ["ServiceSecurityGroup"]
    assert resources_of_type(template, "AWS::EC2::SecurityGroupIngress") == {}
    group = properties(template, "ServiceSecurityGroup")
    assert group["VpcId"] == {"Ref": "VpcId"}
    assert [
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["SourceSecurityGroupId"])
        for rule in group["SecurityGroupIngress"]
    ] == [("tcp", 80, 80, {"Ref": "LoadBalancerSecurityGroupId"})]
    assert not any("CidrIp" in rule or "CidrIpv6" in rule for rule in group["SecurityGroupIngress"])


def test_the_service_tasks_reach_mysql_in_the_vpc_and_https_only():
    group = properties(render(), "ServiceSecurityGroup")
    egress = [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]) for r in group["SecurityGroupEgress"]]
    assert egress == [("tcp", 3306, 3306, {"Ref": "VpcCidrBlock"}), ("tcp", 443, 443, "0.0.0.0/0")]
    assert all(rule["Description"] for rule in group["SecurityGroupEgress"])


def test_outputs_are_what_the_tenant_config_reads():
    template = render()
    assert set(template["Outputs"]) == {"ServiceSecurityGroupId"}
    assert template["Outputs"]["ServiceSecurityGroupId"]["Value"] == {
        "Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]
    }
    assert consumed_outputs("base") == {"ServiceSecurityGroupId"}


def test_variables_match_the_tenant_config():
    defined = set(TenantBase(name="base", context=make_context(None, {})).variable_definitions())
    assert config_variables("blueprints.tenant_base.TenantBase") == [defined]


def test_a_shared_namespace_is_refused():
    with pytest.raises(BlueprintError) as error:
        render("common-nonprod")
    assert str(error.value) == (
        "blueprint TenantBase, variable Namespace: 'common-nonprod' is invalid: it is a shared "
        "namespace; a tenant namespace is expected (%s, e.g. xy-0146-dev)" % naming.NAMESPACE_SHAPE
    )
