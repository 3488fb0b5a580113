"""The actions of the deploy role of a namespace (blueprints/deploy_iam.py), one set per statement.

Each set is what `tenantstack deploy` does to one kind of resource, in IAM's (alphabetical)
order, as the rendered policies list them; module-level, so a misspelt action fails at
import. Which resources each set reaches, and on which conditions, is deploy_iam's business.
The module is a table: its lines are alike in shape (`duplicates` lists them) and differ in data.
"""
from awacs import (
    cloudformation, cloudwatch, codebuild, ec2, ecr, ecs, elasticloadbalancing as elb, iam, kms, logs, rds, s3,
    secretsmanager, ssm, tag,
)

STACK_ACTIONS = [
    cloudformation.CreateChangeSet, cloudformation.CreateStack, cloudformation.DeleteChangeSet,
    cloudformation.DeleteStack, cloudformation.DescribeChangeSet, cloudformation.DescribeStackEvents,
    cloudformation.DescribeStackResource, cloudformation.DescribeStackResources, cloudformation.DescribeStacks,
    cloudformation.ExecuteChangeSet, cloudformation.GetTemplate, cloudformation.GetTemplateSummary,
    cloudformation.ListStackResources, cloudformation.TagResource, cloudformation.UntagResource,
    cloudformation.UpdateStack,
]
STACK_READ_ACTIONS = [cloudformation.DescribeStacks]
# The role's own stack (<namespace>-deploy, the boundary's home) is in <namespace>-*: read it, never change it.
STACK_CHANGE_ACTIONS = [action for action in STACK_ACTIONS if not action.action.startswith(("Describe", "Get", "List"))]
PARAMETER_ACTIONS = [
    ssm.AddTagsToResource, ssm.DeleteParameter, ssm.GetParameter, ssm.GetParameterHistory, ssm.GetParameters,
    ssm.GetParametersByPath, ssm.ListTagsForResource, ssm.PutParameter, ssm.RemoveTagsFromResource,
]
SECRET_ACTIONS = [
    secretsmanager.CreateSecret, secretsmanager.DescribeSecret, secretsmanager.GetSecretValue,
    secretsmanager.PutSecretValue, secretsmanager.TagResource,
]
DATABASE_ACTIONS = [
    rds.AddTagsToResource, rds.CreateDBSnapshot, rds.CreateDBSubnetGroup, rds.DeleteDBInstance,
    rds.DeleteDBSubnetGroup, rds.DescribeDBSnapshots, rds.DescribeDBSubnetGroups, rds.ListTagsForResource,
    rds.ModifyDBInstance, rds.ModifyDBSubnetGroup, rds.RemoveTagsFromResource,
]
SOURCE_SNAPSHOT_ACTIONS = [rds.DescribeDBSnapshots, rds.ListTagsForResource]
RESTORE_ACTIONS = [rds.RestoreDBInstanceFromDBSnapshot]
SNAPSHOT_COPY_ACTIONS = [rds.CopyDBSnapshot]
SNAPSHOT_DELETE_ACTIONS = [rds.DeleteDBSnapshot]
DATABASE_READ_ACTIONS = [rds.DescribeDBInstances]
# RDS, not the role, uses the tier keys; the role lets it (kms:GrantIsForAWSResource).
GRANT_ACTIONS = [kms.CreateGrant]
SECURITY_GROUP_CREATE_ACTIONS = [ec2.CreateSecurityGroup]
SECURITY_GROUP_TAG_ACTIONS = [ec2.CreateTags]
SECURITY_GROUP_ACTIONS = [
    ec2.AuthorizeSecurityGroupEgress, ec2.AuthorizeSecurityGroupIngress, ec2.CreateTags, ec2.DeleteSecurityGroup,
    ec2.DeleteTags, ec2.RevokeSecurityGroupEgress, ec2.RevokeSecurityGroupIngress,
    ec2.UpdateSecurityGroupRuleDescriptionsEgress, ec2.UpdateSecurityGroupRuleDescriptionsIngress,
]
TARGET_GROUP_ACTIONS = [
    elb.AddTags, elb.DeleteTargetGroup, elb.ModifyTargetGroup, elb.ModifyTargetGroupAttributes, elb.RemoveTags,
]
LISTENER_RULE_ACTIONS = [elb.AddTags, elb.DeleteRule, elb.ModifyRule, elb.RemoveTags, elb.SetRulePriorities]
TARGET_GROUP_CREATE_ACTIONS = [elb.CreateTargetGroup]
LISTENER_RULE_CREATE_ACTIONS = [elb.CreateRule]
LOAD_BALANCING_TAG_ACTIONS = [elb.AddTags]
TASK_DEFINITION_REGISTER_ACTIONS = [ecs.RegisterTaskDefinition]
# CloudFormation deregisters a replaced revision; the action has no resource-level scoping.
TASK_DEFINITION_DEREGISTER_ACTIONS = [ecs.DeregisterTaskDefinition]
SERVICE_ACTIONS = [
    ecs.CreateService, ecs.DeleteService, ecs.DescribeServices, ecs.TagResource, ecs.UntagResource, ecs.UpdateService,
]
ROLE_ACTIONS = [
    iam.DeleteRole, iam.GetRole, iam.GetRolePolicy, iam.ListAttachedRolePolicies, iam.ListRolePolicies, iam.TagRole,
    iam.UntagRole, iam.UpdateAssumeRolePolicy, iam.UpdateRole,
]
# Allowed only when iam:PermissionsBoundary is the namespace's boundary (IAM defines the key for these).
BOUNDED_ROLE_ACTIONS = [iam.CreateRole, iam.DeleteRolePolicy, iam.PutRolePermissionsBoundary, iam.PutRolePolicy]
BOUNDARY_REMOVE_ACTIONS = [iam.DeleteRolePermissionsBoundary]
BOUNDARY_SET_ACTIONS = [iam.PutRolePermissionsBoundary]
PASS_ROLE_ACTIONS = [iam.PassRole]
# Never on the boundary policy: whoever may change it may widen every service role of the namespace.
BOUNDARY_POLICY_ACTIONS = [
    iam.CreatePolicy, iam.CreatePolicyVersion, iam.DeletePolicy, iam.DeletePolicyVersion, iam.SetDefaultPolicyVersion,
]
# The stable gate's look at the service's tasks and, after a failed rollout, why they stopped.
TASK_LIST_ACTIONS = [ecs.ListTasks]
TASK_READ_ACTIONS = [ecs.DescribeTasks]
SERVICE_LOG_READ_ACTIONS = [logs.GetLogEvents]
# hooks.steps.images: check that a pinned digest exists, then tag it deployed-<environment>-<digest> (PutImage of
# the same manifest under a new tag; no layer upload, so no new content can enter the repository).
IMAGE_ACTIONS = [ecr.BatchGetImage, ecr.DescribeImages, ecr.PutImage]
LOG_GROUP_ACTIONS = [
    logs.CreateLogGroup, logs.DeleteLogGroup, logs.DeleteRetentionPolicy, logs.ListTagsForResource,
    logs.PutRetentionPolicy, logs.TagResource, logs.UntagResource,
]
# The namespace's alarms: CloudFormation creates, changes and deletes them; the stable gate's bake reads them.
ALARM_ACTIONS = [
    cloudwatch.DeleteAlarms, cloudwatch.DescribeAlarms, cloudwatch.ListTagsForResource, cloudwatch.PutMetricAlarm,
    cloudwatch.TagResource, cloudwatch.UntagResource,
]
# A data set's files (hooks/aws/file_copy.py): the source's are read (CopyObject and UploadPartCopy read their
# source, tags included), the namespace's own are copied into, read back and deleted by retention.
SOURCE_FILE_ACTIONS = [s3.GetObject, s3.GetObjectTagging]
OWN_FILE_ACTIONS = [
    s3.AbortMultipartUpload, s3.DeleteObject, s3.GetObject, s3.GetObjectTagging, s3.ListMultipartUploadParts,
    s3.PutObject, s3.PutObjectTagging,
]
FILE_LIST_ACTIONS = [s3.ListBucket]
BUILD_READ_ACTIONS = [codebuild.BatchGetBuilds]
STATUS_WRITE_ACTIONS = [s3.PutObject]
# Actions without resource-level scoping: IAM accepts only "*" for them.
UNSCOPED_READS = [
    ec2.DescribeSecurityGroupRules, ec2.DescribeSecurityGroups, ec2.DescribeSubnets, ec2.DescribeVpcs,
    ecs.DescribeTaskDefinition, elb.DescribeListeners, elb.DescribeRules, elb.DescribeTags,
    elb.DescribeTargetGroupAttributes, elb.DescribeTargetGroups, elb.DescribeTargetHealth, logs.DescribeLogGroups,
    secretsmanager.GetRandomPassword, tag.GetResources,
]
