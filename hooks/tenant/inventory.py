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
import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Optional

from hooks import aws, naming
from hooks.aws import endpoint_quirks, resources

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
    instances = resources.describe_instances(rds, [naming.db_instance_id(namespace, ts) for ts in timestamps])
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
            stack_status=resources.stack_status(cfn, stack),
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


def registered_timestamps(ssm, namespace):
    """The timestamps of the namespace's database registrations (/<ns>/db/databases/<ts>)."""
    return _registered_timestamps(ssm, namespace)


def _registered_timestamps(ssm, namespace):
    return set(registrations(ssm, namespace))


def registrations(ssm, namespace):
    """{timestamp: the registration's record (blueprints.database; {} if unreadable)} of the namespace's
    databases, from one GetParametersByPath listing."""
    path = naming.ssm_databases_path(namespace)
    found = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=False):
        for parameter in page["Parameters"]:
            tail = parameter["Name"][len(path):]
            try:
                timestamp = naming.parse_timestamp(tail, "registration %s" % parameter["Name"])
            except naming.NamingError as error:
                logger.warning("ignoring a parameter that is no database registration: %s", error)
                continue
            try:
                record = json.loads(parameter["Value"])
            except ValueError:
                record = {}
            found[timestamp] = record if isinstance(record, dict) else {}
    return found


def _tagged_timestamps(tagging, namespace):
    """(timestamps of tagged DB instances and stacks, timestamps of tagged restore copies)."""
    timestamps, copies = set(), set()
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": naming.NAMESPACE_TAG, "Values": [namespace]}], ResourceTypeFilters=list(RESOURCE_TYPES)
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
    return resources.describe_snapshot(rds, naming.restore_snapshot_id(namespace, timestamp)) is not None


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


def active_timestamp(ssm, namespace):
    """The timestamp /<ns>/db/active names; None if the pointer does not exist."""
    name = naming.ssm_active_parameter(namespace)
    value = resources.parameter_value(ssm, name)
    return None if value is None else naming.parse_timestamp(value, name)


def pointer_history(ssm, namespace):
    """Every version of the active pointer, oldest first; [] if it never existed."""
    name = naming.ssm_active_parameter(namespace)
    pages = aws.or_none(lambda: list(ssm.get_paginator("get_parameter_history").paginate(Name=name)),
                        "ParameterNotFound")
    changes = [
        PointerChange(
            version=entry["Version"],
            value=entry["Value"],
            description=entry.get("Description"),
            modified_at=entry["LastModifiedDate"],
            user=entry.get("LastModifiedUser"),
        )
        for page in pages or ()
        for entry in page["Parameters"]
    ]
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
    service = resources.describe_service(ecs, cluster, service_name)
    if service is None or service.get("status") == "INACTIVE":
        return set()
    deployments = service.get("deployments", [])
    if endpoint_quirks.tolerates(FIRST_DEPLOYMENT_BEHAVIOUR):
        deployments = []  # the endpoint's deployments never move on: only the service's own is live
    task_definitions = {deployment["taskDefinition"] for deployment in deployments}
    task_definitions.add(service["taskDefinition"])
    timestamps = set()
    for arn in sorted(task_definitions):
        timestamp = task_definition_timestamp(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"])
        if timestamp is not None:
            timestamps.add(timestamp)
    return timestamps


def task_definition_timestamp(definition):
    """The DB_TIMESTAMP a described task definition's php container runs against; None (with a
    warning saying what was found) for a definition that has none or that this code does not
    recognise: never a crash on someone else's task definition."""
    containers = definition.get("containerDefinitions") or []
    for container in containers:
        if container.get("name") != naming.PHP_CONTAINER:
            continue
        for variable in container.get("environment") or []:
            if variable.get("name") == naming.DB_TIMESTAMP_VARIABLE and _is_timestamp(variable.get("value")):
                return variable["value"]
    logger.warning(
        "task definition %s has no %s in a %s container (it has %s); it references no database",
        definition.get("taskDefinitionArn", "?"), naming.DB_TIMESTAMP_VARIABLE, naming.PHP_CONTAINER,
        ", ".join(sorted(str(c.get("name", "<unnamed container>")) for c in containers)) or "no containers",
    )
    return None
