"""hooks/steps/routing.py: a tenant's host name and listener priority against the tier's live rules.

Pure planning table-driven; the AWS layer with Stubber (each call, its parameters and how
many: the check's cost); the hook through the user's path in tests/e2e/test_input_rules.py.
"""
import boto3
import pytest
from botocore.stub import Stubber

from blueprints import service as service_blueprint
from blueprints import tier as tier_blueprint
from hooks.errors import BadInput
from hooks.steps import routing

NS, OTHER, TIER = "xy-0146-qa", "ab-0212-qa", "common-nonprod"
HOST, PRIORITY = "xy-0146-qa.apps-nonprod.example.com", 1462
LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/common-nonprod/abc/def"
RULE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/common-nonprod/abc/def/%s"
GROUP = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/%s/0123456789abcdef"


def rule(name, priority, hosts=(), groups=(), legacy=False, forward_config=False):
    """One DescribeRules entry."""
    if legacy:
        conditions = [{"Field": "host-header", "Values": list(hosts)}]
    else:
        conditions = [{"Field": "host-header", "HostHeaderConfig": {"Values": list(hosts)}}]
    if forward_config:
        actions = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": g} for g in groups]}}]
    else:
        actions = [{"Type": "forward", "TargetGroupArn": g} for g in groups]
    return {"RuleArn": RULE % name, "Priority": str(priority), "Conditions": conditions if hosts else [],
            "Actions": actions, "IsDefault": False}


DEFAULT_RULE = {"RuleArn": RULE % "default", "Priority": "default", "Conditions": [],
                "Actions": [{"Type": "fixed-response"}], "IsDefault": True}


def claim(name, priority, hosts=(), groups=()):
    return routing.Claim(RULE % name, priority, tuple(hosts), tuple(groups))


# --- pure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules, expected",
    [
        pytest.param([DEFAULT_RULE], [], id="default-rule-left-out"),
        pytest.param([rule("a", 7, ["A.Example.com"], [GROUP % "a"])],
                     [claim("a", 7, ["a.example.com"], [GROUP % "a"])], id="host-lower-cased"),
        pytest.param([rule("a", 7, ["a.example.com"], [GROUP % "a"], legacy=True)],
                     [claim("a", 7, ["a.example.com"], [GROUP % "a"])], id="legacy-values"),
        pytest.param([rule("a", 7, ["a.example.com"], [GROUP % "a", GROUP % "b"], forward_config=True)],
                     [claim("a", 7, ["a.example.com"], [GROUP % "a", GROUP % "b"])], id="forward-config"),
        pytest.param([rule("a", 7)], [claim("a", 7)], id="no-host-condition"),
    ],
)
def test_claims_read_every_shape_of_rule(rules, expected):
    assert routing.claims(rules) == expected


LIVE = [claim("own", PRIORITY, [HOST]), claim("other", 2122, ["ab-0212-qa.apps-nonprod.example.com"]),
        claim("shared-host", 3000, ["ab-0212-qa.apps-nonprod.example.com", "www.example.com"])]


@pytest.mark.parametrize(
    "hostname, priority, own, expected",
    [
        pytest.param(HOST, PRIORITY, RULE % "own", [], id="own-rule-is-no-collision"),
        pytest.param(HOST, PRIORITY, None, ["own"], id="before-the-first-deploy-every-match-counts"),
        pytest.param("new.example.com", 2122, RULE % "own", ["other"], id="priority-taken"),
        pytest.param("WWW.example.com", 1, RULE % "own", ["shared-host"], id="host-taken-case-insensitive"),
        pytest.param("ab-0212-qa.apps-nonprod.example.com", 3000, RULE % "own", ["other", "shared-host"],
                     id="both-by-two-rules"),
        pytest.param("new.example.com", 1, RULE % "own", [], id="free"),
    ],
)
def test_collisions_leave_out_the_tenants_own_rule(hostname, priority, own, expected):
    found = routing.collisions(LIVE, hostname, priority, own)
    assert [c.arn for c in found] == [RULE % name for name in expected]


@pytest.mark.parametrize(
    "taken, wanted, expected",
    [
        pytest.param([5], 5, 6, id="next"),
        pytest.param([5, 6, 7], 5, 8, id="skips-taken"),
        pytest.param([50000], 50000, 1, id="wraps"),
        pytest.param(range(1, 50001), 7, None, id="none-free"),
    ],
)
def test_free_priority(taken, wanted, expected):
    assert routing.free_priority([claim(str(p), p) for p in taken], wanted) == expected


@pytest.mark.parametrize(
    "tags, from_names, group, expected",
    [
        pytest.param({RULE % "r": {"Namespace": OTHER}}, False, "anything", OTHER, id="rule-namespace-tag"),
        pytest.param({GROUP % "g": {"Namespace": OTHER}}, False, "g", OTHER, id="target-group-namespace-tag"),
        pytest.param({GROUP % "g": {"aws:cloudformation:stack-name": "ab-0212-qa-service"}}, False, "g", OTHER,
                     id="stack-name-tag"),
        pytest.param({GROUP % "g": {"aws:cloudformation:stack-name": "common-nonprod-tier"}}, False, "g", None,
                     id="another-stack"),
        pytest.param({}, False, "ab-0212-qa-service-C9YNCI9RK5KF", None, id="name-not-read-on-aws"),
        pytest.param({}, True, "ab-0212-qa-service-C9YNCI9RK5KF", OTHER, id="name-read-on-the-local-endpoint"),
        pytest.param({}, True, "hand-made", None, id="nothing-names-it"),
    ],
)
def test_holder_of_a_rule(tags, from_names, group, expected):
    found = routing.holder_of(claim("r", 1, [], [GROUP % group]), tags, names_from_target_groups=from_names)
    assert found == expected


def test_problems_name_the_value_the_holder_the_rule_and_the_fix():
    colliding = [claim("other", PRIORITY, ["ab-0212-qa.apps-nonprod.example.com"], [GROUP % "g"]),
                 claim("hand", 9, [HOST], [GROUP % "hand-made"])]
    lines = routing.problems(colliding, {RULE % "other": OTHER, RULE % "hand": None}, NS, HOST, PRIORITY, TIER,
                             colliding + [claim("next", PRIORITY + 1)])
    assert lines == [
        "listener_priority 1462 is taken on tier common-nonprod's HTTPS listener by ab-0212-qa (rule %s, priority "
        "1462, host ab-0212-qa.apps-nonprod.example.com): a priority belongs to one rule of a listener, and AWS would "
        "fail the service stack mid-deploy; choose a free one, e.g. 1464" % (RULE % "other"),
        "hostname xy-0146-qa.apps-nonprod.example.com already routes to a rule no tenant's tags name (target groups: "
        "hand-made) on tier common-nonprod's HTTPS listener (rule %s, priority 9, host "
        "xy-0146-qa.apps-nonprod.example.com): one host name reaches one tenant, and the rule with the lower priority "
        "would silently take the other's traffic; give xy-0146-qa a host name of its own" % (RULE % "hand"),
    ]


def test_the_logical_id_and_the_output_are_the_blueprints():
    assert routing.OWN_RULE == service_blueprint.LISTENER_RULE
    assert routing.LISTENER_OUTPUT == tier_blueprint.HTTPS_LISTENER + "Arn"  # blueprints.base: <LogicalId><Attribute>


# --- AWS (Stubber): what each call asks, and how many --------------------------------------------


def stubbed(service):
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def tier_stack(outputs):
    return {"Stacks": [{"StackName": "common-nonprod-tier", "StackStatus": "CREATE_COMPLETE",
                        "CreationTime": "2026-11-01T00:00:00Z", "Outputs": outputs}]}


def tag_description(arn, values):
    """A DescribeTags entry (AWS leaves Tags out when there are none)."""
    if not values:
        return {"ResourceArn": arn}
    return {"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in values.items()]}


def run_check(rule_pages, own=None, tags=None, hostname=HOST, priority=PRIORITY):
    """routing_problems against stubbed clients; (problems, [operation names called])."""
    cfn, cfn_stub = stubbed("cloudformation")
    elbv2, elbv2_stub = stubbed("elbv2")
    calls = []
    for client in (cfn, elbv2):
        client.meta.events.register("before-parameter-build", lambda model, **_: calls.append(model.name))
    cfn_stub.add_response("describe_stacks", tier_stack([{"OutputKey": "HttpsListenerArn", "OutputValue": LISTENER}]),
                          {"StackName": "common-nonprod-tier"})
    for number, page in enumerate(rule_pages):
        expected = {"ListenerArn": LISTENER, "PageSize": 400}
        if number:
            expected["Marker"] = "page%d" % number
        answer = {"Rules": page}
        if number + 1 < len(rule_pages):
            answer["NextMarker"] = "page%d" % (number + 1)
        elbv2_stub.add_response("describe_rules", answer, expected)
    if own is not False:
        detail = {"StackResourceDetail": {"LogicalResourceId": "ListenerRule", "ResourceType": "x", "ResourceStatus":
                                          "CREATE_COMPLETE", "LastUpdatedTimestamp": "2026-11-01T00:00:00Z",
                                          "PhysicalResourceId": own or ""}}
        cfn_stub.add_response("describe_stack_resource", detail,
                              {"StackName": "xy-0146-qa-service", "LogicalResourceId": "ListenerRule"})
    if tags is not None:
        elbv2_stub.add_response("describe_tags", {"TagDescriptions": [
            tag_description(arn, values) for arn, values in tags.items()]})
    with cfn_stub, elbv2_stub:
        found = routing.routing_problems(cfn, elbv2, NS, TIER, hostname, priority)
        cfn_stub.assert_no_pending_responses()
        elbv2_stub.assert_no_pending_responses()
    return found, calls


TENANT_RULES = [rule("t%d" % n, 2000 + n, ["t%d.example.com" % n], [GROUP % ("t%d" % n)]) for n in range(30)]


def test_a_first_deploy_with_free_values_costs_two_calls_whatever_the_number_of_tenants():
    found, calls = run_check([TENANT_RULES + [DEFAULT_RULE]], own=False)
    assert (found, calls) == ([], ["DescribeStacks", "DescribeRules"])


def test_a_redeploy_finds_its_own_rule_with_one_more_call():
    own = rule("own", PRIORITY, [HOST], [GROUP % "own"])
    found, calls = run_check([TENANT_RULES + [own, DEFAULT_RULE]], own=RULE % "own")
    assert (found, calls) == ([], ["DescribeStacks", "DescribeRules", "DescribeStackResource"])


def test_rules_are_read_400_a_page_and_a_collision_on_a_later_page_is_found():
    taken = rule("taken", PRIORITY, ["ab-0212-qa.apps-nonprod.example.com"], [GROUP % "g"])
    found, calls = run_check([TENANT_RULES, [taken, DEFAULT_RULE]], own="",
                             tags={RULE % "taken": {}, GROUP % "g": {"Namespace": OTHER}})
    assert calls == ["DescribeStacks", "DescribeRules", "DescribeRules", "DescribeStackResource", "DescribeTags"]
    assert len(found) == 1 and found[0].startswith("listener_priority 1462 is taken on tier common-nonprod's HTTPS "
                                                   "listener by ab-0212-qa (rule ")


def test_a_tier_that_is_not_built_is_bad_input():
    cfn, stub = stubbed("cloudformation")
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id common-nonprod-tier does not exist")
    with stub, pytest.raises(BadInput) as raised:
        routing.listener_arn(cfn, TIER)
    assert str(raised.value) == (
        "the tier stack common-nonprod-tier has no output HttpsListenerArn: build the shared stacks first "
        "(stacker build environments/common-nonprod.env stacker/shared.yaml)")


def test_tags_are_read_20_arns_a_call():
    elbv2, stub = stubbed("elbv2")
    arns = [GROUP % ("g%d" % n) for n in range(45)]
    for start in (0, 20, 40):
        stub.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": a} for a in arns[start:start + 20]]},
                          {"ResourceArns": arns[start:start + 20]})
    with stub:
        assert routing.tags_of(elbv2, arns + arns[:3]) == {arn: {} for arn in arns}
