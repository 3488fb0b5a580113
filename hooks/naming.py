"""The one home for tenantstack names.

Every namespace, stack, database, snapshot, SSM path, secret, log group, S3
prefix and tag set is built and validated here, and nowhere else. The module
is pure: no AWS, no stacker, no clock (callers pass the time in).

Contracts (docs: DESIGN.md "Contracts"):

    namespace        <customer>-<project>-<environment>    xy-0146-qa
    shared namespace common-nonprod | common-prod
    timestamp        YYYYMMDDtHHMMSSz, UTC, lower case      20260115t103000z
    snapshot id      <source-namespace>-<timestamp>
    DB stack / id    <namespace>-db-<timestamp>
    service stack    <namespace>-service
    SSM              /<namespace>/db/active, /<namespace>/db/...
"""
import datetime
import re
from dataclasses import dataclass

ENVIRONMENTS = ("dev", "qa", "uat", "stage", "prod")
NAMESPACE_PATTERN = r"^[a-z][a-z0-9]{1,5}-[0-9]{4}-(dev|qa|uat|stage|prod)$"
NAMESPACE_SHAPE = "<customer: a letter then 1-5 letters/digits>-<4-digit project>-<dev|qa|uat|stage|prod>"
SHARED_NAMESPACES = ("common-nonprod", "common-prod")
PROD_TIER, NONPROD_TIER = "common-prod", "common-nonprod"

TIMESTAMP_FORMAT = "%Y%m%dt%H%M%Sz"
TIMESTAMP_PATTERN = r"^[0-9]{8}t[0-9]{6}z$"
TIMESTAMP_SHAPE = "YYYYMMDDtHHMMSSz in UTC, lower case, e.g. 20260115t103000z"

RDS_IDENTIFIER_MAX = 63
RDS_IDENTIFIER_RULES = (
    "at most 63 characters of lower-case letters, digits and hyphens, starting "
    "with a letter, without '--' and not ending with '-'"
)

TAG_KEYS = ("Customer", "Project", "Environment", "Namespace")


class NamingError(ValueError):
    """A value breaks a naming rule. Names the field, the value and the rule."""

    def __init__(self, field, value, rule):
        self.field, self.value, self.rule = field, value, rule
        super().__init__("%s %r is invalid: %s" % (field, value, rule))


@dataclass(frozen=True)
class Namespace:
    """A tenant namespace such as xy-0146-qa."""

    customer: str
    project: str
    environment: str

    @property
    def name(self):
        return "%s-%s-%s" % (self.customer, self.project, self.environment)

    @property
    def is_prod(self):
        return self.environment == "prod"

    @property
    def shared_namespace(self):
        """The shared tier this tenant runs on."""
        return PROD_TIER if self.is_prod else NONPROD_TIER

    @property
    def default_source_namespace(self):
        """Every environment of a project restores from the project's dev snapshots."""
        return "%s-%s-dev" % (self.customer, self.project)

    @property
    def project_key(self):
        """<customer>-<project>, the part shared by all of a project's environments."""
        return "%s-%s" % (self.customer, self.project)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class SharedNamespace:
    """A shared namespace (common-nonprod or common-prod) holding VPC, cluster and ALB."""

    name: str

    @property
    def environment(self):
        return self.name.split("-", 1)[1]

    def __str__(self):
        return self.name


def parse_namespace(value, field="namespace"):
    """Parse a tenant namespace; raise NamingError naming the rule when it is not one."""
    if not isinstance(value, str) or not re.match(NAMESPACE_PATTERN, value):
        if isinstance(value, str) and value in SHARED_NAMESPACES:
            rule = "it is a shared namespace; a tenant namespace is expected (%s, e.g. xy-0146-dev)" % (
                NAMESPACE_SHAPE,
            )
        else:
            rule = "expected %s, e.g. xy-0146-dev (pattern %s)" % (NAMESPACE_SHAPE, NAMESPACE_PATTERN)
        raise NamingError(field, value, rule)
    customer, project, environment = value.split("-")
    return Namespace(customer, project, environment)


def parse_shared_namespace(value, field="namespace"):
    """Parse common-nonprod / common-prod."""
    if value not in SHARED_NAMESPACES:
        raise NamingError(field, value, "expected one of %s" % ", ".join(SHARED_NAMESPACES))
    return SharedNamespace(value)


def parse_any_namespace(value, field="namespace"):
    """A tenant or a shared namespace."""
    if value in SHARED_NAMESPACES:
        return SharedNamespace(value)
    return parse_namespace(value, field)


def parse_timestamp(value, field="db_timestamp"):
    """Validate a snapshot timestamp and return it unchanged."""
    if not isinstance(value, str) or not re.match(TIMESTAMP_PATTERN, value):
        raise NamingError(field, value, "expected %s" % TIMESTAMP_SHAPE)
    try:
        datetime.datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError:
        raise NamingError(field, value, "not a real date and time (%s)" % TIMESTAMP_SHAPE) from None
    return value


def format_timestamp(moment):
    """The timestamp for an aware datetime (converted to UTC)."""
    if moment.tzinfo is None:
        raise ValueError("format_timestamp needs a timezone-aware datetime, got %r" % (moment,))
    return moment.astimezone(datetime.timezone.utc).strftime(TIMESTAMP_FORMAT)


def timestamp_datetime(timestamp):
    """The aware UTC datetime a timestamp stands for."""
    parsed = datetime.datetime.strptime(parse_timestamp(timestamp, "timestamp"), TIMESTAMP_FORMAT)
    return parsed.replace(tzinfo=datetime.timezone.utc)


def check_rds_identifier(value, field="RDS identifier"):
    """Enforce the RDS rules for DB instance and snapshot identifiers."""
    ok = (
        isinstance(value, str)
        and 0 < len(value) <= RDS_IDENTIFIER_MAX
        and re.match(r"^[a-z][a-z0-9-]*$", value)
        and "--" not in value
        and not value.endswith("-")
    )
    if not ok:
        raise NamingError(field, value, RDS_IDENTIFIER_RULES)
    return value


def _namespace_name(namespace):
    return parse_namespace(namespace if isinstance(namespace, str) else namespace.name).name


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
    """The tenant's own snapshot its database of `timestamp` restores from: a copy of the
    source snapshot under the tier's KMS key (hooks.tier_copy), or, when the namespace is
    its own source, the source snapshot itself. Same shape as every snapshot id."""
    return snapshot_id(namespace, timestamp)


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
    """The namespace's database master secret in Secrets Manager."""
    return secret_name_prefix(namespace) + "db/master"


def log_group_name(namespace):
    return "/%s/service" % _namespace_name(namespace)


def flow_log_group_name(shared_namespace):
    """The log group a shared VPC's flow logs are delivered to."""
    return "/%s/vpc/flow-logs" % parse_shared_namespace(str(shared_namespace)).name


def s3_prefix(namespace):
    """The namespace's key prefix in its tier's application-files bucket."""
    return "%s/" % _namespace_name(namespace)


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
DB_TIMESTAMP_VARIABLE = "DB_TIMESTAMP"


# --- IAM resource patterns -------------------------------------------------------------
# The namespace-specific tail of an ARN, for policies that must reach one tenant's
# resources only. Callers put them after "arn:<partition>:<service>:<region>:<account>:".


def ssm_parameters_arn_resource(namespace):
    """Every parameter under /<namespace>/ (a parameter ARN drops the name's leading '/')."""
    return "parameter%s*" % ssm_namespace_path(namespace)


def db_secret_arn_resource(namespace):
    """The namespace's master secret: Secrets Manager appends '-' and 6 random characters."""
    return "secret:%s-??????" % db_secret_name(namespace)


def log_group_arn_resource(namespace):
    """The service's log group and every stream in it."""
    return "log-group:%s:*" % log_group_name(namespace)


def s3_prefix_pattern(namespace):
    """Every key below the namespace's S3 prefix (object ARNs and the s3:prefix condition)."""
    return s3_prefix(namespace) + "*"


# --- tags ------------------------------------------------------------------------------


# The tag on a snapshot the pipeline copied (hooks.tier_copy): the id of the snapshot it
# copies. Only snapshots carrying it are ever deleted by the pipeline.
COPIED_FROM_TAG = "CopiedFrom"


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


# --- delivery: one CodePipeline per customer project ---------------------------------------
# The pipeline of project <customer>-<project> (e.g. xy-0146) deploys that project's tenant
# namespaces dev -> qa -> prod. Its env file is environments/pipelines/<project>.env; its
# stacker config stacker/pipeline.yaml builds <project>-artifacts, <namespace>-deploy for
# each tenant (the CodeBuild project and role that deploy that tenant) and <project>-pipeline.

PROJECT_PATTERN = r"^[a-z][a-z0-9]{1,5}-[0-9]{4}$"
PROJECT_SHAPE = "<customer: a letter then 1-5 letters/digits>-<4-digit project>"
# The deploy stages of a project's pipeline, in promotion order (a manual approval before prod).
PIPELINE_ENVIRONMENTS = ("dev", "qa", "prod")
ARTIFACTS_STACK, PIPELINE_STACK, DEPLOY_STACK = "artifacts", "pipeline", "deploy"
PIPELINE_ENVIRONMENT_TAG = "delivery"
SOURCE_ARTIFACT = "Source"
PULL_REQUEST_BUILDSPEC, DEPLOY_BUILDSPEC = "buildspecs/pull-request.yml", "buildspecs/deploy.yml"
# CodePipeline stores an artifact under <bucket>/<pipeline name[:20]>/<artifact name[:10]>/.
PIPELINE_FOLDER_CHARS, ARTIFACT_FOLDER_CHARS = 20, 10


@dataclass(frozen=True)
class Project:
    """A customer project such as xy-0146: what its tenant namespaces share."""

    customer: str
    project: str

    @property
    def name(self):
        return "%s-%s" % (self.customer, self.project)

    def namespace(self, environment):
        return parse_namespace("%s-%s" % (self.name, environment))

    def __str__(self):
        return self.name


def parse_project(value, field="namespace"):
    """Parse a project key such as xy-0146; NamingError naming the rule otherwise."""
    if not isinstance(value, str) or not re.match(PROJECT_PATTERN, value):
        rule = "expected a project %s, e.g. xy-0146 (pattern %s)" % (PROJECT_SHAPE, PROJECT_PATTERN)
        raise NamingError(field, value, rule)
    customer, project = value.split("-")
    return Project(customer, project)


def is_project(value):
    return isinstance(value, str) and re.match(PROJECT_PATTERN, value) is not None


def _project_name(project):
    return parse_project(str(project)).name


ENVIRONMENTS_DIR, ENV_FILE_SUFFIX = "environments", ".env"


def env_file_name(namespace):
    """<namespace>.env: the env file of a tenant or shared namespace."""
    return parse_any_namespace(str(namespace)).name + ENV_FILE_SUFFIX


def env_file_path(namespace):
    """The env file of a tenant or shared namespace, relative to the repository root."""
    return "%s/%s" % (ENVIRONMENTS_DIR, env_file_name(namespace))


def pipeline_env_file_path(project):
    return "environments/pipelines/%s.env" % _project_name(project)


def pipeline_name(project):
    return _project_name(project)


def artifacts_stack_name(project):
    return stack_name(_project_name(project), ARTIFACTS_STACK)


def pipeline_stack_name(project):
    return stack_name(_project_name(project), PIPELINE_STACK)


def deploy_stack_config_name(environment):
    """The stack name in stacker/pipeline.yaml; stacker prefixes the project: <namespace>-deploy."""
    if environment not in ENVIRONMENTS:
        raise NamingError("environment", environment, "expected one of %s" % ", ".join(ENVIRONMENTS))
    return "%s-%s" % (environment, DEPLOY_STACK)


def deploy_stack_name(namespace):
    return stack_name(_namespace_name(namespace), DEPLOY_STACK)


def deploy_project_name(namespace):
    """The CodeBuild project (and its service role) that deploys one tenant namespace."""
    return "%s-%s" % (_namespace_name(namespace), DEPLOY_STACK)


def check_project_name(project):
    """The CodeBuild project (and its service role) of the pipeline's pull-request-style check."""
    return "%s-check" % _project_name(project)


def pipeline_role_name(project):
    return "%s-pipeline" % _project_name(project)


def source_events_role_name(project):
    """The role EventBridge uses to start the pipeline on a CodeCommit push."""
    return "%s-pipeline-source" % _project_name(project)


def codebuild_log_group_name(codebuild_project):
    """CodeBuild's default log group of a build project."""
    return "/aws/codebuild/%s" % codebuild_project


def artifact_bucket_name(project, account, region):
    """The pipeline's artifact bucket; account and region make it globally unique."""
    return "%s-pipeline-%s-%s" % (_project_name(project), account, region)


def codebuild_cache_prefix(codebuild_project):
    """Where a build project caches pip downloads in the pipeline's artifact bucket."""
    return "codebuild-cache/%s/" % codebuild_project


def artifact_key_alias(project):
    return "alias/%s/pipeline" % _project_name(project)


def notification_topic_name(project):
    return "%s-pipeline" % _project_name(project)


def failure_rule_name(project):
    return "%s-pipeline-failed" % _project_name(project)


def status_artifact_name(namespace):
    """The pipeline artifact holding a deploy stage's `tenantstack status --json`: DevStatus, QaStatus, ..."""
    return "%sStatus" % parse_namespace(_namespace_name(namespace)).environment.capitalize()


def pipeline_artifact_prefix(project, artifact):
    """The key prefix CodePipeline stores one artifact under in the artifact bucket."""
    return "%s/%s/" % (pipeline_name(project)[:PIPELINE_FOLDER_CHARS], artifact[:ARTIFACT_FOLDER_CHARS])


def stack_arn_resource(namespace):
    """Every CloudFormation stack of a namespace, after 'arn:...:cloudformation:<region>:<account>:'."""
    return "stack/%s-*/*" % parse_any_namespace(str(namespace)).name


def db_identifier_prefix(namespace):
    """What every DB instance, final snapshot and DB subnet group of a namespace starts with."""
    return "%s-db-" % _namespace_name(namespace)


def source_snapshot_pattern(source_namespace):
    """An IAM wildcard for exactly the snapshots <source>-<timestamp> (TIMESTAMP_PATTERN), not
    the source namespace's final snapshots (<source>-db-<timestamp>-final-<timestamp>)."""
    return "%s-????????t??????z" % _namespace_name(source_namespace)


def restore_snapshot_pattern(namespace):
    """An IAM wildcard for the namespace's own snapshots <namespace>-<timestamp>
    (restore_snapshot_id: its copies under the tier key), not its final snapshots."""
    return source_snapshot_pattern(namespace)


def service_role_name_prefix(namespace):
    """The roles CloudFormation names for the service stack: <namespace>-service-<LogicalId>-<suffix>."""
    return "%s-" % service_stack_name(namespace)


def permissions_boundary_name(namespace):
    """The managed policy that bounds every role of the namespace's service stack: <namespace>-boundary.

    It lives in the <namespace>-deploy stack (built by an administrator), never in a stack
    the namespace's deploy role can change."""
    return "%s-boundary" % _namespace_name(namespace)


def permissions_boundary_arn_resource(namespace):
    """The boundary policy, after 'arn:<partition>:iam::<account>:' (a policy in the default path '/')."""
    return "policy/%s" % permissions_boundary_name(namespace)


def project_tags(project):
    """The tags every resource of a project's pipeline carries."""
    parsed = parse_project(str(project))
    return {
        "Customer": parsed.customer,
        "Project": parsed.project,
        "Environment": PIPELINE_ENVIRONMENT_TAG,
        "Namespace": parsed.name,
    }
