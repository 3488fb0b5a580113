"""The pipeline's blueprints (artifacts, one deploy project per tenant, the pipeline) and their config."""
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
from hooks import naming
from hooks.config import envfile
from hooks.engine.render import render_blueprint
from hooks.engine.stacker_compat import load_config, make_context
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import REPO_ROOT, config_variables, properties, resources_of_type, tag_problems

PROJECT = "xy-0146"
IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0c6b2f4e-6a51-4c7e-9d1a-000000000003"
GITHUB = {"Namespace": PROJECT, "Source": "codestar-connection", "Repository": "example-org/tenantstack",
          "ConnectionArn": CONNECTION, "BuildImage": IMAGE}
CODECOMMIT = {"Namespace": PROJECT, "Source": "codecommit", "Repository": "tenantstack", "BuildImage": IMAGE}
GOLDEN_CASES = {
    "pipeline-artifacts-xy-0146": (PipelineArtifacts, {"Namespace": PROJECT}),
    "pipeline-deploy-xy-0146-qa": (TenantDeployProject, {"Namespace": "xy-0146-qa", "BuildImage": IMAGE}),
    "pipeline-deploy-xy-0146-prod": (TenantDeployProject, {"Namespace": "xy-0146-prod", "BuildImage": IMAGE}),
    "pipeline-xy-0146-github": (DeliveryPipeline, GITHUB),
    "pipeline-xy-0146-codecommit": (DeliveryPipeline, CODECOMMIT),
}
# IAM's own definitions (parliament's copy in the tools venv): which actions can be scoped.
IAM_DEFINITION = sorted(glob.glob(str(REPO_ROOT / ".tools/lib/python3*/site-packages/parliament/iam_definition.json")))
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
        pytest.param(DeliveryPipeline, GITHUB, naming.project_tags(PROJECT), id="pipeline"),
        pytest.param(DeliveryPipeline, CODECOMMIT, naming.project_tags(PROJECT), id="pipeline-codecommit"),
        pytest.param(TenantDeployProject, {"Namespace": "xy-0146-prod", "BuildImage": IMAGE},
                     naming.tags("xy-0146-prod"), id="deploy-is-the-tenants"),
    ],
)
def test_every_resource_carries_its_namespace_tags(blueprint, variables, tags):
    problems, untagged = tag_problems(render_blueprint(blueprint, variables), tags)
    assert problems == []
    assert untagged <= {"AWS::IAM::ManagedPolicy", "AWS::KMS::Alias", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"}


# --- the pipeline ------------------------------------------------------------------------------


def test_the_pipeline_checks_then_deploys_dev_qa_and_prod_after_an_approval():
    pipeline = properties(render_blueprint(DeliveryPipeline, GITHUB), "Pipeline")
    layout = [
        (stage["Name"], [(action["Name"], action["ActionTypeId"]["Provider"], action["RunOrder"],
                          action["Configuration"].get("ProjectName"),
                          [artifact["Name"] for artifact in action.get("OutputArtifacts", [])])
                         for action in stage["Actions"]])
        for stage in pipeline["Stages"]
    ]
    assert layout == [
        ("Source", [("Source", "CodeStarSourceConnection", 1, None, ["Source"])]),
        ("Check", [("Check", "CodeBuild", 1, {"Ref": "CheckProject"}, [])]),
        ("Dev", [("Deploy", "CodeBuild", 1, "xy-0146-dev-deploy", ["DevStatus"])]),
        ("Qa", [("Deploy", "CodeBuild", 1, "xy-0146-qa-deploy", ["QaStatus"])]),
        ("Prod", [("Approve", "Manual", 1, None, []), ("Deploy", "CodeBuild", 2, "xy-0146-prod-deploy", ["ProdStatus"])]),
    ]
    assert (pipeline["Name"], pipeline["PipelineType"], pipeline["ExecutionMode"]) == (PROJECT, "V2", "QUEUED")
    assert pipeline["ArtifactStore"] == {
        "Type": "S3", "Location": {"Ref": "ArtifactBucketName"},
        "EncryptionKey": {"Type": "KMS", "Id": {"Ref": "ArtifactKeyArn"}},
    }
    approval = pipeline["Stages"][-1]["Actions"][0]["Configuration"]
    assert approval["NotificationArn"] == {"Ref": "NotificationTopicArn"}


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
        "CheckLogGroup", "CheckProject", "CheckRole", "FailureRule", "Pipeline", "PipelineRole"} | extra


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
                     "CodeBuild curated image with Python 3.9, e.g. aws/codebuild/amazonlinux-x86_64-standard:5.0",
                     id="image"),
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
    assert IAM_DEFINITION, "no parliament/iam_definition.json in .tools; run `make setup`"
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
        *[naming.deploy_stack_name("%s-%s" % (PROJECT, env)) for env in naming.PIPELINE_ENVIRONMENTS],
        naming.pipeline_stack_name(PROJECT),
    ]
    deploys = config.stacks[1:-1]
    assert [stack.name for stack in deploys] == [naming.deploy_stack_config_name(e) for e in naming.PIPELINE_ENVIRONMENTS]
    assert config.stacks[-1].requires == [stack.name for stack in deploys]


def test_each_deploy_stack_reads_its_tiers_database_key_and_its_sources():
    config, _ = pipeline_config()
    for stack in config.stacks[1:-1]:
        namespace = naming.parse_namespace(stack.variables["Namespace"])
        source = naming.parse_namespace(namespace.default_source_namespace)
        assert (stack.variables["DatabaseKeyArn"], stack.variables["SourceDatabaseKeyArn"]) == (
            "${xref %s::DatabaseKeyArn}" % naming.tier_stack_name(namespace.shared_namespace),
            "${xref %s::DatabaseKeyArn}" % naming.tier_stack_name(source.shared_namespace),
        )


@pytest.mark.parametrize("blueprint", [PipelineArtifacts, TenantDeployProject, DeliveryPipeline])
def test_variables_match_the_pipeline_config(blueprint):
    defined = set(blueprint(name="x", context=make_context(None, {})).defined_variables())
    class_path = "%s.%s" % (blueprint.__module__, blueprint.__name__)
    optional = {"SourceNamespace"}  # derived from the namespace unless a tenant restores from elsewhere
    assert [variables | (optional & defined) for variables in config_variables(class_path)] == [
        defined] * len(config_variables(class_path))


def test_the_deploy_projects_set_every_variable_the_deploy_buildspec_declares():
    spec = yaml.safe_load((REPO_ROOT / naming.DEPLOY_BUILDSPEC).read_text())
    environment = properties(deploy_template(), "DeployProject")["Environment"]["EnvironmentVariables"]
    assert {variable["Name"] for variable in environment} == set(spec["env"]["variables"])
