"""The stable gate's judgement, pure: is the service settled on the new task definition?

`assess` judges one describe_services answer: stable, waiting or failed, and why, in
words an operator can act on. hooks/steps/stable.py polls ECS and acts on the verdict.
"""
from dataclasses import dataclass
from typing import Optional

STABLE, WAITING, FAILED = "stable", "waiting", "failed"
FIRST_DEPLOYMENT_BEHAVIOUR = "ecs-deployment-per-task-definition"


@dataclass(frozen=True)
class Assessment:
    """One look at the service: stable, waiting or failed, and why."""

    state: str
    reason: str
    running: int = 0  # tasks the PRIMARY deployment runs
    desired: int = 0  # the service's desired count
    deployments: int = 0
    waited_seconds: Optional[float] = None  # set once the gate is done waiting


def short_task_definition(arn):
    """'xy-0146-qa:7' for a task definition ARN (readable progress lines)."""
    return (arn or "none").rsplit("task-definition/", 1)[-1]


def assess(service, expected_task_definition, tolerate_first_deployment=False):
    """Judge one service (a describe_services entry, or None when missing).

    `tolerate_first_deployment`: the local endpoint keeps a service's first deployment when
    the service gets a new task definition, so the service's own taskDefinition stands in
    for the PRIMARY deployment's (endpoint_quirks "ecs-deployment-per-task-definition").
    """
    expected = short_task_definition(expected_task_definition)
    if service is None:
        return Assessment(FAILED, "the service does not exist")
    if service.get("status") != "ACTIVE":
        return Assessment(FAILED, "the service is %s, not ACTIVE" % service.get("status"))
    deployments = service.get("deployments") or []
    desired = service.get("desiredCount", 0)
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return Assessment(WAITING, "no PRIMARY deployment yet", 0, desired, len(deployments))
    counts = dict(running=primary.get("runningCount", 0), desired=desired, deployments=len(deployments))
    rollout = primary.get("rolloutState")
    runs = primary.get("taskDefinition")
    if tolerate_first_deployment and service.get("taskDefinition") == expected_task_definition:
        runs = expected_task_definition
    if rollout == "FAILED":
        return Assessment(FAILED, _rollout_failed(primary, short_task_definition(runs)), **counts)
    if runs != expected_task_definition:
        return _not_on_expected(service, deployments, runs, expected_task_definition, counts)
    counts_match = primary.get("runningCount") == desired == service.get("runningCount")
    # Services older than rollout states report none: settled means one deployment, counts met.
    rollout_done = rollout in (None, "COMPLETED")
    summary = "%d of %d tasks running on %s (rollout %s)" % (
        counts["running"], desired, expected, rollout or "state not reported"
    )
    if rollout_done and counts_match and len(deployments) == 1:
        return Assessment(STABLE, summary, **counts)
    missing = [summary]
    others = [d for d in deployments if d is not primary]
    if others:
        draining = ", ".join(
            "%s: %d running" % (short_task_definition(d.get("taskDefinition")), d.get("runningCount", 0))
            for d in others
        )
        missing.append("%d other deployment(s) still draining (%s)" % (len(others), draining))
    elif service.get("runningCount") != desired and primary.get("runningCount") == desired:
        missing.append("the service reports %d of %d running" % (service.get("runningCount", 0), desired))
    return Assessment(WAITING, "; ".join(missing), **counts)


def _rollout_failed(deployment, task_definition):
    why = deployment.get("rolloutStateReason")
    return "the rollout of %s FAILED%s" % (task_definition, ": %s" % why if why else "")


def _not_on_expected(service, deployments, runs, expected_arn, counts):
    expected, runs = short_task_definition(expected_arn), short_task_definition(runs)
    on_expected = [d for d in deployments if d.get("taskDefinition") == expected_arn]
    if not on_expected:
        reason = (
            "the PRIMARY deployment runs %s, not %s, and no deployment runs %s: the deployment circuit "
            "breaker rolled back (or another deploy replaced it)" % (runs, expected, expected)
        )
        if service.get("taskDefinition") == expected_arn:
            reason += (
                "; the service itself names %s, the state the local endpoint leaves (endpoint_quirks %r)"
                % (expected, FIRST_DEPLOYMENT_BEHAVIOUR)
            )
        return Assessment(FAILED, reason, **counts)
    failed = [d for d in on_expected if d.get("rolloutState") == "FAILED"]
    if failed:
        reason = "%s; ECS is rolling back to %s" % (_rollout_failed(failed[0], expected), runs)
        return Assessment(FAILED, reason, **counts)
    return Assessment(WAITING, "%s is not the PRIMARY deployment yet (PRIMARY runs %s)" % (expected, runs), **counts)




# --- the load balancer's view ---------------------------------------------------------------
# ECS "stable" means the tasks run; the target group's health check (GET /healthz, which goes
# through the database) says whether they can serve. The gate needs both.

HEALTHY, UNHEALTHY = "healthy", "unhealthy"


@dataclass(frozen=True)
class Target:
    """One task of the new task definition, as the target group sees it."""

    task: str  # the task's id (the last part of its ARN)
    address: Optional[str]  # its private IP: the target's Id (target type ip); None before it has one
    state: Optional[str]  # healthy, unhealthy, initial, draining, unused ...; None: not registered
    reason: Optional[str] = None  # e.g. Target.ResponseCodeMismatch
    description: Optional[str] = None  # e.g. Health checks failed with these codes: [503]


def task_address(task):
    """The private IPv4 address of a described Fargate task (its ENI), or None before it has one."""
    for attachment in task.get("attachments") or []:
        if attachment.get("type") != "ElasticNetworkInterface":
            continue
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address":
                return detail.get("value")
    return None


def new_targets(tasks, health, expected_task_definition):
    """Targets of the running tasks of `expected_task_definition`.

    tasks: describe_tasks entries; health: describe_target_health's TargetHealthDescriptions."""
    by_address = {entry["Target"]["Id"]: entry.get("TargetHealth") or {} for entry in health}
    targets = []
    for task in tasks:
        if task.get("taskDefinitionArn") != expected_task_definition or task.get("lastStatus") != "RUNNING":
            continue
        address = task_address(task)
        seen = by_address.get(address) if address else None
        targets.append(Target(
            task=task["taskArn"].rsplit("/", 1)[-1],
            address=address,
            state=seen.get("State") if seen else None,
            reason=seen.get("Reason") if seen else None,
            description=seen.get("Description") if seen else None,
        ))
    return targets


def assess_targets(targets, desired, expected_task_definition):
    """Judge the new task definition's targets: failed at the first unhealthy one (the load
    balancer's health check already saw it fail twice in a row), stable once `desired` of them
    are healthy, waiting otherwise."""
    expected = short_task_definition(expected_task_definition)
    unhealthy = [target for target in targets if target.state == UNHEALTHY]
    if unhealthy:
        first = unhealthy[0]
        why = ": ".join(part for part in (first.reason, first.description) if part) or "no reason given"
        return Assessment(FAILED, "target %s (task %s of %s) is unhealthy in the target group: %s; %d of %d "
                          "new target(s) unhealthy" % (first.address, first.task, expected, why, len(unhealthy),
                                                       len(targets)))
    healthy = sum(1 for target in targets if target.state == HEALTHY)
    if healthy >= desired:
        return Assessment(STABLE, "%d of %d target(s) of %s healthy in the target group" % (healthy, desired, expected))
    pending = ", ".join("%s: %s" % (target.address or target.task, target.state or "not registered")
                        for target in targets if target.state != HEALTHY) or "no task of it runs yet"
    return Assessment(WAITING, "%d of %d target(s) of %s healthy in the target group (%s)"
                      % (healthy, desired, expected, pending))
