"""hooks/steps/task_definitions.py: replaced revisions beyond the newest K go; the service's never do."""
import pytest

from hooks import naming
from hooks.steps import task_definitions
from hooks.steps.retention import DELETE, KEEP

QA = "xy-0146-qa"
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:%d"


def plan(revisions, keep, in_use=()):
    return [(task_definitions.revision_of(arn), action, reason) for arn, action, reason in
            task_definitions.plan_deregistration([ARN % r for r in revisions], keep, {ARN % r for r in in_use})]


@pytest.mark.parametrize("revisions, keep, in_use, expected", [
    pytest.param([1, 2, 3], 5, [3], [(3, KEEP, "the service runs it"), (2, KEEP, "one of the newest 5"),
                                     (1, KEEP, "one of the newest 5")], id="fewer-than-keep"),
    pytest.param([4, 1, 3, 2, 5], 2, [5], [
        (5, KEEP, "the service runs it"), (4, KEEP, "one of the newest 2"),
        (3, DELETE, "replaced, older than the newest 2"), (2, DELETE, "replaced, older than the newest 2"),
        (1, DELETE, "replaced, older than the newest 2")], id="by-revision-not-listing-order"),
    pytest.param([1, 2, 3, 4], 2, [1, 4], [
        (4, KEEP, "the service runs it"), (3, KEEP, "one of the newest 2"),
        (2, DELETE, "replaced, older than the newest 2"), (1, KEEP, "the service runs it")],
        id="an-old-revision-a-deployment-still-runs-is-kept"),
    pytest.param([], 2, [], [], id="none"),
])
def test_plan(revisions, keep, in_use, expected):
    assert plan(revisions, keep, in_use) == expected


def register(ecs, family):
    return ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "php", "image": "php", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]


def test_beyond_the_newest_the_replaced_revisions_are_deregistered_and_the_running_one_and_others_stay(aws):
    ecs = aws.client("ecs")
    cluster = naming.cluster_name("common-nonprod")
    ecs.create_cluster(clusterName=cluster)
    revisions = [register(ecs, naming.task_family(QA)) for _ in range(6)]
    other = register(ecs, "xy-0146-qa2")  # another family sharing the prefix: never touched
    ecs.create_service(cluster=cluster, serviceName=naming.service_name(QA), taskDefinition=revisions[1],
                       desiredCount=0)
    result = task_definitions.deregister_replaced(ecs, QA, "common-nonprod", keep=2, apply=False)
    assert result["deregistered"] == [] and {a for a, action, _ in result["verdicts"] if action == DELETE} == {
        revisions[0], revisions[2], revisions[3]}  # a dry run deregisters nothing

    result = task_definitions.deregister_replaced(ecs, QA, "common-nonprod", keep=2)
    assert sorted(result["deregistered"]) == sorted([revisions[0], revisions[2], revisions[3]])
    assert result["failed"] == []
    active = set(task_definitions.active_revisions(ecs, QA))
    assert active == {revisions[1], revisions[4], revisions[5]}
    listed = ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    assert other in listed
