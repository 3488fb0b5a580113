"""blueprints/pipeline_fleet.py and blueprints/fleet_iam.py: a project's CodeBuild fleet project and its roles."""
import json

import pytest

from blueprints import fleet_iam
from blueprints.base import BlueprintError
from blueprints.pipeline_fleet import ProjectFleet
from hooks import naming
from hooks.engine.render import render_blueprint
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import config_variables, properties, resources_of_type, tag_problems
from tests.blueprints.test_pipeline import CONNECTION, IMAGE, MANAGED_POLICY_LIMIT, PROJECT, pipeline_config

GITHUB = {"Namespace": PROJECT, "Source": "codestar-connection", "Repository": "example-org/tenantstack",
          "ConnectionArn": CONNECTION, "BuildImage": IMAGE}
CODECOMMIT = {"Namespace": PROJECT, "Source": "codecommit", "Repository": "tenantstack", "BuildImage": IMAGE}
GOLDEN_CASES = {"pipeline-fleet-xy-0146-github": GITHUB, "pipeline-fleet-xy-0146-codecommit": CODECOMMIT}


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    assert_matches_golden(case_id, ProjectFleet, GOLDEN_CASES[case_id])


def test_the_batch_is_bounded_and_runs_the_fleet_buildspec_without_a_concurrent_build_limit():
    project = properties(render_blueprint(ProjectFleet, GITHUB), "FleetProject")
    assert project["Name"] == naming.fleet_project_name(PROJECT)
    assert project["BuildBatchConfig"] == {
        "ServiceRole": {"Fn::GetAtt": ["FleetBatchRole", "Arn"]}, "CombineArtifacts": False, "TimeoutInMins": 480,
        "Restrictions": {"MaximumBuildsAllowed": 100, "ComputeTypesAllowed": ["BUILD_GENERAL1_SMALL"]}}
    assert project["ServiceRole"] == {"Fn::GetAtt": ["FleetBuildsRole", "Arn"]}
    assert project["Source"]["BuildSpec"] == naming.FLEET_BUILDSPEC and project["SourceVersion"] == "main"
    assert "ConcurrentBuildLimit" not in project  # with one, CodeBuild fails a batch's builds beyond it


def test_the_batch_role_starts_and_stops_this_projects_builds_only():
    role = properties(render_blueprint(ProjectFleet, CODECOMMIT), "FleetBatchRole")
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["codebuild:RetryBuild", "codebuild:StartBuild", "codebuild:StopBuild"]
    assert statement["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:codebuild:${AWS::Region}:"
                                                 "${AWS::AccountId}:project/xy-0146-fleet"}]
    assert role["RoleName"] == naming.fleet_batch_role_name(PROJECT)


def test_the_builds_policies_fit_the_roles_quota_with_room_to_grow():
    policies = resources_of_type(render_blueprint(ProjectFleet, GITHUB), "AWS::IAM::ManagedPolicy")
    assert len(policies) <= 8  # of IAM's 10 managed policies per role
    for logical_id, policy in policies.items():
        text = json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))
        assert len(text) <= 0.8 * MANAGED_POLICY_LIMIT, "%s: %d characters" % (logical_id, len(text))
        sids = [statement["Sid"] for statement in policy["Properties"]["PolicyDocument"]["Statement"]]
        assert len(sids) == len(set(sids))


def test_the_union_merges_only_statements_equal_but_for_their_resources():
    a = {"Sid": "S", "Effect": "Allow", "Action": ["x:Y"], "Resource": ["r1"]}
    b = dict(a, Resource=["r2"])
    tagged = dict(a, Condition={"StringEquals": {"aws:ResourceTag/Namespace": "xy-0146-qa"}})
    other_tag = dict(a, Condition={"StringEquals": {"aws:ResourceTag/Namespace": "xy-0146-prod"}})
    merged = fleet_iam.union([("xy-0146-qa", a), ("xy-0146-prod", b), ("xy-0146-qa", tagged),
                              ("xy-0146-prod", other_tag)])
    assert merged == [dict(a, Resource=["r1", "r2"], Sid="SXy0146QaXy0146Prod"), dict(tagged, Sid="SXy0146Qa"),
                      dict(other_tag, Sid="SXy0146Prod")]


def test_the_tags_are_the_projects():
    problems, untagged = tag_problems(render_blueprint(ProjectFleet, GITHUB), naming.project_tags(PROJECT))
    assert problems == [] and untagged <= {"AWS::IAM::ManagedPolicy"}


@pytest.mark.parametrize("variables, message", [
    pytest.param(dict(GITHUB, Source="s3"), "expected codestar-connection or codecommit", id="source"),
    pytest.param(dict(GITHUB, ConnectionArn=""), "a codestar-connection source needs its ARN", id="connection"),
    pytest.param(dict(GITHUB, MaximumBuilds=101), "expected 1 to 100", id="builds"),
])
def test_bad_variables_are_refused(variables, message):
    with pytest.raises(BlueprintError, match=message):
        render_blueprint(ProjectFleet, variables)


def test_the_config_builds_the_fleet_after_the_deploy_stacks_with_every_variable():
    config, _ = pipeline_config()
    (fleet,) = [stack for stack in config.stacks if stack.name == naming.FLEET_STACK]
    assert fleet.requires == [naming.deploy_stack_config_name(e) for e in naming.PIPELINE_ENVIRONMENTS]
    defined = set(ProjectFleet(name="x", context=None).variable_definitions())
    optional = {"BatchTimeoutMinutes", "MaximumBuilds"}
    assert [variables | optional for variables in config_variables("blueprints.pipeline_fleet.ProjectFleet")] == [
        defined]
