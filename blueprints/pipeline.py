"""A customer project's delivery pipeline: stack <project>-pipeline.

    Source  the repository's branch (a CodeStar connection to GitHub, or CodeCommit)
    Check   buildspecs/pull-request.yml: set-up, rendered templates fresh, gates, tests
    Images  buildspecs/images.yml: both images built from the commit, pushed to the project's
            repositories tagged by it; their digests become the action's variables
            #{Images.NGINX_IMAGE} and #{Images.PHP_IMAGE}
    Dev     <project>-dev-deploy: buildspecs/deploy.yml for environments/<project>-dev.env,
            with NGINX_IMAGE and PHP_IMAGE set from those variables; with `DataSource:
            snapshot`, then the Snapshot action (<project>-dev-snapshot, buildspecs/snapshot.yml):
            a snapshot of dev's active database, its timestamp exported as #{Snapshot.DB_TIMESTAMP}
    Qa      <project>-qa-deploy (the same images; with DataSource snapshot, DB_TIMESTAMP set
            from that variable: qa and prod deploy exactly what was captured)
    Prod    a manual approval (notified through the project's topic), then <project>-prod-deploy

Each deploy stage runs its tenant's own CodeBuild project (stack <namespace>-deploy,
blueprints/pipeline_deploy.py), whose role reaches that namespace only, and publishes
`tenantstack status --json` as the stage's artifact (DevStatus, QaStatus, ProdStatus).
With `Images: env-files` there is no Images stage and the deploys run what the tenant env
files pin. Executions queue (pipeline type V2, QUEUED): promotions reach an environment in
the order they were made. A failed execution is published to the project's topic by an
EventBridge rule. This stack also holds the check and images builds (project, role, log
group each); the images' repositories are the `<project>-images` stack's.
"""
import json

from troposphere import GetAtt, Ref, Sub, codepipeline as cp, events, iam

from blueprints import codebuild
from blueprints.iam import CODEBUILD_PRINCIPAL, CODEPIPELINE_PRINCIPAL, EVENTS_PRINCIPAL, arn, trust_policy
from blueprints.pipeline_iam import check_policy, images_policy, pipeline_policy, source_events_policy
from blueprints.project_base import ProjectBlueprint
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNString

PIPELINE, PIPELINE_ROLE = "Pipeline", "PipelineRole"
CHECK_PROJECT, CHECK_ROLE, CHECK_LOG_GROUP = "CheckProject", "CheckRole", "CheckLogGroup"
IMAGES_PROJECT, IMAGES_ROLE, IMAGES_LOG_GROUP = "ImagesProject", "ImagesRole", "ImagesLogGroup"
FAILURE_RULE = "FailureRule"
SOURCE_RULE, SOURCE_ROLE = "SourceRule", "SourceRole"
BUCKET_PARAMETER, KEY_PARAMETER = codebuild.BUCKET_PARAMETER, codebuild.KEY_PARAMETER
TOPIC_PARAMETER = "NotificationTopicArn"
# The registry of this account and region, as the images build pushes to it and tasks pull from it.
REGISTRY = naming.ecr_registry("${AWS::AccountId}", "${AWS::Region}", "${AWS::URLSuffix}")
SETTING_VARIABLES = (  # env-file key: blueprint variable (the pipeline env file's rules apply)
    ("source", "Source"), ("repository", "Repository"), ("branch", "Branch"), ("connection_arn", "ConnectionArn"),
    ("build_image", "BuildImage"), ("images", "Images"), ("image_context", "ImageContext"),
    ("rds_ca_bundle_sha256", "RdsCaBundleSha256"), ("data_source", "DataSource"),
)


def action(name, category, provider, configuration, inputs=(), outputs=(), run_order=1, namespace=None):
    optional = {"Namespace": namespace} if namespace else {}
    return cp.Actions(
        Name=name,
        ActionTypeId=cp.ActionTypeId(Category=category, Owner="AWS", Provider=provider, Version="1"),
        Configuration=configuration,
        InputArtifacts=[cp.InputArtifacts(Name=artifact) for artifact in inputs],
        OutputArtifacts=[cp.OutputArtifacts(Name=artifact) for artifact in outputs],
        RunOrder=run_order,
        **optional,
    )


def deploy_variables(images, timestamp):
    """A deploy action's EnvironmentVariables: each container's image from the Images action's variables
    (`images`), the snapshot's timestamp from the Snapshot action's (`timestamp`); None when neither."""
    pairs = [(naming.IMAGES_VARIABLE_NAMESPACE, naming.image_variable(c)) for c in naming.IMAGE_CONTAINERS if images]
    if timestamp:
        pairs.append((naming.SNAPSHOT_VARIABLE_NAMESPACE, naming.DB_TIMESTAMP_VARIABLE))
    return json.dumps([{"name": name, "type": "PLAINTEXT", "value": "#{%s.%s}" % (namespace, name)}
                       for namespace, name in pairs], separators=(",", ":")) if pairs else None


class DeliveryPipeline(ProjectBlueprint):
    DESCRIPTION = "tenantstack: the delivery pipeline of a customer project"
    VARIABLES = {
        "Source": {"type": str, "description": "codestar-connection (GitHub) or codecommit"},
        "Repository": {"type": str, "description": "owner/name (GitHub) or the CodeCommit repository name"},
        "Branch": {"type": str, "default": "main", "description": "The branch the pipeline delivers"},
        "ConnectionArn": {"type": str, "default": "", "description": "The CodeStar connection (GitHub only)"},
        "BuildImage": {"type": str, "description": "CodeBuild image of the check and images builds"},
        "TimeoutMinutes": {"type": int, "default": 120, "description": "Minutes a check or images build may run"},
        "LogRetentionDays": {"type": int, "default": 90, "description": "Days the builds' logs are kept"},
        "Images": {"type": str, "default": "build",
                   "description": "build: an Images stage builds what deploys run; env-files: the env files pin it"},
        "ImageContext": {"type": str, "default": "app",
                         "description": "The images' build context (holds nginx/Dockerfile and php/Dockerfile)"},
        "RdsCaBundleSha256": {"type": str, "default": "",
                              "description": "SHA-256 of the RDS CA bundle the php image trusts (build arg)"},
        "DataSource": {"type": str, "default": "env-file",
                       "description": "env-file: qa and prod deploy their env files' db_timestamp; snapshot: the "
                                      "snapshot of dev the Dev stage takes after its deploy"},
        **codebuild.ARTIFACT_VARIABLES,
        TOPIC_PARAMETER: {"type": CFNString, "description": "ARN of the project's notification topic"},
    }

    def validate(self, variables):
        values = {"namespace": self.namespace.name}
        values.update({key: variables[variable] for key, variable in SETTING_VARIABLES if variables[variable]})
        try:
            settings.load_settings(values, "blueprint %s" % type(self).__name__)
        except settings.SettingsError as error:
            self.fail("/".join(variable for _, variable in SETTING_VARIABLES), values, "; ".join(error.problems))

    def build(self, variables):
        self.source = variables["Source"]
        self.builds_images = variables["Images"] == "build"
        self.snapshots_dev = variables["DataSource"] == "snapshot"
        self.check_build(variables)
        if self.builds_images:
            self.images_build(variables)
        self.pipeline_role(variables)
        self.pipeline(variables)
        self.failure_rule()
        if self.source == "codecommit":
            self.source_rule(variables["Repository"], variables["Branch"])
        self.output(PIPELINE, "Name", Ref(PIPELINE), "The project's delivery pipeline")
        self.output(CHECK_PROJECT, "Name", Ref(CHECK_PROJECT))
        if self.builds_images:
            self.output(IMAGES_PROJECT, "Name", Ref(IMAGES_PROJECT), "Builds and pushes the project's images")

    def check_build(self, variables):
        name = naming.check_project_name(self.namespace)
        self.build_project(
            (CHECK_PROJECT, CHECK_ROLE, CHECK_LOG_GROUP), name, variables,
            "Checks %s before any deploy: %s" % (self.namespace, naming.PULL_REQUEST_BUILDSPEC),
            naming.PULL_REQUEST_BUILDSPEC, check_policy(self.namespace, BUCKET_PARAMETER, KEY_PARAMETER),
        )

    def images_build(self, variables):
        """Privileged (docker build needs the daemon); it may push to the project's repositories only."""
        name = naming.images_project_name(self.namespace)
        environment = [
            ("IMAGE_REGISTRY", Sub(REGISTRY)),
            ("IMAGE_CONTEXT", variables["ImageContext"]),
            ("RDS_CA_BUNDLE_SHA256", variables["RdsCaBundleSha256"]),
        ] + [("%s_REPOSITORY" % container.upper(), naming.image_repository_name(self.namespace, container))
             for container in naming.IMAGE_CONTAINERS]
        self.build_project(
            (IMAGES_PROJECT, IMAGES_ROLE, IMAGES_LOG_GROUP), name, variables,
            "Builds the images of %s from %s/ and pushes them: %s" % (
                self.namespace, variables["ImageContext"], naming.IMAGES_BUILDSPEC),
            naming.IMAGES_BUILDSPEC, images_policy(self.namespace, BUCKET_PARAMETER, KEY_PARAMETER),
            environment=environment, privileged=True,
        )

    def build_project(self, logical_ids, name, variables, description, buildspec, policy, environment=(),
                      privileged=False):
        """A build of this stack: its log group, its role (named like the project) and the project."""
        project_id, role_id, log_group_id = logical_ids
        self.add_resource(codebuild.log_group(log_group_id, name, variables["LogRetentionDays"], KEY_PARAMETER))
        self.add_resource(
            iam.Role(
                role_id,
                RoleName=name,
                AssumeRolePolicyDocument=trust_policy(CODEBUILD_PRINCIPAL),
                Policies=[iam.Policy(PolicyName=name.rsplit("-", 1)[1], PolicyDocument=policy)],
            )
        )
        self.add_resource(
            codebuild.project(
                project_id, name, description, buildspec, role_id, log_group_id,
                {"image": variables["BuildImage"], "timeout": variables["TimeoutMinutes"],
                 "bucket_parameter": BUCKET_PARAMETER, "key_parameter": KEY_PARAMETER, "privileged": privileged},
                environment=environment,
            )
        )

    def pipeline_role(self, variables):
        self.add_resource(
            iam.Role(
                PIPELINE_ROLE,
                RoleName=naming.pipeline_role_name(self.namespace),
                AssumeRolePolicyDocument=trust_policy(CODEPIPELINE_PRINCIPAL),
                Policies=[iam.Policy(PolicyName="pipeline", PolicyDocument=pipeline_policy(
                    self.namespace, self.source, BUCKET_PARAMETER, KEY_PARAMETER,
                    variables["ConnectionArn"] or variables["Repository"], self.builds_images, self.snapshots_dev,
                ))],
            )
        )

    def pipeline(self, variables):
        stages = [
            cp.Stages(Name="Source", Actions=[self.source_action(variables)]),
            cp.Stages(Name="Check", Actions=[action("Check", "Build", "CodeBuild", {"ProjectName": Ref(CHECK_PROJECT)},
                                                    inputs=[naming.SOURCE_ARTIFACT])]),
        ]
        if self.builds_images:
            stages.append(cp.Stages(Name="Images", Actions=[action(
                "Build", "Build", "CodeBuild", {"ProjectName": Ref(IMAGES_PROJECT)}, inputs=[naming.SOURCE_ARTIFACT],
                namespace=naming.IMAGES_VARIABLE_NAMESPACE,
            )]))
        for environment in naming.PIPELINE_ENVIRONMENTS:
            stages.append(cp.Stages(Name=environment.capitalize(), Actions=self.deploy_actions(environment)))
        self.add_resource(
            cp.Pipeline(
                PIPELINE,
                Name=naming.pipeline_name(self.namespace),
                PipelineType="V2",
                ExecutionMode="QUEUED",
                RoleArn=GetAtt(PIPELINE_ROLE, "Arn"),
                RestartExecutionOnUpdate=False,
                ArtifactStore=cp.ArtifactStore(
                    Type="S3",
                    Location=Ref(BUCKET_PARAMETER),
                    EncryptionKey=cp.EncryptionKey(Type="KMS", Id=Ref(KEY_PARAMETER)),
                ),
                Stages=stages,
            )
        )

    def deploy_actions(self, environment):
        """A deploy stage: (prod: an approval, then) the namespace's deploy build, given the images built."""
        namespace = self.namespace.namespace(environment)
        actions = []
        if namespace.is_prod:
            actions.append(action("Approve", "Approval", "Manual", {
                "NotificationArn": Ref(TOPIC_PARAMETER),
                "CustomData": "Promote to %s what %s runs now (see its status artifact)"
                              % (namespace, self.namespace.namespace(naming.PIPELINE_ENVIRONMENTS[-2])),
            }))
        configuration = {"ProjectName": naming.deploy_project_name(namespace)}
        captured = self.snapshots_dev and environment != naming.PIPELINE_ENVIRONMENTS[0]
        variables = deploy_variables(self.builds_images, captured)
        if variables:
            configuration["EnvironmentVariables"] = variables
        actions.append(action(
            "Deploy", "Build", "CodeBuild", configuration,
            inputs=[naming.SOURCE_ARTIFACT], outputs=[naming.status_artifact_name(namespace)],
            run_order=len(actions) + 1,
        ))
        if self.snapshots_dev and environment == naming.PIPELINE_ENVIRONMENTS[0]:
            actions.append(action(  # after dev's deploy: what dev serves now is what qa and prod get
                "Snapshot", "Build", "CodeBuild", {"ProjectName": naming.snapshot_project_name(namespace)},
                inputs=[naming.SOURCE_ARTIFACT], run_order=len(actions) + 1,
                namespace=naming.SNAPSHOT_VARIABLE_NAMESPACE,
            ))
        return actions

    def source_action(self, variables):
        if self.source == "codecommit":
            configuration = {"RepositoryName": variables["Repository"], "BranchName": variables["Branch"],
                             "PollForSourceChanges": "false", "OutputArtifactFormat": "CODE_ZIP"}
            return action("Source", "Source", "CodeCommit", configuration, outputs=[naming.SOURCE_ARTIFACT])
        configuration = {"ConnectionArn": variables["ConnectionArn"], "FullRepositoryId": variables["Repository"],
                         "BranchName": variables["Branch"], "OutputArtifactFormat": "CODE_ZIP", "DetectChanges": "true"}
        return action("Source", "Source", "CodeStarSourceConnection", configuration, outputs=[naming.SOURCE_ARTIFACT])

    def failure_rule(self):
        self.add_resource(
            events.Rule(
                FAILURE_RULE,
                Name=naming.failure_rule_name(self.namespace),
                Description="A failed execution of pipeline %s" % naming.pipeline_name(self.namespace),
                State="ENABLED",
                EventPattern={
                    "source": ["aws.codepipeline"],
                    "detail-type": ["CodePipeline Pipeline Execution State Change"],
                    "detail": {"pipeline": [naming.pipeline_name(self.namespace)], "state": ["FAILED"]},
                },
                Targets=[events.Target(Id="NotificationTopic", Arn=Ref(TOPIC_PARAMETER))],
            )
        )

    def source_rule(self, repository, branch):
        """CodeCommit: a push to the branch starts the pipeline (no polling)."""
        self.add_resource(
            iam.Role(
                SOURCE_ROLE,
                RoleName=naming.source_events_role_name(self.namespace),
                AssumeRolePolicyDocument=trust_policy(EVENTS_PRINCIPAL),
                Policies=[iam.Policy(PolicyName="start-pipeline", PolicyDocument=source_events_policy(self.namespace))],
            )
        )
        self.add_resource(
            events.Rule(
                SOURCE_RULE,
                Description="A push to %s:%s starts pipeline %s"
                % (repository, branch, naming.pipeline_name(self.namespace)),
                State="ENABLED",
                EventPattern={
                    "source": ["aws.codecommit"],
                    "detail-type": ["CodeCommit Repository State Change"],
                    "resources": [arn("codecommit", repository)],
                    "detail": {"event": ["referenceCreated", "referenceUpdated"], "referenceType": ["branch"],
                               "referenceName": [branch]},
                },
                Targets=[events.Target(
                    Id="Pipeline", RoleArn=GetAtt(SOURCE_ROLE, "Arn"),
                    Arn=arn("codepipeline", naming.pipeline_name(self.namespace)),
                )],
            )
        )
