import datetime
import json
import logging
import types

import botocore.session
import pytest
from botocore.stub import Stubber

from blueprints import service as service_blueprint
from hooks import errors
from hooks.aws import clients as aws_clients
from hooks.aws import endpoint_quirks
from hooks.config import envfile, hookargs
from hooks.errors import HookArgumentError
from hooks.lock import deploy_lock
from hooks.steps import stable

CLUSTER, SERVICE = "common-nonprod", "xy-0146-qa"
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:%d"
OLD, NEW = ARN % 6, ARN % 7
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/xy-0146-qa/0123456789abcdef"
GUIDANCE = (
    " The SSM pointer was not flipped, so the old database still serves. Look at "
    "`aws ecs describe-services --cluster common-nonprod --services xy-0146-qa` and the service's events, "
    "fix the cause, then run the deploy again."
)


def deployment(task_definition=NEW, status="PRIMARY", rollout="COMPLETED", running=2, desired=2, reason=None):
    made = {
        "id": "ecs-svc/%s" % task_definition[-1],
        "status": status,
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "pendingCount": desired - running,
        "runningCount": running,
    }
    if rollout is not None:
        made["rolloutState"] = rollout
    if reason is not None:
        made["rolloutStateReason"] = reason
    return made


def service(*deployments, task_definition=NEW, status="ACTIVE", running=2, desired=2, events=()):
    return {
        "serviceName": SERVICE,
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/common-nonprod",
        "status": status,
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": max(desired - running, 0),
        "deployments": list(deployments) or [deployment(task_definition)],
        "events": [
            {"id": str(number), "createdAt": datetime.datetime(2026, 1, 15, 10, 30), "message": message}
            for number, message in enumerate(events)
        ],
    }


CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


# --- assess ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "described, tolerate, state, reason",
    [
        pytest.param(
            service(), False, "stable", "2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED)", id="stable"
        ),
        pytest.param(
            service(deployment(rollout="IN_PROGRESS", running=1), running=1),
            False,
            "waiting",
            "1 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS)",
            id="waiting-rollout",
        ),
        pytest.param(
            service(deployment(running=1), running=1),
            False,
            "waiting",
            "1 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED)",
            id="waiting-counts",
        ),
        pytest.param(
            service(deployment(), deployment(OLD, status="ACTIVE", running=1), running=3),
            False,
            "waiting",
            "2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED); "
            "1 other deployment(s) still draining (xy-0146-qa:6: 1 running)",
            id="two-deployments-draining",
        ),
        pytest.param(
            service(deployment(), deployment(OLD, status="ACTIVE", running=0)),
            False,
            "waiting",
            "2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED); "
            "1 other deployment(s) still draining (xy-0146-qa:6: 0 running)",
            id="old-deployment-still-listed",
        ),
        pytest.param(
            service(deployment(desired=2), running=3, desired=3),
            False,
            "waiting",
            "2 of 3 tasks running on xy-0146-qa:7 (rollout COMPLETED)",
            id="deployment-behind-service-desired-count",
        ),
        pytest.param(
            service(deployment(running=2), running=1),
            False,
            "waiting",
            "2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED); the service reports 1 of 2 running",
            id="service-count-behind",
        ),
        pytest.param(
            service(deployment(rollout=None)),
            False,
            "stable",
            "2 of 2 tasks running on xy-0146-qa:7 (rollout state not reported)",
            id="no-rollout-state-settled",
        ),
        pytest.param(
            service(deployment(rollout=None), deployment(OLD, status="ACTIVE", rollout=None, running=0)),
            False,
            "waiting",
            "2 of 2 tasks running on xy-0146-qa:7 (rollout state not reported); "
            "1 other deployment(s) still draining (xy-0146-qa:6: 0 running)",
            id="no-rollout-state-two-deployments",
        ),
        pytest.param(
            service(deployment(rollout="FAILED", running=0, reason=CIRCUIT_BREAKER), running=0),
            False,
            "failed",
            "the rollout of xy-0146-qa:7 FAILED: " + CIRCUIT_BREAKER,
            id="rollout-failed",
        ),
        pytest.param(
            service(deployment(OLD), task_definition=OLD),
            False,
            "failed",
            "the PRIMARY deployment runs xy-0146-qa:6, not xy-0146-qa:7, and no deployment runs xy-0146-qa:7: "
            "the deployment circuit breaker rolled back (or another deploy replaced it)",
            id="rolled-back-to-old",
        ),
        pytest.param(
            service(
                deployment(OLD, rollout="IN_PROGRESS", running=1),
                deployment(NEW, status="ACTIVE", rollout="FAILED", running=0, reason=CIRCUIT_BREAKER),
                task_definition=OLD,
                running=1,
            ),
            False,
            "failed",
            "the rollout of xy-0146-qa:7 FAILED: %s; ECS is rolling back to xy-0146-qa:6" % CIRCUIT_BREAKER,
            id="rollback-in-progress",
        ),
        pytest.param(
            service(deployment(OLD), deployment(NEW, status="ACTIVE", rollout="IN_PROGRESS", running=0)),
            False,
            "waiting",
            "xy-0146-qa:7 is not the PRIMARY deployment yet (PRIMARY runs xy-0146-qa:6)",
            id="expected-not-primary-yet",
        ),
        pytest.param(
            service(deployment(OLD), task_definition=NEW),
            True,
            "stable",
            "2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED)",
            id="moto-first-deployment-tolerated",
        ),
        pytest.param(
            service(deployment(OLD), task_definition=NEW),
            False,
            "failed",
            "the PRIMARY deployment runs xy-0146-qa:6, not xy-0146-qa:7, and no deployment runs xy-0146-qa:7: "
            "the deployment circuit breaker rolled back (or another deploy replaced it); the service itself "
            "names xy-0146-qa:7, the state the local endpoint leaves (endpoint_quirks "
            "'ecs-deployment-per-task-definition')",
            id="moto-first-deployment-not-tolerated",
        ),
        pytest.param(
            service(deployment(OLD), task_definition=OLD),
            True,
            "failed",
            "the PRIMARY deployment runs xy-0146-qa:6, not xy-0146-qa:7, and no deployment runs xy-0146-qa:7: "
            "the deployment circuit breaker rolled back (or another deploy replaced it)",
            id="tolerance-does-not-hide-a-rollback",
        ),
        pytest.param(
            service(deployment(OLD, rollout="IN_PROGRESS", running=1), task_definition=NEW, running=1),
            True,
            "waiting",
            "1 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS)",
            id="moto-first-deployment-tolerated-still-counts",
        ),
        pytest.param(
            service(status="INACTIVE"), False, "failed", "the service is INACTIVE, not ACTIVE", id="inactive-service"
        ),
        pytest.param(
            service(status="DRAINING"), False, "failed", "the service is DRAINING, not ACTIVE", id="draining-service"
        ),
        pytest.param(None, False, "failed", "the service does not exist", id="missing-service"),
        pytest.param(
            service(deployment(status="ACTIVE")),
            False,
            "waiting",
            "no PRIMARY deployment yet",
            id="no-primary-deployment",
        ),
    ],
)
def test_assess(described, tolerate, state, reason):
    seen = stable.assess(described, NEW, tolerate_first_deployment=tolerate)
    assert (seen.state, seen.reason) == (state, reason)


def test_assess_reports_counts():
    seen = stable.assess(service(deployment(rollout="IN_PROGRESS", running=1), deployment(OLD, "ACTIVE")), NEW)
    assert (seen.running, seen.desired, seen.deployments) == (1, 2, 2)


# --- wait_until_stable, states the local endpoint cannot produce (Stubber) -----------------


class FakeTime:
    """A clock that moves only when the waiter sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def stubbed_ecs(*answers):
    ecs = botocore.session.get_session().create_client(
        "ecs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(ecs)
    for answer in answers:
        stubber.add_response(
            "describe_services", {"services": [answer], "failures": []}, {"cluster": CLUSTER, "services": [SERVICE]}
        )
    stubber.activate()
    return ecs, stubber


def wait(ecs, fake, lines, timeout_seconds=1800, **kwargs):
    return stable.wait_until_stable(
        ecs, CLUSTER, SERVICE, NEW, timeout_seconds, clock=fake.clock, sleep=fake.sleep, progress=lines.append, **kwargs
    )


def test_rollout_failed_fails_at_once():
    ecs, stubber = stubbed_ecs(
        service(
            deployment(rollout="FAILED", running=0, reason=CIRCUIT_BREAKER),
            running=0,
            events=["(service xy-0146-qa) deployment ecs-svc/7 deployment failed: tasks failed to start."],
        )
    )
    fake, lines = FakeTime(), []
    with pytest.raises(stable.ServiceNotStable) as raised:
        wait(ecs, fake, lines)
    assert str(raised.value) == (
        "ECS service xy-0146-qa in cluster common-nonprod failed on task definition %s: the rollout of "
        "xy-0146-qa:7 FAILED: %s. Latest service event: (service xy-0146-qa) deployment ecs-svc/7 deployment "
        "failed: tasks failed to start.%s" % (NEW, CIRCUIT_BREAKER, GUIDANCE)
    )
    assert isinstance(raised.value, errors.DeployFailed)
    assert (raised.value.timed_out, raised.value.assessment.state) == (False, "failed")
    assert fake.sleeps == [] and lines == []
    stubber.assert_no_pending_responses()


def test_circuit_breaker_rollback_fails_after_the_rollout_started():
    ecs, stubber = stubbed_ecs(
        service(deployment(rollout="IN_PROGRESS", running=0), deployment(OLD, "ACTIVE"), running=2),
        # The circuit breaker gave up: a new PRIMARY deployment back on the old definition.
        service(deployment(OLD), task_definition=OLD),
    )
    fake, lines = FakeTime(), []
    with pytest.raises(stable.ServiceNotStable) as raised:
        wait(ecs, fake, lines, poll_seconds=15)
    assert "failed on task definition %s: the PRIMARY deployment runs xy-0146-qa:6, not xy-0146-qa:7" % NEW in str(
        raised.value
    )
    assert "circuit breaker rolled back" in str(raised.value)
    assert fake.sleeps == [15]
    assert len(lines) == 1 and lines[0].startswith("xy-0146-qa: waiting: 0 of 2 tasks running")
    stubber.assert_no_pending_responses()


def test_in_progress_then_completed_over_several_polls():
    ecs, stubber = stubbed_ecs(
        service(deployment(rollout="IN_PROGRESS", running=0), deployment(OLD, "ACTIVE"), running=2),
        service(deployment(rollout="IN_PROGRESS", running=0), deployment(OLD, "ACTIVE"), running=2),
        service(deployment(rollout="IN_PROGRESS", running=2), deployment(OLD, "ACTIVE", running=1), running=3),
        service(deployment()),
    )
    fake, lines = FakeTime(), []
    seen = wait(ecs, fake, lines, poll_seconds=15)
    assert (seen.state, seen.waited_seconds) == ("stable", 45)
    assert fake.sleeps == [15, 15, 15]
    assert lines == [
        "xy-0146-qa: waiting: 0 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS); "
        "1 other deployment(s) still draining (xy-0146-qa:6: 2 running) (0 s of 1800 s)",
        "xy-0146-qa: waiting: 2 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS); "
        "1 other deployment(s) still draining (xy-0146-qa:6: 1 running) (30 s of 1800 s)",
        "xy-0146-qa: stable after 45 s: 2 of 2 tasks running on xy-0146-qa:7 (rollout COMPLETED)",
    ]
    stubber.assert_no_pending_responses()


def test_timeout_reports_every_minute_polls_at_the_deadline_and_explains():
    waiting = service(
        deployment(rollout="IN_PROGRESS", running=1),
        running=1,
        events=["(service xy-0146-qa) has started 1 tasks: (task 0f3c)."],
    )
    ecs, stubber = stubbed_ecs(*[waiting] * 8)  # at 0, 15, ... 90 and the deadline, 100
    fake, lines = FakeTime(), []
    with pytest.raises(stable.ServiceNotStable) as raised:
        wait(ecs, fake, lines, timeout_seconds=100, poll_seconds=15)
    assert str(raised.value) == (
        "ECS service xy-0146-qa in cluster common-nonprod did not become stable on task definition %s within "
        "100 s; last seen: 1 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS). Latest service event: "
        "(service xy-0146-qa) has started 1 tasks: (task 0f3c).%s" % (NEW, GUIDANCE)
    )
    assert raised.value.timed_out is True
    assert fake.sleeps == [15, 15, 15, 15, 15, 15, 10]
    assert lines == [
        "xy-0146-qa: waiting: 1 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS) (0 s of 100 s)",
        "xy-0146-qa: waiting: 1 of 2 tasks running on xy-0146-qa:7 (rollout IN_PROGRESS) (60 s of 100 s)",
    ]
    stubber.assert_no_pending_responses()


# --- the local endpoint ----------------------------------------------------------------------


def register(ecs, image="public.ecr.aws/nginx/nginx:1.27.3"):
    return ecs.register_task_definition(
        family="xy-0146-qa", containerDefinitions=[{"name": "nginx", "image": image, "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]


def ecs_service(aws, desired_count):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    first = register(ecs)
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=first, desiredCount=desired_count)
    return ecs, first


def no_sleep(seconds):
    raise AssertionError("the waiter slept %s s although the service was stable" % seconds)


def test_endpoint_service_at_desired_count_is_stable_at_once(aws):
    ecs, first = ecs_service(aws, desired_count=2)
    lines = []
    seen = stable.wait_until_stable(
        ecs, CLUSTER, SERVICE, first, 30, poll_seconds=0, sleep=no_sleep, progress=lines.append
    )
    assert (seen.state, seen.running, seen.desired, seen.deployments) == ("stable", 2, 2, 1)
    assert lines == ["xy-0146-qa: stable after 0 s: 2 of 2 tasks running on xy-0146-qa:1 (rollout COMPLETED)"]


def test_endpoint_service_short_of_tasks_times_out(aws):
    ecs, first = ecs_service(aws, desired_count=3)  # the endpoint runs 2 tasks, always
    with pytest.raises(stable.ServiceNotStable) as raised:
        stable.wait_until_stable(ecs, CLUSTER, SERVICE, first, 0.3, poll_seconds=0.05, progress=lambda line: None)
    assert str(raised.value) == (
        "ECS service xy-0146-qa in cluster common-nonprod did not become stable on task definition %s within "
        "0.3 s; last seen: 2 of 3 tasks running on xy-0146-qa:1 (rollout IN_PROGRESS).%s" % (first, GUIDANCE)
    )


def test_endpoint_missing_service_fails_at_once(aws):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    with pytest.raises(stable.ServiceNotStable, match="failed on task definition .*: the service does not exist"):
        stable.wait_until_stable(ecs, CLUSTER, SERVICE, NEW, 30, sleep=no_sleep, progress=lambda line: None)
    assert stable.current_task_definition(ecs, CLUSTER, SERVICE) is None


def test_revert_service_points_the_service_back(aws):
    ecs, first = ecs_service(aws, desired_count=2)
    second = register(ecs, "public.ecr.aws/nginx/nginx:1.27.4")
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=second)
    assert stable.current_task_definition(ecs, CLUSTER, SERVICE) == second

    assert stable.revert_service(ecs, CLUSTER, SERVICE, first) is True
    assert stable.current_task_definition(ecs, CLUSTER, SERVICE) == first
    assert stable.revert_service(ecs, CLUSTER, SERVICE, first) is False  # already there
    assert stable.revert_service(ecs, CLUSTER, SERVICE, None) is False  # a first deploy has nothing to go back to
    assert stable.current_task_definition(ecs, CLUSTER, SERVICE) == first


# --- the service stack and the hook -----------------------------------------------------------


def test_output_name_matches_the_blueprint():
    assert stable.TASK_DEFINITION_OUTPUT == service_blueprint.TASK_DEFINITION + "Arn"
    assert stable.TARGET_GROUP_OUTPUT == service_blueprint.TARGET_GROUP + "Arn"


def service_template(with_output=True):
    """The part of blueprints.service the gate depends on, small enough for the endpoint.

    The Service carries the image in a tag: moto only updates a resource whose own JSON or
    parameters change, and only sees the new task definition when it is listed first.
    """
    template = {
        "Parameters": {"Image": {"Type": "String"}, "DesiredCount": {"Type": "Number"}},
        "Resources": {
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "xy-0146-qa",
                    "ContainerDefinitions": [{"Name": "nginx", "Image": {"Ref": "Image"}, "Memory": 512}],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "ServiceName": SERVICE,
                    "Cluster": CLUSTER,
                    "DesiredCount": {"Ref": "DesiredCount"},
                    "TaskDefinition": {"Ref": "TaskDefinition"},
                    "Tags": [{"Key": "Image", "Value": {"Ref": "Image"}}],
                },
            },
        },
        "Outputs": {"ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}}},
    }
    if with_output:
        template["Outputs"]["TaskDefinitionArn"] = {"Value": {"Ref": "TaskDefinition"}}
        template["Outputs"]["TargetGroupArn"] = {"Value": TARGET_GROUP}
    return json.dumps(template)


def deploy(aws, image, desired_count=2, with_output=True):
    """Create or update xy-0146-qa-service; return its TaskDefinitionArn output."""
    cfn = aws.client("cloudformation")
    arguments = dict(
        StackName="xy-0146-qa-service",
        TemplateBody=service_template(with_output),
        Parameters=[
            {"ParameterKey": "Image", "ParameterValue": image},
            {"ParameterKey": "DesiredCount", "ParameterValue": str(desired_count)},
        ],
    )
    if cfn.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])["StackSummaries"]:
        cfn.update_stack(**arguments)
    else:
        aws.client("ecs").create_cluster(clusterName=CLUSTER)
        cfn.create_stack(**arguments)
    outputs = cfn.describe_stacks(StackName="xy-0146-qa-service")["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}.get("TaskDefinitionArn")


def test_expected_task_definition_reads_the_output(aws):
    first = deploy(aws, "nginx:1")
    assert stable.expected_task_definition(aws.client("cloudformation"), "xy-0146-qa") == first


def test_expected_task_definition_without_the_stack(aws):
    with pytest.raises(errors.DeployFailed) as raised:
        stable.expected_task_definition(aws.client("cloudformation"), "xy-0146-qa")
    assert str(raised.value) == (
        "the stable gate needs the service stack xy-0146-qa-service, which does not exist; it is built by "
        "stacker/tenant.yaml before the post_build hooks run"
    )


def test_expected_task_definition_without_the_output(aws):
    deploy(aws, "nginx:1", with_output=False)
    with pytest.raises(errors.DeployFailed) as raised:
        stable.expected_task_definition(aws.client("cloudformation"), "xy-0146-qa")
    assert str(raised.value) == (
        "the service stack xy-0146-qa-service has no output TaskDefinitionArn or TargetGroupArn (its outputs: "
        "ServiceName); "
        "it must be built from blueprints.service.TenantService"
    )


def context():
    with open("environments/xy-0146-qa.env") as handle:
        environment = envfile.parse(handle.read())
    return types.SimpleNamespace(environment=environment, hook_data={})


def recorded(aws, previous):
    """A context whose deploy holds the lock with `previous` recorded, as the pre_build hooks leave it."""
    ssm, now = aws.client("ssm"), datetime.datetime.now(datetime.timezone.utc)
    record = deploy_lock.new_record({}, "test-host", "tester", 4242, now, 3600, "20261101t090000z")
    deploy_lock.acquire(ssm, "xy-0146-qa", record, now)
    deploy_lock.update_record(ssm, "xy-0146-qa", record.holder, previous_task_definition=previous)
    return context()


PROVIDER = types.SimpleNamespace(region="us-east-1")


@pytest.fixture
def hook_env(aws, monkeypatch):
    """The hook's own clients reach the endpoint; polls are 0.05 s apart."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    for key in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TENANTSTACK_FAIL_CALLS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(hookargs.POLL_VARIABLE, "0.05")
    monkeypatch.setenv(endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
    return monkeypatch


def test_hook_first_deploy_is_stable(aws, hook_env):
    first = deploy(aws, "nginx:1")
    result = stable.wait_for_service(context(), PROVIDER)
    assert result == {"status": "stable", "task_definition": first, "waited_seconds": result["waited_seconds"],
                      "bake_seconds": 0}
    assert 0 <= result["waited_seconds"] < 5


def test_hook_tolerates_the_endpoints_first_deployment(aws, hook_env):
    first = deploy(aws, "nginx:1")
    second = deploy(aws, "nginx:2")
    primary = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["deployments"][0]
    assert (primary["status"], primary["taskDefinition"]) == ("PRIMARY", first)  # the gap itself
    assert stable.wait_for_service(recorded(aws, first), PROVIDER)["task_definition"] == second


def test_hook_without_the_switch_sees_a_rollback_and_reverts(aws, hook_env, caplog):
    first = deploy(aws, "nginx:1")
    deploy(aws, "nginx:2")
    hook_env.delenv(endpoint_quirks.SWITCH)
    caplog.set_level(logging.INFO, logger="hooks.steps.stable")
    with pytest.raises(stable.ServiceNotStable, match="circuit breaker rolled back"):
        stable.wait_for_service(recorded(aws, first), PROVIDER)
    assert stable.current_task_definition(aws.client("ecs"), CLUSTER, SERVICE) == first
    assert "deploy failed: service xy-0146-qa reverted to its previous task definition " + first in caplog.messages


def test_hook_times_out_and_reverts_when_tasks_never_come_up(aws, hook_env):
    first = deploy(aws, "nginx:1")
    second = deploy(aws, "nginx:2", desired_count=3)
    described = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    # The endpoint's update claims 3 of 3 for the service but keeps its first deployment at 2 of 2.
    assert (described["taskDefinition"], described["runningCount"], described["desiredCount"]) == (second, 3, 3)
    assert [(d["runningCount"], d["desiredCount"]) for d in described["deployments"]] == [(2, 2)]
    with pytest.raises(stable.ServiceNotStable) as raised:
        stable.wait_for_service(recorded(aws, first), PROVIDER, timeout_seconds=0.2)
    assert raised.value.timed_out
    assert "within 0.2 s; last seen: 2 of 3 tasks running on xy-0146-qa:2 (rollout COMPLETED)" in str(raised.value)
    assert stable.current_task_definition(aws.client("ecs"), CLUSTER, SERVICE) == first


def test_hook_failed_revert_is_logged_and_the_gate_error_raised(aws, monkeypatch, caplog):
    """AWS refuses to point a service at a deregistered (INACTIVE) task definition; the endpoint does not."""
    cfn = botocore.session.get_session().create_client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    cfn_stub = Stubber(cfn)
    cfn_stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "xy-0146-qa-service",
                    "CreationTime": datetime.datetime(2026, 1, 15),
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": [{"OutputKey": "TaskDefinitionArn", "OutputValue": NEW},
                                {"OutputKey": "TargetGroupArn", "OutputValue": TARGET_GROUP}],
                }
            ]
        },
        {"StackName": "xy-0146-qa-service"},
    )
    cfn_stub.activate()
    failed = service(deployment(rollout="FAILED", running=0), running=0)
    ecs, ecs_stub = stubbed_ecs(failed, failed)  # the gate's look, then the revert's
    ecs_stub.add_client_error(
        "update_service",
        service_error_code="ClientException",
        service_message="TaskDefinition is inactive",
        expected_params={"cluster": CLUSTER, "service": SERVICE, "taskDefinition": OLD},
    )
    ecs_stub.add_response("list_tasks", {"taskArns": []},  # why tasks stopped, for the message: none did
                          {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"})
    ssm, elbv2, logs = aws.client("ssm"), aws.client("elbv2"), aws.client("logs")
    made = {"ecs": ecs, "cloudformation": cfn, "ssm": ssm, "elbv2": elbv2, "logs": logs}
    monkeypatch.setattr(aws_clients, "client", lambda name, region=None: made[name])
    monkeypatch.delenv(endpoint_quirks.SWITCH, raising=False)
    with pytest.raises(stable.ServiceNotStable, match="the rollout of xy-0146-qa:7 FAILED"):
        stable.wait_for_service(recorded(aws, OLD), PROVIDER)
    failed_revert = "reverting service xy-0146-qa in cluster common-nonprod to %s failed too" % OLD
    assert any(failed_revert in message for message in caplog.messages)
    ecs_stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "arguments, message",
    [
        pytest.param(
            {"poll": 5},
            "hook wait_for_service: unknown argument(s) poll; accepted: poll_seconds, timeout_seconds",
            id="unknown-argument",
        ),
        pytest.param(
            {"timeout_seconds": "soon"},
            "hook wait_for_service: argument timeout_seconds 'soon' is invalid: expected a number of seconds > 0",
            id="timeout-not-a-number",
        ),
        pytest.param(
            {"timeout_seconds": 0},
            "hook wait_for_service: argument timeout_seconds 0 is invalid: expected a number of seconds > 0",
            id="timeout-zero",
        ),
        pytest.param(
            {"poll_seconds": -1},
            "hook wait_for_service: argument poll_seconds -1 is invalid: expected a number of seconds >= 0",
            id="poll-negative",
        ),
        pytest.param(
            {"poll_seconds": True},
            "hook wait_for_service: argument poll_seconds True is invalid: expected a number of seconds >= 0",
            id="poll-boolean",
        ),
    ],
)
def test_hook_arguments_are_checked_before_anything_else(arguments, message):
    with pytest.raises(HookArgumentError) as raised:  # what the wiring checks first, before settings or AWS
        hookargs.check("wait_for_service", arguments, stable.wait_for_service.declared_arguments, environ={})
    assert str(raised.value) == message


def test_hook_bake_alarm_in_alarm_fails_the_deploy_naming_it_and_reverts(aws, hook_env):
    """bake_seconds > 0: after the service is stable, the 5xx and unhealthy-host alarms are watched; one in
    ALARM (set on the endpoint, as CloudWatch would once the new tasks answer 5xx) fails the gate, reverted."""
    first = deploy(aws, "nginx:1")
    deploy(aws, "nginx:2")
    cloudwatch = aws.client("cloudwatch")
    for what in ("target-5xx-rate", "unhealthy-hosts"):
        cloudwatch.put_metric_alarm(AlarmName="xy-0146-qa-%s" % what, MetricName="m", Namespace="n", Statistic="Sum",
                                    Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName="xy-0146-qa-unhealthy-hosts", StateValue="ALARM", StateReason="2 unhealthy")
    baking = recorded(aws, first)
    baking.environment["bake_seconds"] = "1"
    with pytest.raises(stable.ServiceNotStable, match="alarm xy-0146-qa-unhealthy-hosts is in ALARM .*: 2 unhealthy"):
        stable.wait_for_service(baking, PROVIDER)
    assert stable.current_task_definition(aws.client("ecs"), CLUSTER, SERVICE) == first

    cloudwatch.set_alarm_state(AlarmName="xy-0146-qa-unhealthy-hosts", StateValue="OK", StateReason="healthy")
    second = deploy(aws, "nginx:3")
    result = stable.wait_for_service(baking, PROVIDER)
    assert (result["task_definition"], result["bake_seconds"]) == (second, 1)
