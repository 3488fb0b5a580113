"""`tenantstack status NAMESPACE... | --all [--json]`: what each tenant runs on, right now."""
import datetime

from hooks import aws, naming
from hooks.cli import options, output
from hooks.cli import preview_output
from hooks.cli.commands import history
from hooks.config import envfile
from hooks.errors import BadInput
from hooks.lock import deploy_lock
from hooks.tenant import drift as tenant_drift
from hooks.tenant import alarms as tenant_alarms, status as tenant_status

EPILOG = """\
Per tenant: the active timestamp; every database with its role (active, in flight,
referenced, retained, orphan) and what `reap` would do with it; the service's state and
task definition; the deploy lock's holder and age; the last pointer flips. Read-only.

The env file (DIR/<namespace>.env) gives the tier (cluster) and retain_previous.
--all reads every tenant env file in DIR (shared ones, common-*, are skipped).

examples:
  tenantstack status xy-0146-qa xy-0146-prod
  tenantstack status --all
  tenantstack status --all --json | jq '.tenants[] | {namespace, active}'
  tenantstack status xy-0146-qa --drift    # also run CloudFormation drift detection on its stacks (slow)
  tenantstack status --all --alarms        # only the tenants with an alarm in ALARM (one API call)
"""


def register(commands):
    parser = options.add_command(
        commands,
        "status",
        help="show tenants' active database, databases and their roles, service, lock, last flips",
        description="Show the state of each NAMESPACE (or of every tenant with --all).",
        epilog=EPILOG,
    )
    parser.add_argument("namespaces", nargs="*", metavar="NAMESPACE", help="tenant namespace(s), e.g. xy-0146-qa")
    parser.add_argument("--all", action="store_true", help="every tenant with an env file in DIR")
    parser.add_argument("--drift", action="store_true",
                        help="also run CloudFormation drift detection on each tenant's stacks and list what drifted "
                        "(slow and rate-limited: only when asked)")
    parser.add_argument("--alarms", action="store_true",
                        help="list only the alarms in ALARM of the tenants asked (one DescribeAlarms for all)")
    options.add_environments(parser)
    options.add_json(parser)
    parser.set_defaults(run=run)


def namespaces_asked(args):
    if args.all and args.namespaces:
        raise BadInput("give NAMESPACE... or --all, not both (got --all and %s)" % " ".join(args.namespaces))
    if args.all:
        return envfile.tenant_namespaces(args.environments)
    if not args.namespaces:
        raise BadInput("name at least one NAMESPACE (e.g. tenantstack status xy-0146-qa), or pass --all")
    return [naming.parse_namespace(namespace).name for namespace in args.namespaces]


def run(args):
    if args.alarms:
        return run_alarms(args)
    now = datetime.datetime.now(datetime.timezone.utc)
    tenants = []
    for namespace in namespaces_asked(args):
        path, values = envfile.load_tenant(namespace, environments=args.environments)
        tenants.append((path, values))
    clients = tenant_status.Clients.from_environment()
    statuses = [
        (path, tenant_status.gather(
            clients, values["namespace"], values["shared_namespace"], values["retain_previous"], now
        ))
        for path, values in tenants
    ]
    drifts = [drift_of(clients, status) if args.drift else None for _, status in statuses]
    if args.json:
        documents = [dict(status_json(status, path), **({"drift": preview_output.drift_json(drift)} if args.drift
                                                          else {})) for (path, status), drift in zip(statuses, drifts)]
        print(output.json_document({"tenants": documents}), end="")
    else:
        print("\n\n".join("\n".join(status_lines(status, path) + preview_output.drift_lines(drift))
                          for (path, status), drift in zip(statuses, drifts)))
    return 0


def drift_of(clients, status):
    """`--drift`: drift detection on the tenant's base, database and service stacks (hooks/tenant/drift.py)."""
    stacks = [role.database.stack_name for role in status.databases.roles if role.database.stack_status]
    return tenant_drift.tenant_drift(clients.cfn, status.namespace, stacks)


def run_alarms(args):
    """`--alarms`: every alarm in ALARM of the tenants asked, by namespace; one DescribeAlarms whatever their number."""
    namespaces = namespaces_asked(args)
    firing = tenant_alarms.alarms_in_alarm(aws.client("cloudwatch"), namespaces)
    rows = [(namespace, alarm) for namespace in sorted(firing) for alarm in firing[namespace]]
    if args.json:
        document = {"alarms": [dict(alarm_json(alarm), namespace=namespace) for namespace, alarm in rows]}
        print(output.json_document(document), end="")
    elif rows:
        print("\n".join("%s  %s  ALARM since %s: %s" % (namespace, alarm.name, alarm.since_text, alarm.reason)
                        for namespace, alarm in rows))
    else:
        print("no alarm in ALARM among %d tenant(s)" % len(namespaces))
    return 0


# --- JSON ------------------------------------------------------------------------------------


def status_json(status, env_file):
    return {
        "namespace": status.namespace,
        "env_file": str(env_file),
        "shared_namespace": status.shared_namespace,
        "retain_previous": status.retain_previous,
        "active": status.databases.active,
        "active_files": active_files(status),
        "databases": [database_json(role) for role in status.databases.roles],
        "service": service_json(status.service),
        "lock": lock_json(status.lock),
        "recent_flips": [history.flip_json(flip) for flip in status.recent_flips],
        "alarms": [alarm_json(alarm) for alarm in status.alarms],
    }


def alarm_json(alarm):
    return {"name": alarm.name, "state": alarm.state, "since": alarm.since_text, "reason": alarm.reason}


def database_json(role):
    database = role.database
    return {
        "timestamp": database.timestamp,
        "instance_id": database.instance_id,
        "stack_name": database.stack_name,
        "registered": database.registered,
        "instance_status": database.instance_status,
        "stack_status": database.stack_status,
        "restore_copy_only": database.restore_copy,
        "role": role.role,
        "reap": role.action,
        "reason": role.reason,
    }


def service_json(service):
    if service is None:
        return None
    return {
        "name": service.name,
        "cluster": service.cluster,
        "status": service.status,
        "task_definition": service.task_definition,
        "desired_count": service.desired,
        "running_count": service.running,
        "state": service.state,
        "state_reason": service.reason,
        "deployments": [dict(deployment) for deployment in service.deployments],
    }


def lock_json(state):
    if state is None:
        return None
    record = state.record
    return {
        "holder": record.holder,
        "user": record.user,
        "host": record.host,
        "pid": record.pid,
        "build_id": record.build_id,
        "acquired_at": record.acquired_at,
        "age_seconds": state.age_seconds,
        "ttl_seconds": record.ttl_seconds,
        "target_timestamp": record.target_timestamp,
        "stale": state.verdict.stale,
        "verdict": state.verdict.reason,
    }


# --- table -----------------------------------------------------------------------------------

DATABASE_HEADERS = ("TIMESTAMP", "ROLE", "INSTANCE", "STACK", "REAP", "WHY")


def instance_cell(database):
    if database.instance_status:
        return database.instance_status
    if not database.restore_copy:
        return "none"
    namespace, timestamp = naming.parse_db_instance_id(database.instance_id)
    return "none; its restore copy %s is left" % naming.restore_snapshot_id(namespace, timestamp)


def active_files(status):
    """The active data set's files prefix, <ns>/files/<active>/ (None without an active database)."""
    active = status.databases.active
    return naming.files_prefix(status.namespace, active) if active else None


def status_lines(status, env_file):
    unset = "none (%s is not set)" % naming.ssm_active_parameter(status.namespace)
    lines = [
        "%s  (tier %s, retain_previous %d, from %s)"
        % (status.namespace, status.shared_namespace, status.retain_previous, env_file),
        "active database: %s" % (status.databases.active or unset),
    ]
    if status.databases.active:
        lines.append("active files: %s (in the tier's files bucket)" % active_files(status))
    if status.databases.roles:
        rows = [
            (role.timestamp, role.role, instance_cell(role.database), role.database.stack_status or "none",
             role.action, role.reason)
            for role in status.databases.roles
        ]
        lines += ["databases:"] + ["  " + line for line in output.table(DATABASE_HEADERS, rows)]
    else:
        lines.append("databases: none")
    lines += service_lines(status.service, status.databases.referenced)
    lines += lock_lines(status.namespace, status.lock)
    lines += alarm_lines(status.alarms)
    if status.recent_flips:
        lines += ["last pointer flips:"]
        lines += ["  " + line for line in output.table(history.FLIP_HEADERS, history.flip_rows(status.recent_flips))]
    else:
        lines.append("last pointer flips: none")
    return lines


def service_lines(service, referenced):
    if service is None:
        return ["service: none"]
    lines = [
        "service %s in cluster %s: %s: %s" % (service.name, service.cluster, service.state, service.reason),
        "  task definition %s, runs against database %s"
        % (service.task_definition, ", ".join(sorted(referenced)) or "unknown"),
    ]
    for deployment in service.deployments:
        lines.append(
            "  deployment %s on %s: rollout %s, %d of %d running"
            % (deployment["status"], deployment["task_definition"], deployment["rollout_state"] or "not reported",
               deployment["running"], deployment["desired"])
        )
    return lines


def alarm_lines(alarms):
    if not alarms:
        return ["alarms: none"]
    firing = tenant_alarms.firing(alarms)
    lines = ["alarms: %d in ALARM of %d" % (len(firing), len(alarms))]
    rows = [(alarm.name, alarm.state, alarm.since_text or "unknown", alarm.reason if alarm.state != "OK" else "")
            for alarm in alarms]
    return lines + ["  " + line for line in output.table(ALARM_HEADERS, rows)]


ALARM_HEADERS = ("ALARM", "STATE", "SINCE", "REASON")


def lock_lines(namespace, state):
    if state is None:
        return ["deploy lock: free"]
    record = state.record
    lines = [
        "deploy lock: held by %s for %s (since %s, ttl %s) to deploy %s"
        % (record.holder, deploy_lock.human_duration(state.age_seconds), record.acquired_at,
           deploy_lock.human_duration(record.ttl_seconds), record.target_timestamp),
    ]
    if state.verdict.stale:
        lines.append("  stale: %s; the next deploy takes it over by itself" % state.verdict.reason)
    else:
        lines.append("  live: %s" % state.verdict.reason)
        lines.append("  if you know its holder is dead: %s" % deploy_lock.unlock_command(namespace, record.holder))
    return lines
