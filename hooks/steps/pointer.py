"""The active-database pointer, /<namespace>/db/active.

Its value is the active timestamp; its parameter history is the audit trail of every
flip, and each version's description says from what, by which build and when. The
pointer only ever names a database that exists and is available: `flip` checks that
right before writing, and only the stable gate's success leads to a flip.

Layers: `flip_description` (pure), `flip`, `flip_or_revert` and `record_live_state` (AWS),
and the stacker hooks `record_live` (pre_build) and `flip_pointer` (post_build).
"""
import datetime
import logging
import os

from botocore.exceptions import ClientError

from hooks import naming
from hooks.aws import resources
from hooks.errors import DeployFailed
from hooks.lock import deploy_lock
from hooks.steps import stable
from hooks.steps.wiring import stacker_hook
from hooks.tenant import inventory

logger = logging.getLogger(__name__)
# Set by `tenantstack deploy` for its engine child when the run asked for db_timestamp `latest`
# (hooks/run/latest.py): the flip records it, so the audit trail shows what `latest` stood for.
REQUESTED_VARIABLE = "TENANTSTACK_REQUESTED_DB_TIMESTAMP"


def flip_description(previous, new, holder, moment, requested=None):
    """The audit line stored with each version of the pointer (`requested`: `latest` when the deploy asked
    for the newest snapshot and `new` is what it resolved to)."""
    return "%s (was %s) set by %s at %s%s" % (
        new,
        previous or "nothing: first deploy",
        holder,
        moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "; requested %s" % requested if requested else "",
    )


def requested_timestamp(environ=os.environ):
    """`latest` when this run's db_timestamp was resolved from it (REQUESTED_VARIABLE), else None."""
    return naming.LATEST_TIMESTAMP if environ.get(REQUESTED_VARIABLE) == naming.LATEST_TIMESTAMP else None


def database_status(rds, namespace, timestamp):
    """The DB instance's status, or None when it does not exist."""
    instance = resources.describe_instance(rds, naming.db_instance_id(namespace, timestamp))
    return instance["DBInstanceStatus"] if instance else None


def flip(ssm, rds, namespace, timestamp, holder, now, requested=None):
    """Point /<namespace>/db/active at `timestamp`; a no-op when it already does."""
    parameter = naming.ssm_active_parameter(namespace)
    previous = inventory.active_timestamp(ssm, namespace)
    if previous == timestamp:
        return {"status": "unchanged", "from": previous, "to": timestamp}
    status = database_status(rds, namespace, timestamp)
    if status != "available":
        raise DeployFailed(
            "refusing to point %s at %s: database %s is %s; the pointer still names %s"
            % (
                parameter,
                timestamp,
                naming.db_instance_id(namespace, timestamp),
                status or "missing",
                previous or "nothing",
            )
        )
    description = flip_description(previous, timestamp, holder, now, requested)
    tags = [{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()]
    if previous is None and _created(ssm, parameter, timestamp, description, tags):
        return {"status": "flipped", "from": previous, "to": timestamp}
    ssm.put_parameter(Name=parameter, Value=timestamp, Type="String", Overwrite=True, Description=description)
    if previous is None:
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=parameter, Tags=tags)
    return {"status": "flipped", "from": previous, "to": timestamp}


def _created(ssm, parameter, timestamp, description, tags):
    """The first flip: the pointer created with its tags in one call; False when it exists after all."""
    try:
        ssm.put_parameter(Name=parameter, Value=timestamp, Type="String", Description=description, Tags=tags)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterAlreadyExists":
            return False
        raise
    return True


def flip_or_revert(ssm, rds, ecs, namespace, cluster, timestamp, holder, now, requested=None):
    """Flip the pointer (fenced by the lock); when that fails, point the service back at what
    it ran before the deploy and raise DeployFailed saying what the tenant is left with."""
    deploy_lock.ensure_held(ssm, namespace, holder)
    try:
        return flip(ssm, rds, namespace, timestamp, holder, now, requested)
    except (ClientError, DeployFailed) as error:
        reverted = stable.revert_to_recorded(ssm, ecs, namespace, cluster)
        raise DeployFailed(
            "could not point %s at %s (%s); %s; the pointer still names %s and no database was "
            "deleted; re-run the deploy once the cause is fixed"
            % (
                naming.ssm_active_parameter(namespace),
                timestamp,
                error,
                reverted,
                inventory.active_timestamp(ssm, namespace) or "nothing",
            )
        ) from error


def record_live_state(ssm, ecs, namespace, cluster, holder):
    """What serves now, before the stacks change: logged, and kept in the lock record.

    The lock record survives a killed run, so a failed stable gate, or the next run,
    knows which task definition to go back to.
    """
    active = inventory.active_timestamp(ssm, namespace)
    task_definition = stable.current_task_definition(ecs, cluster, naming.service_name(namespace))
    deploy_lock.update_record(ssm, namespace, holder, previous_task_definition=task_definition)
    return {"active": active, "task_definition": task_definition}


@stacker_hook()
def record_live(run):
    """pre_build hook (after the lock): log and keep what serves before the deploy."""
    live = record_live_state(run.client("ssm"), run.client("ecs"), run.namespace, run.cluster, run.holder)
    logger.info(
        "%s: active database %s, service on %s; deploying %s",
        run.namespace,
        live["active"] or "none (first deploy)",
        live["task_definition"] or "nothing (first deploy)",
        run.timestamp,
    )
    return dict(live, status="recorded")


@stacker_hook(holds_lock=True)
def flip_pointer(run):
    """post_build hook (after the stable gate): make the new database the active one."""
    result = flip_or_revert(
        run.client("ssm"), run.client("rds"), run.client("ecs"), run.namespace, run.cluster, run.timestamp,
        run.holder, datetime.datetime.now(datetime.timezone.utc), requested_timestamp(),
    )
    logger.info("%s: pointer %s: %s -> %s", run.namespace, result["status"], result["from"], result["to"])
    return result
