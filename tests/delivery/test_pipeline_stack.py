"""A smoke deploy of stacker/pipeline.yaml against the local endpoint with the real stacker CLI.

moto 5.2's CloudFormation accepts AWS::CodeBuild::Project and AWS::CodePipeline::Pipeline
but creates neither (its CodeBuild and CodePipeline APIs then know nothing of them), so
this checks the stacks, the roles with their policies, the bucket, key, topic, rule and image
repositories;
the pipeline's and projects' shape is checked on the rendered templates
(tests/blueprints/test_pipeline.py) and by the gates.
"""
import json

import pytest

from blueprints import pipeline_deploy
from hooks import naming
from tests.e2e.stacker_cli import build
from tests.e2e.tenants import Tenants

PROJECT = "xy-0146"


@pytest.mark.e2e
def test_the_pipeline_config_builds_against_the_local_endpoint(aws):
    tenants = Tenants(aws)
    # images=False: this config's <project>-images stack creates the repositories the tenants' images go to
    tenants.tier("common-nonprod", images=False)
    tenants.tier("common-prod", images=False)  # the prod deploy role reads the prod tier's database key
    result = build(tenants.env, naming.pipeline_env_file_path(PROJECT), "stacker/pipeline.yaml")
    assert "environment of %s is valid" % PROJECT in result.stderr

    namespaces = [naming.parse_project(PROJECT).namespace(env) for env in naming.PIPELINE_ENVIRONMENTS]
    expected_stacks = [naming.artifacts_stack_name(PROJECT), naming.images_stack_name(PROJECT),
                       *map(naming.deploy_stack_name, namespaces), naming.pipeline_stack_name(PROJECT),
                       naming.fleet_stack_name(PROJECT)]
    stacks = {s["StackName"]: s["StackStatus"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]}
    assert {name: stacks.get(name) for name in expected_stacks} == dict.fromkeys(expected_stacks, "CREATE_COMPLETE")

    iam = aws.client("iam")
    for namespace in namespaces:
        attached = iam.list_attached_role_policies(RoleName=naming.deploy_project_name(namespace))["AttachedPolicies"]
        logical_ids = sorted(policy["PolicyName"].split("-deploy-", 1)[1].rsplit("-", 1)[0] for policy in attached)
        assert logical_ids == sorted(logical_id for logical_id, _ in pipeline_deploy.POLICIES), attached
        boundary = "arn:aws:iam::123456789012:%s" % naming.permissions_boundary_arn_resource(namespace)
        assert iam.get_policy(PolicyArn=boundary)["Policy"]["AttachmentCount"] == 0  # a boundary, not a grant
    roles = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    assert {naming.check_project_name(PROJECT), naming.images_project_name(PROJECT),
            naming.pipeline_role_name(PROJECT), naming.fleet_project_name(PROJECT),
            naming.fleet_batch_role_name(PROJECT)} <= roles
    fleet_policies = iam.list_attached_role_policies(RoleName=naming.fleet_project_name(PROJECT))["AttachedPolicies"]
    assert 1 <= len(fleet_policies) <= 8
    repositories = {r["repositoryName"]: r for r in aws.client("ecr").describe_repositories()["repositories"]}
    for container in naming.IMAGE_CONTAINERS:  # (moto drops scan-on-push: the template tests check it)
        assert repositories[naming.image_repository_name(PROJECT, container)]["imageTagMutability"] == "IMMUTABLE"

    region, account = aws.region, "123456789012"
    assert naming.artifact_bucket_name(PROJECT, account, region) in {
        bucket["Name"] for bucket in aws.client("s3").list_buckets()["Buckets"]}
    assert "arn:aws:sns:%s:%s:%s" % (region, account, naming.notification_topic_name(PROJECT)) in {
        topic["TopicArn"] for topic in aws.client("sns").list_topics()["Topics"]}
    assert naming.artifact_key_alias(PROJECT) in {
        alias["AliasName"] for alias in aws.client("kms").list_aliases()["Aliases"]}
    assert naming.failure_rule_name(PROJECT) in {rule["Name"] for rule in aws.client("events").list_rules()["Rules"]}


def test_the_local_endpoint_accepts_a_boundary_that_does_not_exist(aws):
    """Why the end-to-end tenants deploy without their <namespace>-deploy stack: moto 5.2 checks only that a
    boundary is shaped like a policy ARN (AWS refuses CreateRole naming a policy that does not exist, so on
    AWS that stack comes first: docs/delivery.md). It enforces no boundary either."""
    boundary = "arn:aws:iam::123456789012:%s" % naming.permissions_boundary_arn_resource("xy-0146-qa")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = aws.client("iam").create_role(
        RoleName="xy-0146-qa-service-TaskRole-1A2B", AssumeRolePolicyDocument=json.dumps(trust),
        PermissionsBoundary=boundary)["Role"]
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
