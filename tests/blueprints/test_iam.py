"""The blueprints' IAM policies are awacs objects, and every action they render is one awacs knows.

awacs defines every IAM action as an object (awacs.ssm.GetParameter), so a misspelt action
in a blueprint fails at import. These tests keep it so: every policy property a blueprint
sets is an awacs document, blueprints.iam.Statement refuses a string action, and every
action in a rendered template (the blueprints' output, the goldens, the committed
templates/) is an action awacs defines, or a wildcard matching at least one.
"""
import fnmatch
import importlib
import json
import pkgutil
from collections import defaultdict
from functools import lru_cache

import awacs
import awacs.ssm
import pytest
from awacs.aws import Allow, Policy, StringEquals
from troposphere import BaseAWSObject

from blueprints.iam import GENERATE_DATA_KEY_ANY, Statement
from blueprints.pipeline import DeliveryPipeline
from blueprints.pipeline_artifacts import PipelineArtifacts
from blueprints.pipeline_deploy import TenantDeployProject
from blueprints.service import TenantService
from blueprints.tier import SharedTier
from blueprints.vpc import SharedVpc
from hooks.engine.stacker_compat import make_context
from tests.blueprints.golden import GOLDEN_DIR
from tests.blueprints.template_checks import REPO_ROOT

POLICY_PROPERTIES = ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument")
IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0c6b2f4e-6a51-4c7e-9d1a-000000000003"
# Every blueprint that writes a policy, in each shape its policies take.
CASES = {
    "service": (TenantService, {"Namespace": "xy-0146-qa", "Timestamp": "20260115t103000z"}),
    "tier": (SharedTier, {"Namespace": "common-prod"}),
    "vpc": (SharedVpc, {"Namespace": "common-prod", "AzCount": 2, "NatGateways": "single", "VpcCidr": "10.20.0.0/16"}),
    "artifacts": (PipelineArtifacts, {"Namespace": "xy-0146"}),
    "deploy": (TenantDeployProject, {"Namespace": "xy-0146-prod", "BuildImage": IMAGE}),
    "pipeline-github": (DeliveryPipeline, {"Namespace": "xy-0146", "Source": "codestar-connection",
                                           "Repository": "example-org/tenantstack", "ConnectionArn": CONNECTION,
                                           "BuildImage": IMAGE, "RdsCaBundleSha256": "ab" * 32}),
    "pipeline-codecommit": (DeliveryPipeline, {"Namespace": "xy-0146", "Source": "codecommit",
                                               "Repository": "tenantstack", "BuildImage": IMAGE,
                                               "RdsCaBundleSha256": "ab" * 32}),
}


@lru_cache(maxsize=None)
def known_actions():
    """{service prefix: action names} of every action awacs defines."""
    known = defaultdict(set)
    for module in pkgutil.iter_modules(awacs.__path__):
        for value in vars(importlib.import_module("awacs.%s" % module.name)).values():
            if isinstance(value, awacs.aws.Action) and value.action:
                known[value.prefix].add(value.action)
    return known


def actions_in(document):
    """Every action string under an Action or NotAction key, anywhere in a rendered template."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("Action", "NotAction"):
                yield from value if isinstance(value, list) else [value]
            else:
                yield from actions_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from actions_in(value)


def unknown_actions(document):
    """The actions of `document` awacs does not define (a wildcard must match one it does)."""
    unknown = set()
    for action in actions_in(document):
        prefix, _, name = action.partition(":")
        names = known_actions().get(prefix, set())
        if not [known for known in names if fnmatch.fnmatchcase(known, name)]:
            unknown.add(action)
    return sorted(unknown)


def build(case):
    """(troposphere template, rendered template) of one case."""
    blueprint_class, variables = CASES[case]
    blueprint = blueprint_class(name=case, context=make_context(None, {}))
    rendered = json.loads(blueprint.to_json(variables=variables))
    return blueprint.template, rendered


def policy_properties(value, path=""):
    """(path, value) of every policy property in a troposphere object tree."""
    if isinstance(value, BaseAWSObject):
        value = value.properties
    if isinstance(value, dict):
        for key, item in value.items():
            if key in POLICY_PROPERTIES:
                yield "%s.%s" % (path, key), item
            else:
                yield from policy_properties(item, "%s.%s" % (path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from policy_properties(item, "%s[%d]" % (path, index))


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_policy_a_blueprint_writes_is_an_awacs_document(case):
    template, _ = build(case)
    found = [(logical_id + path, policy) for logical_id, resource in sorted(template.resources.items())
             for path, policy in policy_properties(resource)]
    assert found, "%s writes no policy; drop the case" % case
    assert [path for path, policy in found if not isinstance(policy, Policy)] == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_action_a_blueprint_renders_is_one_awacs_defines(case):
    _, rendered = build(case)
    assert list(actions_in(rendered))
    assert unknown_actions(rendered) == []


@pytest.mark.parametrize("folder", [GOLDEN_DIR, REPO_ROOT / "templates"], ids=["goldens", "templates"])
def test_every_action_in_the_committed_templates_is_one_awacs_defines(folder):
    templates = {str(path.relative_to(folder)): json.loads(path.read_text()) for path in sorted(folder.rglob("*.json"))}
    assert templates
    assert {name: unknown_actions(template) for name, template in templates.items() if unknown_actions(template)} == {}


def test_the_check_finds_a_misspelt_action_or_wildcard():
    document = {"Statement": [{"Action": ["ssm:GetParamter", "kms:GenerateDataKy*", "ssm:GetParameter", "s3:*"]},
                              {"Action": "sts:AssumeRol"}]}
    assert unknown_actions(document) == ["kms:GenerateDataKy*", "ssm:GetParamter", "sts:AssumeRol"]


def test_a_misspelt_action_fails_where_it_is_written():
    with pytest.raises(AttributeError):
        awacs.ssm.GetParamter  # noqa: B018


@pytest.mark.parametrize(
    "action",
    [
        pytest.param("ssm:GetParameter", id="string"),
        pytest.param(["ssm:GetParameter"], id="list-of-strings"),
        pytest.param([awacs.ssm.GetParameter, "ssm:GetParameters"], id="one-string-among-actions"),
        pytest.param([], id="none"),
    ],
)
def test_a_statement_takes_awacs_actions_only(action):
    with pytest.raises(TypeError, match="expected an awacs action"):
        Statement(Effect=Allow, Action=action)


@pytest.mark.parametrize(
    "action, resource",
    [
        pytest.param(awacs.ssm.GetParameter, "*", id="one-action-any-resource"),
        pytest.param([awacs.ssm.GetParameter, GENERATE_DATA_KEY_ANY], ["arn:aws:ssm:::parameter/x"], id="lists"),
    ],
)
def test_a_statement_renders_a_lone_action_and_resource_unlisted(action, resource):
    assert json.loads(Statement(Effect=Allow, Action=action, Resource=resource).to_json()) == {
        "Effect": "Allow", "Action": [a.JSONrepr() for a in action] if isinstance(action, list) else action.JSONrepr(),
        "Resource": resource,
    }


@pytest.mark.parametrize("resource", ["arn:aws:ssm:::parameter/x", None])
def test_a_lone_resource_is_star_or_a_cloudformation_function(resource):
    with pytest.raises(TypeError, match="Resource"):
        Statement(Effect=Allow, Action=awacs.ssm.GetParameter, Resource=resource)


def test_a_condition_must_carry_its_operator():
    with pytest.raises(TypeError, match="awacs.aws.Condition"):
        Statement(Effect=Allow, Action=awacs.ssm.GetParameter, Condition=StringEquals("aws:SourceAccount", "1"))
