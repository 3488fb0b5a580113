"""IAM policy documents of a tenant service, scoped to its namespace.

Every statement names the namespace in its Resource (or, for s3:ListBucket, in its
s3:prefix condition), so a tenant's tasks can never read another tenant's
parameters, secret, logs or files. The one deliberate exception is ECR:

- ecr:GetAuthorizationToken has no resource-level scoping; its Resource must be "*".
- The image pull actions are scoped to this account's repositories in this region:
  every tenant runs the same application images, so the repositories are not per
  tenant, and an image reference is a free-form parameter whose repository ARN a
  template cannot derive.

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


def statement(sid, actions, resources, condition=None):
    body = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
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


def execution_policy(namespace):
    """What the ECS agent needs to start the tasks: pull images, write logs, read the secret."""
    return document(
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
    )


def task_policy(namespace, bucket_parameter):
    """What the application may do: read its parameters, manage its files in the tier bucket."""
    bucket = "${%s}" % bucket_parameter
    prefix = naming.s3_prefix_pattern(namespace)
    return document(
        statement(
            "ReadNamespaceParameters",
            ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            [Sub(arn("ssm", naming.ssm_parameters_arn_resource(namespace)))],
        ),
        statement(
            "ManageNamespaceFiles",
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            [Sub(arn("s3", "%s/%s" % (bucket, prefix), region=False, account=False))],
        ),
        statement(
            "ListNamespaceFiles",
            ["s3:ListBucket"],
            [Sub(arn("s3", bucket, region=False, account=False))],
            condition={"StringLike": {"s3:prefix": [prefix]}},
        ),
    )
