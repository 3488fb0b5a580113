"""What the stable gate reads beyond the service: its tasks, their targets' health, why tasks stopped.

AWS functions; they take clients. The judgement is pure (hooks/steps/stable_rules.py).

- `look_at_targets`: the running tasks of the service (ListTasks + DescribeTasks) and the
  health of the tenant's target group (DescribeTargetHealth), judged for the new task
  definition: 3 calls a look, whatever the account holds.
- `stopped_tasks`: after a failed rollout, why the new task definition's tasks stopped (the
  stopped reason, each container's exit code) and the last lines the migrate container
  logged, so the deploy's message says what the migration or the application reported.
"""
import logging
from dataclasses import dataclass

from hooks import aws, naming
from hooks.steps.stable_rules import STABLE, Assessment, assess_targets, new_targets, short_task_definition

logger = logging.getLogger(__name__)

NO_TASKS_BEHAVIOUR = "ecs-services-run-no-tasks"
DESCRIBE_TASKS_BATCH = 100  # DescribeTasks takes at most 100 tasks
STOPPED_TASKS_SHOWN = 3
LOG_LINES_SHOWN = 10


def service_tasks(ecs, cluster, service_name, desired_status="RUNNING"):
    """The described tasks of the service with that desired status (ListTasks, then DescribeTasks)."""
    pages = ecs.get_paginator("list_tasks").paginate(cluster=cluster, serviceName=service_name,
                                                     desiredStatus=desired_status)
    arns = [arn for page in pages for arn in page.get("taskArns", [])]
    tasks = []
    for start in range(0, len(arns), DESCRIBE_TASKS_BATCH):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + DESCRIBE_TASKS_BATCH])["tasks"]
    return tasks


def target_health(elbv2, target_group_arn):
    """Every target of the group with its health (DescribeTargetHealth)."""
    return elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]


def look_at_targets(ecs, elbv2, cluster, service_name, target_group_arn, expected_task_definition, desired,
                    no_tasks_seen=False):
    """The Assessment of the new task definition's targets (hooks.steps.stable_rules.assess_targets).

    `no_tasks_seen`: the endpoint runs no tasks (endpoint_quirks NO_TASKS_BEHAVIOUR): when the
    service has none at all, the targets are judged by the service alone, and the reason says so.
    """
    tasks = service_tasks(ecs, cluster, service_name)
    if no_tasks_seen and not tasks:
        return Assessment(STABLE, "no task to see on the local endpoint (%s)" % NO_TASKS_BEHAVIOUR)
    targets = new_targets(tasks, target_health(elbv2, target_group_arn), expected_task_definition)
    return assess_targets(targets, desired, expected_task_definition)


@dataclass(frozen=True)
class StoppedTask:
    task: str
    reason: str
    exits: tuple  # ("migrate exited 1", ...)
    log_lines: tuple  # the migrate container's last lines


def stopped_tasks(ecs, logs, cluster, namespace, expected_task_definition):
    """Why tasks of `expected_task_definition` stopped, newest first (at most a few); [] when none did."""
    service_name = naming.service_name(namespace)
    stopped = [task for task in service_tasks(ecs, cluster, service_name, "STOPPED")
               if task.get("taskDefinitionArn") == expected_task_definition]
    stopped.sort(key=lambda task: str(task.get("stoppedAt", "")), reverse=True)
    found = []
    for task in stopped[:STOPPED_TASKS_SHOWN]:
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        exits = tuple("%s exited %s%s" % (container["name"], container.get("exitCode"),
                                          " (%s)" % container["reason"] if container.get("reason") else "")
                      for container in task.get("containers") or [] if container.get("exitCode") not in (None, 0))
        found.append(StoppedTask(task_id, task.get("stoppedReason") or "no reason given", exits,
                                 tuple(migrate_log_lines(logs, namespace, task_id))))
    return found


def migrate_log_lines(logs, namespace, task_id):
    """The last lines the task's migrate container logged (its awslogs stream), [] if none."""
    stream = naming.container_log_stream(naming.MIGRATE_CONTAINER, task_id)
    events = aws.or_none(logs.get_log_events, "ResourceNotFoundException", logGroupName=naming.log_group_name(namespace),
                         logStreamName=stream, limit=LOG_LINES_SHOWN, startFromHead=False)
    return [event["message"].rstrip() for event in (events or {}).get("events", [])]


def describe_stopped(stopped, expected_task_definition):
    """A sentence for the deploy's error message; '' when nothing stopped."""
    if not stopped:
        return ""
    parts = []
    for task in stopped:
        exits = "; %s" % ", ".join(task.exits) if task.exits else ""
        lines = "; migrate logged: %s" % " | ".join(task.log_lines) if task.log_lines else ""
        parts.append("task %s stopped: %s%s%s" % (task.task, task.reason, exits, lines))
    return " Tasks of %s that stopped: %s." % (short_task_definition(expected_task_definition), " / ".join(parts))

