"""The active-database pointer, /<namespace>/db/active.

Its value is the active timestamp; its parameter history is the audit trail of every
flip, and each version's description says from what, by which build and when. The
pointer only ever names a database that exists and is available: `flip` checks that
right before writing, and only the stable gate's success leads to a flip.

Layers: `flip_description` (pure), `flip` and `record_live_state` (AWS), and the stacker
hooks `record_live` (pre_build) and `flip_pointer` (post_build).
"""
import datetime
import logging

from botocore.exceptions import ClientError

from hooks import aws, naming
from hooks.tenant import inventory
from hooks.lock import deploy_lock
from hooks.config import settings
from hooks.steps import stable
from hooks.errors import DeployFailed
from hooks.config.hookargs import check_arguments, environment_of

logger = logging.getLogger(__name__)


def flip_description(previous, new, holder, moment):
    """The audit line stored with each version of the pointer."""
    return "%s (was %s) set by %s at %s" % (
        new,
        previous or "nothing: first deploy",
        holder,
        moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def database_status(rds, namespace, timestamp):
    """The DB instance's status, or None when it does not exist."""
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=naming.db_instance_id(namespace, timestamp))
    except ClientError as error:
        if aws.error_code(error) == "DBInstanceNotFound":
            return None
        raise
    return found["DBInstances"][0]["DBInstanceStatus"]


def flip(ssm, rds, namespace, timestamp, holder, now):
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
    ssm.put_parameter(
        Name=parameter,
        Value=timestamp,
        Type="String",
        Overwrite=True,
        Description=flip_description(previous, timestamp, holder, now),
    )
    if previous is None:
        tags = [{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()]
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=parameter, Tags=tags)
    return {"status": "flipped", "from": previous, "to": timestamp}


def record_live_state(ssm, ecs, namespace, cluster, holder):
    """What serves now, before the stacks change: logged, and kept in the lock record.

    The lock record survives a killed run, so a failed stable gate, or the next run,
    knows which task definition to go back to.
    """
    active = inventory.active_timestamp(ssm, namespace)
    task_definition = stable.current_task_definition(ecs, cluster, naming.service_name(namespace))
    deploy_lock.update_record(ssm, namespace, holder, previous_task_definition=task_definition)
    return {"active": active, "task_definition": task_definition}


def _clients_and_settings(context, provider):
    values = settings.load_settings(environment_of(context))
    region = provider.region
    return values, (lambda service: aws.client(service, region))


def record_live(context, provider, **kwargs):
    """pre_build hook (after the lock): log and keep what serves before the deploy."""
    check_arguments("record_live", kwargs, accepted=())
    values, client = _clients_and_settings(context, provider)
    live = record_live_state(
        client("ssm"),
        client("ecs"),
        values["namespace"],
        naming.cluster_name(values["shared_namespace"]),
        deploy_lock.current_holder(),
    )
    logger.info(
        "%s: active database %s, service on %s; deploying %s",
        values["namespace"],
        live["active"] or "none (first deploy)",
        live["task_definition"] or "nothing (first deploy)",
        values["db_timestamp"],
    )
    return dict(live, status="recorded")


@deploy_lock.releasing_lock_on_failure
def flip_pointer(context, provider, **kwargs):
    """post_build hook (after the stable gate): make the new database the active one."""
    check_arguments("flip_pointer", kwargs, accepted=())
    values, client = _clients_and_settings(context, provider)
    ssm, holder = client("ssm"), deploy_lock.current_holder()
    deploy_lock.ensure_held(ssm, values["namespace"], holder)
    try:
        result = flip(
            ssm,
            client("rds"),
            values["namespace"],
            values["db_timestamp"],
            holder,
            datetime.datetime.now(datetime.timezone.utc),
        )
    except (ClientError, DeployFailed) as error:
        reverted = stable.revert_to_recorded(
            ssm, client("ecs"), values["namespace"], naming.cluster_name(values["shared_namespace"])
        )
        raise DeployFailed(
            "could not point %s at %s (%s); %s; the pointer still names %s and no database was "
            "deleted; re-run the deploy once the cause is fixed"
            % (
                naming.ssm_active_parameter(values["namespace"]),
                values["db_timestamp"],
                error,
                reverted,
                inventory.active_timestamp(ssm, values["namespace"]) or "nothing",
            )
        ) from error
    logger.info("%s: pointer %s: %s -> %s", values["namespace"], result["status"], result["from"], result["to"])
    return result
