"""Names of a namespace's resources: snapshots, databases, stacks, SSM paths, secrets, logs, tags.

The patterns IAM policies name them by are in hooks/naming/iam.py.
"""
import re

from hooks.naming.namespaces import *  # noqa: F401,F403
from hooks.naming.namespaces import _namespace_name


# --- snapshots and databases -------------------------------------------------------


def snapshot_id(source_namespace, timestamp):
    """The dev team's snapshot that holds the data to promote."""
    return check_rds_identifier(
        "%s-%s" % (_namespace_name(source_namespace), parse_timestamp(timestamp)), "snapshot id"
    )


def db_instance_id(namespace, timestamp):
    """The DB instance restored from the snapshot with this timestamp."""
    return check_rds_identifier(
        "%s-db-%s" % (_namespace_name(namespace), parse_timestamp(timestamp)), "DB instance id"
    )


def final_snapshot_id(namespace, timestamp, taken_at):
    """The final manual snapshot of a retired database; unique per retirement time."""
    return check_rds_identifier(
        "%s%s" % (final_snapshot_prefix(namespace, timestamp), parse_timestamp(taken_at, "taken_at")),
        "final snapshot id",
    )


def final_snapshot_prefix(namespace, timestamp):
    """What every final snapshot of one database starts with: '<instance id>-final-'."""
    return "%s-final-" % db_instance_id(namespace, timestamp)


def parse_final_snapshot_id(value):
    """Split '<namespace>-db-<timestamp>-final-<taken_at>' into (Namespace, timestamp, taken_at)."""
    match = re.match(r"^(.+)-final-([0-9]{8}t[0-9]{6}z)$", value or "")
    if not match:
        raise NamingError("final snapshot id", value, "expected <namespace>-db-<timestamp>-final-<timestamp>")
    namespace, timestamp = parse_db_instance_id(match.group(1))
    return namespace, timestamp, parse_timestamp(match.group(2), "final snapshot time")


def is_final_snapshot_of(snapshot, namespace, timestamp):
    """True when `snapshot` is a final snapshot (any retirement time) of this database."""
    prefix = final_snapshot_prefix(namespace, timestamp)
    taken_at = (snapshot or "")[len(prefix):]
    return (snapshot or "").startswith(prefix) and re.match(TIMESTAMP_PATTERN, taken_at) is not None


def restore_snapshot_id(namespace, timestamp):
    """The tenant's own snapshot `<namespace>-<timestamp>`: a copy of the source snapshot under
    the tier's KMS key (hooks.steps.tier_copy), or, when the namespace is its own source, the
    source snapshot itself. Same shape as every snapshot id."""
    return snapshot_id(namespace, timestamp)


# Which source snapshots the tier copy copies (env key snapshot_copy, docs/pipeline.md).
COPY_ACROSS_TIERS, COPY_ALWAYS = "across-tiers", "always"
SNAPSHOT_COPY_POLICIES = (COPY_ACROSS_TIERS, COPY_ALWAYS)


def restores_from(namespace, source_namespace, timestamp, snapshot_copy=COPY_ACROSS_TIERS):
    """The snapshot the database of `timestamp` restores from, decided by names alone (so a
    template renders offline, the same whatever the keys are).

    across-tiers: a source in the namespace's own tier (qa from dev) is used as it is: every
    database of a tier is under the tier's key and a snapshot keeps its database's key, so a
    copy would buy nothing but time (hooks.steps.tier_copy checks the key and refuses a source
    under another). A source in the other tier (prod from dev) is copied under this tier's key
    first, to restore_snapshot_id. always: the copy in every case."""
    if snapshot_copy not in SNAPSHOT_COPY_POLICIES:
        raise NamingError("snapshot_copy", snapshot_copy, "expected one of %s" % ", ".join(SNAPSHOT_COPY_POLICIES))
    own, source = parse_namespace(str(namespace)), parse_namespace(str(source_namespace))
    if snapshot_copy == COPY_ACROSS_TIERS and own.shared_namespace == source.shared_namespace:
        return snapshot_id(source, timestamp)
    return restore_snapshot_id(own, timestamp)


def parse_db_instance_id(value):
    """Split '<namespace>-db-<timestamp>' into (Namespace, timestamp); NamingError otherwise."""
    match = re.match(r"^(.+)-db-([0-9]{8}t[0-9]{6}z)$", value or "")
    if not match:
        raise NamingError("DB instance id", value, "expected <namespace>-db-<timestamp>")
    return parse_namespace(match.group(1)), parse_timestamp(match.group(2))


def parse_snapshot_id(value):
    """Split '<namespace>-<timestamp>' into (Namespace, timestamp); NamingError otherwise."""
    match = re.match(r"^(.+)-([0-9]{8}t[0-9]{6}z)$", value or "")
    if not match:
        raise NamingError("snapshot id", value, "expected <source-namespace>-<timestamp>")
    return parse_namespace(match.group(1), "snapshot namespace"), parse_timestamp(match.group(2))


# --- stacks ----------------------------------------------------------------------------

# Stack names as stacker builds them: "<namespace>-<name in the config>".
DB_STACK = "db"
SERVICE_STACK = "service"
BASE_STACK = "base"
VPC_STACK = "vpc"
TIER_STACK = "tier"
STACK_DELIMITER = "-"


def stack_name(namespace, config_name):
    """The CloudFormation name stacker gives a config stack in a namespace."""
    return "%s%s%s" % (namespace, STACK_DELIMITER, config_name)


def db_stack_config_name(timestamp):
    """The `stack_name` of the database stack in stacker/tenant.yaml."""
    return "%s-%s" % (DB_STACK, parse_timestamp(timestamp))


def db_stack_name(namespace, timestamp):
    return stack_name(_namespace_name(namespace), db_stack_config_name(timestamp))


def service_stack_name(namespace):
    return stack_name(_namespace_name(namespace), SERVICE_STACK)


def base_stack_name(namespace):
    return stack_name(_namespace_name(namespace), BASE_STACK)


def vpc_stack_name(shared_namespace):
    return stack_name(parse_shared_namespace(str(shared_namespace)).name, VPC_STACK)


def tier_stack_name(shared_namespace):
    return stack_name(parse_shared_namespace(str(shared_namespace)).name, TIER_STACK)


# --- SSM, secrets, logs, S3, ECS -----------------------------------------------------


def ssm_namespace_path(namespace):
    """Everything a tenant may read in Parameter Store lives under this path."""
    return "/%s/" % _namespace_name(namespace)


def ssm_db_path(namespace):
    return "/%s/db/" % _namespace_name(namespace)


def ssm_active_parameter(namespace):
    """Holds the active timestamp; its history is the audit trail of every flip."""
    return ssm_db_path(namespace) + "active"


def ssm_databases_path(namespace):
    """Each database stack registers itself below this path, one parameter per timestamp."""
    return ssm_db_path(namespace) + "databases/"


def ssm_database_parameter(namespace, timestamp):
    return ssm_databases_path(namespace) + parse_timestamp(timestamp)


def ssm_secret_arn_parameter(namespace):
    """Holds the ARN of the namespace's database master secret (never the secret itself)."""
    return ssm_db_path(namespace) + "secret-arn"


def ssm_lock_parameter(namespace):
    """The namespace's deploy lock (created if absent; holds who deploys and since when)."""
    return "/%s/deploy/lock" % _namespace_name(namespace)


def ssm_lock_takeover_parameter(namespace):
    """The claim a deploy creates (if absent) before it replaces a stale deploy lock."""
    return "/%s/deploy/lock-takeover" % _namespace_name(namespace)


def ssm_shared_path(shared_namespace):
    return "/%s/" % parse_shared_namespace(str(shared_namespace)).name


def secret_name_prefix(namespace):
    return "%s/" % _namespace_name(namespace)


def db_secret_name(namespace):
    """The namespace's database master secret in Secrets Manager (the pipeline's and the migration's)."""
    return secret_name_prefix(namespace) + "db/master"


# The database user the application logs in as (created by the image's migration command with
# the master credentials: least privilege, its own schema only). One per database, so one name.
APP_DB_USER = "app"


def db_app_secret_name(namespace):
    """The namespace's application-user secret in Secrets Manager: {"username", "password"}."""
    return secret_name_prefix(namespace) + "db/app"


def ssm_app_secret_arn_parameter(namespace):
    """Holds the ARN of the namespace's application-user secret (never the secret itself)."""
    return ssm_db_path(namespace) + "app-secret-arn"


def log_group_prefix(namespace):
    """What the name of every log group of a namespace starts with."""
    return "/%s/" % _namespace_name(namespace)


def log_group_name(namespace):
    return log_group_prefix(namespace) + "service"


def flow_log_group_name(shared_namespace):
    """The log group a shared VPC's flow logs are delivered to."""
    return "/%s/vpc/flow-logs" % parse_shared_namespace(str(shared_namespace)).name


def s3_prefix(namespace):
    """The namespace's key prefix in its tier's application-files bucket."""
    return "%s/" % _namespace_name(namespace)


# The folder of a namespace's prefix that holds its data sets' files, one folder per timestamp.
FILES_FOLDER = "files"


def files_root(namespace):
    """What the files of every data set of a namespace start with: '<namespace>/files/'."""
    return "%s%s/" % (s3_prefix(namespace), FILES_FOLDER)


def files_prefix(namespace, timestamp):
    """The files of data set `<namespace>-<timestamp>`: '<namespace>/files/<timestamp>/'. The database
    of that timestamp and these files are one data set: the service of the timestamp gets this
    prefix as APP_FILES_PREFIX, a promotion copies it, retention deletes it with the last final
    snapshot of the timestamp. Under s3_prefix, so one IAM rule per namespace covers every data set."""
    return "%s%s/" % (files_root(namespace), parse_timestamp(timestamp))


def parse_files_prefix(value):
    """Split '<namespace>/files/<timestamp>/' into (Namespace, timestamp); NamingError otherwise."""
    match = re.match(r"^([^/]+)/%s/([0-9]{8}t[0-9]{6}z)/$" % FILES_FOLDER, value or "")
    if not match:
        raise NamingError("files prefix", value, "expected <namespace>/%s/<timestamp>/" % FILES_FOLDER)
    return parse_namespace(match.group(1)), parse_timestamp(match.group(2))


# User metadata a copied file carries (x-amz-meta-...): the ETag of the object it was copied from,
# so a re-run knows a copy is complete even where its own ETag differs (a multipart copy).
SOURCE_ETAG_METADATA = "tenantstack-source-etag"


def db_kms_alias(shared_namespace):
    """The alias of the tier's customer-managed KMS key for its tenants' databases."""
    return "alias/%s/rds" % parse_shared_namespace(str(shared_namespace)).name


def cluster_name(shared_namespace):
    return parse_shared_namespace(str(shared_namespace)).name


def service_name(namespace):
    return _namespace_name(namespace)


def task_family(namespace):
    return _namespace_name(namespace)


# The php-fpm container of the service's task definition, and the variable in its
# environment that names the database timestamp it runs against.
PHP_CONTAINER = "php"
# The nginx container in front of it (the load balancer's target).
NGINX_CONTAINER = "nginx"
DB_TIMESTAMP_VARIABLE = "DB_TIMESTAMP"
# The task's init container that migrates the database before php starts (blueprints.containers).
MIGRATE_CONTAINER = "migrate"


def container_log_stream(container, task_id):
    """The awslogs stream of one container of one task: <stream prefix = container>/<container>/<task id>."""
    return "%s/%s/%s" % (container, container, task_id)


# --- tags ------------------------------------------------------------------------------


# The tag on a snapshot the pipeline copied (hooks.steps.tier_copy): the id of the snapshot it
# copies. Only snapshots carrying it are ever deleted by the pipeline.
COPIED_FROM_TAG = "CopiedFrom"
# The tag on a final snapshot: the id of the DB instance it was taken of when retired.
RETIRED_FROM_TAG = "RetiredFrom"


def tags(namespace):
    """The tags every resource of a namespace carries, as an ordered dict."""
    parsed = parse_any_namespace(str(namespace))
    if isinstance(parsed, SharedNamespace):
        return {
            "Customer": "common",
            "Project": "shared",
            "Environment": parsed.environment,
            "Namespace": parsed.name,
        }
    return {
        "Customer": parsed.customer,
        "Project": parsed.project,
        "Environment": parsed.environment,
        "Namespace": parsed.name,
    }
