"""IAM policies of a project's pipeline: the pipeline's role, the check build's role, and the
role EventBridge uses to start the pipeline on a CodeCommit push.

None of them reaches a tenant namespace. The pipeline stores and reads its artifacts
under its own folder of the artifact bucket (hooks.naming.pipeline_artifact_prefix),
starts only the project's own builds, reads only its source and notifies only its topic;
the check build reads the source artifact and writes only its logs and its cache. Every
Resource names the project (a bucket folder, a build project, the pipeline) or is a
template parameter holding a resource the project owns (its key, topic, connection).
"""
from troposphere import Ref, Sub

from blueprints.deploy_iam import ARTIFACT_KEY_ACTIONS
from blueprints.service_iam import arn, document, statement
from hooks import naming

CODEPIPELINE_PRINCIPAL = "codepipeline.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
CODECOMMIT_SOURCE_ACTIONS = (
    "codecommit:CancelUploadArchive", "codecommit:GetBranch", "codecommit:GetCommit",
    "codecommit:GetUploadArchiveStatus", "codecommit:UploadArchive",
)


def trust_policy(service):
    """Only `service` acting for this account may assume the role."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}},
        }
    )


def _objects(bucket_parameter, prefix):
    return Sub(arn("s3", "${%s}/%s*" % (bucket_parameter, prefix), region=False, account=False))


def _bucket(bucket_parameter):
    return Sub(arn("s3", "${%s}" % bucket_parameter, region=False, account=False))


def check_policy(project, bucket_parameter, key_parameter):
    """The check build: read the source artifact, write its logs and cache."""
    name = naming.check_project_name(project)
    return document(
        statement(
            "WriteBuildLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
            [Sub(arn("logs", "log-group:%s:*" % naming.codebuild_log_group_name(name)))],
        ),
        statement(
            "ReadSourceArtifact", ["s3:GetObject", "s3:GetObjectVersion"],
            [_objects(bucket_parameter, naming.pipeline_artifact_prefix(project, naming.SOURCE_ARTIFACT))],
        ),
        statement(
            "UseBuildCache", ["s3:GetObject", "s3:PutObject"],
            [_objects(bucket_parameter, naming.codebuild_cache_prefix(name))],
        ),
        statement("LocateArtifactBucket", ["s3:GetBucketAcl", "s3:GetBucketLocation"], [_bucket(bucket_parameter)]),
        statement("UseArtifactKey", ARTIFACT_KEY_ACTIONS, [Sub("${%s}" % key_parameter)]),
    )


def pipeline_policy(project, source, bucket_parameter, key_parameter, source_resource):
    """The pipeline: its artifacts, its builds, its source, its approval notifications.

    source: "codestar-connection" (source_resource: the connection ARN) or "codecommit"
    (source_resource: the repository name).
    """
    builds = [naming.check_project_name(project)] + [
        naming.deploy_project_name(naming.parse_project(str(project)).namespace(environment))
        for environment in naming.PIPELINE_ENVIRONMENTS
    ]
    if source == "codecommit":
        read_source = statement(
            "ReadSourceRepository", CODECOMMIT_SOURCE_ACTIONS, [Sub(arn("codecommit", source_resource))]
        )
    else:
        service = source_resource.split(":")[2]  # codestar-connections or codeconnections
        read_source = statement("UseSourceConnection", ["%s:UseConnection" % service], [source_resource])
    return document(
        statement(
            "StoreArtifacts", ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            [_objects(bucket_parameter, "%s/" % naming.pipeline_name(project)[:naming.PIPELINE_FOLDER_CHARS])],
        ),
        statement(
            "LocateArtifactBucket", ["s3:GetBucketLocation", "s3:GetBucketVersioning"], [_bucket(bucket_parameter)]
        ),
        statement("UseArtifactKey", ARTIFACT_KEY_ACTIONS, [Sub("${%s}" % key_parameter)]),
        statement(
            "RunProjectBuilds", ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
            [Sub(arn("codebuild", "project/%s" % build)) for build in builds],
        ),
        read_source,
        statement(
            "NotifyApprovers", ["sns:Publish"], [Sub(arn("sns", naming.notification_topic_name(project)))]
        ),
    )


def source_events_policy(project):
    """EventBridge may start this project's pipeline, and nothing else."""
    return document(
        statement(
            "StartPipeline", ["codepipeline:StartPipelineExecution"],
            [Sub(arn("codepipeline", naming.pipeline_name(project)))],
        )
    )
