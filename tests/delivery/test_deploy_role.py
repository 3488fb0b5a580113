"""The pipeline's roles, evaluated on their rendered policies (tests/security: World, iam_eval).

A deploy role can do what deploying its namespace takes, and cannot touch the pipeline's
source, the other stages' artifacts, its own permissions, the snapshots nothing may lose,
or other namespaces; it makes and changes service roles only with its namespace's
permissions boundary, which it cannot change, remove or swap (what the boundary allows:
tests/security/test_boundary.py); the check and pipeline roles reach no tenant. (The
security gates' isolation proof, tests/security/test_isolation.py, asks every role about
every other tenant's resources; this file asks the delivery-specific questions.) The local endpoint
enforces IAM per action only, so the proof is on the documents.
"""
import pytest

from hooks import naming
from tests.security import iam_eval, isolation
from tests.security.world import ACCOUNT, PARTITION, REGION, World

PROJECT = "xy-0146"
TS = "20261101t090000z"
SOURCE_ZIP = "%sAbCdEf1.zip" % naming.pipeline_artifact_prefix(PROJECT, naming.SOURCE_ARTIFACT)


@pytest.fixture(scope="module")
def world():
    """Every rendered template, the pipeline's included (environments/pipelines/)."""
    return World()


def role_of(world, role_name):
    roles = isolation.roles(world)
    return roles["arn:%s:iam::%s:role/%s" % (PARTITION, ACCOUNT, role_name)]


def allowed(world, role, action, resource, unknown=iam_eval.ABSENT, **context):
    request = iam_eval.Request(action, resource, role.arn, dict(isolation.CONTEXT, **context))
    return iam_eval.evaluate(request, role.documents, isolation.resource_policies(world), unknown) == iam_eval.ALLOWED


def arn(service, resource):
    return isolation.arn(service, resource)


def bucket(world):
    return world.resolve(world.stacks[naming.artifacts_stack_name(PROJECT)], {"Ref": "ArtifactBucket"})


def files_bucket(world, ns):
    """The ARN of the namespace's tier's files bucket."""
    return "arn:aws:s3:::%s" % isolation.tier_output(world, ns.name, "AppFilesBucketName")


def files_object(world, ns, name="uploads/report.pdf"):
    """An object of the namespace's data set of TS."""
    return "%s/%s%s" % (files_bucket(world, ns), naming.files_prefix(ns, TS), name)


def service_role(ns, logical_id="TaskRole"):
    return "arn:aws:iam::%s:role/%s%s-1A2B" % (ACCOUNT, naming.service_role_name_prefix(ns), logical_id)


def boundary(ns):
    return "arn:aws:iam::%s:%s" % (ACCOUNT, naming.permissions_boundary_arn_resource(ns))


def repository(project, container):
    return arn("ecr", naming.image_repository_arn_resource(project, container))


def needs(world, ns):
    """(action, resource, context) a deploy of `ns` makes."""
    tier, source = ns.shared_namespace, naming.parse_namespace(ns.default_source_namespace)
    db, key = naming.db_instance_id(ns, TS), isolation.tier_output(world, ns.name, "DatabaseKeyArn")
    via_rds = {"kms:ViaService": "rds.%s.amazonaws.com" % REGION}
    status = naming.pipeline_artifact_prefix(PROJECT, naming.status_artifact_name(ns))
    return [
        ("cloudformation:CreateStack", arn("cloudformation", "stack/%s/1" % naming.db_stack_name(ns, TS)), {}),
        ("cloudformation:UpdateStack", arn("cloudformation", "stack/%s/1" % naming.service_stack_name(ns)), {}),
        ("cloudformation:DescribeStacks", arn("cloudformation", "stack/%s/1" % naming.vpc_stack_name(tier)), {}),
        ("ssm:PutParameter", arn("ssm", "parameter" + naming.ssm_active_parameter(ns)), {}),
        ("ssm:PutParameter", arn("ssm", "parameter" + naming.ssm_lock_parameter(ns)), {}),
        ("secretsmanager:CreateSecret", arn("secretsmanager", "secret:%s-AbC123" % naming.db_secret_name(ns)), {}),
        ("secretsmanager:GetRandomPassword", "*", {}),
        ("rds:DescribeDBSnapshots", arn("rds", "snapshot:%s" % naming.snapshot_id(source, TS)), {}),
        # hooks.steps.tier_copy: the source snapshot copied under the tier key as <ns>-<ts>, restored, later deleted.
        ("rds:CopyDBSnapshot", arn("rds", "snapshot:%s" % naming.snapshot_id(source, TS)),
         {"aws:RequestTag/Namespace": ns.name}),
        ("rds:CopyDBSnapshot", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS)),
         {"aws:RequestTag/Namespace": ns.name}),
        ("rds:AddTagsToResource", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS)), {}),
        ("rds:DescribeDBSnapshots", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS)), {}),
        ("rds:DeleteDBSnapshot", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS)),
         {"aws:ResourceTag/%s" % naming.COPIED_FROM_TAG: naming.snapshot_id(source, TS)}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS)), {}),
        ("kms:ReEncryptFrom", key, via_rds),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("rds", "db:%s" % db), {}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("rds", "subgrp:%s-databasesubnetgroup-1a2b" % db), {}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("rds", "pg:%s-databaseparametergroup-1a2b"
                                                    % naming.tier_stack_name(tier)), {}),
        ("rds:CreateDBSnapshot", arn("rds", "snapshot:%s" % naming.final_snapshot_id(ns, TS, TS)), {}),
        ("rds:DeleteDBInstance", arn("rds", "db:%s" % db), {}),
        ("rds:DescribeDBInstances", arn("rds", "db:%s" % db), {}),
        ("kms:CreateGrant", key, dict(via_rds, **{"kms:GrantIsForAWSResource": "true"})),
        ("kms:Decrypt", key, via_rds),
        ("ec2:CreateSecurityGroup", arn("ec2", "security-group/sg-1"), {"aws:RequestTag/Namespace": ns.name}),
        ("ec2:AuthorizeSecurityGroupIngress", arn("ec2", "security-group/sg-1"), {"aws:ResourceTag/Namespace": ns.name}),
        ("elasticloadbalancing:CreateRule", arn("elasticloadbalancing", "listener/app/alb/1/2"),
         {"aws:RequestTag/Namespace": ns.name}),
        ("ecs:RegisterTaskDefinition", arn("ecs", "task-definition/%s:3" % naming.task_family(ns)),
         {"aws:RequestTag/Namespace": ns.name}),
        ("ecs:UpdateService", arn("ecs", "service/%s/%s" % (naming.cluster_name(tier), naming.service_name(ns))), {}),
        ("iam:CreateRole", service_role(ns), {"iam:PermissionsBoundary": boundary(ns)}),
        ("iam:PutRolePolicy", service_role(ns), {"iam:PermissionsBoundary": boundary(ns)}),
        ("iam:PassRole", "arn:aws:iam::%s:role/%sTaskRole-1A2B" % (ACCOUNT, naming.service_role_name_prefix(ns)),
         {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
        ("logs:CreateLogGroup", arn("logs", "log-group:%s" % naming.log_group_name(ns)), {}),
        ("logs:PutLogEvents", arn("logs", "log-group:%s:log-stream:x" % naming.codebuild_log_group_name(
            naming.deploy_project_name(ns))), {}),
        ("codebuild:BatchGetBuilds", arn("codebuild", "project/%s" % naming.deploy_project_name(ns)), {}),
        ("s3:GetObject", "arn:aws:s3:::%s/%s" % (bucket(world), SOURCE_ZIP), {}),
        ("s3:PutObject", "arn:aws:s3:::%s/%sXyZ.zip" % (bucket(world), status), {}),
        # hooks.steps.files: <source>/files/<ts>/ read and listed in its tier's bucket, copied (in parts above the
        # threshold) to <ns>/files/<ts>/ in the namespace's; hooks.steps.retention deletes a retired timestamp's.
        ("s3:ListBucket", files_bucket(world, source), {"s3:prefix": naming.files_prefix(source, TS)}),
        ("s3:GetObject", files_object(world, source), {}),
        ("s3:GetObjectTagging", files_object(world, source), {}),
        ("s3:ListBucket", files_bucket(world, ns), {"s3:prefix": naming.files_prefix(ns, TS)}),
        ("s3:PutObject", files_object(world, ns), {}),
        ("s3:AbortMultipartUpload", files_object(world, ns), {}),
        ("s3:GetObject", files_object(world, ns), {}),
        ("s3:DeleteObject", files_object(world, ns), {}),
        # hooks.steps.images: the pinned digest exists, then it gets the tag deployed-<environment>-<digest>.
        ("ecr:DescribeImages", repository(PROJECT, "php"), {}),
        ("ecr:BatchGetImage", repository(PROJECT, "php"), {}),
        ("ecr:PutImage", repository(PROJECT, "nginx"), {}),
    ]


def forbidden(world, ns):
    """(action, resource, context) a deploy of `ns` must never be able to make."""
    other = naming.parse_namespace("xy-0146-prod" if ns.environment != "prod" else "xy-0146-qa")
    source = naming.parse_namespace(ns.default_source_namespace)
    return [
        ("s3:PutObject", "arn:aws:s3:::%s/%s" % (bucket(world), SOURCE_ZIP), {}),  # the code later stages deploy
        ("s3:PutObject", "arn:aws:s3:::%s/%sXyZ.zip" % (
            bucket(world), naming.pipeline_artifact_prefix(PROJECT, naming.status_artifact_name(other))), {}),
        ("iam:PutRolePolicy", "arn:aws:iam::%s:role/%s" % (ACCOUNT, naming.deploy_project_name(ns)), {}),
        ("iam:PassRole", "arn:aws:iam::%s:role/%sTaskRole-1A2B" % (ACCOUNT, naming.service_role_name_prefix(ns)),
         {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("rds:DeleteDBSnapshot", arn("rds", "snapshot:%s" % naming.final_snapshot_id(other, TS, TS)), {}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("rds", "snapshot:%s" % naming.final_snapshot_id(other, TS, TS)), {}),
        ("ec2:AuthorizeSecurityGroupIngress", arn("ec2", "security-group/sg-2"), {"aws:ResourceTag/Namespace": other.name}),
        ("ecs:RegisterTaskDefinition", arn("ecs", "task-definition/%s:3" % naming.task_family(other)), {}),
        ("ssm:GetParameter", arn("ssm", "parameter" + naming.ssm_active_parameter(other)), {}),
        # Every copy it makes is tagged as its namespace's; it deletes only the copies it made.
        ("rds:CopyDBSnapshot", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS)),
         {"aws:RequestTag/Namespace": source.name if source != ns else other.name}),
        ("rds:CopyDBSnapshot", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(other, TS)),
         {"aws:RequestTag/Namespace": ns.name}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("rds", "snapshot:%s" % naming.restore_snapshot_id(other, TS)), {}),
        # Images: it tags what exists, never uploads a layer (so no new content), never another project's.
        ("ecr:InitiateLayerUpload", repository(PROJECT, "php"), {}),
        ("ecr:UploadLayerPart", repository(PROJECT, "php"), {}),
        ("ecr:CompleteLayerUpload", repository(PROJECT, "php"), {}),
        ("ecr:DeleteRepository", repository(PROJECT, "php"), {}),
        ("ecr:BatchDeleteImage", repository(PROJECT, "php"), {}),
        ("ecr:SetRepositoryPolicy", repository(PROJECT, "php"), {}),
        ("ecr:PutLifecyclePolicy", repository(PROJECT, "php"), {}),
        ("ecr:PutImage", repository("ab-0212", "php"), {}),
        ("ecr:DescribeImages", repository("ab-0212", "php"), {}),
        # Files: never another namespace's data sets, nor its own files outside files/ (the application's).
        ("s3:GetObject", files_object(world, other), {}),
        ("s3:PutObject", files_object(world, other), {}),
        ("s3:ListBucket", files_bucket(world, other), {"s3:prefix": naming.files_prefix(other, TS)}),
        ("s3:PutObject", "%s/%suploads/report.pdf" % (files_bucket(world, ns), naming.s3_prefix(ns)), {}),
        ("s3:GetObject", "%s/%suploads/report.pdf" % (files_bucket(world, source), naming.s3_prefix(source)), {}),
    ] + ([] if source == ns else [  # the source's own databases' final snapshots are not promotion sources
        ("rds:DescribeDBSnapshots", arn("rds", "snapshot:%s" % naming.final_snapshot_id(source, TS, TS)), {}),
        ("rds:DeleteDBSnapshot", arn("rds", "snapshot:%s" % naming.snapshot_id(source, TS)),
         {"aws:ResourceTag/%s" % naming.COPIED_FROM_TAG: "x"}),  # the source's snapshots are never deleted
        ("rds:AddTagsToResource", arn("rds", "snapshot:%s" % naming.snapshot_id(source, TS)), {}),
        # The source's files are read, never written or deleted.
        ("s3:PutObject", files_object(world, source), {}),
        ("s3:DeleteObject", files_object(world, source), {}),
    ])


NAMESPACES = [naming.parse_project(PROJECT).namespace(env) for env in naming.PIPELINE_ENVIRONMENTS]


@pytest.mark.parametrize("ns", NAMESPACES, ids=str)
def test_a_deploy_role_copies_only_as_its_namespace_and_deletes_only_the_copies_it_made(world, ns):
    """Absent keys as IAM treats them: an untagged copy, a snapshot without CopiedFrom, a final snapshot
    without RetiredFrom."""
    role = role_of(world, naming.deploy_project_name(ns))
    own = arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, TS))
    assert not allowed(world, role, "rds:CopyDBSnapshot", own)
    assert not allowed(world, role, "rds:DeleteDBSnapshot", own)
    assert allowed(world, role, "rds:CopyDBSnapshot", own, **{"aws:RequestTag/Namespace": ns.name})
    assert allowed(world, role, "rds:DeleteDBSnapshot", own, **{"aws:ResourceTag/CopiedFrom": "xy-0146-dev-" + TS})
    # Retention: its own final snapshots, only those the pipeline made (tag RetiredFrom).
    final = arn("rds", "snapshot:%s" % naming.final_snapshot_id(ns, TS, TS))
    assert not allowed(world, role, "rds:DeleteDBSnapshot", final)
    assert allowed(world, role, "rds:DeleteDBSnapshot", final,
                   **{"aws:ResourceTag/RetiredFrom": naming.db_instance_id(ns, TS)})


@pytest.mark.parametrize("ns", NAMESPACES, ids=str)
def test_a_deploy_role_can_deploy_its_namespace(world, ns):
    role = role_of(world, naming.deploy_project_name(ns))
    denied = [(action, resource) for action, resource, context in needs(world, ns)
              if not allowed(world, role, action, resource, **context)]
    assert denied == []


@pytest.mark.parametrize("ns", NAMESPACES, ids=str)
def test_a_deploy_role_cannot_reach_beyond_its_namespace(world, ns):
    role = role_of(world, naming.deploy_project_name(ns))
    allowed_anyway = [(action, resource) for action, resource, context in forbidden(world, ns)
                      if allowed(world, role, action, resource, iam_eval.ASSUME_ALLOW, **context)]
    assert allowed_anyway == []


@pytest.mark.parametrize("role_name", [naming.check_project_name(PROJECT), naming.pipeline_role_name(PROJECT),
                                       naming.images_project_name(PROJECT)])
def test_the_check_images_and_pipeline_roles_reach_no_tenant(world, role_name):
    role = role_of(world, role_name)
    leaks = [leak for other in isolation.tenant_namespaces(world)
             for leak in isolation.leaks(role, other, world, isolation.resource_policies(world))]
    assert leaks == []


# --- the images build: it pushes the project's two images, and that is all it does to ECR -------------------

IMAGE_PUSH = ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
              "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:DescribeImages")


@pytest.mark.parametrize("container", naming.IMAGE_CONTAINERS)
def test_the_images_role_pushes_to_its_projects_repository_and_reads_the_digest_back(world, container):
    role = role_of(world, naming.images_project_name(PROJECT))
    assert [action for action in IMAGE_PUSH if not allowed(world, role, action, repository(PROJECT, container))] == []
    assert allowed(world, role, "ecr:GetAuthorizationToken", "*")


@pytest.mark.parametrize("action, resource", [
    pytest.param("ecr:PutImage", repository("ab-0212", "php"), id="push-another-projects-image"),
    pytest.param("ecr:InitiateLayerUpload", repository("ab-0212", "nginx"), id="upload-to-another-project"),
    pytest.param("ecr:PutImage", arn("ecr", "repository/xy-0146/redis"), id="a-third-repository-of-the-project"),
    pytest.param("ecr:BatchGetImage", repository("ab-0212", "php"), id="pull-another-projects-image"),
    pytest.param("ecr:BatchDeleteImage", repository(PROJECT, "php"), id="delete-an-image"),
    pytest.param("ecr:PutLifecyclePolicy", repository(PROJECT, "php"), id="change-the-lifecycle-policy"),
    pytest.param("ecr:PutImageTagMutability", repository(PROJECT, "php"), id="make-tags-mutable"),
    pytest.param("ecr:SetRepositoryPolicy", repository(PROJECT, "php"), id="open-the-repository"),
    pytest.param("ecr:CreateRepository", arn("ecr", "repository/xy-0146/other"), id="create-a-repository"),
])
def test_the_images_role_can_do_nothing_else_to_ecr(world, action, resource):
    role = role_of(world, naming.images_project_name(PROJECT))
    assert not allowed(world, role, action, resource, iam_eval.ASSUME_ALLOW)


# --- the permissions boundary: every role it can make or change carries <namespace>-boundary ----------------

ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
OWN, OTHER, NONE = "own", "other", "none"  # which boundary the request names (iam:PermissionsBoundary)
BOUNDARY_CASES = [
    # (id, action, resource: "service-role" | "own-role" | "boundary" | "deploy-stack", boundary named, outcome)
    ("create-with-its-boundary", "iam:CreateRole", "service-role", OWN, iam_eval.ALLOWED),
    ("create-without-boundary", "iam:CreateRole", "service-role", NONE, iam_eval.IMPLICIT_DENY),
    ("create-with-another-namespaces-boundary", "iam:CreateRole", "service-role", OTHER, iam_eval.IMPLICIT_DENY),
    ("create-with-administrator-access", "iam:CreateRole", "service-role", ADMIN_POLICY, iam_eval.IMPLICIT_DENY),
    ("create-outside-the-service-pattern", "iam:CreateRole", "own-role", OWN, iam_eval.IMPLICIT_DENY),
    ("write-policy-of-bounded-role", "iam:PutRolePolicy", "service-role", OWN, iam_eval.ALLOWED),
    ("write-policy-of-unbounded-role", "iam:PutRolePolicy", "service-role", NONE, iam_eval.IMPLICIT_DENY),
    ("write-policy-of-otherwise-bounded-role", "iam:PutRolePolicy", "service-role", OTHER, iam_eval.IMPLICIT_DENY),
    ("delete-policy-of-bounded-role", "iam:DeleteRolePolicy", "service-role", OWN, iam_eval.ALLOWED),
    ("delete-policy-of-unbounded-role", "iam:DeleteRolePolicy", "service-role", NONE, iam_eval.IMPLICIT_DENY),
    ("attach-a-managed-policy", "iam:AttachRolePolicy", "service-role", OWN, iam_eval.IMPLICIT_DENY),
    ("set-its-boundary", "iam:PutRolePermissionsBoundary", "service-role", OWN, iam_eval.ALLOWED),
    ("set-another-boundary", "iam:PutRolePermissionsBoundary", "service-role", OTHER, iam_eval.EXPLICIT_DENY),
    ("set-administrator-access", "iam:PutRolePermissionsBoundary", "service-role", ADMIN_POLICY,
     iam_eval.EXPLICIT_DENY),
    ("remove-the-boundary", "iam:DeleteRolePermissionsBoundary", "service-role", OWN, iam_eval.EXPLICIT_DENY),
    ("remove-any-roles-boundary", "iam:DeleteRolePermissionsBoundary", "own-role", NONE, iam_eval.EXPLICIT_DENY),
    ("create-the-boundary-policy", "iam:CreatePolicy", "boundary", NONE, iam_eval.EXPLICIT_DENY),
    ("new-boundary-version", "iam:CreatePolicyVersion", "boundary", NONE, iam_eval.EXPLICIT_DENY),
    ("switch-boundary-version", "iam:SetDefaultPolicyVersion", "boundary", NONE, iam_eval.EXPLICIT_DENY),
    ("delete-boundary-version", "iam:DeletePolicyVersion", "boundary", NONE, iam_eval.EXPLICIT_DENY),
    ("delete-the-boundary-policy", "iam:DeletePolicy", "boundary", NONE, iam_eval.EXPLICIT_DENY),
    ("read-its-own-deploy-stack", "cloudformation:DescribeStacks", "deploy-stack", NONE, iam_eval.ALLOWED),
    ("update-its-own-deploy-stack", "cloudformation:UpdateStack", "deploy-stack", NONE, iam_eval.EXPLICIT_DENY),
    ("change-set-on-its-own-deploy-stack", "cloudformation:CreateChangeSet", "deploy-stack", NONE,
     iam_eval.EXPLICIT_DENY),
    ("delete-its-own-deploy-stack", "cloudformation:DeleteStack", "deploy-stack", NONE, iam_eval.EXPLICIT_DENY),
]


def boundary_case_request(role, ns, action, resource, named):
    other = naming.parse_namespace("xy-0146-prod" if ns.environment != "prod" else "xy-0146-qa")
    resources = {
        "service-role": service_role(ns),
        "own-role": "arn:aws:iam::%s:role/%s" % (ACCOUNT, naming.deploy_project_name(ns)),
        "boundary": boundary(ns),
        "deploy-stack": arn("cloudformation", "stack/%s/1" % naming.deploy_stack_name(ns)),
    }
    named_boundary = {OWN: boundary(ns), OTHER: boundary(other), NONE: None}.get(named, named)
    context = dict(isolation.CONTEXT, **({"iam:PermissionsBoundary": named_boundary} if named_boundary else {}))
    return iam_eval.Request(action, resources[resource], role.arn, context)


@pytest.mark.parametrize("ns", NAMESPACES, ids=str)
@pytest.mark.parametrize("action, resource, named, outcome", [case[1:] for case in BOUNDARY_CASES],
                         ids=[case[0] for case in BOUNDARY_CASES])
def test_a_deploy_role_makes_and_changes_roles_only_within_its_namespaces_boundary(
        world, ns, action, resource, named, outcome):
    role = role_of(world, naming.deploy_project_name(ns))
    request = boundary_case_request(role, ns, action, resource, named)
    # The context is complete: a key the request leaves out is absent, as IAM sees it.
    assert iam_eval.evaluate(request, role.documents, isolation.resource_policies(world)) == outcome
