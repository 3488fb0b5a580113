"""post_build: the stable gate. The service must run the NEW task definition, and serve from it.

A CloudFormation success is not enough: the gate reads the service stack's
TaskDefinitionArn and TargetGroupArn outputs and waits until (1) ECS says the PRIMARY
deployment runs the new task definition with every task up and nothing else draining, and
(2) the load balancer reports those tasks healthy in the tenant's target group, whose
health check (/healthz) goes through the new database. A new target reported unhealthy
fails the gate at once, with the health check's reason. Only then may the SSM pointer
flip; with a bake time (env key bake_seconds: 300 for prod, 0 elsewhere), only once the tenant's
5xx and unhealthy-host alarms stayed quiet that long after (hooks/steps/bake.py). When the gate
fails, the service is pointed back at the task definition it ran before
the deploy, so the old service keeps serving on the old database; the message says why the
new tasks stopped and what their migration logged (hooks/steps/stable_targets.py).

Layers: hooks/steps/stable_rules.py (pure: `assess`, `assess_targets`);
`wait_until_stable`, `gate`, `current_task_definition`, `revert_service`,
`service_outputs`, `revert_to_recorded` (AWS, take clients), hooks/steps/stable_targets.py;
`wait_for_service` (the stacker hook).
"""
import functools
import logging
import time
from dataclasses import replace

from botocore.exceptions import BotoCoreError, ClientError

from hooks import errors, naming
from hooks.aws import endpoint_quirks, resources
from hooks.aws.wait import Look, Wait, poll, seconds
from hooks.config import hookargs
from hooks.errors import ServiceNotStable, WaitTimedOut
from hooks.lock import deploy_lock
from hooks.steps.stable_rules import (  # noqa: F401  (re-exported: the gate's verdicts)
    FAILED,
    FIRST_DEPLOYMENT_BEHAVIOUR,
    STABLE,
    WAITING,
    Assessment,
    assess,
    short_task_definition,
)
from hooks.steps import bake, stable_targets
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

# blueprints.service outputs "<LogicalId><Attribute>" for its TaskDefinition (a test keeps them in step).
TASK_DEFINITION_OUTPUT, TARGET_GROUP_OUTPUT = "TaskDefinitionArn", "TargetGroupArn"
NO_TASKS_BEHAVIOUR = stable_targets.NO_TASKS_BEHAVIOUR
FOLLOW_BEHAVIOUR = "cfn-service-follows-task-definition"
ALARMS_BEHAVIOUR = "cfn-cloudwatch-alarms-not-created"
DEFAULT_POLL_SECONDS = hookargs.DEFAULT_POLL_SECONDS


# --- AWS ---------------------------------------------------------------------------------


def describe_service(ecs, cluster, service_name):
    """The describe_services entry of one service, or None when the cluster has no such service."""
    return resources.describe_service(ecs, cluster, service_name)


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
    return service_outputs(cfn, namespace)[TASK_DEFINITION_OUTPUT]


def service_outputs(cfn, namespace):
    """The service stack's outputs; DeployFailed when the stack or the outputs the gate needs are missing."""
    stack = naming.service_stack_name(namespace)
    described = resources.describe_stack(cfn, stack)
    if described is None:
        raise errors.DeployFailed(
            "the stable gate needs the service stack %s, which does not exist; it is built by "
            "stacker/tenant.yaml before the post_build hooks run" % stack
        )
    outputs = resources.stack_outputs(described)
    missing = [name for name in (TASK_DEFINITION_OUTPUT, TARGET_GROUP_OUTPUT) if name not in outputs]
    if missing:
        raise errors.DeployFailed(
            "the service stack %s has no output %s (its outputs: %s); it must be built from "
            "blueprints.service.TenantService" % (stack, " or ".join(missing), ", ".join(sorted(outputs)) or "none")
        )
    return outputs


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
    targets=None,
):
    """Poll until the service is stable on `expected_task_definition`; return the Assessment.

    Polls once at once, then every `poll_seconds` until `timeout_seconds` have passed (one
    last poll at the deadline), through hooks.aws.wait.poll: `progress(line)` hears every
    change of state and, while nothing changes, a line at least every minute. Raises
    ServiceNotStable on a failed rollout, a rollback, an inactive service, an unhealthy new
    target, or the timeout. `targets(desired)`: the new targets' Assessment
    (stable_targets.look_at_targets); None: the service alone decides (the local endpoint).
    """
    progress = progress or (lambda line: logger.info("%s", line))

    def look():
        service = describe_service(ecs, cluster, service_name)
        seen = assess(service, expected_task_definition, tolerate_first_deployment)
        if seen.state != FAILED and targets is not None:
            seen = combine(seen, targets(seen.desired))
        if seen.state == FAILED:
            raise _not_stable(service, seen, cluster, service_name, expected_task_definition, None)
        return Look(seen.state == STABLE, "%s: waiting: %s" % (service_name, seen.reason), (service, seen))

    wait = Wait(poll_seconds=poll_seconds, budget_seconds=timeout_seconds)
    try:
        done = poll(look, "service %s" % service_name, wait, progress, clock, sleep)
    except WaitTimedOut as timed_out:
        service, seen = timed_out.last.value
        raise _not_stable(service, seen, cluster, service_name, expected_task_definition, timeout_seconds) from None
    seen = done.value[1]
    progress("%s: stable after %s s: %s" % (service_name, seconds(done.waited_seconds), seen.reason))
    return replace(seen, waited_seconds=done.waited_seconds)


def combine(service, targets):
    """The gate's verdict from the service's and its targets' Assessments: the worse state, both reasons."""
    order = (FAILED, WAITING, STABLE)
    state = min(service.state, targets.state, key=order.index)
    return replace(service, state=state, reason="%s; %s" % (service.reason, targets.reason))


def _not_stable(service, seen, cluster, service_name, expected, timeout_seconds):
    if timeout_seconds is None:
        what = "failed on task definition %s: %s" % (expected, seen.reason)
    else:
        what = "did not become stable on task definition %s within %s s; last seen: %s" % (
            expected, seconds(timeout_seconds), seen.reason
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


def gate(clients, namespace, cluster, timeout_seconds, poll_seconds=DEFAULT_POLL_SECONDS, bake_seconds=0):
    """Wait until the service serves from the service stack's task definition, then (bake_seconds > 0)
    until it served that long without its bake alarms firing; on failure point it back at what it ran
    before the deploy (the lock's record) and re-raise, saying why. `clients(service)`: a client per AWS service."""
    ssm, ecs, cfn = clients("ssm"), clients("ecs"), clients("cloudformation")
    service_name = naming.service_name(namespace)
    outputs = service_outputs(cfn, namespace)
    expected = outputs[TASK_DEFINITION_OUTPUT]
    if endpoint_quirks.tolerates(FOLLOW_BEHAVIOUR) and current_task_definition(ecs, cluster, service_name) != expected:
        ecs.update_service(cluster=cluster, service=service_name, taskDefinition=expected)
    targets = functools.partial(stable_targets.look_at_targets, ecs, clients("elbv2"), cluster, service_name,
                                outputs[TARGET_GROUP_OUTPUT], expected,
                                no_tasks_seen=endpoint_quirks.tolerates(NO_TASKS_BEHAVIOUR))
    try:
        seen = wait_until_stable(
            ecs, cluster, service_name, expected, timeout_seconds, poll_seconds=poll_seconds,
            tolerate_first_deployment=endpoint_quirks.tolerates(FIRST_DEPLOYMENT_BEHAVIOUR), targets=targets,
        )
        baked = bake.bake(clients("cloudwatch"), namespace, bake_seconds, poll_seconds) if bake_seconds else None
    except ServiceNotStable as failure:
        revert_to_recorded(ssm, ecs, namespace, cluster)
        raise ServiceNotStable(str(failure) + _why_tasks_stopped(clients, namespace, cluster, expected),
                               failure.assessment, failure.timed_out) from failure
    except (ClientError, BotoCoreError):
        revert_to_recorded(ssm, ecs, namespace, cluster)
        raise
    return {"status": STABLE, "task_definition": expected, "waited_seconds": round(seen.waited_seconds, 1),
            "bake_seconds": baked["bake_seconds"] if baked else 0}


def _why_tasks_stopped(clients, namespace, cluster, expected):
    """Best effort, for the message: why new tasks stopped and what migrate logged ('' if unknown)."""
    try:
        stopped = stable_targets.stopped_tasks(clients("ecs"), clients("logs"), cluster, namespace, expected)
    except (ClientError, BotoCoreError) as error:
        logger.warning("could not read why the tasks of %s stopped: %s", expected, error)
        return ""
    return stable_targets.describe_stopped(stopped, expected)


# --- stacker hook ------------------------------------------------------------------------


@stacker_hook(holds_lock=True, poll_seconds=hookargs.POLL_SECONDS,
              timeout_seconds=hookargs.seconds(exclusive=True))
def wait_for_service(run, poll_seconds, timeout_seconds):
    """post_build hook: wait until the service is stable on the new task definition
    (timeout_seconds: default the env key stable_timeout)."""
    timeout = run.settings["stable_timeout"] if timeout_seconds is None else timeout_seconds
    if endpoint_quirks.tolerates(ALARMS_BEHAVIOUR):
        for stack in (naming.service_stack_name(run.namespace), naming.db_stack_name(run.namespace, run.timestamp)):
            cfn = run.client("cloudformation")
            endpoint_quirks.put_stack_alarms(cfn, run.client("cloudwatch"), resources.describe_stack(cfn, stack))
    return gate(run.client, run.namespace, run.cluster, timeout, poll_seconds, bake_seconds=run.settings["bake_seconds"])
