"""The local-endpoint switch changes only what it lists, and only when it is on."""
import json

import pytest

from blueprints.database import TenantDatabase
from blueprints.service import TenantService
from blueprints.tier import SharedTier
from hooks.aws import endpoint_quirks, resources
from hooks.engine import render
from hooks.engine.render import render_blueprint
from tests.conftest import REPO_ROOT

VARIABLES = {"Namespace": "xy-0146-qa", "Timestamp": "20260115t103000z", "SourceNamespace": "xy-0146-dev"}
SERVICE_VARIABLES = {"Namespace": "xy-0146-qa", "Timestamp": "20260115t103000z"}


def test_every_entry_names_the_gap_it_works_around():
    for name, (reason, rewrite) in endpoint_quirks.QUIRKS.items():
        assert "moto" in reason and callable(rewrite), name
    for name, reason in endpoint_quirks.BEHAVIOURS.items():
        assert "moto" in reason, name


def test_an_unknown_behaviour_is_an_error():
    with pytest.raises(KeyError, match="unknown endpoint behaviour 'teleport'"):
        endpoint_quirks.tolerates("teleport", {})


def render_with_switch(monkeypatch, blueprint, variables, on):
    if on:
        monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    else:
        monkeypatch.delenv(endpoint_quirks.SWITCH, raising=False)
    return render_blueprint(blueprint, variables)


def test_switch_off_renders_what_aws_gets(monkeypatch):
    tags = render_with_switch(monkeypatch, TenantDatabase, VARIABLES, False)["Resources"]["DatabaseRegistration"]
    assert tags["Properties"]["Tags"] == {
        "Customer": "xy",
        "Environment": "qa",
        "Namespace": "xy-0146-qa",
        "Project": "0146",
    }


def test_switch_on_rewrites_ssm_parameter_tags_and_the_parameter_group_and_nothing_else(monkeypatch):
    plain = render_with_switch(monkeypatch, TenantDatabase, VARIABLES, False)
    adapted = render_with_switch(monkeypatch, TenantDatabase, VARIABLES, True)
    registration = adapted["Resources"].pop("DatabaseRegistration")
    assert registration["Properties"]["Tags"] == [
        {"Key": "Customer", "Value": "xy"},
        {"Key": "Environment", "Value": "qa"},
        {"Key": "Namespace", "Value": "xy-0146-qa"},
        {"Key": "Project", "Value": "0146"},
    ]
    plain["Resources"].pop("DatabaseRegistration")
    assert plain["Resources"]["Database"]["Properties"].pop("DBParameterGroupName") == {"Ref": "ParameterGroupName"}
    assert "DBParameterGroupName" not in adapted["Resources"]["Database"]["Properties"]
    assert adapted == plain


def test_switch_off_keeps_the_tiers_parameter_group_on_the_database(monkeypatch):
    database = render_with_switch(monkeypatch, TenantDatabase, VARIABLES, False)["Resources"]["Database"]
    assert database["Properties"]["DBParameterGroupName"] == {"Ref": "ParameterGroupName"}


def test_switch_on_gives_each_task_definition_a_new_logical_id_and_renames_every_reference(monkeypatch):
    plain = render_with_switch(monkeypatch, TenantService, SERVICE_VARIABLES, False)
    adapted = render_with_switch(monkeypatch, TenantService, SERVICE_VARIABLES, True)
    renamed = [k for k in adapted["Resources"] if k.startswith("TaskDefinition")]
    assert len(renamed) == 1 and renamed[0] != "TaskDefinition"
    assert adapted["Resources"][renamed[0]] == plain["Resources"]["TaskDefinition"]
    assert adapted["Resources"]["Service"]["Properties"]["TaskDefinition"] == {"Ref": renamed[0]}
    assert adapted["Outputs"]["TaskDefinitionArn"]["Value"] == {"Ref": renamed[0]}
    assert '"TaskDefinition"}' not in str(adapted)
    # A changed task definition gets another id, so the endpoint creates it instead of updating.
    other = dict(SERVICE_VARIABLES, Timestamp="20270101t000000z")
    moved = render_with_switch(monkeypatch, TenantService, other, True)
    assert renamed[0] not in moved["Resources"]


def test_the_renderer_refuses_to_run_with_the_switch_on(monkeypatch):
    monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    with pytest.raises(render.RenderError, match="templates for review must be what AWS gets"):
        render.render_all(REPO_ROOT)


def test_switch_on_gives_kms_key_tags_the_apis_shape_too_and_changes_nothing_else_in_the_tier(monkeypatch):
    variables = {"Namespace": "common-nonprod"}
    plain = render_with_switch(monkeypatch, SharedTier, variables, False)
    adapted = render_with_switch(monkeypatch, SharedTier, variables, True)
    for key in ("DatabaseKey", "AlarmTopicKey"):
        tags = plain["Resources"][key]["Properties"].pop("Tags")
        assert {t["Key"]: t["Value"] for t in tags}["Namespace"] == "common-nonprod"
        assert adapted["Resources"][key]["Properties"].pop("Tags") == [
            {"Key": t["Key"], "Value": t["Value"], "TagKey": t["Key"], "TagValue": t["Value"]} for t in tags
        ]
    assert adapted == plain


def task_definition_id(monkeypatch, **parameters):
    """The task definition's logical id on the local endpoint, rendered with these parameter values."""
    template = render_with_switch(monkeypatch, TenantService, dict(SERVICE_VARIABLES, **parameters), True)
    (logical_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::ECS::TaskDefinition"]
    return logical_id


FARGATE_512 = {"TaskCpu": "512", "TaskMemory": "1024", "NginxImage": "nginx:1.27.3", "PhpImage": "php:8.3.14-fpm",
               "DesiredCount": "2", "Hostname": "xy-0146-qa.apps-nonprod.example.com"}


@pytest.mark.parametrize(
    "change, new_id",
    [
        pytest.param({"TaskCpu": "1024", "TaskMemory": "2048"}, True, id="cpu-and-memory"),
        pytest.param({"NginxImage": "nginx:1.27.4"}, True, id="an-image"),
        pytest.param({"DesiredCount": "3"}, False, id="desired-count-is-the-services"),
        pytest.param({"Hostname": "other.apps-nonprod.example.com"}, False, id="hostname-is-the-rules"),
        pytest.param({}, False, id="nothing"),
    ],
)
def test_a_parameter_the_task_definition_refers_to_gives_it_a_new_id(monkeypatch, change, new_id):
    """A change that reaches the task definition only through a parameter is a create too, so the
    endpoint never updates a task definition in place (which drops its containers)."""
    before = task_definition_id(monkeypatch, **FARGATE_512)
    after = task_definition_id(monkeypatch, **dict(FARGATE_512, **change))
    assert (after != before) is new_id


def test_adapt_digests_only_the_parameters_a_task_definition_refers_to():
    template = {"Resources": {"TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
        "Cpu": {"Ref": "TaskCpu"}, "Family": {"Fn::Sub": "${Namespace}-x-${AWS::Region}"}}}}}

    def adapt(**parameters):
        adapted = endpoint_quirks.adapt(json.dumps(template), {endpoint_quirks.SWITCH: "moto"}, parameters)
        return json.loads(adapted)["Resources"]

    plain = adapt(TaskCpu="512", Namespace="a", Other="1")
    assert adapt(TaskCpu="512", Namespace="a", Other="2") == plain
    assert adapt(TaskCpu="1024", Namespace="a", Other="1") != plain
    assert adapt(TaskCpu="512", Namespace="b", Other="1") != plain


def test_put_stack_alarms_creates_the_missing_alarms_of_the_deployed_template_and_keeps_existing_states(aws):
    """cfn-cloudwatch-alarms-not-created: the endpoint's CloudFormation skips AWS::CloudWatch::Alarm."""
    cfn, cloudwatch = aws.client("cloudformation"), aws.client("cloudwatch")
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "xy-0146-qa-unhealthy-hosts", "AlarmActions": [{"Ref": "Topic"}], "Namespace": "AWS/ApplicationELB",
        "MetricName": "UnHealthyHostCount", "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 3,
        "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Dimensions": [{"Name": "LoadBalancer", "Value": {"Ref": "Balancer"}}]}}
    template = {"Parameters": {"Topic": {"Type": "String"}, "Balancer": {"Type": "String"}},
                "Resources": {"Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/x"}},
                              "Alarm": alarm}}
    cfn.create_stack(StackName="xy-0146-qa-service", TemplateBody=json.dumps(template), Parameters=[
        {"ParameterKey": "Topic", "ParameterValue": "arn:aws:sns:us-east-1:123456789012:common-nonprod-alarms"},
        {"ParameterKey": "Balancer", "ParameterValue": "app/common-nonprod/0123"}])
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []  # the gap itself
    assert endpoint_quirks.put_stack_alarms(cfn, cloudwatch, resources.describe_stack(cfn, "xy-0146-qa-service")) == ["xy-0146-qa-unhealthy-hosts"]
    (created,) = cloudwatch.describe_alarms()["MetricAlarms"]
    assert created["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:common-nonprod-alarms"]
    assert created["Dimensions"] == [{"Name": "LoadBalancer", "Value": "app/common-nonprod/0123"}]
    cloudwatch.set_alarm_state(AlarmName="xy-0146-qa-unhealthy-hosts", StateValue="ALARM", StateReason="set")
    assert endpoint_quirks.put_stack_alarms(cfn, cloudwatch, resources.describe_stack(cfn, "xy-0146-qa-service")) == []
    assert cloudwatch.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"
    assert endpoint_quirks.put_stack_alarms(cfn, cloudwatch, resources.describe_stack(cfn, "xy-0146-qa-db-20261101t090000z")) == []


@pytest.mark.parametrize("node, message", [
    ({"Fn::GetAtt": ["TargetGroup", "LoadBalancerArns"]}, "TargetGroupFullName only"),
    ({"Fn::Sub": "x"}, "cannot resolve"),
])
def test_resolve_local_refuses_what_it_does_not_resolve(node, message):
    with pytest.raises(ValueError, match=message):
        endpoint_quirks.resolve_local(node, {})


def test_resolve_local_reads_a_target_groups_full_name_from_its_arn():
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/xy-0146-qa-Targe-ABC/0123456789abcdef"
    assert endpoint_quirks.resolve_local({"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]}, {"TargetGroup": arn}) == (
        "targetgroup/xy-0146-qa-Targe-ABC/0123456789abcdef")
