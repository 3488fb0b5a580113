"""IAM policies of a project's pipeline: the pipeline's role, the check and images builds' roles,
and the role EventBridge uses to start the pipeline on a CodeCommit push.

None of them reaches a tenant namespace. The pipeline stores and reads its artifacts
under its own folder of the artifact bucket (hooks.naming.pipeline_folder), starts only
the project's own builds, reads only its source and notifies only its topic; the check
build reads the source artifact and writes only its logs and its cache; the images build
does the same and pushes to the project's two image repositories, nothing else of ECR
but the registry login (which has no resource-level scoping). Every Resource
names the project (a bucket folder, a build project, the pipeline) or is a template
parameter holding a resource the project owns (its key, topic, connection).

The statements every build role has (logs, source artifact, cache, the artifact bucket and
key) are built here for the check build and the deploy builds (blueprints/deploy_iam.py).
The roles' trust policy is blueprints.iam.trust_policy.
"""
from awacs import codebuild, codecommit, codeconnections, codepipeline, codestar_connections, ecr, s3, sns
from awacs.aws import Allow, PolicyDocument

from blueprints.iam import (
    ANY_RESOURCE, ARTIFACT_KEY_ACTIONS, LOG_WRITE_ACTIONS, POLICY_VERSION, REGISTRY_AUTH_ACTIONS, Statement, arn,
    bucket_arn, objects_arn, parameter_arn, parameter_text,
)
from hooks import naming

# The connection's service (its ARN's third field) names the action: both exist, for one kind of connection.
USE_CONNECTION = {"codestar-connections": codestar_connections.UseConnection,
                  "codeconnections": codeconnections.UseConnection}
ARTIFACT_STORE_ACTIONS = [s3.GetObject, s3.GetObjectVersion, s3.PutObject]
ARTIFACT_READ_ACTIONS = [s3.GetObject, s3.GetObjectVersion]
CACHE_ACTIONS = [s3.GetObject, s3.PutObject]
BUILD_RUN_ACTIONS = [codebuild.BatchGetBuilds, codebuild.StartBuild, codebuild.StopBuild]
NOTIFY_ACTIONS = [sns.Publish]
PIPELINE_START_ACTIONS = [codepipeline.StartPipelineExecution]
# What CodeBuild checks of the artifact bucket, and what CodePipeline does.
BUILD_BUCKET_ACTIONS = [s3.GetBucketAcl, s3.GetBucketLocation]
PIPELINE_BUCKET_ACTIONS = [s3.GetBucketLocation, s3.GetBucketVersioning]
# docker push (layers, then the manifest), and reading the pushed image's digest back.
IMAGE_PUSH_ACTIONS = [
    ecr.BatchCheckLayerAvailability, ecr.CompleteLayerUpload, ecr.DescribeImages, ecr.InitiateLayerUpload,
    ecr.PutImage, ecr.UploadLayerPart,
]
CODECOMMIT_SOURCE_ACTIONS = [
    codecommit.CancelUploadArchive, codecommit.GetBranch, codecommit.GetCommit, codecommit.GetUploadArchiveStatus,
    codecommit.UploadArchive,
]


def check_policy(project, bucket_parameter, key_parameter):
    """The check build: read the source artifact, write its logs and cache."""
    statements = project_build_statements(naming.check_project_name(project), project, bucket_parameter, key_parameter)
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)


def images_policy(project, bucket_parameter, key_parameter):
    """The images build: what the check build may, and push the project's two images (and read their digests)."""
    repositories = [arn("ecr", naming.image_repository_arn_resource(project, c)) for c in naming.IMAGE_CONTAINERS]
    statements = project_build_statements(naming.images_project_name(project), project, bucket_parameter, key_parameter)
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=statements + [
            Statement(Sid="AuthorizeRegistry", Effect=Allow, Action=REGISTRY_AUTH_ACTIONS, Resource=ANY_RESOURCE),
            Statement(Sid="PushProjectImages", Effect=Allow, Action=IMAGE_PUSH_ACTIONS, Resource=repositories),
        ],
    )


def pipeline_policy(project, source, bucket_parameter, key_parameter, source_resource, builds_images=True,
                    snapshots_dev=False):
    """The pipeline: its artifacts, its builds, its source, its approval notifications.

    source: "codestar-connection" (source_resource: the connection ARN) or "codecommit"
    (source_resource: the repository name); builds_images: the pipeline runs the images build;
    snapshots_dev: it runs the dev namespace's snapshot build (data_source snapshot).
    """
    dev = naming.parse_project(str(project)).namespace(naming.PIPELINE_ENVIRONMENTS[0])
    optional = [naming.images_project_name(project)] if builds_images else []
    optional += [naming.snapshot_project_name(dev)] if snapshots_dev else []
    builds = [naming.check_project_name(project)] + optional + [
        naming.deploy_project_name(naming.parse_project(str(project)).namespace(environment))
        for environment in naming.PIPELINE_ENVIRONMENTS
    ]
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Sid="StoreArtifacts",
                Effect=Allow,
                Action=ARTIFACT_STORE_ACTIONS,
                Resource=[objects_arn(parameter_text(bucket_parameter), pipeline_keys(project))],
            ),
            locate_artifact_bucket(bucket_parameter, PIPELINE_BUCKET_ACTIONS),
            use_artifact_key(key_parameter),
            Statement(
                Sid="RunProjectBuilds",
                Effect=Allow,
                Action=BUILD_RUN_ACTIONS,
                Resource=[arn("codebuild", naming.codebuild_project_arn_resource(build)) for build in builds],
            ),
            read_source(source, source_resource),
            Statement(
                Sid="NotifyApprovers",
                Effect=Allow,
                Action=NOTIFY_ACTIONS,
                Resource=[arn("sns", naming.notification_topic_name(project))],
            ),
        ],
    )


# Written out as the statements above are: alike in shape, different grants (blueprints.iam.Statement).
def source_events_policy(project):
    """EventBridge may start this project's pipeline, and nothing else."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Sid="StartPipeline",
                Effect=Allow,
                Action=PIPELINE_START_ACTIONS,
                Resource=[arn("codepipeline", naming.pipeline_name(project))],
            )
        ],
    )


def pipeline_keys(project):
    return naming.s3_keys_pattern(naming.pipeline_folder(project))


def read_source(source, source_resource):
    if source == "codecommit":
        return Statement(
            Sid="ReadSourceRepository",
            Effect=Allow,
            Action=CODECOMMIT_SOURCE_ACTIONS,
            Resource=[arn("codecommit", source_resource)],
        )
    return Statement(
        Sid="UseSourceConnection", Effect=Allow, Action=[connection_action(source_resource)], Resource=[source_resource]
    )


def connection_action(connection_arn):
    """UseConnection of the connection's service (the ARN's third field)."""
    fields = connection_arn.split(":")
    action = USE_CONNECTION.get(fields[2] if len(fields) > 2 else None)
    if action is None:
        raise ValueError("connection %r is invalid: expected the ARN of a %s connection"
                         % (connection_arn, " or ".join(sorted(USE_CONNECTION))))
    return action


# --- what every build role has -------------------------------------------------------------------


def project_build_statements(build_project, project, bucket_parameter, key_parameter):
    """A project build's (check, images): its logs, the source artifact, its cache, the bucket and key."""
    return [
        write_build_logs(build_project),
        read_source_artifact(project, bucket_parameter),
        use_build_cache(build_project, bucket_parameter),
        locate_artifact_bucket(bucket_parameter, BUILD_BUCKET_ACTIONS),
        use_artifact_key(key_parameter),
    ]


def write_build_logs(build_project):
    return Statement(
        Sid="WriteBuildLogs",
        Effect=Allow,
        Action=LOG_WRITE_ACTIONS,
        Resource=[arn("logs", naming.codebuild_log_group_arn_resource(build_project))],
    )


def read_source_artifact(project, bucket_parameter):
    return artifact_objects(
        "ReadSourceArtifact", ARTIFACT_READ_ACTIONS, bucket_parameter,
        naming.pipeline_artifact_prefix(project, naming.SOURCE_ARTIFACT),
    )


def use_build_cache(build_project, bucket_parameter):
    return artifact_objects(
        "UseBuildCache", CACHE_ACTIONS, bucket_parameter, naming.codebuild_cache_prefix(build_project)
    )


def artifact_objects(sid, actions, bucket_parameter, prefix):
    """A statement on the artifact bucket's objects below `prefix`."""
    resource = objects_arn(parameter_text(bucket_parameter), naming.s3_keys_pattern(prefix))
    return Statement(Sid=sid, Effect=Allow, Action=actions, Resource=[resource])


def locate_artifact_bucket(bucket_parameter, actions):
    bucket = bucket_arn(parameter_text(bucket_parameter))
    return Statement(Sid="LocateArtifactBucket", Effect=Allow, Action=actions, Resource=[bucket])


def use_artifact_key(key_parameter):
    key = parameter_arn(key_parameter)
    return Statement(Sid="UseArtifactKey", Effect=Allow, Action=ARTIFACT_KEY_ACTIONS, Resource=[key])
