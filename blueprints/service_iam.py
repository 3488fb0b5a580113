"""IAM policy documents of a tenant service, scoped to its namespace.

Every statement names the namespace in its Resource (or, for s3:ListBucket, in its
s3:prefix condition), so a tenant's tasks can never read another tenant's
parameters, secret, logs or files. The one deliberate exception is ECR:

- ecr:GetAuthorizationToken has no resource-level scoping; its Resource must be "*".
- The image pull actions are scoped to this account's repositories in this region:
  every tenant runs the same application images, so the repositories are not per
  tenant, and an image reference is a free-form parameter whose repository ARN a
  template cannot derive.

Both roles carry the namespace's permissions boundary, the managed policy
`<namespace>-boundary` (`permissions_boundary`): at most what these two policies grant.
The pipeline's deploy role of the namespace may create and change these roles only with
that boundary (blueprints/deploy_iam.py), so no policy it writes reaches beyond the
namespace. The boundary is built by the `<namespace>-deploy` stack, which an
administrator deploys and the deploy role cannot change; its ARN is computed here from
the name, so the service template needs no stack output.

Resources are `Fn::Sub` strings: partition, region and account come from the stack,
the namespace-specific part from `hooks.naming`.
"""
from troposphere import Ref, Sub

from hooks import naming

POLICY_VERSION = "2012-10-17"
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"

# Statements exempt from the "Resource names the namespace" rule (see the docstring).
ECR_EXCEPTION_SIDS = ("AuthorizeRegistry", "PullImages")


def arn(service, resource, region=True, account=True):
    """An ARN for Fn::Sub in the stack's partition (and region and account, unless turned off)."""
    return "arn:${AWS::Partition}:%s:%s:%s:%s" % (
        service,
        "${AWS::Region}" if region else "",
        "${AWS::AccountId}" if account else "",
        resource,
    )


def statement(sid, actions, resources, condition=None, effect="Allow"):
    body = {"Sid": sid, "Effect": effect, "Action": sorted(actions), "Resource": resources}
    if condition:
        body["Condition"] = condition
    return body


def document(*statements):
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def ecs_tasks_trust_policy():
    """Only ECS tasks of this account may assume the role (confused-deputy guard)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": ECS_TASKS_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}},
        }
    )


def permissions_boundary_arn(namespace):
    """The ARN of the namespace's boundary policy, for Fn::Sub in any stack of the account."""
    return Sub(arn("iam", naming.permissions_boundary_arn_resource(namespace), region=False))


def execution_policy(namespace):
    """What the ECS agent needs to start the tasks: pull images, write logs, read the secret."""
    return document(*execution_statements(namespace))


def task_policy(namespace, bucket_parameter):
    """What the application may do: read its parameters, manage its files in the tier bucket."""
    return document(*task_statements(namespace, "${%s}" % bucket_parameter))


def permissions_boundary(namespace):
    """The most a role of the namespace's service stack may do: what the execution and task
    policies grant, statement for statement, with one difference. The boundary's stack
    (`<namespace>-deploy`) does not know the tier's bucket, so the file statements name the
    namespace's prefix in any bucket of this account (aws:ResourceAccount); the task
    policy names the bucket itself."""
    this_account = {"StringEquals": {"aws:ResourceAccount": Ref("AWS::AccountId")}}
    return document(*execution_statements(namespace), *task_statements(namespace, "*", this_account))


def execution_statements(namespace):
    return [
        statement("AuthorizeRegistry", ["ecr:GetAuthorizationToken"], "*"),
        statement(
            "PullImages",
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [Sub(arn("ecr", "repository/*"))],
        ),
        statement(
            "WriteServiceLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [Sub(arn("logs", naming.log_group_arn_resource(namespace)))],
        ),
        statement(
            "ReadDatabaseSecret",
            ["secretsmanager:GetSecretValue"],
            [Sub(arn("secretsmanager", naming.db_secret_arn_resource(namespace)))],
        ),
    ]


def task_statements(namespace, bucket, file_condition=None):
    """bucket: the bucket's name as Fn::Sub text ("${AppFilesBucketName}", or "*" for any)."""
    prefix = naming.s3_prefix_pattern(namespace)
    return [
        statement(
            "ReadNamespaceParameters",
            ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            [Sub(arn("ssm", naming.ssm_parameters_arn_resource(namespace)))],
        ),
        statement(
            "ManageNamespaceFiles",
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            [Sub(arn("s3", "%s/%s" % (bucket, prefix), region=False, account=False))],
            condition=file_condition,
        ),
        statement(
            "ListNamespaceFiles",
            ["s3:ListBucket"],
            [Sub(arn("s3", bucket, region=False, account=False))],
            condition=dict(file_condition or {}, StringLike={"s3:prefix": [prefix]}),
        ),
    ]
