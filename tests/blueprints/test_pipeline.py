"""The pipeline's blueprints (artifacts, images, one deploy project per tenant, the pipeline) and their config."""
import glob
import json
import re

import pytest
import yaml
from troposphere import encode_to_dict

from blueprints import service_iam
from blueprints.base import BlueprintError
from blueprints.pipeline import DeliveryPipeline
from blueprints.pipeline_artifacts import PipelineArtifacts
from blueprints.pipeline_deploy import TenantDeployProject
from blueprints.pipeline_images import ProjectImages
from hooks import naming
from hooks.config import envfile
from hooks.engine.render import render_blueprint
from hooks.engine.stacker_compat import load_config, make_context
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import REPO_ROOT, config_variables, properties, resources_of_type, tag_problems

PROJECT = "xy-0146"
IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0c6b2f4e-6a51-4c7e-9d1a-000000000003"
CA_BUNDLE_SHA256 = "0123456789abcdef" * 4
GITHUB = {"Namespace": PROJECT, "Source": "codestar-connection", "Repository": "example-org/tenantstack",
          "ConnectionArn": CONNECTION, "BuildImage": IMAGE, "RdsCaBundleSha256": CA_BUNDLE_SHA256}
CODECOMMIT = {"Namespace": PROJECT, "Source": "codecommit", "Repository": "tenantstack", "BuildImage": IMAGE,
              "RdsCaBundleSha256": CA_BUNDLE_SHA256}
PINNED_BY_ENV_FILES = dict(GITHUB, Images="env-files", RdsCaBundleSha256="")
GOLDEN_CASES = {
    "pipeline-artifacts-xy-0146": (PipelineArtifacts, {"Namespace": PROJECT}),
    "pipeline-images-xy-0146": (ProjectImages, {"Namespace": PROJECT}),
    "pipeline-deploy-xy-0146-qa": (TenantDeployProject, {"Namespace": "xy-0146-qa", "BuildImage": IMAGE}),
    "pipeline-deploy-xy-0146-prod": (TenantDeployProject, {"Namespace": "xy-0146-prod", "BuildImage": IMAGE}),
    "pipeline-xy-0146-github": (DeliveryPipeline, GITHUB),
    "pipeline-xy-0146-codecommit": (DeliveryPipeline, CODECOMMIT),
    "pipeline-xy-0146-snapshot": (DeliveryPipeline, dict(GITHUB, DataSource="snapshot")),
    "pipeline-deploy-xy-0146-dev-snapshot": (TenantDeployProject, {"Namespace": "xy-0146-dev", "BuildImage": IMAGE,
                                                                   "DataSource": "snapshot"}),
}
# IAM's own definitions (parliament's copy in the tools venv): which actions can be scoped.
IAM_DEFINITION = sorted(glob.glob(str(REPO_ROOT / ".venv-cfngin/lib/python3*/site-packages/parliament/iam_definition.json")))
MANAGED_POLICY_LIMIT = 6144
ANY_NAMESPACE = re.compile(r"[a-z][a-z0-9]{1,5}-[0-9]{4}-(?:dev|qa|uat|stage|prod)")


def deploy_template(namespace="xy-0146-qa"):
    return render_blueprint(TenantDeployProject, {"Namespace": namespace, "BuildImage": IMAGE})


def deploy_statements(namespace="xy-0146-qa"):
    template = deploy_template(namespace)
    return [
        statement
        for policy in resources_of_type(template, "AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    blueprint, variables = GOLDEN_CASES[case_id]
    assert_matches_golden(case_id, blueprint, variables)


@pytest.mark.parametrize(
    "blueprint, variables, tags",
    [
        pytest.param(PipelineArtifacts, {"Namespace": PROJECT}, naming.project_tags(PROJECT), id="artifacts"),
        pytest.param(ProjectImages, {"Namespace": PROJECT}, naming.project_tags(PROJECT), id="images"),
        pytest.param(DeliveryPipeline, GITHUB, naming.project_tags(PROJECT), id="pipeline"),
        pytest.param(DeliveryPipeline, CODECOMMIT, naming.project_tags(PROJECT), id="pipeline-codecommit"),
        pytest.param(TenantDeployProject, {"Namespace": "xy-0146-prod", "BuildImage": IMAGE},
                     naming.tags("xy-0146-prod"), id="deploy-is-the-tenants"),
        pytest.param(TenantDeployProject, {"Namespace": "xy-0146-dev", "BuildImage": IMAGE, "DataSource": "snapshot"},
                     naming.tags("xy-0146-dev"), id="snapshot-build-is-the-dev-tenants"),
    ],
)
def test_every_resource_carries_its_namespace_tags(blueprint, variables, tags):
    problems, untagged = tag_problems(render_blueprint(blueprint, variables), tags)
    assert problems == []
    assert untagged <= {"AWS::IAM::ManagedPolicy", "AWS::KMS::Alias", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"}


# --- the pipeline ------------------------------------------------------------------------------


def layout_of(pipeline):
    """(stage, [(action, provider, run order, project, output artifacts, variable namespace)]) of every stage."""
    return [
        (stage["Name"], [(action["Name"], action["ActionTypeId"]["Provider"], action["RunOrder"],
                          action["Configuration"].get("ProjectName"),
                          [artifact["Name"] for artifact in action.get("OutputArtifacts", [])], action.get("Namespace"))
                         for action in stage["Actions"]])
        for stage in pipeline["Stages"]
    ]


def test_the_pipeline_checks_builds_the_images_then_deploys_dev_qa_and_prod_after_an_approval():
    pipeline = properties(render_blueprint(DeliveryPipeline, GITHUB), "Pipeline")
    assert layout_of(pipeline) == [
        ("Source", [("Source", "CodeStarSourceConnection", 1, None, ["Source"], None)]),
        ("Check", [("Check", "CodeBuild", 1, {"Ref": "CheckProject"}, [], None)]),
        ("Images", [("Build", "CodeBuild", 1, {"Ref": "ImagesProject"}, [], "Images")]),
        ("Dev", [("Deploy", "CodeBuild", 1, "xy-0146-dev-deploy", ["DevStatus"], None)]),
        ("Qa", [("Deploy", "CodeBuild", 1, "xy-0146-qa-deploy", ["QaStatus"], None)]),
        ("Prod", [("Approve", "Manual", 1, None, [], None),
                  ("Deploy", "CodeBuild", 2, "xy-0146-prod-deploy", ["ProdStatus"], None)]),
    ]
    assert (pipeline["Name"], pipeline["PipelineType"], pipeline["ExecutionMode"]) == (PROJECT, "V2", "QUEUED")
    assert pipeline["ArtifactStore"] == {
        "Type": "S3", "Location": {"Ref": "ArtifactBucketName"},
        "EncryptionKey": {"Type": "KMS", "Id": {"Ref": "ArtifactKeyArn"}},
    }
    approval = pipeline["Stages"][-1]["Actions"][0]["Configuration"]
    assert approval["NotificationArn"] == {"Ref": "NotificationTopicArn"}


def deploy_configurations(pipeline):
    return [action["Configuration"] for stage in pipeline["Stages"] for action in stage["Actions"]
            if action["Name"] == "Deploy"]


def test_every_deploy_action_gets_the_images_the_images_action_exports():
    pipeline = properties(render_blueprint(DeliveryPipeline, GITHUB), "Pipeline")
    exported = yaml.safe_load((REPO_ROOT / naming.IMAGES_BUILDSPEC).read_text())["env"]["exported-variables"]
    expected = [{"name": name, "type": "PLAINTEXT", "value": "#{Images.%s}" % name}
                for name in ("NGINX_IMAGE", "PHP_IMAGE")]
    configurations = deploy_configurations(pipeline)
    assert len(configurations) == len(naming.PIPELINE_ENVIRONMENTS)
    for configuration in configurations:
        assert json.loads(configuration["EnvironmentVariables"]) == expected
    assert {variable["name"] for variable in expected} <= set(exported)  # what is read is what images.yml exports


def test_with_images_pinned_by_the_env_files_there_is_no_images_build():
    template = render_blueprint(DeliveryPipeline, PINNED_BY_ENV_FILES)
    pipeline = properties(template, "Pipeline")
    assert [stage["Name"] for stage in pipeline["Stages"]] == ["Source", "Check", "Dev", "Qa", "Prod"]
    assert all("EnvironmentVariables" not in configuration for configuration in deploy_configurations(pipeline))
    assert not {"ImagesProject", "ImagesRole", "ImagesLogGroup"} & set(template["Resources"])
    (run_builds,) = [statement for statement in properties(template, "PipelineRole")["Policies"][0]["PolicyDocument"][
        "Statement"] if statement["Sid"] == "RunProjectBuilds"]
    assert "project/xy-0146-images" not in json.dumps(run_builds)


@pytest.mark.parametrize(
    "variables, source, extra",
    [
        pytest.param(GITHUB, {"ConnectionArn": CONNECTION, "FullRepositoryId": "example-org/tenantstack",
                              "BranchName": "main", "OutputArtifactFormat": "CODE_ZIP", "DetectChanges": "true"},
                     set(), id="github"),
        pytest.param(CODECOMMIT, {"RepositoryName": "tenantstack", "BranchName": "main",
                                  "PollForSourceChanges": "false", "OutputArtifactFormat": "CODE_ZIP"},
                     {"SourceRole", "SourceRule"}, id="codecommit-push-starts-it"),
    ],
)
def test_the_source_is_parameterised(variables, source, extra):
    template = render_blueprint(DeliveryPipeline, variables)
    assert properties(template, "Pipeline")["Stages"][0]["Actions"][0]["Configuration"] == source
    assert set(template["Resources"]) == {
        "CheckLogGroup", "CheckProject", "CheckRole", "FailureRule", "ImagesLogGroup", "ImagesProject", "ImagesRole",
        "Pipeline", "PipelineRole"} | extra


def test_a_failed_execution_is_published_to_the_topic():
    rule = properties(render_blueprint(DeliveryPipeline, GITHUB), "FailureRule")
    assert rule["EventPattern"] == {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"pipeline": [PROJECT], "state": ["FAILED"]},
    }
    assert rule["Targets"] == [{"Id": "NotificationTopic", "Arn": {"Ref": "NotificationTopicArn"}}]


@pytest.mark.parametrize(
    "change, problem",
    [
        pytest.param({"ConnectionArn": ""}, "env key connection_arn is missing: source codestar-connection needs the "
                     "connection's ARN", id="github-without-connection"),
        pytest.param({"Source": "codecommit", "Repository": "tenantstack"},
                     "env key connection_arn is invalid: source codecommit uses no connection; remove it",
                     id="codecommit-with-connection"),
        pytest.param({"Repository": "tenantstack"}, "env key repository 'tenantstack' is invalid: source "
                     "codestar-connection expects owner/name", id="github-repository-shape"),
        pytest.param({"BuildImage": "ubuntu:latest"}, "env key build_image 'ubuntu:latest' is invalid: expected a "
                     "CodeBuild curated image with Python 3.12 (the supported engine) and apt (the tests' "
                     "Debian packages), e.g. aws/codebuild/standard:7.0",
                     id="image"),
        pytest.param({"RdsCaBundleSha256": ""}, "env key rds_ca_bundle_sha256 is missing: images build needs the "
                     "SHA-256 of the RDS CA bundle the php image trusts (docs/application.md, \"TLS to the database\")",
                     id="images-build-without-ca-bundle-sha256"),
        pytest.param({"Images": "env-files"}, "env key rds_ca_bundle_sha256 is invalid: images env-files builds no "
                     "image; remove it", id="env-files-with-ca-bundle-sha256"),
        pytest.param({"ImageContext": "app/../secrets"}, "env key image_context 'app/../secrets' is invalid: expected "
                     "a directory of the repository, relative to its root, without '..', such as app",
                     id="context-climbs-out"),
        pytest.param({"ImageContext": "/srv/app"}, "env key image_context '/srv/app' is invalid: expected "
                     "a directory of the repository, relative to its root, without '..', such as app",
                     id="context-absolute"),
        pytest.param({"RdsCaBundleSha256": "ABC"}, "env key rds_ca_bundle_sha256 'ABC' is invalid: expected the "
                     "SHA-256 of the RDS CA bundle: 64 lower-case hex digits", id="ca-bundle-sha256-shape"),
        pytest.param({"Images": "docker-hub"}, "env key images 'docker-hub' is invalid: expected one of build, "
                     "env-files", id="images-choice"),
    ],
)
def test_bad_pipeline_variables_are_refused_with_the_env_file_rule(change, problem):
    with pytest.raises(BlueprintError) as error:
        render_blueprint(DeliveryPipeline, dict(GITHUB, **change))
    assert str(error.value).startswith("blueprint DeliveryPipeline, variable Source/Repository/Branch/ConnectionArn/")
    assert str(error.value).endswith(": %s" % problem)


def test_a_tenant_namespace_is_no_project():
    with pytest.raises(BlueprintError) as error:
        render_blueprint(PipelineArtifacts, {"Namespace": "xy-0146-qa"})
    assert str(error.value) == (
        "blueprint PipelineArtifacts, variable Namespace: 'xy-0146-qa' is invalid: expected a project %s, e.g. "
        "xy-0146 (pattern %s)" % (naming.PROJECT_SHAPE, naming.PROJECT_PATTERN)
    )


# --- artifacts -----------------------------------------------------------------------------------


def test_the_artifact_bucket_is_kms_encrypted_versioned_private_tls_only_and_expires():
    template = render_blueprint(PipelineArtifacts, {"Namespace": PROJECT, "ArtifactRetentionDays": 14})
    bucket = properties(template, "ArtifactBucket")
    assert bucket["BucketName"] == {"Fn::Sub": "xy-0146-pipeline-${AWS::AccountId}-${AWS::Region}"}
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]}}}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    (lifecycle,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (lifecycle["ExpirationInDays"], lifecycle["NoncurrentVersionExpiration"]) == (14, {"NoncurrentDays": 1})
    (deny,) = properties(template, "ArtifactBucketPolicy")["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Action"], deny["Condition"]) == (
        "Deny", "s3:*", {"Bool": {"aws:SecureTransport": "false"}})
    assert properties(template, "ArtifactKey")["EnableKeyRotation"] is True
    assert properties(template, "NotificationTopic")["KmsMasterKeyId"] == {"Ref": "ArtifactKey"}


# --- images: the repositories and the images build ------------------------------------------------


def images_template(**variables):
    return render_blueprint(ProjectImages, dict({"Namespace": PROJECT}, **variables))


def lifecycle_rules(template, logical_id):
    text = properties(template, logical_id)["LifecyclePolicy"]["LifecyclePolicyText"]
    return json.loads(text)["rules"]


@pytest.mark.parametrize("logical_id, name", [("NginxRepository", "xy-0146/nginx"), ("PhpRepository", "xy-0146/php")])
def test_each_container_has_an_immutable_scanned_encrypted_retained_repository(logical_id, name):
    template = images_template()
    repository = template["Resources"][logical_id]
    assert (repository["Type"], repository["DeletionPolicy"], repository["UpdateReplacePolicy"]) == (
        "AWS::ECR::Repository", "Retain", "Retain")
    found = repository["Properties"]
    assert (found["RepositoryName"], found["ImageTagMutability"]) == (name, "IMMUTABLE")
    assert found["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert found["EncryptionConfiguration"] == {"EncryptionType": "AES256"}
    assert name == naming.image_repository_name(PROJECT, logical_id[:-len("Repository")].lower())
    assert {"%s%s" % (logical_id, attribute) for attribute in ("Name", "Arn", "Uri")} <= set(template["Outputs"])


def ecr_lifecycle_problems(rules):
    """What ECR refuses in a lifecycle policy (its "Lifecycle policy properties")."""
    problems = []
    priorities = [rule["rulePriority"] for rule in rules]
    if len(set(priorities)) != len(priorities):
        problems.append("rule priorities are not unique")
    for rule in rules:
        selection = rule["selection"]
        has_tags = "tagPrefixList" in selection or "tagPatternList" in selection
        if (selection["tagStatus"] == "tagged") != has_tags:
            problems.append("rule %d: a tag list goes with tagStatus tagged only" % rule["rulePriority"])
        if selection["tagStatus"] == "any" and rule["rulePriority"] != max(priorities):
            problems.append("rule %d: tagStatus any must have the highest rulePriority" % rule["rulePriority"])
        if (selection["countType"] == "sinceImagePushed") != ("countUnit" in selection):
            problems.append("rule %d: countUnit goes with sinceImagePushed only" % rule["rulePriority"])
        if rule["action"] != {"type": "expire"}:
            problems.append("rule %d: the action is expire" % rule["rulePriority"])
    return problems


def test_the_lifecycle_policy_keeps_deployed_images_expires_untagged_ones_and_old_builds():
    template = images_template(ImageBuildsKept=12)
    rules = lifecycle_rules(template, "NginxRepository")
    assert rules == lifecycle_rules(template, "PhpRepository")
    assert ecr_lifecycle_problems(rules) == []
    assert [(rule["rulePriority"], rule["selection"]) for rule in rules] == [
        (1, {"tagStatus": "tagged", "tagPrefixList": ["deployed-"], "countType": "imageCountMoreThan",
             "countNumber": 10000}),
        (2, {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}),
        (3, {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 12}),
    ]


@pytest.mark.parametrize("rules, problem", [
    pytest.param([{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                                    "countNumber": 1}, "action": {"type": "expire"}},
                  {"rulePriority": 2, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan",
                                                    "countNumber": 1}, "action": {"type": "expire"}}],
                 "rule 1: tagStatus any must have the highest rulePriority", id="any-first"),
    pytest.param([{"rulePriority": 1, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan",
                                                    "countNumber": 1}, "action": {"type": "expire"}}],
                 "rule 1: a tag list goes with tagStatus tagged only", id="tagged-without-prefixes"),
])
def test_the_lifecycle_check_finds_what_ecr_refuses(rules, problem):
    assert ecr_lifecycle_problems(rules) == [problem]


def test_only_a_deploys_tag_is_protected_and_no_commit_tag_can_look_like_one():
    (protect, *_), digest = lifecycle_rules(images_template(), "PhpRepository"), "sha256:" + "0f" * 32
    (prefix,) = protect["selection"]["tagPrefixList"]
    assert naming.deployed_tag("xy-0146-prod", digest) == "deployed-prod-" + "0f" * 32
    assert all(naming.deployed_tag("xy-0146-%s" % env, digest).startswith(prefix) for env in naming.ENVIRONMENTS)
    assert not re.match(r"^[0-9a-f]+$", prefix)  # the Images stage tags by commit id (hex): never protected by it


def test_images_builds_kept_is_bounded():
    with pytest.raises(BlueprintError) as error:
        images_template(ImageBuildsKept=0)
    assert str(error.value) == (
        "blueprint ProjectImages, variable ImageBuildsKept: 0 is invalid: expected 1 to 1000 images")


def test_the_images_build_is_privileged_runs_the_images_buildspec_and_gets_every_variable_it_declares():
    project = properties(render_blueprint(DeliveryPipeline, GITHUB), "ImagesProject")
    assert (project["Name"], project["Source"], project["ConcurrentBuildLimit"]) == (
        "xy-0146-images", {"Type": "CODEPIPELINE", "BuildSpec": naming.IMAGES_BUILDSPEC}, 1)
    assert (project["Environment"]["PrivilegedMode"], project["EncryptionKey"]) == (True, {"Ref": "ArtifactKeyArn"})
    variables = {variable["Name"]: variable["Value"] for variable in project["Environment"]["EnvironmentVariables"]}
    assert variables == {
        "IMAGE_REGISTRY": {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}"},
        "IMAGE_CONTEXT": "app", "RDS_CA_BUNDLE_SHA256": CA_BUNDLE_SHA256,
        "NGINX_REPOSITORY": "xy-0146/nginx", "PHP_REPOSITORY": "xy-0146/php",
    }
    spec = yaml.safe_load((REPO_ROOT / naming.IMAGES_BUILDSPEC).read_text())
    assert set(variables) == set(spec["env"]["variables"])
    check = properties(render_blueprint(DeliveryPipeline, GITHUB), "CheckProject")
    assert check["Environment"]["PrivilegedMode"] is False  # only the images build runs docker


def test_the_images_role_pushes_to_the_projects_two_repositories_only():
    template = render_blueprint(DeliveryPipeline, GITHUB)
    (policy,) = properties(template, "ImagesRole")["Policies"]
    found = {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}
    repository = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/xy-0146/%s"
    assert found["PushProjectImages"]["Resource"] == [{"Fn::Sub": repository % c} for c in ("nginx", "php")]
    assert found["PushProjectImages"]["Action"] == [
        "ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:DescribeImages", "ecr:InitiateLayerUpload",
        "ecr:PutImage", "ecr:UploadLayerPart"]
    starred = [statement for statement in found.values() if statement["Resource"] == "*"]
    assert starred == [found["AuthorizeRegistry"]] and found["AuthorizeRegistry"]["Action"] == [
        "ecr:GetAuthorizationToken"]
    assert properties(template, "ImagesRole")["RoleName"] == naming.images_project_name(PROJECT)


# --- one deploy project per tenant ------------------------------------------------------------


def test_the_deploy_project_runs_the_deploy_buildspec_for_the_tenants_env_file_one_build_at_a_time():
    project = properties(deploy_template("xy-0146-qa"), "DeployProject")
    assert (project["Name"], project["Source"], project["ConcurrentBuildLimit"]) == (
        "xy-0146-qa-deploy", {"Type": "CODEPIPELINE", "BuildSpec": naming.DEPLOY_BUILDSPEC}, 1)
    assert project["Environment"]["EnvironmentVariables"] == [
        {"Name": "ENV_FILE", "Type": "PLAINTEXT", "Value": "environments/xy-0146-qa.env"}]
    assert (project["Environment"]["PrivilegedMode"], project["EncryptionKey"]) == (False, {"Ref": "ArtifactKeyArn"})
    assert project["Cache"]["Location"] == {"Fn::Sub": "${ArtifactBucketName}/codebuild-cache/xy-0146-qa-deploy/"}


@pytest.mark.parametrize("namespace", ["xy-0146-dev", "xy-0146-qa", "xy-0146-prod"])
def test_the_deploy_role_names_no_other_namespace(namespace):
    own = {namespace, naming.parse_namespace(namespace).default_source_namespace}
    named = set(ANY_NAMESPACE.findall(json.dumps(deploy_statements(namespace))))
    assert named <= own, "the role of %s names %s" % (namespace, sorted(named - own))


def test_every_star_resource_is_an_action_iam_cannot_scope():
    assert IAM_DEFINITION, "no parliament/iam_definition.json in .venv-cfngin; run `make setup`"
    scopable = {
        "%s:%s" % (service["prefix"], privilege["privilege"])
        for service in json.loads(open(IAM_DEFINITION[0]).read())
        for privilege in service["privileges"]
        if any(resource["resource_type"] for resource in privilege["resource_types"])
    }
    starred = sorted({action for statement in deploy_statements() if statement["Resource"] == "*"
                      for action in statement["Action"]})
    assert starred and [action for action in starred if action in scopable] == []


def test_each_deploy_policy_fits_a_managed_policy_with_room_to_grow():
    for logical_id, policy in resources_of_type(deploy_template("xy-0146-prod"), "AWS::IAM::ManagedPolicy").items():
        text = json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))
        assert len(text) < 0.8 * MANAGED_POLICY_LIMIT, "%s: %d characters" % (logical_id, len(text))


def test_the_deploy_stack_holds_the_namespaces_service_boundary_attached_to_nothing():
    template = deploy_template("xy-0146-qa")
    boundary = template["Resources"]["ServiceBoundary"]
    assert boundary["Type"] == "AWS::IAM::ManagedPolicy"
    assert set(boundary["Properties"]) == {"Description", "ManagedPolicyName", "PolicyDocument"}
    assert boundary["Properties"]["ManagedPolicyName"] == naming.permissions_boundary_name("xy-0146-qa") == (
        "xy-0146-qa-boundary")
    assert boundary["Properties"]["PolicyDocument"] == encode_to_dict(service_iam.permissions_boundary("xy-0146-qa"))
    assert template["Outputs"]["ServiceBoundaryArn"]["Value"] == {"Ref": "ServiceBoundary"}


def test_the_deploy_role_changes_service_roles_only_with_the_boundary_and_never_the_boundary_itself():
    found = {statement["Sid"]: statement for statement in deploy_statements("xy-0146-qa")}
    boundary = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/xy-0146-qa-boundary"}
    roles = [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/xy-0146-qa-service-*"}]
    any_role = [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}]
    assert found["ManageServiceRolesWithinBoundary"] == {
        "Sid": "ManageServiceRolesWithinBoundary", "Effect": "Allow", "Resource": roles,
        "Action": ["iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"],
        "Condition": {"ArnEquals": {"iam:PermissionsBoundary": boundary}},
    }
    assert found["KeepRoleBoundaries"] == {"Sid": "KeepRoleBoundaries", "Effect": "Deny", "Resource": any_role,
                                           "Action": ["iam:DeleteRolePermissionsBoundary"]}
    assert found["OnlyTheNamespaceBoundary"] == {
        "Sid": "OnlyTheNamespaceBoundary", "Effect": "Deny", "Resource": any_role,
        "Action": ["iam:PutRolePermissionsBoundary"], "Condition": {"ArnNotEquals": {"iam:PermissionsBoundary": boundary}},
    }
    assert found["KeepBoundaryPolicy"]["Effect"] == "Deny" and found["KeepBoundaryPolicy"]["Resource"] == [boundary]
    allowed = {action for statement in found.values() if statement["Effect"] == "Allow"
               for action in statement["Action"]}
    assert sorted(a for a in allowed if a.startswith("iam:")) == [  # no managed policy, no attaching, no removal
        "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:PassRole", "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole"]
    own_stack = {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/"
                            "xy-0146-qa-deploy/*"}
    assert (found["KeepOwnDeployStack"]["Effect"], found["KeepOwnDeployStack"]["Resource"]) == ("Deny", [own_stack])
    assert "cloudformation:UpdateStack" in found["KeepOwnDeployStack"]["Action"]
    assert not [a for a in found["KeepOwnDeployStack"]["Action"] if a.split(":")[1].startswith(("Describe", "Get"))]


@pytest.mark.parametrize(
    "variables, rule",
    [
        pytest.param({"Namespace": "common-prod"}, "it is a shared namespace", id="shared-namespace"),
        pytest.param({"Namespace": "xy-0146-qa", "SourceNamespace": "ab-0212-dev"},
                     "a tenant restores only from its own project's snapshots (xy-0146-*)", id="foreign-source"),
        pytest.param({"Namespace": "xy-0146-qa", "BuildImage": "python:3.9"},
                     "expected a CodeBuild curated image such as aws/codebuild/amazonlinux-x86_64-standard:5.0",
                     id="image"),
    ],
)
def test_bad_deploy_variables_are_refused(variables, rule):
    with pytest.raises(BlueprintError) as error:
        render_blueprint(TenantDeployProject, dict({"BuildImage": IMAGE}, **variables))
    assert rule in str(error.value)


# --- stacker/pipeline.yaml ---------------------------------------------------------------------


def pipeline_config():
    env = envfile.parse((REPO_ROOT / naming.pipeline_env_file_path(PROJECT)).read_text())
    config = load_config((REPO_ROOT / "stacker" / "pipeline.yaml").read_text(), env)
    return config, make_context(config, env)


def test_the_config_builds_one_deploy_stack_per_stage_named_as_the_naming_module_does():
    config, context = pipeline_config()
    assert [context.get_fqn(stack.name) for stack in config.stacks] == [
        naming.artifacts_stack_name(PROJECT),
        naming.images_stack_name(PROJECT),
        *[naming.deploy_stack_name("%s-%s" % (PROJECT, env)) for env in naming.PIPELINE_ENVIRONMENTS],
        naming.pipeline_stack_name(PROJECT),
        naming.fleet_stack_name(PROJECT),  # tests/blueprints/test_pipeline_fleet.py
    ]
    images, deploys = config.stacks[1], config.stacks[2:-2]
    assert images.name == naming.IMAGES_STACK
    assert [stack.name for stack in deploys] == [naming.deploy_stack_config_name(e) for e in naming.PIPELINE_ENVIRONMENTS]
    assert config.stacks[-2].requires == [images.name] + [stack.name for stack in deploys]


def test_each_deploy_stack_reads_its_tiers_database_key_and_its_sources():
    config, _ = pipeline_config()
    for stack in config.stacks[2:-2]:
        namespace = naming.parse_namespace(stack.variables["Namespace"])
        source = naming.parse_namespace(namespace.default_source_namespace)
        assert (stack.variables["DatabaseKeyArn"], stack.variables["SourceDatabaseKeyArn"]) == (
            "${xref %s::DatabaseKeyArn}" % naming.tier_stack_name(namespace.shared_namespace),
            "${xref %s::DatabaseKeyArn}" % naming.tier_stack_name(source.shared_namespace),
        )


@pytest.mark.parametrize("blueprint", [PipelineArtifacts, ProjectImages, TenantDeployProject, DeliveryPipeline])
def test_variables_match_the_pipeline_config(blueprint):
    defined = set(blueprint(name="x", context=make_context(None, {})).variable_definitions())
    class_path = "%s.%s" % (blueprint.__module__, blueprint.__name__)
    optional = {"SourceNamespace"}  # derived from the namespace unless a tenant restores from elsewhere
    assert [variables | (optional & defined) for variables in config_variables(class_path)] == [
        defined] * len(config_variables(class_path))


def test_the_deploy_projects_and_actions_set_every_variable_the_deploy_buildspec_declares():
    spec = yaml.safe_load((REPO_ROOT / naming.DEPLOY_BUILDSPEC).read_text())
    environment = properties(deploy_template(), "DeployProject")["Environment"]["EnvironmentVariables"]
    snapshotting = dict(GITHUB, DataSource="snapshot")  # the qa deploy also gets the snapshot's DB_TIMESTAMP
    (_, action, _) = deploy_configurations(properties(render_blueprint(DeliveryPipeline, snapshotting), "Pipeline"))
    from_action = {variable["name"] for variable in json.loads(action["EnvironmentVariables"])}
    assert {variable["Name"] for variable in environment} | from_action == set(spec["env"]["variables"])
    assert from_action == {naming.image_variable(container) for container in naming.IMAGE_CONTAINERS} | {
        naming.DB_TIMESTAMP_VARIABLE}
