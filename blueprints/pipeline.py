"""A customer project's delivery pipeline: stack <project>-pipeline.

    Source  the repository's branch (a CodeStar connection to GitHub, or CodeCommit)
    Check   buildspecs/pull-request.yml: set-up, rendered templates fresh, gates, tests
    Dev     <project>-dev-deploy: buildspecs/deploy.yml for environments/<project>-dev.env
    Qa      <project>-qa-deploy
    Prod    a manual approval (notified through the project's topic), then <project>-prod-deploy

Each deploy stage runs its tenant's own CodeBuild project (stack <namespace>-deploy,
blueprints/pipeline_deploy.py), whose role reaches that namespace only, and publishes
`tenantstack status --json` as the stage's artifact (DevStatus, QaStatus, ProdStatus).
Executions queue (pipeline type V2, QUEUED): promotions reach an environment in the order
they were made. A failed execution is published to the project's topic by an EventBridge
rule. This stack also holds the check build (its project, role and log group).
"""
from troposphere import GetAtt, Ref, codepipeline as cp, events, iam

from blueprints import codebuild
from blueprints.iam import CODEBUILD_PRINCIPAL, CODEPIPELINE_PRINCIPAL, EVENTS_PRINCIPAL, arn, trust_policy
from blueprints.pipeline_iam import check_policy, pipeline_policy, source_events_policy
from blueprints.project_base import ProjectBlueprint
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNString

PIPELINE, PIPELINE_ROLE = "Pipeline", "PipelineRole"
CHECK_PROJECT, CHECK_ROLE, CHECK_LOG_GROUP = "CheckProject", "CheckRole", "CheckLogGroup"
FAILURE_RULE = "FailureRule"
SOURCE_RULE, SOURCE_ROLE = "SourceRule", "SourceRole"
BUCKET_PARAMETER, KEY_PARAMETER = codebuild.BUCKET_PARAMETER, codebuild.KEY_PARAMETER
TOPIC_PARAMETER = "NotificationTopicArn"


def action(name, category, provider, configuration, inputs=(), outputs=(), run_order=1, owner="AWS"):
    return cp.Actions(
        Name=name,
        ActionTypeId=cp.ActionTypeId(Category=category, Owner=owner, Provider=provider, Version="1"),
        Configuration=configuration,
        InputArtifacts=[cp.InputArtifacts(Name=artifact) for artifact in inputs],
        OutputArtifacts=[cp.OutputArtifacts(Name=artifact) for artifact in outputs],
        RunOrder=run_order,
    )


class DeliveryPipeline(ProjectBlueprint):
    DESCRIPTION = "tenantstack: the delivery pipeline of a customer project"
    VARIABLES = {
        "Source": {"type": str, "description": "codestar-connection (GitHub) or codecommit"},
        "Repository": {"type": str, "description": "owner/name (GitHub) or the CodeCommit repository name"},
        "Branch": {"type": str, "default": "main", "description": "The branch the pipeline delivers"},
        "ConnectionArn": {"type": str, "default": "", "description": "The CodeStar connection (GitHub only)"},
        "BuildImage": {"type": str, "description": "CodeBuild image of the check build"},
        "TimeoutMinutes": {"type": int, "default": 120, "description": "Minutes the check build may run"},
        "LogRetentionDays": {"type": int, "default": 90, "description": "Days the check build's logs are kept"},
        **codebuild.ARTIFACT_VARIABLES,
        TOPIC_PARAMETER: {"type": CFNString, "description": "ARN of the project's notification topic"},
    }

    def validate(self, variables):
        values = {
            "namespace": self.namespace.name,
            "source": variables["Source"],
            "repository": variables["Repository"],
            "branch": variables["Branch"],
            "build_image": variables["BuildImage"],
        }
        if variables["ConnectionArn"]:
            values["connection_arn"] = variables["ConnectionArn"]
        try:
            settings.load_settings(values, "blueprint %s" % type(self).__name__)
        except settings.SettingsError as error:
            self.fail("Source/Repository/Branch/ConnectionArn/BuildImage", values, "; ".join(error.problems))

    def build(self, variables):
        self.source = variables["Source"]
        self.check_build(variables)
        self.add_resource(
            iam.Role(
                PIPELINE_ROLE,
                RoleName=naming.pipeline_role_name(self.namespace),
                AssumeRolePolicyDocument=trust_policy(CODEPIPELINE_PRINCIPAL),
                Policies=[iam.Policy(PolicyName="pipeline", PolicyDocument=pipeline_policy(
                    self.namespace, self.source, BUCKET_PARAMETER, KEY_PARAMETER,
                    variables["ConnectionArn"] or variables["Repository"],
                ))],
            )
        )
        self.pipeline(variables)
        self.failure_rule()
        if self.source == "codecommit":
            self.source_rule(variables["Repository"], variables["Branch"])
        self.output(PIPELINE, "Name", Ref(PIPELINE), "The project's delivery pipeline")
        self.output(CHECK_PROJECT, "Name", Ref(CHECK_PROJECT))

    def check_build(self, variables):
        name = naming.check_project_name(self.namespace)
        self.add_resource(codebuild.log_group(CHECK_LOG_GROUP, name, variables["LogRetentionDays"], KEY_PARAMETER))
        self.add_resource(
            iam.Role(
                CHECK_ROLE,
                RoleName=name,
                AssumeRolePolicyDocument=trust_policy(CODEBUILD_PRINCIPAL),
                Policies=[iam.Policy(PolicyName="check", PolicyDocument=check_policy(
                    self.namespace, BUCKET_PARAMETER, KEY_PARAMETER))],
            )
        )
        self.add_resource(
            codebuild.project(
                CHECK_PROJECT, name, "Checks %s before any deploy: %s" % (self.namespace, naming.PULL_REQUEST_BUILDSPEC),
                naming.PULL_REQUEST_BUILDSPEC, CHECK_ROLE, CHECK_LOG_GROUP,
                {"image": variables["BuildImage"], "timeout": variables["TimeoutMinutes"],
                 "bucket_parameter": BUCKET_PARAMETER, "key_parameter": KEY_PARAMETER},
            )
        )

    def pipeline(self, variables):
        stages = [
            cp.Stages(Name="Source", Actions=[self.source_action(variables)]),
            cp.Stages(Name="Check", Actions=[action("Check", "Build", "CodeBuild", {"ProjectName": Ref(CHECK_PROJECT)},
                                                    inputs=[naming.SOURCE_ARTIFACT])]),
        ]
        for environment in naming.PIPELINE_ENVIRONMENTS:
            namespace = self.namespace.namespace(environment)
            actions = []
            if namespace.is_prod:
                actions.append(action("Approve", "Approval", "Manual", {
                    "NotificationArn": Ref(TOPIC_PARAMETER),
                    "CustomData": "Promote to %s what %s runs now (see its status artifact)"
                                  % (namespace, self.namespace.namespace(naming.PIPELINE_ENVIRONMENTS[-2])),
                }))
            actions.append(action(
                "Deploy", "Build", "CodeBuild", {"ProjectName": naming.deploy_project_name(namespace)},
                inputs=[naming.SOURCE_ARTIFACT], outputs=[naming.status_artifact_name(namespace)],
                run_order=len(actions) + 1,
            ))
            stages.append(cp.Stages(Name=environment.capitalize(), Actions=actions))
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
