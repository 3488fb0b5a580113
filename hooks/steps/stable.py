"""post_build: the stable gate. The service must run the NEW task definition, stably.

A CloudFormation success is not enough: the gate reads the service stack's
TaskDefinitionArn output and waits until ECS says the PRIMARY deployment runs it with
every task up and nothing else draining. Only then may the SSM pointer flip. When the
gate fails, the service is pointed back at the task definition it ran before the deploy,
so the old service keeps serving on the old database.

Layers: `assess` (pure: judges one describe_services answer), `wait_until_stable`,
`current_task_definition`, `revert_service`, `expected_task_definition` (AWS, take
clients), `wait_for_service` (the stacker hook).
"""
import logging
import os
import time
from dataclasses import dataclass, replace
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, errors, naming
from hooks.aws import endpoint_quirks
from hooks.config import hookargs
from hooks.tenant import inventory
from hooks.lock import deploy_lock
from hooks.config import settings
from hooks.config.hookargs import HookArgumentError, check_arguments, environment_of

logger = logging.getLogger(__name__)

STABLE, WAITING, FAILED = "stable", "waiting", "failed"
# blueprints.service outputs "<LogicalId><Attribute>" for its TaskDefinition (a test keeps them in step).
TASK_DEFINITION_OUTPUT = "TaskDefinitionArn"
FOLLOW_BEHAVIOUR = "cfn-service-follows-task-definition"
FIRST_DEPLOYMENT_BEHAVIOUR = "ecs-deployment-per-task-definition"
DEFAULT_POLL_SECONDS = 15
POLL_VARIABLE = hookargs.POLL_VARIABLE
PROGRESS_EVERY_SECONDS = 60
HOOK_ARGUMENTS = ("poll_seconds", "timeout_seconds")


@dataclass(frozen=True)
class Assessment:
    """One look at the service: stable, waiting or failed, and why."""

    state: str
    reason: str
    running: int = 0  # tasks the PRIMARY deployment runs
    desired: int = 0  # the service's desired count
    deployments: int = 0
    waited_seconds: Optional[float] = None  # set by wait_until_stable


class ServiceNotStable(errors.DeployFailed):
    """The service failed on, or did not settle on, the new task definition in time."""

    def __init__(self, message, assessment, timed_out):
        super().__init__(message)
        self.assessment = assessment
        self.timed_out = timed_out


def short_task_definition(arn):
    """'xy-0146-qa:7' for a task definition ARN (readable progress lines)."""
    return (arn or "none").rsplit("task-definition/", 1)[-1]


def _duration(value):
    return "%g" % round(value, 1)


# --- pure --------------------------------------------------------------------------------


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


# --- AWS ---------------------------------------------------------------------------------


def describe_service(ecs, cluster, service_name):
    """The describe_services entry of one service, or None when the cluster has no such service."""
    services = ecs.describe_services(cluster=cluster, services=[service_name]).get("services") or []
    return services[0] if services else None


def current_task_definition(ecs, cluster, service_name):
    """The task definition the service runs now; None when the service does not exist."""
    service = describe_service(ecs, cluster, service_name)
    if service is None or service.get("status") == "INACTIVE":
        return None
    return service.get("taskDefinition")


def revert_service(ecs, cluster, service_name, previous_task_definition):
    """Point the service back at `previous_task_definition`; True when it changed anything.

    A no-op when there is no previous task definition (a first deploy), when the service
    does not exist, or when it already runs the previous one. AWS refuses a task definition
    that is INACTIVE (CloudFormation deregisters the one it replaces); the local endpoint
    accepts it.
    """
    if previous_task_definition is None:
        return False
    current = current_task_definition(ecs, cluster, service_name)
    if current is None or current == previous_task_definition:
        return False
    ecs.update_service(cluster=cluster, service=service_name, taskDefinition=previous_task_definition)
    return True


def expected_task_definition(cfn, namespace):
    """The task definition the deploy must end on: the service stack's TaskDefinitionArn output."""
    stack = naming.service_stack_name(namespace)
    described = inventory.describe_stack(cfn, stack)
    if described is None:
        raise errors.DeployFailed(
            "the stable gate needs the service stack %s, which does not exist; it is built by "
            "stacker/tenant.yaml before the post_build hooks run" % stack
        )
    outputs = inventory.stack_outputs(described)
    if TASK_DEFINITION_OUTPUT not in outputs:
        raise errors.DeployFailed(
            "the service stack %s has no output %s (its outputs: %s); it must be built from "
            "blueprints.service.TenantService" % (stack, TASK_DEFINITION_OUTPUT, ", ".join(sorted(outputs)) or "none")
        )
    return outputs[TASK_DEFINITION_OUTPUT]


def wait_until_stable(
    ecs,
    cluster,
    service_name,
    expected_task_definition,
    timeout_seconds,
    poll_seconds=DEFAULT_POLL_SECONDS,
    clock=time.monotonic,
    sleep=time.sleep,
    progress=None,
    tolerate_first_deployment=False,
):
    """Poll until the service is stable on `expected_task_definition`; return the Assessment.

    Polls once at once, then every `poll_seconds` until `timeout_seconds` have passed (one
    last poll at the deadline). `progress(line)` hears every change of state and, while
    nothing changes, a line at least every minute. Raises ServiceNotStable on a failed
    rollout, a rollback, an inactive service, or the timeout.
    """
    progress = progress or (lambda line: logger.info("%s", line))
    started = clock()
    last_seen, last_told = None, None
    while True:
        service = describe_service(ecs, cluster, service_name)
        seen = assess(service, expected_task_definition, tolerate_first_deployment)
        waited = clock() - started
        if seen.state == STABLE:
            progress("%s: stable after %s s: %s" % (service_name, _duration(waited), seen.reason))
            return replace(seen, waited_seconds=waited)
        if seen.state == FAILED:
            raise _not_stable(service, seen, cluster, service_name, expected_task_definition, None)
        if (seen.state, seen.reason) != last_seen or waited - last_told >= PROGRESS_EVERY_SECONDS:
            budget = "%s s of %s s" % (_duration(waited), _duration(timeout_seconds))
            progress("%s: waiting %s: %s" % (service_name, budget, seen.reason))
            last_seen, last_told = (seen.state, seen.reason), waited
        if waited >= timeout_seconds:
            raise _not_stable(service, seen, cluster, service_name, expected_task_definition, timeout_seconds)
        sleep(max(0, min(poll_seconds, timeout_seconds - waited)))


def _not_stable(service, seen, cluster, service_name, expected, timeout_seconds):
    if timeout_seconds is None:
        what = "failed on task definition %s: %s" % (expected, seen.reason)
    else:
        what = "did not become stable on task definition %s within %s s; last seen: %s" % (
            expected, _duration(timeout_seconds), seen.reason
        )
    events = (service or {}).get("events") or []
    latest = " Latest service event: %s." % events[0].get("message", "").rstrip(".") if events else ""
    message = (
        "ECS service %s in cluster %s %s.%s The SSM pointer was not flipped, so the old database still "
        "serves. Look at `aws ecs describe-services --cluster %s --services %s` and the service's events, "
        "fix the cause, then run the deploy again." % (service_name, cluster, what, latest, cluster, service_name)
    )
    return ServiceNotStable(message, seen, timed_out=timeout_seconds is not None)


# --- stacker hook ------------------------------------------------------------------------


def recorded_task_definition(ssm, namespace):
    """What the service ran before this deploy, as hooks.steps.pointer.record_live kept it in the deploy_lock."""
    record = deploy_lock.read(ssm, namespace)
    return record.previous_task_definition if record else None


def _argument(name, value, exclusive):
    return hookargs.seconds_argument("wait_for_service", name, value, exclusive)


def poll_interval(argument, environ):
    """The hook's poll_seconds (default 15), unless TENANTSTACK_POLL_SECONDS overrides it."""
    return hookargs.poll_seconds("wait_for_service", argument, DEFAULT_POLL_SECONDS, environ)


@deploy_lock.releasing_lock_on_failure
def wait_for_service(context, provider, **kwargs):
    """post_build hook: wait until the service is stable on the new task definition."""
    check_arguments("wait_for_service", kwargs, accepted=HOOK_ARGUMENTS)
    poll_seconds = poll_interval(kwargs.get("poll_seconds"), os.environ)
    timeout_seconds = kwargs.get("timeout_seconds")
    if timeout_seconds is not None:
        timeout_seconds = _argument("timeout_seconds", timeout_seconds, True)
    return run_gate(context, provider, poll_seconds, timeout_seconds)


def run_gate(context, provider, poll_seconds, timeout_seconds):
    """The hook after its arguments are checked; reverts the service when the gate fails."""
    values = settings.load_settings(environment_of(context))
    namespace = values["namespace"]
    cluster = naming.cluster_name(values["shared_namespace"])
    service_name = naming.service_name(namespace)
    timeout_seconds = values["stable_timeout"] if timeout_seconds is None else timeout_seconds
    ecs = aws.client("ecs", provider.region)
    expected = expected_task_definition(aws.client("cloudformation", provider.region), namespace)
    if endpoint_quirks.tolerates(FOLLOW_BEHAVIOUR) and current_task_definition(ecs, cluster, service_name) != expected:
        ecs.update_service(cluster=cluster, service=service_name, taskDefinition=expected)
    try:
        seen = wait_until_stable(
            ecs, cluster, service_name, expected, timeout_seconds, poll_seconds=poll_seconds,
            tolerate_first_deployment=endpoint_quirks.tolerates(FIRST_DEPLOYMENT_BEHAVIOUR),
        )
    except (ServiceNotStable, ClientError, BotoCoreError):
        revert_to_recorded(aws.client("ssm", provider.region), ecs, namespace, cluster)
        raise
    return {"status": STABLE, "task_definition": expected, "waited_seconds": round(seen.waited_seconds, 1)}


def revert_to_recorded(ssm, ecs, namespace, cluster):
    """After a failed gate or flip: point the service back at what it ran before the deploy.

    Best effort: the caller re-raises its own error whatever happens here. Returns a
    sentence saying what the service runs now, for that error's message.
    """
    service_name = naming.service_name(namespace)
    previous = recorded_task_definition(ssm, namespace)
    try:
        reverted = revert_service(ecs, cluster, service_name, previous)
    except (ClientError, BotoCoreError) as error:
        logger.error(
            "deploy failed and reverting service %s in cluster %s to %s failed too (%s); point it back "
            "with `aws ecs update-service --cluster %s --service %s --task-definition %s`",
            service_name,
            cluster,
            previous,
            error,
            cluster,
            service_name,
            previous,
        )
        return "reverting the service to %s failed (%s)" % (previous, error)
    if reverted:
        outcome = "service %s reverted to its previous task definition %s" % (service_name, previous)
    elif previous is None:
        outcome = "service %s not reverted: it had no task definition before this deploy" % service_name
    else:
        outcome = "service %s not reverted: it runs %s already" % (service_name, previous)
    logger.warning("deploy failed: %s", outcome)
    return outcome
