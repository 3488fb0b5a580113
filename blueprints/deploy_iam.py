"""The IAM policies of the CodeBuild role that deploys one tenant namespace (`<namespace>-deploy`).

It allows what `tenantstack deploy` (stacker build of stacker/tenant.yaml and its hooks)
does for that namespace, and only for it: its stacks, parameters, secret, databases,
snapshots, security groups, target group, listener rule, ECS service, service roles and
log groups, each named by the namespace in its ARN or, where AWS names the resource
itself (security groups, target groups, listener rules), required to carry the tag
Namespace=<namespace> (aws:RequestTag on create, aws:ResourceTag after). Read-only
beyond it: the tier's stacks (their outputs feed the tenant's parameters), the source
namespace's snapshots (the data to promote, copied under the tier key as the namespace's
own snapshots <namespace>-<timestamp>: hooks.steps.tier_copy), the pipeline's source artifact.

`Resource: "*"` remains only for actions that have no resource-level scoping (IAM
accepts only "*" for them): the EC2, ELB and ECS describe calls,
ecs:DeregisterTaskDefinition (CloudFormation deregisters a replaced revision),
secretsmanager:GetRandomPassword, tag:GetResources and logs:DescribeLogGroups.
The source namespace's snapshots are matched by hooks.naming.source_snapshot_pattern:
the snapshots the dev team takes, not the final snapshots of its retired databases.

The role can create and change roles named `<namespace>-service-*` (CloudFormation names
the service stack's task and execution roles so) and pass them to ECS tasks only; its own
name, `<namespace>-deploy`, is outside that pattern. It creates them and writes their
policies only with the permissions boundary `<namespace>-boundary` (ArnEquals on
iam:PermissionsBoundary: blueprints.service_iam.permissions_boundary), and may neither
remove nor swap a boundary, nor touch the boundary policy or its own `<namespace>-deploy`
stack, where the boundary lives.
"""
from troposphere import Ref, Sub

from blueprints.service_iam import arn, document, permissions_boundary_arn, statement
from hooks import naming

CODEBUILD_PRINCIPAL = "codebuild.amazonaws.com"
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"

STACK_ACTIONS = (
    "cloudformation:CreateChangeSet", "cloudformation:CreateStack", "cloudformation:DeleteChangeSet",
    "cloudformation:DeleteStack", "cloudformation:DescribeChangeSet", "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources",
    "cloudformation:DescribeStacks", "cloudformation:ExecuteChangeSet", "cloudformation:GetTemplate",
    "cloudformation:GetTemplateSummary", "cloudformation:ListStackResources",
    "cloudformation:TagResource", "cloudformation:UntagResource", "cloudformation:UpdateStack",
)
PARAMETER_ACTIONS = (
    "ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameterHistory",
    "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:ListTagsForResource", "ssm:PutParameter",
    "ssm:RemoveTagsFromResource",
)
SECRET_ACTIONS = (
    "secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue", "secretsmanager:TagResource",
)
DATABASE_ACTIONS = (
    "rds:AddTagsToResource", "rds:CreateDBSnapshot", "rds:CreateDBSubnetGroup", "rds:DeleteDBInstance",
    "rds:DeleteDBSubnetGroup", "rds:DescribeDBSnapshots", "rds:DescribeDBSubnetGroups",
    "rds:ListTagsForResource", "rds:ModifyDBInstance", "rds:ModifyDBSubnetGroup", "rds:RemoveTagsFromResource",
)
SOURCE_SNAPSHOT_ACTIONS = ("rds:DescribeDBSnapshots", "rds:ListTagsForResource")
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
ARTIFACT_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*")
SECURITY_GROUP_ACTIONS = (
    "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags",
    "ec2:DeleteSecurityGroup", "ec2:DeleteTags", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
)
TARGET_GROUP_ACTIONS = (
    "elasticloadbalancing:AddTags", "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:RemoveTags",
)
LISTENER_RULE_ACTIONS = (
    "elasticloadbalancing:AddTags", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetRulePriorities",
)
SERVICE_ACTIONS = (
    "ecs:CreateService", "ecs:DeleteService", "ecs:DescribeServices", "ecs:TagResource", "ecs:UntagResource",
    "ecs:UpdateService",
)
ROLE_ACTIONS = (
    "iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
    "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
)
# Allowed only when iam:PermissionsBoundary is the namespace's boundary (IAM defines the key for these).
BOUNDED_ROLE_ACTIONS = (
    "iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
)
# Never on the boundary policy: whoever may change it may widen every service role of the namespace.
BOUNDARY_POLICY_ACTIONS = (
    "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
# The role's own stack (<namespace>-deploy, the boundary's home) is in <namespace>-*: read it, never change it.
STACK_CHANGE_ACTIONS = tuple(
    action for action in STACK_ACTIONS if not action.startswith(("cloudformation:Describe", "cloudformation:Get",
                                                                 "cloudformation:List"))
)
LOG_GROUP_ACTIONS = (
    "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:ListTagsForResource",
    "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource",
)
# Actions without resource-level scoping: IAM accepts only "*" for them.
UNSCOPED_READS = (
    "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
    "ecs:DescribeTaskDefinition", "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroups",
    "logs:DescribeLogGroups", "secretsmanager:GetRandomPassword", "tag:GetResources",
)


def codebuild_trust_policy():
    """Only CodeBuild builds of this account may assume the role."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": CODEBUILD_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}},
        }
    )


def tag_is(namespace, key="aws:ResourceTag/Namespace"):
    return {"StringEquals": {key: naming.parse_namespace(str(namespace)).name}}


def deploy_policies(namespace, source_namespace, parameters):
    """The deploy role's policies for `namespace` (source: whose snapshots it restores).

    parameters: the template parameters holding the artifact bucket's name ("bucket"),
    the artifact key's ARN ("artifact_key") and the ARNs of the tier database keys of the
    namespace ("database_key") and of its source ("source_database_key").

    {part: document} for the parts "stacks" (stacks, ECS service, service roles, log
    groups), "network" (security groups, target group, listener rule; and the build's own
    needs: its logs, artifacts and key) and "data" (parameters, secret, databases,
    snapshots, keys). Together they exceed
    what a role's inline policies may hold (10,240 characters); each fits a managed
    policy (6,144) with room to grow.
    """
    ns, source = naming.parse_namespace(str(namespace)), naming.parse_namespace(str(source_namespace))
    return {
        "stacks": document(*(stack_statements(ns) + service_statements(ns))),
        "network": document(*(network_statements(ns) + build_statements(ns, parameters))),
        "data": document(*data_statements(ns, source, parameters)),
    }


def stack_statements(ns):
    return [
        statement("ManageNamespaceStacks", STACK_ACTIONS, [Sub(arn("cloudformation", naming.stack_arn_resource(ns)))]),
        statement(
            "ReadTierStacks", ["cloudformation:DescribeStacks"],
            [Sub(arn("cloudformation", naming.stack_arn_resource(ns.shared_namespace)))],
        ),
        statement("UnscopedReads", UNSCOPED_READS, "*"),
        statement(
            "KeepOwnDeployStack", STACK_CHANGE_ACTIONS,
            [Sub(arn("cloudformation", "stack/%s/*" % naming.deploy_stack_name(ns)))], effect="Deny",
        ),
    ]


def data_statements(ns, source, parameters):
    databases = naming.db_identifier_prefix(ns) + "*"
    keys = [Ref(parameters["database_key"]), Ref(parameters["source_database_key"])]
    source_snapshots = Sub(arn("rds", "snapshot:%s" % naming.source_snapshot_pattern(source)))
    own_snapshots = Sub(arn("rds", "snapshot:%s" % naming.restore_snapshot_pattern(ns)))
    return [
        statement(
            "ManageNamespaceParameters", PARAMETER_ACTIONS, [Sub(arn("ssm", naming.ssm_parameters_arn_resource(ns)))]
        ),
        statement(
            "ManageNamespaceSecret", SECRET_ACTIONS,
            [Sub(arn("secretsmanager", "secret:%s*" % naming.secret_name_prefix(ns)))],
        ),
        statement(  # snapshots: final ones <ns>-db-*, and the restore copies <ns>-<ts> (hooks.steps.tier_copy)
            "ManageNamespaceDatabases", DATABASE_ACTIONS,
            [Sub(arn("rds", "%s:%s" % (kind, databases))) for kind in ("db", "snapshot", "subgrp")] + [own_snapshots],
        ),
        statement(
            "RestoreFromOwnSnapshots", ["rds:RestoreDBInstanceFromDBSnapshot"],
            [Sub(arn("rds", "%s:%s" % (kind, databases))) for kind in ("db", "subgrp")]
            + [own_snapshots,
               Sub(arn("rds", "pg:%s-*" % naming.tier_stack_name(ns.shared_namespace))),
               Sub(arn("rds", "og:default:mysql-8-0"))],
        ),
        statement("ReadSourceSnapshots", SOURCE_SNAPSHOT_ACTIONS, [source_snapshots]),
        # IAM cannot tell a copy's source from its target, so both patterns are listed; every
        # copy must carry Namespace=<namespace>, and hooks.steps.source_snapshot refuses as a source any
        # snapshot whose Namespace tag names another namespace.
        statement(
            "CopySourceSnapshotsUnderTierKey", ["rds:CopyDBSnapshot"], [source_snapshots, own_snapshots],
            condition=tag_is(ns, "aws:RequestTag/Namespace"),
        ),
        statement(
            "DeleteOwnSnapshotCopies", ["rds:DeleteDBSnapshot"], [own_snapshots],
            condition={"Null": {"aws:ResourceTag/%s" % naming.COPIED_FROM_TAG: "false"}},
        ),
        statement("DescribeNamespaceDatabases", ["rds:DescribeDBInstances"], [Sub(arn("rds", "db:%s" % databases))]),
        statement(
            "UseTierDatabaseKeys", KEY_USE_ACTIONS, keys,
            condition={"StringEquals": {"kms:ViaService": Sub("rds.${AWS::Region}.amazonaws.com")}},
        ),
        statement(
            "LetRdsUseTierDatabaseKeys", ["kms:CreateGrant"], keys,
            condition={"StringEquals": {"kms:ViaService": Sub("rds.${AWS::Region}.amazonaws.com")},
                       "Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


def network_statements(ns):
    security_group = Sub(arn("ec2", "security-group/*"))
    rules = [Sub(arn("elasticloadbalancing", "listener-rule/%s/*/*/*/*" % kind)) for kind in ("app", "net")]
    return [
        statement(
            "CreateNamespaceSecurityGroups", ["ec2:CreateSecurityGroup"], [security_group, Sub(arn("ec2", "vpc/*"))],
            condition=tag_is(ns, "aws:RequestTag/Namespace"),
        ),
        statement(
            "TagSecurityGroupsOnCreate", ["ec2:CreateTags"], [security_group],
            condition={"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup",
                                        "aws:RequestTag/Namespace": ns.name}},
        ),
        statement("ManageNamespaceSecurityGroups", SECURITY_GROUP_ACTIONS, [security_group], condition=tag_is(ns)),
        statement(
            "CreateNamespaceTargetGroups", ["elasticloadbalancing:CreateTargetGroup"],
            [Sub(arn("elasticloadbalancing", "targetgroup/*/*"))], condition=tag_is(ns, "aws:RequestTag/Namespace"),
        ),
        statement(
            "CreateNamespaceListenerRules", ["elasticloadbalancing:CreateRule"],
            [Sub(arn("elasticloadbalancing", "listener/%s/*/*/*" % kind)) for kind in ("app", "net")],
            condition=tag_is(ns, "aws:RequestTag/Namespace"),
        ),
        statement(
            "TagOnCreate", ["elasticloadbalancing:AddTags"],
            [Sub(arn("elasticloadbalancing", "targetgroup/*/*"))] + rules,
            condition=tag_is(ns, "aws:RequestTag/Namespace"),
        ),
        statement(
            "ManageNamespaceTargetGroups", TARGET_GROUP_ACTIONS,
            [Sub(arn("elasticloadbalancing", "targetgroup/*/*"))], condition=tag_is(ns),
        ),
        statement("ManageNamespaceListenerRules", LISTENER_RULE_ACTIONS, rules, condition=tag_is(ns)),
    ]


def service_statements(ns):
    roles = Sub(arn("iam", "role/%s*" % naming.service_role_name_prefix(ns), region=False))
    any_role = Sub(arn("iam", "role/*", region=False))
    boundary = permissions_boundary_arn(ns)
    return [
        statement(
            "RegisterNamespaceTaskDefinitions", ["ecs:RegisterTaskDefinition"],
            [Sub(arn("ecs", "task-definition/%s:*" % naming.task_family(ns)))],
            condition=tag_is(ns, "aws:RequestTag/Namespace"),
        ),
        # CloudFormation deregisters a replaced revision; the action has no resource-level scoping.
        statement("DeregisterTaskDefinitions", ["ecs:DeregisterTaskDefinition"], "*"),
        statement(
            "ManageNamespaceService", SERVICE_ACTIONS,
            [Sub(arn("ecs", "service/%s/%s" % (naming.cluster_name(ns.shared_namespace), naming.service_name(ns)))),
             Sub(arn("ecs", "task-definition/%s:*" % naming.task_family(ns)))],
        ),
        statement("ManageServiceRoles", ROLE_ACTIONS, [roles]),
        statement(
            "ManageServiceRolesWithinBoundary", BOUNDED_ROLE_ACTIONS, [roles],
            condition={"ArnEquals": {"iam:PermissionsBoundary": boundary}},
        ),
        statement("KeepRoleBoundaries", ["iam:DeleteRolePermissionsBoundary"], [any_role], effect="Deny"),
        statement(
            "OnlyTheNamespaceBoundary", ["iam:PutRolePermissionsBoundary"], [any_role],
            condition={"ArnNotEquals": {"iam:PermissionsBoundary": boundary}}, effect="Deny",
        ),
        statement("KeepBoundaryPolicy", BOUNDARY_POLICY_ACTIONS, [boundary], effect="Deny"),
        statement(
            "PassServiceRolesToTasks", ["iam:PassRole"], [roles],
            condition={"StringEquals": {"iam:PassedToService": ECS_TASKS_PRINCIPAL}},
        ),
        statement(
            "ManageNamespaceLogGroups", LOG_GROUP_ACTIONS,
            [Sub(arn("logs", "log-group:%s*" % naming.ssm_namespace_path(ns)))],
        ),
    ]


def build_statements(ns, parameters):
    project = naming.parse_project(ns.project_key)
    bucket = "${%s}" % parameters["bucket"]
    codebuild_project = naming.deploy_project_name(ns)

    def objects(prefix):
        return Sub(arn("s3", "%s/%s*" % (bucket, prefix), region=False, account=False))

    return [
        statement(
            "WriteBuildLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
            [Sub(arn("logs", "log-group:%s:*" % naming.codebuild_log_group_name(codebuild_project)))],
        ),
        statement(
            "ReadOwnBuilds", ["codebuild:BatchGetBuilds"], [Sub(arn("codebuild", "project/%s" % codebuild_project))]
        ),
        statement(
            "ReadSourceArtifact", ["s3:GetObject", "s3:GetObjectVersion"],
            [objects(naming.pipeline_artifact_prefix(project, naming.SOURCE_ARTIFACT))],
        ),
        statement(
            "WriteStatusArtifact", ["s3:PutObject"],
            [objects(naming.pipeline_artifact_prefix(project, naming.status_artifact_name(ns)))],
        ),
        statement(
            "UseBuildCache", ["s3:GetObject", "s3:PutObject"], [objects(naming.codebuild_cache_prefix(codebuild_project))]
        ),
        statement(
            "LocateArtifactBucket", ["s3:GetBucketAcl", "s3:GetBucketLocation"],
            [Sub(arn("s3", bucket, region=False, account=False))],
        ),
        statement("UseArtifactKey", ARTIFACT_KEY_ACTIONS, [Sub("${%s}" % parameters["artifact_key"])]),
    ]
