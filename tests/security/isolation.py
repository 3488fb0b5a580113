"""The tenant-isolation proof, on the rendered policy documents themselves.

The local endpoint enforces IAM per action only, so it cannot show that one tenant's
roles are kept out of another's resources; the documents can. For every role of every
template (found generically: any AWS::IAM::Role with its inline policies and any
AWS::IAM::Policy / ManagedPolicy attached to it) and every tenant namespace B other
than the role's own, each of B's resources is asked for with every action IAM defines
for that resource type (parliament's iam_definition.json in the tools venv), together
with every resource-based policy in the templates (bucket and key policies). What B's
project shares among its namespaces (its image repositories, `project_targets`) is
asked for too whenever B is of another project than the role (a role of a shared tier
belongs to no project: it is asked for every project's). A request
must not be allowed even when every condition key the request leaves open is assumed
to take the value that allows it (iam_eval.ASSUME_ALLOW). The same requests (every_ask)
are asked of a second, independent evaluator too (crosscheck.py, test_crosscheck.py).
"""
import functools
import json
from dataclasses import dataclass
from pathlib import Path

from hooks import naming
from tests.security import iam_eval
from tests.security.allowlist import Finding
from tests.security.world import ACCOUNT, IDENTITY, PARTITION, REGION, REPO, RESOURCE, short_hash

IAM_DEFINITION_GLOB = ".venv-cfngin/lib/python3*/site-packages/parliament/iam_definition.json"
SECRET_SUFFIX = "AbC123"  # Secrets Manager appends "-" and six random characters
CONTEXT = {"aws:SecureTransport": "true", "aws:PrincipalAccount": ACCOUNT}
# Promotion reads one namespace's data in another by design: a deploy of A restores the
# snapshots <source_namespace(A)>-<timestamp> (the same project's, hooks.steps.source_snapshot checks).
# Only these actions on only those snapshots are exempt; anything else of the source
# namespace (its databases, final snapshots, parameters ...) stays out of reach.
# The same holds for the data set's files `<source>/files/<timestamp>/` (hooks.steps.files copies them): read
# and listed, never written or deleted; the source's other files (`<source>/uploads/...`) stay out of reach.
# Exempt only for the namespace's deploy role, which promotes; its service's roles get nothing of the source.
PROMOTION_ACTIONS = (
    "rds:CopyDBSnapshot", "rds:DescribeDBSnapshots", "rds:ListTagsForResource", "rds:RestoreDBInstanceFromDBSnapshot",
    "s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket",
)


@dataclass(frozen=True)
class Role:
    arn: str
    namespace: str
    where: str  # <namespace>/<stack>.json#<LogicalId>
    documents: tuple
    reaches: tuple = ()  # tenant namespaces besides its own it deploys by design (designed_reach)


# Roles that deploy several tenants by design: "<stack>.json#<LogicalId>" of a project's stack ->
# the environments of the project it reaches. A project's fleet builds role (blueprints/pipeline_fleet.py)
# deploys the project's pipeline namespaces: every other tenant, of its project or another, is asked.
DESIGNED_REACH = {"%s.json#FleetBuildsRole" % naming.FLEET_STACK: naming.PIPELINE_ENVIRONMENTS}


def designed_reach(where, namespace):
    environments = DESIGNED_REACH.get(where.split("/", 1)[1], ()) if naming.is_project(namespace) else ()
    return tuple(naming.parse_project(namespace).namespace(environment).name for environment in environments)


def others(role, tenants):
    """The tenants the proof asks `role` about: every one but its own and those it reaches by design."""
    return [other for other in tenants if other != role.namespace and other not in role.reaches]


@dataclass(frozen=True)
class Target:
    """One resource of a namespace, as IAM names it."""

    service: str  # IAM service prefix
    resource_type: str  # IAM resource type of that service
    arn: str
    context: tuple = ()  # extra (key, value) pairs of the request, e.g. s3:prefix for a listing
    promotion_source: bool = False  # a snapshot other namespaces of the project restore from


@functools.lru_cache(maxsize=None)
def iam_definitions():
    """parliament's iam_definition.json: every service's actions, resource types and condition keys."""
    found = sorted(Path(REPO).glob(IAM_DEFINITION_GLOB))
    if not found:
        raise FileNotFoundError("no %s; run `make setup` (parliament is in the tools venv)" % IAM_DEFINITION_GLOB)
    return json.loads(found[0].read_text())


@functools.lru_cache(maxsize=None)
def actions_on(service, resource_type):
    """Every action of `service` that IAM lets a policy scope to `resource_type`."""
    definitions = iam_definitions()
    actions = sorted({  # a prefix can span several definitions (cloudformation: also Cloud Control)
        "%s:%s" % (service, privilege["privilege"])
        for definition in definitions
        if definition["prefix"] == service
        for privilege in definition["privileges"]
        if any(r["resource_type"].rstrip("*") == resource_type for r in privilege["resource_types"])
    })
    if not actions:
        raise LookupError("IAM defines no %s action on resource type %r" % (service, resource_type))
    return tuple(actions)


def roles(world):
    """{role ARN: Role} for every role any template creates, with every policy attached to it."""
    found = {arn: Role(arn, owner, where, (), designed_reach(where, owner))
             for arn, (owner, where) in world.role_locations().items()}
    for policy in world.policies():
        for arn in policy.roles if policy.kind == IDENTITY else ():
            role = found[arn]
            found[arn] = Role(arn, role.namespace, role.where, role.documents + (policy.document,), role.reaches)
    return found


def resource_policies(world):
    return [policy.document for policy in world.policies() if policy.kind == RESOURCE]


def arn(service, resource, region=REGION, account=ACCOUNT):
    return "arn:%s:%s:%s:%s:%s" % (PARTITION, service, region, account, resource)


def tier_output(world, namespace, output):
    tier = world.stacks[naming.tier_stack_name(world.stacks[naming.service_stack_name(namespace)].settings["shared_namespace"])]
    return world.resolve(tier, tier.template["Outputs"][output]["Value"])


def targets(world, namespace):
    """The resources that hold one tenant namespace's data, configuration and control."""
    settings = world.stacks[naming.service_stack_name(namespace)].settings
    timestamp, tier = settings["db_timestamp"], settings["shared_namespace"]
    bucket = tier_output(world, namespace, "AppFilesBucketName")
    log_group = naming.log_group_name(namespace)
    instance = naming.db_instance_id(namespace, timestamp)
    parameters = [
        naming.ssm_active_parameter(namespace),
        naming.ssm_secret_arn_parameter(namespace),
        naming.ssm_app_secret_arn_parameter(namespace),
        naming.ssm_database_parameter(namespace, timestamp),
        naming.ssm_lock_parameter(namespace),
        naming.ssm_db_path(namespace).rstrip("/"),
    ]
    found = [Target("ssm", "parameter", arn("ssm", "parameter" + name)) for name in parameters]
    found += [
        Target("secretsmanager", "Secret", arn("secretsmanager", "secret:%s-%s" % (naming.db_secret_name(namespace), SECRET_SUFFIX))),
        Target("secretsmanager", "Secret",
               arn("secretsmanager", "secret:%s-%s" % (naming.db_app_secret_name(namespace), SECRET_SUFFIX))),
        Target("logs", "log-group", arn("logs", "log-group:%s" % log_group)),
        Target("logs", "log-group", arn("logs", "log-group:%s:*" % log_group)),
        Target("logs", "log-stream", arn("logs", "log-group:%s:log-stream:php/php/0123abcd" % log_group)),
        Target("logs", "log-stream", arn("logs", "log-group:%s:log-stream:%s" % (
            log_group, naming.container_log_stream(naming.MIGRATE_CONTAINER, "0123abcd")))),
        Target("s3", "object", "arn:%s:s3:::%s/%suploads/report.pdf" % (PARTITION, bucket, naming.s3_prefix(namespace))),
        Target("s3", "bucket", "arn:%s:s3:::%s" % (PARTITION, bucket), (("s3:prefix", naming.s3_prefix(namespace)),)),
        # A data set's files (hooks.steps.files): what the same project's promotions copy from.
        Target("s3", "object", "arn:%s:s3:::%s/%suploads/report.pdf" % (
            PARTITION, bucket, naming.files_prefix(namespace, timestamp)), (), True),
        Target("s3", "bucket", "arn:%s:s3:::%s" % (PARTITION, bucket),
               (("s3:prefix", naming.files_prefix(namespace, timestamp)),), True),
        Target("rds", "db", arn("rds", "db:%s" % instance)),
        Target("rds", "snapshot", arn("rds", "snapshot:%s" % naming.final_snapshot_id(namespace, timestamp, timestamp))),
        Target("rds", "snapshot", arn("rds", "snapshot:%s" % naming.snapshot_id(namespace, timestamp)), (), True),
        Target("rds-db", "db-user", arn("rds-db", "dbuser:db-%s/app" % short_hash(instance).upper())),
        Target("ecs", "service", arn("ecs", "service/%s/%s" % (naming.cluster_name(tier), naming.service_name(namespace)))),
        Target("ecs", "task-definition", arn("ecs", "task-definition/%s:1" % naming.task_family(namespace))),
        # A running task of the tenant's service in the shared cluster: its id is random, its tags the
        # service's (PropagateTags), so a policy can keep other tenants' tasks out only by the tag.
        Target("ecs", "task", arn("ecs", "task/%s/0a1b2c3d4e5f" % naming.cluster_name(tier)),
               (("aws:ResourceTag/%s" % naming.NAMESPACE_TAG, namespace), ("ecs:cluster", arn(
                   "ecs", "cluster/%s" % naming.cluster_name(tier))))),
    ]
    # What the operator investigates with (issue 19): the database's exported logs, the tenant's alarms.
    for log in naming.RDS_EXPORTED_LOGS:
        group = naming.rds_log_group_name(instance, log)
        found += [
            Target("logs", "log-group", arn("logs", "log-group:%s" % group)),
            Target("logs", "log-group", arn("logs", "log-group:%s:*" % group)),
            Target("logs", "log-stream", arn("logs", "log-group:%s:log-stream:%s" % (group, instance))),
        ]
    found += [Target("cloudwatch", "alarm", arn("cloudwatch", "alarm:%s" % naming.alarm_name(namespace, what)))
              for what in naming.SERVICE_ALARMS]
    found += [Target("cloudwatch", "alarm", arn("cloudwatch", "alarm:%s" % naming.db_alarm_name(namespace, timestamp, what)))
              for what in naming.DATABASE_ALARMS]
    found += tier_targets(world, tier)
    found += [
        Target("cloudformation", "stack", arn("cloudformation", "stack/%s/0a1b2c3d" % name))
        for name in (naming.base_stack_name(namespace), naming.db_stack_name(namespace, timestamp),
                     naming.service_stack_name(namespace))
    ]
    return found


def tier_targets(world, tier):
    """What a tier holds of every one of its tenants, which no tenant's role may touch: the ALB's access
    logs (every tenant's requests) and the files bucket's access logs in the log bucket, and the alarm topic.
    (The logs key is asked for by test_isolation.py::test_no_role_may_use_the_tiers_logs_key: its policy's
    administration statement names the account, which delegates to IAM.)"""
    stack = world.stacks[naming.tier_stack_name(tier)]
    outputs = stack.template["Outputs"]
    bucket = world.resolve(stack, outputs["LogBucketName"]["Value"])
    found = [
        Target("s3", "object", "arn:%s:s3:::%s/%sAWSLogs/%s/elasticloadbalancing/%s/2026/11/01/log.gz" % (
            PARTITION, bucket, naming.access_log_prefix(tier, "alb"), ACCOUNT, REGION)),
        Target("s3", "object", "arn:%s:s3:::%s/%s2026-11-01-00-00-00-0123ABCD" % (
            PARTITION, bucket, naming.access_log_prefix(tier, "app-files"))),
        # Listing the access logs: a tenant's own prefix <ns>/ holds nothing in this bucket.
        Target("s3", "bucket", "arn:%s:s3:::%s" % (PARTITION, bucket), (("s3:prefix", naming.access_log_prefix(tier, "alb")),)),
    ]
    topic = world.resolve(stack, outputs["AlarmTopicArn"]["Value"])
    if topic.startswith("arn:"):
        found.append(Target("sns", "topic", topic))
    return found


def project_of(namespace):
    """The customer project a tenant namespace or a project's own stacks belong to; None for a shared tier."""
    if is_tenant(namespace):
        return naming.parse_namespace(namespace).project_key
    return namespace if naming.is_project(namespace) else None


def project_targets(project):
    """The resources a customer project's namespaces share: its image repositories (whether or not its
    pipeline is in this repository: the names are what IAM sees, and what the project's execution
    roles may pull from)."""
    return [Target("ecr", "repository", arn("ecr", naming.image_repository_arn_resource(project, container)))
            for container in naming.IMAGE_CONTAINERS]


@dataclass(frozen=True)
class Leak:
    role: str
    action: str
    resource: str
    statements: tuple

    def __str__(self):
        return "%s may %s on %s (statements %s)" % (self.role, self.action, self.resource, ", ".join(self.statements))

    def finding(self):
        """As a gate finding: accepted only by an `isolation` allowlist entry (id: the action, where: the role)."""
        return Finding("isolation", self.action, self.role, "on %s (statements %s)" % (
            self.resource, ", ".join(self.statements)))


def source_namespace(world, namespace):
    stack = world.stacks.get(naming.service_stack_name(namespace)) if is_tenant(namespace) else None
    return stack.settings["source_namespace"] if stack else None


@dataclass(frozen=True)
class Ask:
    """One request of the proof: `role` asks for an action on a resource of tenant `other`."""

    role: Role
    other: str
    target: Target
    request: iam_eval.Request
    exempt: bool  # a promotion request (PROMOTION_ACTIONS on the role's source snapshots): allowed by design


def asks(role, other_namespace, world):
    """The proof's requests of `role` on `other_namespace`'s resources: every target, every action
    IAM defines on it, with the context the proof fixes (CONTEXT and the target's own keys)."""
    # Only the role that deploys (promotes into) the namespace: its task and execution roles get no exemption.
    promotes_from_other = (source_namespace(world, role.namespace) == other_namespace
                           and role.arn.endswith(":role/%s" % naming.deploy_project_name(role.namespace)))
    found = targets(world, other_namespace)
    if project_of(other_namespace) != project_of(role.namespace):
        found += project_targets(project_of(other_namespace))
    for target in found:
        for action in actions_on(target.service, target.resource_type):
            exempt = promotes_from_other and target.promotion_source and action in PROMOTION_ACTIONS
            request = iam_eval.Request(action, target.arn, role.arn, dict(CONTEXT, **dict(target.context)))
            yield Ask(role, other_namespace, target, request, exempt)


def every_ask(world):
    """The proof's whole request set: every role x every tenant other than its own x every target x action."""
    tenants = tenant_namespaces(world)
    for role in sorted(roles(world).values(), key=lambda r: r.where):
        for other in others(role, tenants):
            yield from asks(role, other, world)


def leaks(role, other_namespace, world, resource_policy_documents):
    """Every request of `role` on `other_namespace`'s resources that its policies would allow.

    Raises iam_eval.Unsupported for anything in the role's or the resource policies the
    evaluator does not implement, even where no request reaches it."""
    iam_eval.check_supported(role.documents, role.where)
    iam_eval.check_supported(resource_policy_documents, "a resource policy")
    found = []
    for ask in asks(role, other_namespace, world):
        if ask.exempt:
            continue
        request = ask.request
        outcome = iam_eval.evaluate(request, role.documents, resource_policy_documents, iam_eval.ASSUME_ALLOW)
        if outcome == iam_eval.ALLOWED:
            statements = iam_eval.matching_allows(request, role.documents) or ["a resource policy"]
            found.append(Leak(role.where, request.action, request.resource, tuple(statements)))
    return found


def is_tenant(namespace):
    try:
        naming.parse_namespace(namespace)
    except naming.NamingError:
        return False
    return True


def tenant_namespaces(world):
    """Tenant namespaces with a service: the env files environments/<namespace>.env of tenants."""
    return sorted({s.namespace for s in world.stacks.values() if is_tenant(s.namespace)})
