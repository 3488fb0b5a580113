"""IAM names and patterns: the IAM resources tenantstack names, and how its policies name the rest.

A policy that must reach one namespace's (or one project's) resources only names them by
ARN. The part after "arn:<partition>:<service>:<region>:<account>:" (an "ARN resource") is
built here from the names the rest of hooks.naming gives those resources, so a resource and
the policies that reach it cannot drift apart; blueprints/iam.py puts the ARN around it.
Patterns use IAM's wildcards: '*' any run of characters, '?' exactly one. One pattern, one
small function (and one row in tests/hooks/naming/test_iam.py): the functions are alike in
shape by design, as in the rest of hooks.naming.

Also here: the names of the IAM resources themselves (the service stack's roles, the
permissions boundary) and the tag keys of tag conditions (aws:RequestTag/<key>,
aws:ResourceTag/<key>).
"""
from hooks.naming.namespaces import *  # noqa: F401,F403
from hooks.naming.namespaces import _namespace_name
from hooks.naming.resources import *  # noqa: F401,F403
from hooks.naming.monitoring import *  # noqa: F401,F403
from hooks.naming.delivery import *  # noqa: F401,F403
from hooks.naming.delivery import _project_name
from hooks.naming.images import *  # noqa: F401,F403

# --- parameters, secrets, logs, files ----------------------------------------------------------


def ssm_parameters_arn_resource(namespace):
    """Every parameter under /<namespace>/ (a parameter ARN drops the name's leading '/')."""
    return "parameter%s*" % ssm_namespace_path(namespace)


def db_secret_arn_resource(namespace):
    """The namespace's master secret: Secrets Manager appends '-' and 6 random characters."""
    return "secret:%s-??????" % db_secret_name(namespace)


def db_app_secret_arn_resource(namespace):
    """The namespace's application-user secret: Secrets Manager appends '-' and 6 random characters."""
    return "secret:%s-??????" % db_app_secret_name(namespace)


def secrets_arn_resource(namespace):
    """Every secret of the namespace: their names start with secret_name_prefix ('<namespace>/')."""
    return "secret:%s*" % secret_name_prefix(namespace)


def log_group_arn_resource(namespace):
    """The service's log group and every stream in it."""
    return "log-group:%s:*" % log_group_name(namespace)


def log_groups_arn_resource(namespace):
    """Every log group of the namespace (log_group_prefix, '/<namespace>/')."""
    return "log-group:%s*" % log_group_prefix(namespace)


def rds_log_groups_arn_resource(namespace):
    """Every log group the namespace's databases export to (/aws/rds/instance/<namespace>-db-*), and their streams."""
    return "log-group:%s%s*" % (RDS_LOG_GROUP_PREFIX, db_identifier_prefix(namespace))


def tier_log_groups_arn_resources(shared_namespace):
    """The tier's log groups (tier_log_group_patterns), as CloudWatch Logs names them in the
    kms:EncryptionContext:aws:logs:arn key (no ':*')."""
    return ["log-group:%s" % pattern for pattern in tier_log_group_patterns(shared_namespace)]


def alarms_arn_resource(namespace):
    """Every CloudWatch alarm of the namespace (alarm_name_prefix: its service's and its databases')."""
    return "alarm:%s*" % alarm_name_prefix(namespace)


def s3_keys_pattern(prefix):
    """Every key below `prefix` in a bucket (object ARNs and the s3:prefix condition)."""
    return prefix + "*"


def s3_prefix_pattern(namespace):
    """Every key below the namespace's S3 prefix (object ARNs and the s3:prefix condition)."""
    return s3_keys_pattern(s3_prefix(namespace))


def files_pattern(namespace):
    """Every file of every data set of the namespace (files_root): what a promotion from it reads."""
    return s3_keys_pattern(files_root(namespace))


# --- stacks -------------------------------------------------------------------------------------


def stack_arn_resource(namespace):
    """Every CloudFormation stack of a namespace, after 'arn:...:cloudformation:<region>:<account>:'."""
    return "stack/%s-*/*" % parse_any_namespace(str(namespace)).name


def deploy_stack_arn_resource(namespace):
    """The namespace's own <namespace>-deploy stack (any stack id), the home of its boundary."""
    return "stack/%s/*" % deploy_stack_name(namespace)


# --- databases and snapshots --------------------------------------------------------------------

# RDS ARN resource types named by a namespace's database identifiers (db_identifier_prefix).
RDS_DATABASE_KINDS = ("db", "snapshot", "subgrp")
# The option group a restore gets when none is given: RDS's default one of MySQL 8.0, the
# engine of every tenant database (blueprints/tier.py, DATABASE_PARAMETER_FAMILY).
DEFAULT_OPTION_GROUP = "default:mysql-8-0"


def db_identifier_prefix(namespace):
    """What every DB instance, final snapshot and DB subnet group of a namespace starts with."""
    return "%s-db-" % _namespace_name(namespace)


def databases_arn_resource(namespace, kind):
    """Every RDS resource of one kind (db, snapshot, subgrp) named by the namespace's db prefix."""
    if kind not in RDS_DATABASE_KINDS:
        raise NamingError("RDS resource kind", kind, "expected one of %s" % ", ".join(RDS_DATABASE_KINDS))
    return "%s:%s*" % (kind, db_identifier_prefix(namespace))


def source_snapshot_pattern(source_namespace):
    """An IAM wildcard for exactly the snapshots <source>-<timestamp> (TIMESTAMP_PATTERN), not
    the source namespace's final snapshots (<source>-db-<timestamp>-final-<timestamp>)."""
    return "%s-????????t??????z" % _namespace_name(source_namespace)


def restore_snapshot_pattern(namespace):
    """An IAM wildcard for the namespace's own snapshots <namespace>-<timestamp>
    (restore_snapshot_id: its copies under the tier key), not its final snapshots."""
    return source_snapshot_pattern(namespace)


def source_snapshots_arn_resource(source_namespace):
    return "snapshot:%s" % source_snapshot_pattern(source_namespace)


def restore_snapshots_arn_resource(namespace):
    return "snapshot:%s" % restore_snapshot_pattern(namespace)


def final_snapshots_arn_resource(namespace):
    """Exactly the namespace's final snapshots <namespace>-db-<timestamp>-final-<timestamp>."""
    return "snapshot:%s????????t??????z-final-????????t??????z" % db_identifier_prefix(namespace)


def tier_parameter_groups_arn_resource(shared_namespace):
    """The tier's DB parameter groups: CloudFormation names them <tier stack>-<logical id>-<suffix>."""
    return "pg:%s-*" % tier_stack_name(shared_namespace)


def default_option_group_arn_resource():
    return "og:%s" % DEFAULT_OPTION_GROUP


# --- ECS ------------------------------------------------------------------------------------------


def task_definitions_arn_resource(namespace):
    """Every revision of the namespace's task definition family."""
    return "task-definition/%s:*" % task_family(namespace)


def ecs_tasks_arn_resource(namespace):
    """Every task in the namespace's tier cluster (task ids are random: scope further by the Namespace tag)."""
    parsed = parse_namespace(_namespace_name(namespace))
    return "task/%s/*" % cluster_name(parsed.shared_namespace)


def ecs_cluster_arn_resource(namespace):
    """The namespace's tier cluster."""
    parsed = parse_namespace(_namespace_name(namespace))
    return "cluster/%s" % cluster_name(parsed.shared_namespace)


def ecs_container_instances_arn_resource(namespace):
    """What IAM authorises ListTasks against: the container instances of the tier cluster."""
    parsed = parse_namespace(_namespace_name(namespace))
    return "container-instance/%s/*" % cluster_name(parsed.shared_namespace)


def ecs_service_arn_resource(namespace):
    """The namespace's ECS service, in its tier's cluster."""
    parsed = parse_namespace(_namespace_name(namespace))
    return "service/%s/%s" % (cluster_name(parsed.shared_namespace), service_name(parsed))


# --- IAM --------------------------------------------------------------------------------------------


def service_role_name_prefix(namespace):
    """The roles CloudFormation names for the service stack: <namespace>-service-<LogicalId>-<suffix>."""
    return "%s-" % service_stack_name(namespace)


def service_roles_arn_resource(namespace):
    """Every role of the namespace's service stack (service_role_name_prefix)."""
    return "role/%s*" % service_role_name_prefix(namespace)


def permissions_boundary_name(namespace):
    """The managed policy that bounds every role of the namespace's service stack: <namespace>-boundary.

    It lives in the <namespace>-deploy stack (built by an administrator), never in a stack
    the namespace's deploy role can change."""
    return "%s-boundary" % _namespace_name(namespace)


def permissions_boundary_arn_resource(namespace):
    """The boundary policy, after 'arn:<partition>:iam::<account>:' (a policy in the default path '/')."""
    return "policy/%s" % permissions_boundary_name(namespace)


# --- delivery: builds and the pipeline --------------------------------------------------------------


def codebuild_project_arn_resource(codebuild_project):
    return "project/%s" % codebuild_project


def codebuild_log_group_arn_resource(codebuild_project):
    """A build project's log group and every stream in it."""
    return "log-group:%s:*" % codebuild_log_group_name(codebuild_project)


def project_codebuild_log_groups_arn_resource(project):
    """The log groups (not their streams) of every build project of a customer project
    (named <project>-...): what CloudWatch Logs names in the kms:EncryptionContext:aws:logs:arn key."""
    return "log-group:%s" % codebuild_log_group_name("%s-*" % _project_name(project))


# --- images ------------------------------------------------------------------------------------------


def image_repositories_arn_resource(project):
    """Every image repository of a project (image_repository_prefix, '<project>/')."""
    return "repository/%s*" % image_repository_prefix(project)


def image_repository_arn_resource(project, container):
    """One container's image repository of a project."""
    return "repository/%s" % image_repository_name(project, container)


# --- tag conditions -------------------------------------------------------------------------------

# The tags a policy may condition on: the namespace tags, and the ones the pipeline puts on a copy and a final snapshot.
CONDITION_TAGS = TAG_KEYS + (COPIED_FROM_TAG, RETIRED_FROM_TAG)


def request_tag_key(tag=NAMESPACE_TAG):
    """The condition key of a tag a create request sets: aws:RequestTag/<tag>."""
    return "aws:RequestTag/%s" % _condition_tag(tag)


def resource_tag_key(tag=NAMESPACE_TAG):
    """The condition key of a tag an existing resource carries: aws:ResourceTag/<tag>."""
    return "aws:ResourceTag/%s" % _condition_tag(tag)


def _condition_tag(tag):
    if tag not in CONDITION_TAGS:
        raise NamingError("condition tag", tag, "expected one of %s" % ", ".join(CONDITION_TAGS))
    return tag
