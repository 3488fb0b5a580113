"""What deploys one tenant namespace from its project's pipeline: stack <namespace>-deploy.

A CodeBuild project `<namespace>-deploy` that runs buildspecs/deploy.yml with
ENV_FILE=environments/<namespace>.env (`tenantstack deploy`, then `tenantstack status
--json` as the stage's output artifact), its log group, and its service role, whose
policy (blueprints/deploy_iam.py) reaches this namespace only. Built by
stacker/pipeline.yaml, one stack per deploy stage; the resources carry the tenant's
tags, so the template is the namespace's (hooks.naming.tags), not the project's.

It also holds the namespace's permissions boundary `<namespace>-boundary`
(blueprints.service_iam.permissions_boundary), which every role of the tenant's service
stack carries and the deploy role may neither change nor do without. It lives here
because an administrator builds this stack; the deploy role builds the tenant stacks. So
this stack must exist before the namespace's first deploy (docs/delivery.md).

With the pipeline's `data_source: snapshot` (variable DataSource), the dev namespace's stack
also holds the build that snapshots dev for qa and prod (blueprints/pipeline_snapshot.py);
with `env-file` (the default) and for every other namespace, the template is unchanged.
"""
import re

from troposphere import GetAtt, Ref, iam

from blueprints import codebuild, pipeline_snapshot, service_iam
from blueprints.base import TenantstackBlueprint
from blueprints.deploy_iam import deploy_policies
from blueprints.iam import CODEBUILD_PRINCIPAL, trust_policy
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNString

LOG_GROUP = "BuildLogGroup"
ROLE = "DeployRole"
POLICIES = (("DeployStacksPolicy", "stacks"), ("DeployNetworkPolicy", "network"), ("DeployDataPolicy", "data"),
            ("DeployMonitoringPolicy", "monitoring"), ("DeployFilesPolicy", "files"))
PROJECT = "DeployProject"
BOUNDARY = "ServiceBoundary"
BUCKET_PARAMETER, KEY_PARAMETER = codebuild.BUCKET_PARAMETER, codebuild.KEY_PARAMETER
DATABASE_KEY_PARAMETER, SOURCE_DATABASE_KEY_PARAMETER = "DatabaseKeyArn", "SourceDatabaseKeyArn"
FILES_BUCKET_PARAMETER, SOURCE_FILES_BUCKET_PARAMETER = "FilesBucketName", "SourceFilesBucketName"


class TenantDeployProject(TenantstackBlueprint):
    DESCRIPTION = "tenantstack: the CodeBuild project and role that deploy one tenant namespace"
    VARIABLES = {
        "SourceNamespace": {
            "type": str,
            "default": "",
            "description": "Whose snapshots the tenant restores (empty: the project's dev namespace)",
        },
        "BuildImage": {"type": str, "description": "CodeBuild image (curated, with Python 3.9)"},
        "TimeoutMinutes": {"type": int, "default": 120, "description": "Minutes a deploy build may run"},
        "LogRetentionDays": {"type": int, "default": 90, "description": "Days the build logs are kept"},
        "DataSource": {
            "type": str,
            "default": "env-file",
            "description": "The pipeline's data_source: snapshot adds the dev namespace's snapshot build",
        },
        **codebuild.ARTIFACT_VARIABLES,
        DATABASE_KEY_PARAMETER: {"type": CFNString, "description": "ARN of the tenant's tier database key"},
        SOURCE_DATABASE_KEY_PARAMETER: {
            "type": CFNString,
            "description": "ARN of the database key of the source namespace's tier (its snapshots' key)",
        },
        FILES_BUCKET_PARAMETER: {"type": CFNString, "description": "Name of the tenant's tier files bucket"},
        SOURCE_FILES_BUCKET_PARAMETER: {
            "type": CFNString,
            "description": "Name of the files bucket of the source namespace's tier (its data sets' files)",
        },
    }

    def validate(self, variables):
        source = variables["SourceNamespace"] or self.namespace.default_source_namespace
        parsed = self.parse("SourceNamespace", source, naming.parse_namespace)
        if parsed.project_key != self.namespace.project_key:
            self.fail("SourceNamespace", source, "a tenant restores only from its own project's snapshots (%s-*)"
                      % self.namespace.project_key)
        self.source_namespace = parsed
        if not re.match(settings.CODEBUILD_IMAGE_PATTERN, variables["BuildImage"]):
            self.fail("BuildImage", variables["BuildImage"], "expected a CodeBuild curated image such as "
                      "aws/codebuild/amazonlinux-x86_64-standard:5.0")
        if variables["LogRetentionDays"] not in settings.LOG_RETENTION_DAYS:
            self.fail("LogRetentionDays", variables["LogRetentionDays"], "expected a CloudWatch Logs retention")
        if variables["DataSource"] not in naming.DATA_SOURCES:
            self.fail("DataSource", variables["DataSource"], "expected one of %s" % ", ".join(naming.DATA_SOURCES))

    def build(self, variables):
        name = naming.deploy_project_name(self.namespace)
        self.add_resource(codebuild.log_group(LOG_GROUP, name, variables["LogRetentionDays"], KEY_PARAMETER))
        self.service_boundary()
        self.role(name)
        self.add_resource(
            codebuild.project(
                PROJECT,
                name,
                "Deploys %s: tenantstack deploy %s" % (self.namespace, naming.env_file_path(self.namespace)),
                naming.DEPLOY_BUILDSPEC,
                ROLE,
                LOG_GROUP,
                {
                    "image": variables["BuildImage"],
                    "timeout": variables["TimeoutMinutes"],
                    "bucket_parameter": BUCKET_PARAMETER,
                    "key_parameter": KEY_PARAMETER,
                },
                environment=[("ENV_FILE", naming.env_file_path(self.namespace))],
            )
        )
        self.output(PROJECT, "Name", Ref(PROJECT), "The CodeBuild project the pipeline runs for this stage")
        self.output(ROLE, "Arn", GetAtt(ROLE, "Arn"))
        if pipeline_snapshot.takes_snapshots(self.namespace, variables["DataSource"]):
            pipeline_snapshot.add_snapshot_build(self, self.namespace, variables, BUCKET_PARAMETER, KEY_PARAMETER,
                                                 FILES_BUCKET_PARAMETER)

    def service_boundary(self):
        self.add_resource(
            iam.ManagedPolicy(
                BOUNDARY,
                ManagedPolicyName=naming.permissions_boundary_name(self.namespace),
                Description="Permissions boundary of every role of %s: at most what its service needs" % (
                    naming.service_stack_name(self.namespace)),
                PolicyDocument=service_iam.permissions_boundary(self.namespace),
            )
        )
        self.output(BOUNDARY, "Arn", Ref(BOUNDARY), "The boundary the service roles of %s carry" % self.namespace)

    def role(self, name):
        self.add_resource(
            iam.Role(
                ROLE,
                RoleName=name,
                Description="Deploys tenant namespace %s from the %s pipeline" % (
                    self.namespace, naming.pipeline_name(self.namespace.project_key)),
                AssumeRolePolicyDocument=trust_policy(CODEBUILD_PRINCIPAL),
            )
        )
        policies = deploy_policies(self.namespace, self.source_namespace, {
            "bucket": BUCKET_PARAMETER,
            "artifact_key": KEY_PARAMETER,
            "database_key": DATABASE_KEY_PARAMETER,
            "source_database_key": SOURCE_DATABASE_KEY_PARAMETER,
            "files_bucket": FILES_BUCKET_PARAMETER,
            "source_files_bucket": SOURCE_FILES_BUCKET_PARAMETER,
        })
        for logical_id, part in POLICIES:
            self.add_resource(
                iam.ManagedPolicy(
                    logical_id,
                    Description="%s: what deploying %s needs (%s)" % (name, self.namespace, part),
                    PolicyDocument=policies[part],
                    Roles=[Ref(ROLE)],
                )
            )
