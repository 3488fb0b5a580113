"""A tenant as it stands: each database's role, the service, the deploy lock, recent flips.

Read-only. The roles come from the same plan the retirement follows
(retire.plan_retirement), so `status`, `reap` and `rollback` agree with the pipeline:

    active      the pointer names it
    in flight   the target of the deploy holding the lock
    referenced  the service's task definitions use it, though the pointer does not name it
    retained    a previously active database kept by retain_previous (a rollback target)
    orphan      anything else; `reap` retires it unless there is no active database yet

Layers: `database_roles` (pure), `read_databases`, `read_service`, `read_lock`, `gather`
(AWS, take clients).
"""
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Tuple

from hooks import aws, naming
from hooks.aws import endpoint_quirks
from hooks.lock import deploy_lock
from hooks.steps import retire, stable
from hooks.tenant import alarms as tenant_alarms, audit_trail, inventory

ACTIVE, IN_FLIGHT, REFERENCED, RETAINED, ORPHAN = "active", "in flight", "referenced", "retained", "orphan"
ROLES = (ACTIVE, IN_FLIGHT, REFERENCED, RETAINED, ORPHAN)
RECENT_FLIPS = 5


@dataclass(frozen=True)
class Clients:
    ssm: object
    tagging: object
    rds: object
    cfn: object
    ecs: object
    codebuild: object
    cloudwatch: object = None  # the tenant's alarms (None: not read)

    @classmethod
    def from_environment(cls):
        """Clients from the standard AWS environment (hooks.aws.clients)."""
        return cls(*(aws.client(name) for name in (
            "ssm", "resourcegroupstaggingapi", "rds", "cloudformation", "ecs", "codebuild", "cloudwatch"
        )))


@dataclass(frozen=True)
class DatabaseRole:
    database: inventory.Database
    role: str
    reason: str  # the retirement plan's reason
    action: str  # what reap would do: retire.KEEP or retire.RETIRE

    @property
    def timestamp(self):
        return self.database.timestamp


@dataclass(frozen=True)
class Databases:
    """The namespace's databases and what their roles were decided from."""

    active: Optional[str]
    history: Tuple[inventory.PointerChange, ...]
    lock: Optional[deploy_lock.LockRecord]
    referenced: frozenset
    roles: Tuple[DatabaseRole, ...]

    @property
    def previously_active(self):
        """Timestamps the pointer named before, newest first (inventory.previously_active)."""
        return inventory.previously_active(list(self.history), self.active)


@dataclass(frozen=True)
class ServiceState:
    name: str
    cluster: str
    status: str
    task_definition: str  # short form, e.g. xy-0146-qa:3
    desired: int
    running: int
    state: str  # stable.STABLE / WAITING / FAILED, judged against the service's own task definition
    reason: str
    deployments: Tuple[dict, ...]


@dataclass(frozen=True)
class LockState:
    record: deploy_lock.LockRecord
    age_seconds: int
    verdict: deploy_lock.Verdict  # stale: the next deploy takes it over by itself


@dataclass(frozen=True)
class TenantStatus:
    namespace: str
    shared_namespace: str
    retain_previous: int
    databases: Databases
    service: Optional[ServiceState]
    lock: Optional[LockState]
    recent_flips: Tuple[audit_trail.Flip, ...]
    alarms: Tuple[tenant_alarms.AlarmState, ...] = ()  # every alarm of the namespace, by name


# --- pure --------------------------------------------------------------------------------


def database_roles(databases, active, in_flight, recently_active, retain_previous, referenced):
    """One DatabaseRole per database, in timestamp order, from the retirement plan."""
    decisions = retire.plan_retirement(databases, active, in_flight, recently_active, retain_previous, referenced)
    by_timestamp = {database.timestamp: database for database in databases}
    return [
        DatabaseRole(by_timestamp[decision.timestamp], _role(decision, active, in_flight, referenced),
                     decision.reason, decision.action)
        for decision in decisions
    ]


def _role(decision, active, in_flight, referenced):
    timestamp = decision.timestamp
    if timestamp == active:
        return ACTIVE
    if timestamp in in_flight:
        return IN_FLIGHT
    if timestamp in referenced:
        return REFERENCED
    if decision.action == retire.KEEP and active is not None:
        return RETAINED
    return ORPHAN


# --- AWS ---------------------------------------------------------------------------------


def read_databases(clients, namespace, shared_namespace, retain_previous):
    """The namespace's databases with their roles, read as retire.retire_databases reads them."""
    namespace = naming.parse_namespace(namespace).name
    record = deploy_lock.read(clients.ssm, namespace)
    in_flight = {record.target_timestamp} if record else set()
    databases = inventory.discover(clients.ssm, clients.tagging, clients.rds, clients.cfn, namespace)
    active = inventory.active_timestamp(clients.ssm, namespace)
    history = inventory.pointer_history(clients.ssm, namespace)
    referenced = inventory.referenced_timestamps(
        clients.ecs, naming.cluster_name(shared_namespace), naming.service_name(namespace)
    )
    roles = database_roles(
        databases, active, in_flight, inventory.previously_active(history, active), retain_previous, referenced
    )
    return Databases(active, tuple(history), record, frozenset(referenced), tuple(roles))


def read_service(ecs, cluster, service_name):
    """The service's state; None when it (or its cluster) does not exist."""
    service = stable.describe_service(ecs, cluster, service_name)
    if service is None or service.get("status") == "INACTIVE":
        return None
    seen = stable.assess(
        service,
        service.get("taskDefinition"),
        endpoint_quirks.tolerates(stable.FIRST_DEPLOYMENT_BEHAVIOUR),
    )
    deployments = tuple(
        {
            "status": deployment.get("status"),
            "task_definition": stable.short_task_definition(deployment.get("taskDefinition")),
            "rollout_state": deployment.get("rolloutState"),
            "running": deployment.get("runningCount", 0),
            "desired": deployment.get("desiredCount", 0),
        }
        for deployment in service.get("deployments") or []
    )
    return ServiceState(
        name=service_name,
        cluster=cluster,
        status=service.get("status"),
        task_definition=stable.short_task_definition(service.get("taskDefinition")),
        desired=service.get("desiredCount", 0),
        running=service.get("runningCount", 0),
        state=seen.state,
        reason=seen.reason,
        deployments=deployments,
    )


def read_lock(record, codebuild, now, this_host=None):
    """The lock's age and whether the next deploy would take it over (lock_rules.assess)."""
    if record is None:
        return None
    verdict = deploy_lock.assess(
        record,
        now,
        this_host or socket.gethostname(),
        deploy_lock.process_alive,
        lambda build_id: deploy_lock.build_finished(codebuild, build_id),
    )
    return LockState(record, record.age_seconds(now), verdict)


def gather(clients, namespace, shared_namespace, retain_previous, now: datetime):
    """Everything `tenantstack status` shows about one tenant."""
    databases = read_databases(clients, namespace, shared_namespace, retain_previous)
    service = read_service(clients.ecs, naming.cluster_name(shared_namespace), naming.service_name(namespace))
    return TenantStatus(
        namespace=namespace,
        shared_namespace=shared_namespace,
        retain_previous=retain_previous,
        databases=databases,
        service=service,
        lock=read_lock(databases.lock, clients.codebuild, now),
        recent_flips=tuple(audit_trail.flips(list(databases.history))[-RECENT_FLIPS:]),
        alarms=tuple(tenant_alarms.namespace_alarms(clients.cloudwatch, namespace)) if clients.cloudwatch else (),
    )
