
import pytest

from blueprints.base import BlueprintError
from blueprints.vpc import SharedVpc
from hooks.config import settings
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
    "vpc-nonprod-2az-single-nat": {
        "Namespace": "common-nonprod", "AzCount": 2, "NatGateways": "single", "VpcCidr": "10.10.0.0/16"
    },
    "vpc-prod-3az-nat-per-az": {
        "Namespace": "common-prod", "AzCount": 3, "NatGateways": "per-az", "VpcCidr": "10.20.0.0/16"
    },
}

SHAPES = [  # (AzCount, NatGateways, expected NAT gateways)
    pytest.param(2, "single", 1, id="2az-single-nat"),
    pytest.param(2, "per-az", 2, id="2az-nat-per-az"),
    pytest.param(3, "single", 1, id="3az-single-nat"),
    pytest.param(3, "per-az", 3, id="3az-nat-per-az"),
]


def render(namespace="common-nonprod", az_count=2, nat_gateways="single", cidr="10.10.0.0/16"):
    return render_blueprint(
        SharedVpc, {"Namespace": namespace, "AzCount": az_count, "NatGateways": nat_gateways, "VpcCidr": cidr}
    )


def subnet_block(subnet):
    """(CIDR block, AZ index) of a subnet."""
    props = subnet["Properties"]
    return props["CidrBlock"], props["AvailabilityZone"]["Fn::Select"][0]


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    assert_matches_golden(case_id, SharedVpc, GOLDEN_CASES[case_id])


@pytest.mark.parametrize("az_count, nat_gateways, nats", SHAPES)
def test_one_public_and_one_private_subnet_per_az_and_the_nat_gateways_asked_for(az_count, nat_gateways, nats):
    template = render(az_count=az_count, nat_gateways=nat_gateways)
    subnets = resources_of_type(template, "AWS::EC2::Subnet")
    numbers = range(1, az_count + 1)
    assert sorted(subnets) == sorted(["PublicSubnet%d" % n for n in numbers] + ["PrivateSubnet%d" % n for n in numbers])
    nat_gateways = resources_of_type(template, "AWS::EC2::NatGateway")
    assert sorted(nat_gateways) == ["NatGateway%d" % n for n in range(1, nats + 1)]
    assert len(resources_of_type(template, "AWS::EC2::EIP")) == nats
    assert len(resources_of_type(template, "AWS::EC2::RouteTable")) == az_count + 1


@pytest.mark.parametrize("az_count, nat_gateways, nats", SHAPES)
def test_private_subnets_route_through_their_own_azs_nat_or_the_single_one(az_count, nat_gateways, nats):
    template = render(az_count=az_count, nat_gateways=nat_gateways)
    for n in range(1, az_count + 1):
        route = properties(template, "PrivateDefaultRoute%d" % n)
        assert route["RouteTableId"] == {"Ref": "PrivateRouteTable%d" % n}
        assert route["DestinationCidrBlock"] == "0.0.0.0/0"
        assert route["NatGatewayId"] == {"Ref": "NatGateway%d" % (n if nats > 1 else 1)}
        association = properties(template, "PrivateSubnetRouteTableAssociation%d" % n)
        assert association == {
            "RouteTableId": {"Ref": "PrivateRouteTable%d" % n},
            "SubnetId": {"Ref": "PrivateSubnet%d" % n},
        }
    for n in range(1, nats + 1):
        nat = properties(template, "NatGateway%d" % n)
        assert nat["SubnetId"] == {"Ref": "PublicSubnet%d" % n}
        assert nat["AllocationId"] == {"Fn::GetAtt": ["NatAddress%d" % n, "AllocationId"]}


def test_public_subnets_route_to_the_internet_gateway_and_assign_no_public_ips():
    template = render(az_count=3)
    route = properties(template, "PublicDefaultRoute")
    assert route["GatewayId"] == {"Ref": "InternetGateway"}
    assert template["Resources"]["PublicDefaultRoute"]["DependsOn"] == "InternetGatewayAttachment"
    for logical_id, subnet in resources_of_type(template, "AWS::EC2::Subnet").items():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False, logical_id
    for n in (1, 2, 3):
        association = properties(template, "PublicSubnetRouteTableAssociation%d" % n)
        assert association["RouteTableId"] == {"Ref": "PublicRouteTable"}


def test_vpc_has_dns_and_takes_its_block_from_the_variable():
    vpc = properties(render(), "Vpc")
    assert vpc["CidrBlock"] == "10.10.0.0/16"
    assert vpc["EnableDnsSupport"] is True and vpc["EnableDnsHostnames"] is True


def test_subnets_get_distinct_blocks_and_keep_them_when_an_az_is_added():
    two = {k: subnet_block(v) for k, v in resources_of_type(render(az_count=2), "AWS::EC2::Subnet").items()}
    three = {k: subnet_block(v) for k, v in resources_of_type(render(az_count=3), "AWS::EC2::Subnet").items()}
    assert {k: three[k] for k in two} == two
    assert len({block for block, _ in three.values()}) == 6
    assert three["PublicSubnet3"] == ("10.10.4.0/23", 2) and three["PrivateSubnet3"] == ("10.10.12.0/23", 2)
    assert three["PublicSubnet1"] == ("10.10.0.0/23", 0) and three["PrivateSubnet1"] == ("10.10.8.0/23", 0)


def test_the_smallest_vpc_fits_all_subnets():
    blocks = [v["Properties"]["CidrBlock"] for v in resources_of_type(render(az_count=3, cidr="172.16.16.0/20"), "AWS::EC2::Subnet").values()]
    assert sorted(blocks) == sorted(["172.16.16.0/23", "172.16.18.0/23", "172.16.20.0/23", "172.16.24.0/23", "172.16.26.0/23", "172.16.28.0/23"])


def test_flow_logs_capture_all_vpc_traffic_into_the_tiers_log_group():
    template = render("common-prod")
    flow_log = properties(template, "FlowLog")
    assert flow_log["ResourceId"] == {"Ref": "Vpc"}
    assert (flow_log["ResourceType"], flow_log["TrafficType"]) == ("VPC", "ALL")
    assert flow_log["LogGroupName"] == {"Ref": "FlowLogGroup"}
    assert flow_log["DeliverLogsPermissionArn"] == {"Fn::GetAtt": ["FlowLogRole", "Arn"]}
    group = template["Resources"]["FlowLogGroup"]
    assert group["Properties"]["LogGroupName"] == "/common-prod/vpc/flow-logs"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "FlowLogRetentionDays"}
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_flow_log_role_writes_only_to_its_log_group():
    role = properties(render(), "FlowLogRole")
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": {"Fn::GetAtt": ["FlowLogGroup", "Arn"]},
        }
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def policy_resources(node):
    """Every value of a "Resource" key anywhere in the template."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Resource":
                yield value
            else:
                yield from policy_resources(value)
    elif isinstance(node, list):
        for value in node:
            yield from policy_resources(value)


def test_no_policy_in_the_template_grants_on_every_resource():
    # A key policy's "*" is its own key (the logs key: test_the_logs_key_serves_cloudwatch_logs_for_the_tiers_groups_only);
    # every other policy names its resources.
    template = render(az_count=3, nat_gateways="per-az")
    template["Resources"].pop("LogsKey")
    resources = list(policy_resources(template))
    assert resources
    for resource in resources:
        assert "*" not in (resource if isinstance(resource, list) else [resource])


@pytest.mark.parametrize(
    "namespace, environment", [("common-nonprod", "nonprod"), ("common-prod", "prod")], ids=["nonprod", "prod"]
)
def test_every_resource_carries_the_namespace_tags(namespace, environment):
    expected = {"Customer": "common", "Project": "shared", "Environment": environment, "Namespace": namespace}
    problems, untagged = tag_problems(render(namespace, 3, "per-az"), expected)
    assert problems == []
    assert untagged == {"AWS::EC2::Route", "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::VPCGatewayAttachment",
                        "AWS::KMS::Alias"}


@pytest.mark.parametrize("cidr", ["10.10.0.0/24", "10.10.0.0/8", "8.8.0.0/16", "172.32.0.0/16", "192.169.0.0/16", "10.10.0.0", "198.18.0.0/16"])
def test_vpc_cidr_admits_private_blocks_from_16_to_20_only(cidr):
    with pytest.raises(BlueprintError) as raised:
        render(cidr=cidr)
    assert str(raised.value) == "blueprint SharedVpc, variable VpcCidr: %r is invalid: %s" % (cidr, settings.CIDR_RULE)


def test_flow_log_retention_parameter_admits_only_what_cloudwatch_accepts():
    parameter = render()["Parameters"]["FlowLogRetentionDays"]
    assert parameter["Type"] == "Number"
    assert parameter["Default"] == "90"
    assert {"1", "7", "90", "365", "3653"} <= set(parameter["AllowedValues"])
    assert not {"2", "0", "100", "3650"} & set(parameter["AllowedValues"])


def test_outputs_include_everything_the_configs_read_from_the_vpc_stack():
    outputs = set(render()["Outputs"])
    assert consumed_outputs("vpc") == {"VpcId", "VpcCidrBlock", "PublicSubnetIds", "PrivateSubnetIds", "LogsKeyArn"}
    assert outputs == {"VpcId", "VpcCidrBlock", "PublicSubnetIds", "PrivateSubnetIds", "LogsKeyArn"}


def test_private_subnet_ids_output_lists_every_private_subnet_in_az_order():
    output = render(az_count=3)["Outputs"]["PrivateSubnetIds"]["Value"]
    subnets = [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}, {"Ref": "PrivateSubnet3"}]
    assert output == {"Fn::Join": [",", subnets]}


def test_configs_pass_exactly_the_variables_the_blueprint_defines():
    defined = SharedVpc(name="vpc", context=make_context(None, {})).variable_definitions()
    assert config_variables("blueprints.vpc.SharedVpc") == [set(defined)]
    for name, definition in defined.items():
        assert definition.get("type") and definition.get("description"), name


@pytest.mark.parametrize(
    "variables, message",
    [
        pytest.param(
            {"AzCount": 4},
            "blueprint SharedVpc, variable AzCount: 4 is invalid: expected 2 or 3",
            id="az-count-4",
        ),
        pytest.param(
            {"AzCount": 1},
            "blueprint SharedVpc, variable AzCount: 1 is invalid: expected 2 or 3",
            id="az-count-1",
        ),
        pytest.param(
            {"NatGateways": "multi"},
            "blueprint SharedVpc, variable NatGateways: 'multi' is invalid: expected single or per-az",
            id="nat-gateways-multi",
        ),
        pytest.param(
            {"Namespace": "xy-0146-dev"},
            "blueprint SharedVpc, variable Namespace: 'xy-0146-dev' is invalid: "
            "expected one of common-nonprod, common-prod",
            id="tenant-namespace",
        ),
    ],
)
def test_invalid_variables_fail_naming_the_variable_value_and_rule(variables, message):
    values = {"Namespace": "common-nonprod", "AzCount": 2, "NatGateways": "single", "VpcCidr": "10.10.0.0/16"}
    values.update(variables)
    with pytest.raises(BlueprintError) as error:
        render_blueprint(SharedVpc, values)
    assert str(error.value) == message
