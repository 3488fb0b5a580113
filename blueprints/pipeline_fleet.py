"""What deploys a project's fleets on CodeBuild: stack <project>-fleet (docs/delivery.md, "The fleet project").

A batch-enabled CodeBuild project `<project>-fleet` that `tenantstack deploy --fleet ENVFILE...
--on codebuild` starts one batch build of (hooks/run/codebuild_fleet.py): one build per
tenant, each running buildspecs/fleet.yml from the project's repository (its branch), its
log group, and two roles (blueprints/fleet_iam.py): the builds' role `<project>-fleet`,
which reaches the project's pipeline namespaces (naming.PIPELINE_ENVIRONMENTS) and no
other tenant, and the batch service role `<project>-fleet-batch`, which may only start, stop
and retry this project's builds.

BuildBatchConfig bounds every batch: MaximumBuilds builds at most (CodeBuild's quota: 100),
the one small compute type, BatchTimeoutMinutes for the whole batch, artifacts not combined
(a build's result is its status and exported variables). Unlike the pipeline's builds the
project sets no concurrent build limit: with one, CodeBuild refuses builds beyond it instead
of queueing them, and a batch's builds would fail; the account's concurrent-build quota
queues them instead. The deploy stacks (<namespace>-deploy, which hold each namespace's
permissions boundary) must exist first: stacker/pipeline.yaml builds them before this one.
"""
from troposphere import GetAtt, Ref, Sub, codebuild, iam

from blueprints import codebuild as builds
from blueprints import fleet_iam
from blueprints.iam import CODEBUILD_PRINCIPAL, trust_policy
from blueprints.project_base import ProjectBlueprint
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNString

PROJECT, BUILDS_ROLE, BATCH_ROLE, LOG_GROUP = "FleetProject", "FleetBuildsRole", "FleetBatchRole", "FleetLogGroup"
BUCKET_PARAMETER, KEY_PARAMETER = builds.BUCKET_PARAMETER, builds.KEY_PARAMETER
NONPROD_KEY_PARAMETER, PROD_KEY_PARAMETER = "NonprodDatabaseKeyArn", "ProdDatabaseKeyArn"
NONPROD_FILES_PARAMETER, PROD_FILES_PARAMETER = "NonprodFilesBucketName", "ProdFilesBucketName"
BATCH_TIMEOUT_MINUTES = 480
MAX_BUILDS_PER_BATCH = 100  # CodeBuild's quota of builds in a batch
GITHUB_URL = "https://github.com/%s.git"
CODECOMMIT_URL = "https://git-codecommit.${AWS::Region}.${AWS::URLSuffix}/v1/repos/%s"


class ConnectionAuth(codebuild.SourceAuth):
    """Source auth through a CodeConnections connection (Type CODECONNECTIONS, which CloudFormation
    accepts; troposphere's validator predates it and allows OAUTH only)."""

    def validate(self):
        if self.properties.get("Type") != "CODECONNECTIONS":
            raise ValueError("ConnectionAuth: Type must be CODECONNECTIONS")


class ProjectFleet(ProjectBlueprint):
    DESCRIPTION = "tenantstack: the CodeBuild batch project that deploys a project's fleets"
    VARIABLES = {
        "Source": {"type": str, "description": "codestar-connection (GitHub) or codecommit"},
        "Repository": {"type": str, "description": "owner/name (GitHub) or the CodeCommit repository name"},
        "Branch": {"type": str, "default": "main", "description": "The branch whose env files the builds deploy"},
        "ConnectionArn": {"type": str, "default": "", "description": "The CodeStar connection (GitHub only)"},
        "BuildImage": {"type": str, "description": "CodeBuild curated image of the builds"},
        "TimeoutMinutes": {"type": int, "default": 120, "description": "Minutes one tenant's build may run"},
        "BatchTimeoutMinutes": {"type": int, "default": BATCH_TIMEOUT_MINUTES,
                                "description": "Minutes a whole batch may run"},
        "MaximumBuilds": {"type": int, "default": MAX_BUILDS_PER_BATCH,
                          "description": "Builds a batch may have (tenants per fleet), 1 to 100"},
        "LogRetentionDays": {"type": int, "default": 90, "description": "Days the build logs are kept"},
        **builds.ARTIFACT_VARIABLES,
        NONPROD_KEY_PARAMETER: {"type": CFNString, "description": "ARN of common-nonprod's database key"},
        PROD_KEY_PARAMETER: {"type": CFNString, "description": "ARN of common-prod's database key"},
        NONPROD_FILES_PARAMETER: {"type": CFNString, "description": "Name of common-nonprod's files bucket"},
        PROD_FILES_PARAMETER: {"type": CFNString, "description": "Name of common-prod's files bucket"},
    }

    def validate(self, variables):
        if variables["Source"] not in ("codestar-connection", "codecommit"):
            self.fail("Source", variables["Source"], "expected codestar-connection or codecommit")
        if variables["Source"] != "codecommit" and not variables["ConnectionArn"]:
            self.fail("ConnectionArn", variables["ConnectionArn"], "a codestar-connection source needs its ARN")
        if not 1 <= variables["MaximumBuilds"] <= MAX_BUILDS_PER_BATCH:
            self.fail("MaximumBuilds", variables["MaximumBuilds"], "expected 1 to %d" % MAX_BUILDS_PER_BATCH)
        if variables["LogRetentionDays"] not in settings.LOG_RETENTION_DAYS:
            self.fail("LogRetentionDays", variables["LogRetentionDays"], "expected a CloudWatch Logs retention")

    def build(self, variables):
        name = naming.fleet_project_name(self.namespace)
        self.namespaces = [self.namespace.namespace(environment) for environment in naming.PIPELINE_ENVIRONMENTS]
        self.add_resource(builds.log_group(LOG_GROUP, name, variables["LogRetentionDays"], KEY_PARAMETER))
        self.builds_role(name, variables)
        self.batch_role()
        self.project(name, variables)
        self.output(PROJECT, "Name", Ref(PROJECT), "The batch project of `tenantstack deploy --fleet --on codebuild`")
        self.output(BUILDS_ROLE, "Arn", GetAtt(BUILDS_ROLE, "Arn"))
        self.output(BATCH_ROLE, "Arn", GetAtt(BATCH_ROLE, "Arn"))

    def builds_role(self, name, variables):
        self.add_resource(iam.Role(
            BUILDS_ROLE, RoleName=name, AssumeRolePolicyDocument=trust_policy(CODEBUILD_PRINCIPAL),
            Description="Deploys the fleets of %s: namespaces %s only" % (
                self.namespace, ", ".join(ns.name for ns in self.namespaces)),
        ))
        source = variables["Source"]
        documents = fleet_iam.fleet_policies(
            self.namespace, self.namespaces, self.key_parameters, source,
            variables["Repository"] if source == "codecommit" else variables["ConnectionArn"],
            BUCKET_PARAMETER, KEY_PARAMETER,
        )
        for index, document in enumerate(documents, start=1):
            self.add_resource(iam.ManagedPolicy(
                "FleetDeployPolicy%d" % index, PolicyDocument=document, Roles=[Ref(BUILDS_ROLE)],
                Description="%s: what deploying %s needs (%d of %d)" % (
                    name, ", ".join(ns.name for ns in self.namespaces), index, len(documents)),
            ))

    @staticmethod
    def key_parameters(ns):
        """deploy_iam's parameters for `ns`: its tier's database key and files bucket; its source's (dev,
        nonprod) snapshots' key and files bucket."""
        prod = ns.shared_namespace == naming.PROD_TIER
        return {"bucket": BUCKET_PARAMETER, "artifact_key": KEY_PARAMETER,
                "database_key": PROD_KEY_PARAMETER if prod else NONPROD_KEY_PARAMETER,
                "source_database_key": NONPROD_KEY_PARAMETER,
                "files_bucket": PROD_FILES_PARAMETER if prod else NONPROD_FILES_PARAMETER,
                "source_files_bucket": NONPROD_FILES_PARAMETER}

    def batch_role(self):
        self.add_resource(iam.Role(
            BATCH_ROLE, RoleName=naming.fleet_batch_role_name(self.namespace),
            AssumeRolePolicyDocument=trust_policy(CODEBUILD_PRINCIPAL),
            Description="Starts and stops the builds of %s's batches" % naming.fleet_project_name(self.namespace),
            Policies=[iam.Policy(PolicyName="batch", PolicyDocument=fleet_iam.batch_policy(self.namespace))],
        ))

    def source(self, variables):
        if variables["Source"] == "codecommit":
            return codebuild.Source(Type="CODECOMMIT", Location=Sub(CODECOMMIT_URL % variables["Repository"]),
                                    BuildSpec=naming.FLEET_BUILDSPEC)
        return codebuild.Source(Type="GITHUB", Location=GITHUB_URL % variables["Repository"],
                                BuildSpec=naming.FLEET_BUILDSPEC,
                                Auth=ConnectionAuth(Type="CODECONNECTIONS", Resource=variables["ConnectionArn"]))

    def project(self, name, variables):
        self.add_resource(codebuild.Project(
            PROJECT,
            Name=name,
            Description="Deploys fleets of %s's tenants, one build each: %s" % (self.namespace, naming.FLEET_BUILDSPEC),
            ServiceRole=GetAtt(BUILDS_ROLE, "Arn"),
            Source=self.source(variables),
            SourceVersion=variables["Branch"],
            Artifacts=codebuild.Artifacts(Type="NO_ARTIFACTS"),
            Environment=codebuild.Environment(
                Type="LINUX_CONTAINER", ComputeType=builds.COMPUTE_TYPE, Image=variables["BuildImage"],
                ImagePullCredentialsType="CODEBUILD", PrivilegedMode=False,
            ),
            EncryptionKey=Ref(KEY_PARAMETER),
            TimeoutInMinutes=variables["TimeoutMinutes"],
            QueuedTimeoutInMinutes=builds.QUEUED_TIMEOUT_MINUTES,
            BuildBatchConfig=codebuild.ProjectBuildBatchConfig(
                ServiceRole=GetAtt(BATCH_ROLE, "Arn"),
                CombineArtifacts=False,
                TimeoutInMins=variables["BatchTimeoutMinutes"],
                Restrictions=codebuild.BatchRestrictions(
                    MaximumBuildsAllowed=variables["MaximumBuilds"], ComputeTypesAllowed=[builds.COMPUTE_TYPE],
                ),
            ),
            Cache=codebuild.ProjectCache(
                Type="S3", Location=Sub("${%s}/%s" % (BUCKET_PARAMETER, naming.codebuild_cache_prefix(name)))),
            LogsConfig=codebuild.LogsConfig(
                CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED", GroupName=Ref(LOG_GROUP)),
                S3Logs=codebuild.S3Logs(Status="DISABLED"),
            ),
        ))
