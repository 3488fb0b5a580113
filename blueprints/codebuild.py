"""The CodeBuild projects of a pipeline: one shape for the check, images and deploy builds.

Each project builds what CodePipeline hands it (source CODEPIPELINE) with a buildspec
from the repository, runs on a curated image (unprivileged, but for the images build:
`docker build` needs the Docker daemon, which only privileged mode starts), encrypts its output with the
pipeline's key, writes its logs to its own log group (kept `LogRetentionDays`, encrypted
with the same key), caches pip downloads in the artifact bucket under
hooks.naming.codebuild_cache_prefix, and runs one build at a time.

Every stack with builds takes the pipeline's artifact bucket and key as the template
parameters ARTIFACT_VARIABLES declares.
"""
from troposphere import GetAtt, Ref, Sub, codebuild, logs

from hooks import naming
from hooks.engine.stacker_compat import CFNString

BUCKET_PARAMETER, KEY_PARAMETER = "ArtifactBucketName", "ArtifactKeyArn"
ARTIFACT_VARIABLES = {
    BUCKET_PARAMETER: {"type": CFNString, "description": "The pipeline's artifact bucket"},
    KEY_PARAMETER: {"type": CFNString, "description": "ARN of the pipeline's KMS key"},
}
COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
QUEUED_TIMEOUT_MINUTES = 480


def log_group(logical_id, project_name, retention_days, key_parameter):
    return logs.LogGroup(
        logical_id,
        # Explicit: the group goes with the stack (as the service's does). A retained group keeps
        # its fixed name and would block re-creating the stack; the audit trail of deploys is
        # the pointer's parameter history and CloudTrail, not build logs.
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        LogGroupName=naming.codebuild_log_group_name(project_name),
        RetentionInDays=retention_days,
        KmsKeyId=Ref(key_parameter),
    )


def project(logical_id, name, description, buildspec, role, log_group_id, settings, environment=()):
    """A CodeBuild project; `settings`: image, timeout, bucket_parameter, key_parameter, and privileged
    (default False); `environment`: (name, value) pairs, plain text."""
    return codebuild.Project(
        logical_id,
        Name=name,
        Description=description,
        ServiceRole=GetAtt(role, "Arn"),
        Source=codebuild.Source(Type="CODEPIPELINE", BuildSpec=buildspec),
        Artifacts=codebuild.Artifacts(Type="CODEPIPELINE"),
        Environment=codebuild.Environment(
            Type="LINUX_CONTAINER",
            ComputeType=COMPUTE_TYPE,
            Image=settings["image"],
            ImagePullCredentialsType="CODEBUILD",
            PrivilegedMode=settings.get("privileged", False),
            EnvironmentVariables=[
                codebuild.EnvironmentVariable(Name=key, Value=value, Type="PLAINTEXT") for key, value in environment
            ],
        ),
        EncryptionKey=Ref(settings["key_parameter"]),
        TimeoutInMinutes=settings["timeout"],
        QueuedTimeoutInMinutes=QUEUED_TIMEOUT_MINUTES,
        ConcurrentBuildLimit=1,
        Cache=codebuild.ProjectCache(
            Type="S3", Location=Sub("${%s}/%s" % (settings["bucket_parameter"], naming.codebuild_cache_prefix(name)))
        ),
        LogsConfig=codebuild.LogsConfig(
            CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED", GroupName=Ref(log_group_id)),
            S3Logs=codebuild.S3Logs(Status="DISABLED"),
        ),
    )
