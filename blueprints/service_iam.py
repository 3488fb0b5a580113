"""IAM policy documents of a tenant service, scoped to its namespace.

Every statement names the namespace in its Resource (or, for s3:ListBucket, in its
s3:prefix condition), so a tenant's tasks can never read another tenant's
parameters, secret, logs or files. The one deliberate exception is ECR:

- ecr:GetAuthorizationToken has no resource-level scoping; its Resource must be "*".
- The image pull actions name the namespace's project, not the namespace: its
  repositories `<project>/*` (hooks.naming.image_repositories_arn_resource) hold the
  images every namespace of the project runs (dev, qa and prod deploy the same digests),
  and no other project's. Images from outside ECR (an allowed public registry,
  hooks.steps.images) need no IAM permission at all.

Both roles carry the namespace's permissions boundary, the managed policy
`<namespace>-boundary` (`permissions_boundary`): at most what these two policies grant.
The pipeline's deploy role of the namespace may create and change these roles only with
that boundary (blueprints/deploy_iam.py), so no policy it writes reaches beyond the
namespace. The boundary is built by the `<namespace>-deploy` stack, which an
administrator deploys and the deploy role cannot change; its ARN is computed from the
name (blueprints.iam.permissions_boundary_arn), so the service template needs no stack output.

Resources are `Fn::Sub` ARNs (blueprints.iam): partition, region and account come from the
stack, the namespace-specific part from `hooks.naming`. The roles' trust policy is
blueprints.iam.trust_policy(ECS_TASKS_PRINCIPAL).
"""
from awacs import ecr, s3, secretsmanager, ssm
from awacs.aws import Allow, Condition, PolicyDocument, StringLike

from blueprints.iam import (
    ANY_RESOURCE, LOG_WRITE_ACTIONS, POLICY_VERSION, REGISTRY_AUTH_ACTIONS, Statement, arn, bucket_arn, objects_arn,
    parameter_text, this_account,
)
from hooks import naming

# Statements exempt from the "Resource names the namespace" rule (see the docstring).
ECR_EXCEPTION_SIDS = ("AuthorizeRegistry", "PullImages")
# The boundary's stack does not know the tier's bucket: any bucket of this account.
ANY_BUCKET = "*"

IMAGE_PULL_ACTIONS = [ecr.BatchCheckLayerAvailability, ecr.BatchGetImage, ecr.GetDownloadUrlForLayer]
SECRET_READ_ACTIONS = [secretsmanager.GetSecretValue]
PARAMETER_READ_ACTIONS = [ssm.GetParameter, ssm.GetParameters, ssm.GetParametersByPath]
FILE_ACTIONS = [s3.DeleteObject, s3.GetObject, s3.PutObject]
FILE_LIST_ACTIONS = [s3.ListBucket]


def execution_policy(namespace):
    """What the ECS agent needs to start the tasks: pull images, write logs, read the secret."""
    return PolicyDocument(Version=POLICY_VERSION, Statement=execution_statements(namespace))


def task_policy(namespace, bucket_parameter):
    """What the application may do: read its parameters, manage its files in the tier bucket."""
    statements = task_statements(namespace, parameter_text(bucket_parameter))
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)


def permissions_boundary(namespace):
    """The most a role of the namespace's service stack may do: what the execution and task
    policies grant, statement for statement, with one difference. The boundary's stack
    (`<namespace>-deploy`) does not know the tier's bucket, so the file statements name the
    namespace's prefix in any bucket of this account (aws:ResourceAccount); the task
    policy names the bucket itself."""
    files_of_this_account = [this_account("aws:ResourceAccount")]
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=execution_statements(namespace) + task_statements(namespace, ANY_BUCKET, files_of_this_account),
    )


def execution_statements(namespace):
    project = naming.parse_namespace(str(namespace)).project_key
    return [
        Statement(Sid="AuthorizeRegistry", Effect=Allow, Action=REGISTRY_AUTH_ACTIONS, Resource=ANY_RESOURCE),
        Statement(
            Sid="PullImages",
            Effect=Allow,
            Action=IMAGE_PULL_ACTIONS,
            Resource=[arn("ecr", naming.image_repositories_arn_resource(project))],
        ),
        Statement(
            Sid="WriteServiceLogs",
            Effect=Allow,
            Action=LOG_WRITE_ACTIONS,
            Resource=[arn("logs", naming.log_group_arn_resource(namespace))],
        ),
        Statement(
            Sid="ReadDatabaseSecrets",
            Effect=Allow,
            Action=SECRET_READ_ACTIONS,
            # The application user's secret for php; the master secret for the migrate container.
            Resource=[arn("secretsmanager", naming.db_app_secret_arn_resource(namespace)),
                      arn("secretsmanager", naming.db_secret_arn_resource(namespace))],
        ),
    ]


def task_statements(namespace, bucket, file_conditions=()):
    """bucket: the bucket's name as Fn::Sub text ("${AppFilesBucketName}", or "*" for any);
    file_conditions: condition elements the file statements carry besides their own."""
    prefix = naming.s3_prefix_pattern(namespace)
    manage_files = Statement(
        Sid="ManageNamespaceFiles",
        Effect=Allow,
        Action=FILE_ACTIONS,
        Resource=[objects_arn(bucket, prefix)],
    )
    if file_conditions:
        manage_files.Condition = Condition(list(file_conditions))
    return [
        Statement(
            Sid="ReadNamespaceParameters",
            Effect=Allow,
            Action=PARAMETER_READ_ACTIONS,
            Resource=[arn("ssm", naming.ssm_parameters_arn_resource(namespace))],
        ),
        manage_files,
        Statement(
            Sid="ListNamespaceFiles",
            Effect=Allow,
            Action=FILE_LIST_ACTIONS,
            Resource=[bucket_arn(bucket)],
            Condition=Condition([*file_conditions, StringLike("s3:prefix", [prefix])]),
        ),
    ]
