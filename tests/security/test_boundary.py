"""The service roles' permissions boundary `<namespace>-boundary`, on the rendered templates.

The deploy role of a namespace may write any inline policy on the roles of the
namespace's service stack, but only on roles that carry the boundary (tests/delivery/
test_deploy_role.py). So the boundary is the most any role it can make may do. Proved
here: it covers every grant of the service roles (else the application breaks on AWS;
the local endpoint enforces no boundary), it reaches no other tenant's resources, every
service role carries it, and it lives only in the namespace's `<namespace>-deploy` stack.
"""
import copy

import pytest

from blueprints.pipeline_deploy import BOUNDARY
from hooks import naming
from tests.security import iam_eval, isolation
from tests.security.boundary import granted_requests, outside_boundary
from tests.security.world import ACCOUNT, IDENTITY, PARTITION, World

WORLD = World()
ROLES = isolation.roles(WORLD)
TENANTS = isolation.tenant_namespaces(WORLD)
SERVICE_ROLES = ("ExecutionRole", "TaskRole")


def boundary_arn(namespace):
    return "arn:%s:iam::%s:%s" % (PARTITION, ACCOUNT, naming.permissions_boundary_arn_resource(namespace))


def deploy_stack(namespace):
    return WORLD.stacks.get(naming.deploy_stack_name(namespace))


# Tenants whose project has a pipeline (environments/pipelines/): their deploy stack builds the boundary.
BOUNDED = [tenant for tenant in TENANTS if deploy_stack(tenant) is not None]


def boundary_document(namespace):
    stack = deploy_stack(namespace)
    return WORLD.resolve(stack, stack.template["Resources"][BOUNDARY]["Properties"]["PolicyDocument"])


def service_role(namespace, logical_id):
    (role,) = [r for r in ROLES.values() if r.where == "%s/service.json#%s" % (namespace, logical_id)]
    return role


def service_role_properties(namespace, logical_id):
    stack = WORLD.stacks[naming.service_stack_name(namespace)]
    return WORLD.resolve(stack, stack.template["Resources"][logical_id]["Properties"])


def test_the_proof_covers_every_tenant_of_a_project_with_a_pipeline():
    assert BOUNDED == ["xy-0146-dev", "xy-0146-prod", "xy-0146-qa"]


@pytest.mark.parametrize("namespace", TENANTS)
@pytest.mark.parametrize("logical_id", SERVICE_ROLES)
def test_every_service_role_carries_its_namespaces_boundary(namespace, logical_id):
    assert service_role_properties(namespace, logical_id)["PermissionsBoundary"] == boundary_arn(namespace)


@pytest.mark.parametrize("namespace", BOUNDED)
def test_the_boundary_is_the_policy_the_namespaces_deploy_stack_creates_and_attaches_to_nothing(namespace):
    stack = deploy_stack(namespace)
    assert WORLD.attribute(stack, BOUNDARY, "Arn") == boundary_arn(namespace)
    properties = stack.template["Resources"][BOUNDARY]["Properties"]
    assert not {"Roles", "Users", "Groups"} & set(properties)


def test_the_boundary_lives_only_in_the_deploy_stacks_and_no_tenant_stack_holds_a_policy():
    """The boundary lives only in <namespace>-deploy (an administrator's); tenant stacks hold no policy."""
    kinds = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
    found = {
        (stack.path, logical_id)
        for stack in WORLD.stacks.values()
        for logical_id, resource in stack.template.get("Resources", {}).items()
        if resource["Type"] in kinds and logical_id == BOUNDARY
    }
    assert found == {("xy-0146/%s-deploy.json" % env, BOUNDARY) for env in naming.PIPELINE_ENVIRONMENTS}
    tenant_stacks = [s for s in WORLD.stacks.values() if s.namespace in TENANTS]
    assert len(tenant_stacks) == 3 * len(TENANTS)
    assert [s.path for s in tenant_stacks if any(
        r["Type"] in kinds for r in s.template.get("Resources", {}).values())] == []


@pytest.mark.parametrize("namespace", BOUNDED)
@pytest.mark.parametrize("logical_id", SERVICE_ROLES)
def test_the_boundary_covers_every_grant_of_the_service_roles(namespace, logical_id):
    role = service_role(namespace, logical_id)
    assert len(granted_requests(role.documents, role.arn, isolation.CONTEXT)) >= 8
    assert outside_boundary(role.documents, boundary_document(namespace), role.arn, isolation.CONTEXT) == []


@pytest.mark.parametrize("namespace", BOUNDED)
def test_the_boundary_reaches_no_other_tenants_resources(namespace):
    """Any role the deploy role can make is at most the boundary: ask it what the isolation proof asks every role."""
    bounded = isolation.Role(boundary_arn(namespace), namespace, "%s boundary" % namespace,
                             (boundary_document(namespace),))
    leaks = [str(leak) for other in TENANTS if other != namespace
             for leak in isolation.leaks(bounded, other, WORLD, ())]
    assert leaks == []


@pytest.mark.parametrize("namespace", BOUNDED)
def test_the_service_roles_grants_moved_to_another_namespace_are_outside_the_boundary(namespace):
    boundary = boundary_document(namespace)
    others = [t for t in TENANTS if t != namespace]
    moved = []
    for logical_id in SERVICE_ROLES:
        role = service_role(namespace, logical_id)
        for request in granted_requests(role.documents, role.arn, isolation.CONTEXT):
            if namespace not in request.resource + str(request.context):
                continue  # the ECR exception: the project's repositories, the same for its every namespace
            for other in others:
                moved.append(iam_eval.Request(
                    request.action, request.resource.replace(namespace, other), request.principal,
                    {k: str(v).replace(namespace, other) for k, v in request.context.items()}))
    assert len(moved) >= 10 * len(others)
    allowed = [r for r in moved if iam_eval.evaluate(r, [boundary], (), iam_eval.ASSUME_ALLOW) == iam_eval.ALLOWED]
    assert allowed == []


WIDENINGS = [
    pytest.param({"Sid": "WriteParameters", "Effect": "Allow", "Action": ["ssm:PutParameter"],
                  "Resource": "arn:aws:ssm:eu-west-1:%s:parameter/xy-0146-qa/*" % ACCOUNT},
                 ["ssm:PutParameter on arn:aws:ssm:eu-west-1:%s:parameter/xy-0146-qa/x" % ACCOUNT,
                  "ssm:PutParameter on arn:aws:ssm:eu-west-1:%s:parameter/xy-0146-qa/a/b:c" % ACCOUNT],
                 id="new-action"),
    pytest.param({"Sid": "ReadAllParameters", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                  "Resource": "arn:aws:ssm:eu-west-1:%s:parameter/*" % ACCOUNT},
                 ["ssm:GetParameter on arn:aws:ssm:eu-west-1:%s:parameter/x" % ACCOUNT,
                  "ssm:GetParameter on arn:aws:ssm:eu-west-1:%s:parameter/a/b:c" % ACCOUNT],
                 id="wider-resource"),
    pytest.param({"Sid": "ListEverything", "Effect": "Allow", "Action": ["s3:ListBucket"],
                  "Resource": "arn:aws:s3:::bucket", "Condition": {"StringLike": {"s3:prefix": ["*"]}}},
                 ["s3:ListBucket on arn:aws:s3:::bucket {'s3:prefix': 'x'}",
                  "s3:ListBucket on arn:aws:s3:::bucket {'s3:prefix': 'a/b:c'}"],
                 id="wider-condition"),
]


@pytest.mark.parametrize("statement, outside", WIDENINGS)
def test_a_grant_beyond_the_boundary_is_named(statement, outside):
    role = service_role("xy-0146-qa", "TaskRole")
    documents = copy.deepcopy(list(role.documents))
    documents[0]["Statement"].append(statement)
    assert outside_boundary(documents, boundary_document("xy-0146-qa"), role.arn, isolation.CONTEXT) == outside


def test_a_sample_the_role_itself_does_not_grant_is_an_error_not_a_pass():
    role = service_role("xy-0146-qa", "TaskRole")
    documents = copy.deepcopy(list(role.documents))
    documents[0]["Statement"].append({"Effect": "Deny", "Action": "ssm:GetParameter", "Resource": "*"})
    with pytest.raises(ValueError, match="which the role's own policies do not grant"):
        outside_boundary(documents, boundary_document("xy-0146-qa"), role.arn, isolation.CONTEXT)


def test_the_boundary_is_an_identity_policy_the_gates_scan():
    wheres = {policy.where for policy in WORLD.policies() if policy.kind == IDENTITY}
    assert {"xy-0146/%s-deploy.json#%s" % (env, BOUNDARY) for env in naming.PIPELINE_ENVIRONMENTS} <= wheres
