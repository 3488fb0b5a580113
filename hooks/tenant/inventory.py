"""What a tenant has: its databases, its active pointer and what the service runs on.

Read-only. The retirement hook plans from it, and the CLI's status command shows it.

`discover` costs the same number of API calls whatever else the account holds
(3 tenants or 3,000): every call is scoped to this namespace by a path, a tag filter or
an identifier, and nothing lists the whole account.

    GetParametersByPath  /<ns>/db/databases/       databases that registered themselves
    GetResources         tag Namespace=<ns>,       leftovers that never registered, or whose
                         rds:db + stack            registration went with a half-deleted stack,
                         + rds:snapshot            and restore copies <ns>-<ts> (tag CopiedFrom,
                                                   hooks.steps.tier_copy) whose database never came to be
    DescribeDBSnapshots  one per such copy         only a copy with no database at all
    DescribeDBInstances  one per instance id       only the ids found above
    DescribeStacks       one per stack name        only the names found above

The ids are few (the active database, the retained ones, the one in flight, leftovers).
Each DescribeDBInstances names its instance (DBInstanceIdentifier), so IAM authorises it
against that instance's ARN, `db:<ns>-db-<timestamp>`, which the namespace's deploy role
holds; a filtered call (Filters db-instance-id) is authorised against `db:*` instead.

The tagging API is eventually consistent: a database created seconds ago may be missing
from it (its registration still finds it once the stack completes), and a deleted one
may linger in it (the describe calls then report it absent).
"""
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Optional

from botocore.exceptions import ClientError

from hooks import aws, naming
from hooks.aws import endpoint_quirks

logger = logging.getLogger(__name__)

FIRST_DEPLOYMENT_BEHAVIOUR = "ecs-deployment-per-task-definition"
RESOURCE_TYPES = ("rds:db", "rds:snapshot", "cloudformation:stack")


@dataclass(frozen=True)
class Database:
    """One `<namespace>-db-<timestamp>` database, as far as any part of it exists."""

    timestamp: str
    instance_id: str
    stack_name: str
    registered: bool  # its registration parameter /<ns>/db/databases/<timestamp> exists
    instance_status: Optional[str]  # None: no DB instance
    stack_status: Optional[str]  # None: no stack
    restore_copy: bool = False  # its restore snapshot <ns>-<timestamp> (hooks.steps.tier_copy) exists, with no database

    @property
    def exists(self):
        return (self.registered or self.instance_status is not None or self.stack_status is not None
                or self.restore_copy)


@dataclass(frozen=True)
class PointerChange:
    """One version of the active pointer: who pointed it where, when."""

    version: int
    value: str
    description: Optional[str]
    modified_at: datetime
    user: Optional[str]


def discover(ssm, tagging, rds, cfn, namespace):
    """Every database of `namespace` that has a registration, an instance or a stack."""
    namespace = naming.parse_namespace(namespace).name
    registered = _registered_timestamps(ssm, namespace)
    tagged, copies = _tagged_timestamps(tagging, namespace)
    timestamps = sorted(registered | tagged | copies)
    instances = describe_instances(rds, [naming.db_instance_id(namespace, ts) for ts in timestamps])
    databases = []
    for timestamp in timestamps:
        instance_id = naming.db_instance_id(namespace, timestamp)
        stack = naming.db_stack_name(namespace, timestamp)
        database = Database(
            timestamp=timestamp,
            instance_id=instance_id,
            stack_name=stack,
            registered=timestamp in registered,
            instance_status=instances[instance_id]["DBInstanceStatus"] if instance_id in instances else None,
            stack_status=stack_status(cfn, stack),
        )
        if not database.exists and timestamp in copies:
            database = replace(database, restore_copy=_restore_copy_exists(rds, namespace, timestamp))
        if database.exists:
            databases.append(database)
        else:
            logger.debug("%s is tagged but gone (the tagging API lags deletes)", instance_id)
    return databases


def _own_timestamp(namespace, name):
    """The timestamp of a `<namespace>-db-<timestamp>` name of THIS namespace, else None."""
    try:
        parsed, timestamp = naming.parse_db_instance_id(name)
    except naming.NamingError:
        return None
    return timestamp if parsed.name == namespace else None


def _registered_timestamps(ssm, namespace):
    path = naming.ssm_databases_path(namespace)
    timestamps = set()
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=False):
        for parameter in page["Parameters"]:
            tail = parameter["Name"][len(path):]
            try:
                timestamps.add(naming.parse_timestamp(tail, "registration %s" % parameter["Name"]))
            except naming.NamingError as error:
                logger.warning("ignoring a parameter that is no database registration: %s", error)
    return timestamps


def _tagged_timestamps(tagging, namespace):
    """(timestamps of tagged DB instances and stacks, timestamps of tagged restore copies)."""
    timestamps, copies = set(), set()
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "Namespace", "Values": [namespace]}], ResourceTypeFilters=list(RESOURCE_TYPES)
    )
    for page in pages:
        for mapping in page["ResourceTagMappingList"]:
            arn = mapping["ResourceARN"]
            if _arn_resource(arn).startswith("snapshot:"):
                timestamp = _own_copy_timestamp(namespace, _arn_resource(arn)[len("snapshot:"):], mapping)
                if timestamp is not None:
                    copies.add(timestamp)
                continue
            timestamp = _own_timestamp(namespace, _arn_resource_name(arn))
            if timestamp is not None:
                timestamps.add(timestamp)
    return timestamps, copies


def _own_copy_timestamp(namespace, name, mapping):
    """The timestamp of a snapshot <namespace>-<timestamp> the pipeline copied (tag CopiedFrom), else None."""
    if naming.COPIED_FROM_TAG not in {tag["Key"] for tag in mapping.get("Tags", [])}:
        return None
    try:
        parsed, timestamp = naming.parse_snapshot_id(name)
    except naming.NamingError:
        return None
    return timestamp if parsed.name == namespace else None


def _restore_copy_exists(rds, namespace, timestamp):
    """The tagging API lags deletes: ask RDS whether the copy is still there."""
    snapshot_id = naming.restore_snapshot_id(namespace, timestamp)
    try:
        rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)
    except ClientError as error:
        if aws.error_code(error) == "DBSnapshotNotFound":
            return False
        raise
    return True


def _arn_resource(arn):
    return arn.split(":", 5)[5] if arn.count(":") >= 5 else ""


def _arn_resource_name(arn):
    """The name in an RDS DB ARN (...:db:<id>) or a stack ARN (...:stack/<name>/<uuid>)."""
    resource = _arn_resource(arn)
    if resource.startswith("db:"):
        return resource[len("db:"):]
    if resource.startswith("stack/"):
        return resource.split("/")[1]
    return None


def describe_instances(rds, instance_ids):
    """{instance id: DescribeDBInstances entry} for those of `instance_ids` that exist (one call each)."""
    found = {}
    for instance_id in instance_ids:
        instance = describe_instance(rds, instance_id)
        if instance is not None:
            found[instance_id] = instance
    return found


def describe_instance(rds, instance_id):
    """One DB instance's DescribeDBInstances entry, None if it does not exist."""
    try:
        instances = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    except ClientError as error:
        if aws.error_code(error) == "DBInstanceNotFound":
            return None
        raise
    return instances[0] if instances else None


def describe_stack(cfn, stack_name):
    """One stack's DescribeStacks entry, None if it does not exist (or was deleted)."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        # A stack name that is valid (naming built it) fails only as "does not exist".
        if aws.error_code(error) == "ValidationError":
            return None
        raise
    if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return stacks[0]


def stack_outputs(stack):
    """{OutputKey: OutputValue} of a described stack (empty for None)."""
    return {output["OutputKey"]: output["OutputValue"] for output in ((stack or {}).get("Outputs") or [])}


def stack_status(cfn, stack_name):
    """The status of one stack, None if it does not exist (or was deleted)."""
    stack = describe_stack(cfn, stack_name)
    return stack["StackStatus"] if stack else None


def active_timestamp(ssm, namespace):
    """The timestamp /<ns>/db/active names; None if the pointer does not exist."""
    name = naming.ssm_active_parameter(namespace)
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if aws.error_code(error) == "ParameterNotFound":
            return None
        raise
    return naming.parse_timestamp(value, name)


def pointer_history(ssm, namespace):
    """Every version of the active pointer, oldest first; [] if it never existed."""
    name = naming.ssm_active_parameter(namespace)
    changes = []
    try:
        for page in ssm.get_paginator("get_parameter_history").paginate(Name=name):
            changes.extend(
                PointerChange(
                    version=entry["Version"],
                    value=entry["Value"],
                    description=entry.get("Description"),
                    modified_at=entry["LastModifiedDate"],
                    user=entry.get("LastModifiedUser"),
                )
                for entry in page["Parameters"]
            )
    except ClientError as error:
        if aws.error_code(error) == "ParameterNotFound":
            return []
        raise
    return sorted(changes, key=lambda change: change.version)


def previously_active(history, active):
    """Timestamps the pointer named before, newest first, once each, without `active`."""
    seen = []
    for change in reversed(history):
        value = change.value
        if value != active and value not in seen and _is_timestamp(value):
            seen.append(value)
    return seen


def active_until(history, timestamp):
    """When the pointer last moved away from `timestamp`; None if it never named it or still does."""
    until, named = None, False
    for change in history:
        if change.value == timestamp:
            named, until = True, None
        elif named:
            named, until = False, change.modified_at
    return until


def _is_timestamp(value):
    try:
        naming.parse_timestamp(value)
    except naming.NamingError:
        return False
    return True


def referenced_timestamps(ecs, cluster, service_name):
    """Timestamps the service's task definitions run against; empty if there is no service.

    Every deployment counts (PRIMARY and ACTIVE: tasks of an old deployment still serve
    while a rollout drains them), and so does the service's own task definition.
    """
    try:
        services = ecs.describe_services(cluster=cluster, services=[service_name])["services"]
    except ClientError as error:
        if aws.error_code(error) == "ClusterNotFoundException":
            return set()
        raise
    live = [service for service in services if service["status"] != "INACTIVE"]
    if not live:
        return set()
    deployments = live[0].get("deployments", [])
    if endpoint_quirks.tolerates(FIRST_DEPLOYMENT_BEHAVIOUR):
        deployments = []  # the endpoint's deployments never move on: only the service's own is live
    task_definitions = {deployment["taskDefinition"] for deployment in deployments}
    task_definitions.add(live[0]["taskDefinition"])
    timestamps = set()
    for arn in sorted(task_definitions):
        timestamp = _task_definition_timestamp(ecs, arn)
        if timestamp is not None:
            timestamps.add(timestamp)
    return timestamps


def _task_definition_timestamp(ecs, arn):
    definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    for container in definition["containerDefinitions"]:
        if container["name"] != naming.PHP_CONTAINER:
            continue
        for variable in container.get("environment", []):
            if variable["name"] == naming.DB_TIMESTAMP_VARIABLE:
                return variable["value"]
    logger.warning(
        "task definition %s has no %s in its %s container", arn, naming.DB_TIMESTAMP_VARIABLE, naming.PHP_CONTAINER
    )
    return None
