"""The IAM policies of the CodeBuild role that deploys one tenant namespace (`<namespace>-deploy`).

It allows what `tenantstack deploy` (stacker build of stacker/tenant.yaml and its hooks)
does for that namespace, and only for it: its stacks, parameters, secret, databases,
snapshots, security groups, target group, listener rule, ECS service, service roles and
log groups, each named by the namespace in its ARN or, where AWS names the resource
itself (security groups, target groups, listener rules), required to carry the tag
Namespace=<namespace> (aws:RequestTag on create, aws:ResourceTag after). Read-only
beyond it: the tier's stacks (their outputs feed the tenant's parameters), the source
namespace's snapshots (the data to promote, copied under the tier key as the namespace's
own snapshots <namespace>-<timestamp>: hooks.steps.tier_copy) and the source namespace's data-set
files `<source>/files/*` in its tier's files bucket (copied to `<namespace>/files/<timestamp>/`:
hooks.steps.files), the pipeline's source artifact. Of its tier's files bucket it writes only
`<namespace>/files/*` (the copies, and retention's deletions).
Of its project's image repositories `<project>/*` (shared by the project's namespaces) it
reads images and adds tags to them (hooks.steps.images: the digests it deploys get
`deployed-<environment>-<digest>`, which the lifecycle policy never expires); it cannot
upload a layer, so it cannot bring new content into them.

`Resource: "*"` remains only for actions that have no resource-level scoping (IAM
accepts only "*" for them): the EC2, ELB and ECS describe calls,
ecs:DeregisterTaskDefinition (CloudFormation deregisters a replaced revision),
secretsmanager:GetRandomPassword, tag:GetResources and logs:DescribeLogGroups.
The source namespace's snapshots are matched by hooks.naming.source_snapshot_pattern:
the snapshots the dev team takes, not the final snapshots of its retired databases.

The role can create and change roles named `<namespace>-service-*` (CloudFormation names
the service stack's task and execution roles so) and pass them to ECS tasks only; its own
name, `<namespace>-deploy`, is outside that pattern. It creates them and writes their
policies only with the permissions boundary `<namespace>-boundary` (ArnEquals on
iam:PermissionsBoundary: blueprints.service_iam.permissions_boundary), and may neither
remove nor swap a boundary, nor touch the boundary policy or its own `<namespace>-deploy`
stack, where the boundary lives.

Every namespace-specific pattern comes from hooks.naming (hooks/naming/iam.py); the action
sets, one per statement, are in blueprints/deploy_actions.py.
"""
from awacs.aws import Allow, ArnEquals, ArnNotEquals, Bool, Condition, Deny, Null, PolicyDocument, StringEquals
from awacs.ec2 import CreateSecurityGroup
from troposphere import Ref

from blueprints import deploy_actions as actions
from blueprints.deploy_files import file_statements
from blueprints.iam import (
    ANY_RESOURCE, ECS_TASKS_PRINCIPAL, KEY_USE_ACTIONS, POLICY_VERSION, Statement, arn, permissions_boundary_arn,
    regional_endpoint,
)
from blueprints.pipeline_iam import (
    BUILD_BUCKET_ACTIONS, artifact_objects, locate_artifact_bucket, read_source_artifact, use_artifact_key,
    use_build_cache, write_build_logs,
)
from hooks import naming

# ARN resources of what AWS names itself; the statements find the namespace's by its tag.
ANY_SECURITY_GROUP, ANY_VPC, ANY_TARGET_GROUP, ANY_ROLE = "security-group/*", "vpc/*", "targetgroup/*/*", "role/*"
# Listeners and listener rules of any load balancer of each kind (application, network).
ANY_LISTENER, ANY_LISTENER_RULE = "listener/%s/*/*/*", "listener-rule/%s/*/*/*/*"
LOAD_BALANCER_KINDS = ("app", "net")


def deploy_policies(namespace, source_namespace, parameters):
    """The deploy role's policies for `namespace` (source: whose snapshots it restores).

    parameters: the template parameters holding the artifact bucket's name ("bucket"),
    the artifact key's ARN ("artifact_key") and the ARNs of the tier database keys of the
    namespace ("database_key") and of its source ("source_database_key"), and the names of the
    files buckets of the namespace's tier ("files_bucket") and of its source's ("source_files_bucket").

    {part: document} for the parts "stacks" (stacks, ECS service, service roles, log
    groups), "network" (security groups, target group, listener rule; and the build's own
    needs: its logs, artifacts and key), "data" (parameters, secret, databases, snapshots,
    keys, the project's images), "monitoring" (the stable gate's look at tasks and their logs,
    the namespace's alarms and the log groups its databases export to) and "files" (the data set's
    files: the source's read, the namespace's own written). Together they exceed
    what a role's inline policies may hold (10,240 characters); each fits a managed
    policy (6,144) with room to grow.
    """
    ns, source = naming.parse_namespace(str(namespace)), naming.parse_namespace(str(source_namespace))
    return {
        "stacks": PolicyDocument(Version=POLICY_VERSION, Statement=stack_statements(ns) + service_statements(ns)),
        "network": PolicyDocument(
            Version=POLICY_VERSION, Statement=network_statements(ns) + build_statements(ns, parameters)
        ),
        "data": PolicyDocument(
            Version=POLICY_VERSION, Statement=data_statements(ns, source, parameters) + image_statements(ns),
        ),
        "monitoring": PolicyDocument(Version=POLICY_VERSION, Statement=gate_statements(ns) + monitoring_statements(ns)),
        "files": PolicyDocument(Version=POLICY_VERSION, Statement=file_statements(ns, source, parameters)),
    }


def tagged(ns):
    """The resource carries the tag Namespace=<namespace>."""
    return Condition(StringEquals(naming.resource_tag_key(), ns.name))


def tagged_on_create(ns):
    """The create request tags the new resource Namespace=<namespace>."""
    return Condition(StringEquals(naming.request_tag_key(), ns.name))


def stack_statements(ns):
    return [
        Statement(
            Sid="ManageNamespaceStacks", Effect=Allow, Action=actions.STACK_ACTIONS,
            Resource=[arn("cloudformation", naming.stack_arn_resource(ns))],
        ),
        Statement(
            Sid="ReadTierStacks", Effect=Allow, Action=actions.STACK_READ_ACTIONS,
            Resource=[arn("cloudformation", naming.stack_arn_resource(ns.shared_namespace))],
        ),
        Statement(Sid="UnscopedReads", Effect=Allow, Action=actions.UNSCOPED_READS, Resource=ANY_RESOURCE),
        Statement(
            Sid="KeepOwnDeployStack", Effect=Deny, Action=actions.STACK_CHANGE_ACTIONS,
            Resource=[arn("cloudformation", naming.deploy_stack_arn_resource(ns))],
        ),
    ]


def data_statements(ns, source, parameters):
    keys = [Ref(parameters["database_key"]), Ref(parameters["source_database_key"])]
    source_snapshots = arn("rds", naming.source_snapshots_arn_resource(source))
    own_snapshots = arn("rds", naming.restore_snapshots_arn_resource(ns))
    restore_sources = [own_snapshots] + ([source_snapshots] if str(source) != str(ns) else [])
    via_rds = StringEquals("kms:ViaService", regional_endpoint("rds"))

    def databases(*kinds):
        return [arn("rds", naming.databases_arn_resource(ns, kind)) for kind in kinds]

    return [
        Statement(
            Sid="ManageNamespaceParameters", Effect=Allow, Action=actions.PARAMETER_ACTIONS,
            Resource=[arn("ssm", naming.ssm_parameters_arn_resource(ns))],
        ),
        Statement(
            Sid="ManageNamespaceSecret", Effect=Allow, Action=actions.SECRET_ACTIONS,
            Resource=[arn("secretsmanager", naming.secrets_arn_resource(ns))],
        ),
        Statement(  # snapshots: final ones <ns>-db-*, and the restore copies <ns>-<ts> (hooks.steps.tier_copy)
            Sid="ManageNamespaceDatabases", Effect=Allow, Action=actions.DATABASE_ACTIONS,
            Resource=databases(*naming.RDS_DATABASE_KINDS) + [own_snapshots],
        ),
        Statement(  # within a tier the database restores from the source snapshot itself (naming.restores_from)
            Sid="RestoreFromOwnOrSourceSnapshots", Effect=Allow, Action=actions.RESTORE_ACTIONS,
            Resource=databases("db", "subgrp") + restore_sources + [
                arn("rds", naming.tier_parameter_groups_arn_resource(ns.shared_namespace)),
                arn("rds", naming.default_option_group_arn_resource()),
            ],
        ),
        Statement(
            Sid="ReadSourceSnapshots", Effect=Allow, Action=actions.SOURCE_SNAPSHOT_ACTIONS, Resource=[source_snapshots]
        ),
        # IAM cannot tell a copy's source from its target, so both patterns are listed; every
        # copy must carry Namespace=<namespace>, and hooks.steps.source_snapshot refuses as a source any
        # snapshot whose Namespace tag names another namespace.
        Statement(
            Sid="CopySourceSnapshotsUnderTierKey", Effect=Allow, Action=actions.SNAPSHOT_COPY_ACTIONS,
            Resource=[source_snapshots, own_snapshots], Condition=tagged_on_create(ns),
        ),
        Statement(
            Sid="DeleteOwnSnapshotCopies", Effect=Allow, Action=actions.SNAPSHOT_DELETE_ACTIONS,
            Resource=[own_snapshots],
            Condition=Condition(Null(naming.resource_tag_key(naming.COPIED_FROM_TAG), "false")),
        ),
        Statement(  # retention (hooks.steps.retention): only the pipeline's own final snapshots
            Sid="PruneOwnFinalSnapshots", Effect=Allow, Action=actions.SNAPSHOT_DELETE_ACTIONS,
            Resource=[arn("rds", naming.final_snapshots_arn_resource(ns))],
            Condition=Condition(Null(naming.resource_tag_key(naming.RETIRED_FROM_TAG), "false")),
        ),
        Statement(
            Sid="DescribeNamespaceDatabases", Effect=Allow, Action=actions.DATABASE_READ_ACTIONS,
            Resource=databases("db"),
        ),
        Statement(
            Sid="UseTierDatabaseKeys", Effect=Allow, Action=KEY_USE_ACTIONS, Resource=keys,
            Condition=Condition(via_rds),
        ),
        Statement(
            Sid="LetRdsUseTierDatabaseKeys", Effect=Allow, Action=actions.GRANT_ACTIONS, Resource=keys,
            Condition=Condition([via_rds, Bool("kms:GrantIsForAWSResource", "true")]),
        ),
    ]


def network_statements(ns):
    security_group = arn("ec2", ANY_SECURITY_GROUP)
    target_groups = arn("elasticloadbalancing", ANY_TARGET_GROUP)
    listeners = [arn("elasticloadbalancing", ANY_LISTENER % kind) for kind in LOAD_BALANCER_KINDS]
    rules = [arn("elasticloadbalancing", ANY_LISTENER_RULE % kind) for kind in LOAD_BALANCER_KINDS]
    return [
        Statement(
            Sid="CreateNamespaceSecurityGroups", Effect=Allow, Action=actions.SECURITY_GROUP_CREATE_ACTIONS,
            Resource=[security_group, arn("ec2", ANY_VPC)], Condition=tagged_on_create(ns),
        ),
        Statement(
            Sid="TagSecurityGroupsOnCreate", Effect=Allow, Action=actions.SECURITY_GROUP_TAG_ACTIONS,
            Resource=[security_group],
            Condition=Condition(
                StringEquals({"ec2:CreateAction": CreateSecurityGroup.action, naming.request_tag_key(): ns.name})
            ),
        ),
        Statement(
            Sid="ManageNamespaceSecurityGroups", Effect=Allow, Action=actions.SECURITY_GROUP_ACTIONS,
            Resource=[security_group], Condition=tagged(ns),
        ),
        Statement(
            Sid="CreateNamespaceTargetGroups", Effect=Allow, Action=actions.TARGET_GROUP_CREATE_ACTIONS,
            Resource=[target_groups], Condition=tagged_on_create(ns),
        ),
        Statement(
            Sid="CreateNamespaceListenerRules", Effect=Allow, Action=actions.LISTENER_RULE_CREATE_ACTIONS,
            Resource=listeners, Condition=tagged_on_create(ns),
        ),
        Statement(
            Sid="TagOnCreate", Effect=Allow, Action=actions.LOAD_BALANCING_TAG_ACTIONS,
            Resource=[target_groups] + rules, Condition=tagged_on_create(ns),
        ),
        Statement(
            Sid="ManageNamespaceTargetGroups", Effect=Allow, Action=actions.TARGET_GROUP_ACTIONS,
            Resource=[target_groups], Condition=tagged(ns),
        ),
        Statement(
            Sid="ManageNamespaceListenerRules", Effect=Allow, Action=actions.LISTENER_RULE_ACTIONS, Resource=rules,
            Condition=tagged(ns),
        ),
    ]


def service_statements(ns):
    roles = arn("iam", naming.service_roles_arn_resource(ns), region=False)
    any_role = arn("iam", ANY_ROLE, region=False)
    boundary = permissions_boundary_arn(ns)
    task_definitions = arn("ecs", naming.task_definitions_arn_resource(ns))
    return [
        Statement(
            Sid="RegisterNamespaceTaskDefinitions", Effect=Allow, Action=actions.TASK_DEFINITION_REGISTER_ACTIONS,
            Resource=[task_definitions], Condition=tagged_on_create(ns),
        ),
        Statement(
            Sid="DeregisterTaskDefinitions", Effect=Allow, Action=actions.TASK_DEFINITION_DEREGISTER_ACTIONS,
            Resource=ANY_RESOURCE,
        ),
        Statement(
            Sid="ManageNamespaceService", Effect=Allow, Action=actions.SERVICE_ACTIONS,
            Resource=[arn("ecs", naming.ecs_service_arn_resource(ns)), task_definitions],
        ),
        Statement(Sid="ManageServiceRoles", Effect=Allow, Action=actions.ROLE_ACTIONS, Resource=[roles]),
        Statement(
            Sid="ManageServiceRolesWithinBoundary", Effect=Allow, Action=actions.BOUNDED_ROLE_ACTIONS, Resource=[roles],
            Condition=Condition(ArnEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(
            Sid="KeepRoleBoundaries", Effect=Deny, Action=actions.BOUNDARY_REMOVE_ACTIONS, Resource=[any_role]
        ),
        Statement(
            Sid="OnlyTheNamespaceBoundary", Effect=Deny, Action=actions.BOUNDARY_SET_ACTIONS, Resource=[any_role],
            Condition=Condition(ArnNotEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(Sid="KeepBoundaryPolicy", Effect=Deny, Action=actions.BOUNDARY_POLICY_ACTIONS, Resource=[boundary]),
        Statement(
            Sid="PassServiceRolesToTasks", Effect=Allow, Action=actions.PASS_ROLE_ACTIONS, Resource=[roles],
            Condition=Condition(StringEquals("iam:PassedToService", ECS_TASKS_PRINCIPAL)),
        ),
        Statement(
            Sid="ManageNamespaceLogGroups", Effect=Allow, Action=actions.LOG_GROUP_ACTIONS,
            Resource=[arn("logs", naming.log_groups_arn_resource(ns))],
        ),
    ]


def gate_statements(ns):
    return [
        # The stable gate: the service's tasks (ListTasks is scoped by cluster; a task by its tags,
        # which ECS propagates from the service) and, after a failed rollout, what they logged.
        Statement(
            Sid="ListTierTasks", Effect=Allow, Action=actions.TASK_LIST_ACTIONS,
            Resource=[arn("ecs", naming.ecs_container_instances_arn_resource(ns))],
            Condition=Condition(ArnEquals("ecs:cluster", arn("ecs", naming.ecs_cluster_arn_resource(ns)))),
        ),
        Statement(
            Sid="ReadNamespaceTasks", Effect=Allow, Action=actions.TASK_READ_ACTIONS,
            Resource=[arn("ecs", naming.ecs_tasks_arn_resource(ns))], Condition=tagged(ns),
        ),
        Statement(
            Sid="ReadServiceLogs", Effect=Allow, Action=actions.SERVICE_LOG_READ_ACTIONS,
            Resource=[arn("logs", naming.log_group_arn_resource(ns))],
        ),
    ]


def monitoring_statements(ns):
    """The namespace's alarms (alarm:<namespace>-*: its service's and its databases') and the log groups RDS
    exports its databases' logs to, which the database stacks create first (/aws/rds/instance/<namespace>-db-*)."""
    return [
        Statement(
            Sid="ManageNamespaceAlarms", Effect=Allow, Action=actions.ALARM_ACTIONS,
            Resource=[arn("cloudwatch", naming.alarms_arn_resource(ns))],
        ),
        Statement(
            Sid="ManageNamespaceDatabaseLogGroups", Effect=Allow, Action=actions.LOG_GROUP_ACTIONS,
            Resource=[arn("logs", naming.rds_log_groups_arn_resource(ns))],
        ),
    ]


def image_statements(ns):
    repositories = arn("ecr", naming.image_repositories_arn_resource(ns.project_key))
    return [
        Statement(Sid="ProtectProjectImages", Effect=Allow, Action=actions.IMAGE_ACTIONS, Resource=[repositories]),
    ]


def build_statements(ns, parameters):
    """The deploy build's own needs: what every build role has, its own builds and its status artifact."""
    project = naming.parse_project(ns.project_key)
    build_project = naming.deploy_project_name(ns)
    status_prefix = naming.pipeline_artifact_prefix(project, naming.status_artifact_name(ns))
    return [
        write_build_logs(build_project),
        Statement(
            Sid="ReadOwnBuilds", Effect=Allow, Action=actions.BUILD_READ_ACTIONS,
            Resource=[arn("codebuild", naming.codebuild_project_arn_resource(build_project))],
        ),
        read_source_artifact(project, parameters["bucket"]),
        artifact_objects("WriteStatusArtifact", actions.STATUS_WRITE_ACTIONS, parameters["bucket"], status_prefix),
        use_build_cache(build_project, parameters["bucket"]),
        locate_artifact_bucket(parameters["bucket"], BUILD_BUCKET_ACTIONS),
        use_artifact_key(parameters["artifact_key"]),
    ]
