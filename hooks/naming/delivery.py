"""Names of a customer project's delivery pipeline (stacker/pipeline.yaml, docs/delivery.md)."""
import re
from dataclasses import dataclass

from hooks.naming.namespaces import *  # noqa: F401,F403
from hooks.naming.namespaces import _namespace_name
from hooks.naming.resources import *  # noqa: F401,F403


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
# Where qa's and prod's data comes from (pipeline env key data_source): the tenant env files'
# db_timestamp (env-file), or a snapshot of dev the pipeline takes after the dev deploy (snapshot),
# whose timestamp its Snapshot action exports as #{Snapshot.DB_TIMESTAMP} to the later deploys.
DATA_SOURCES = ("env-file", "snapshot")
SNAPSHOT_BUILDSPEC = "buildspecs/snapshot.yml"
SNAPSHOT_VARIABLE_NAMESPACE, DB_TIMESTAMP_VARIABLE = "Snapshot", "DB_TIMESTAMP"
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


def snapshot_project_name(namespace):
    """The CodeBuild project (and its service role) that snapshots the pipeline's dev namespace."""
    return "%s-snapshot" % _namespace_name(namespace)


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


def pipeline_folder(project):
    """The folder of the artifact bucket CodePipeline keeps every artifact of the pipeline in."""
    return "%s/" % pipeline_name(project)[:PIPELINE_FOLDER_CHARS]


def pipeline_artifact_prefix(project, artifact):
    """The key prefix CodePipeline stores one artifact under in the artifact bucket."""
    return "%s%s/" % (pipeline_folder(project), artifact[:ARTIFACT_FOLDER_CHARS])


def project_tags(project):
    """The tags every resource of a project's pipeline carries."""
    parsed = parse_project(str(project))
    return {
        "Customer": parsed.customer,
        "Project": parsed.project,
        "Environment": PIPELINE_ENVIRONMENT_TAG,
        "Namespace": parsed.name,
    }
