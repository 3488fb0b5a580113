"""hooks/engine/deployment.py: each stack as the engine deploys it (both engines: tests/engines.py).

That the body and parameters are byte for byte what the engine sends is shown end to end: a
diff right after a deploy finds nothing to change (tests/e2e/test_diff.py, on both engines)."""
import json

import pytest

from hooks.engine import render
from hooks.engine.deployment import CAPABILITIES, Deployment
from hooks.engine.stacker_compat import ENGINE
from tests.conftest import REPO_ROOT

TENANTS = sorted(path for path in (REPO_ROOT / "environments").glob("*.env") if not path.name.startswith("common-"))
TS2 = "20261115t120000z"


def stand_ins(stack):
    return {key: ("subnet-a,subnet-b" if key.endswith("SubnetIds") else "value-of-%s" % key) for key in stack.lookups}


@pytest.mark.parametrize("env_file", TENANTS, ids=lambda path: path.stem)
def test_each_template_is_the_reviewed_rendering_and_its_parameters_the_values_given(env_file, monkeypatch):
    monkeypatch.delenv("TENANTSTACK_LOCAL_ENDPOINT", raising=False)
    deployment = Deployment(env_file, REPO_ROOT)
    reviewed = render.render_env_file(env_file, REPO_ROOT)
    assert [stack.name for stack in deployment.stacks] == list(reviewed)
    for stack in deployment.stacks:
        template = deployment.template(stack, stand_ins(stack))
        assert json.loads(template.body) == reviewed[stack.name]
        assert "\n" not in template.body  # minified, as the engine sends it inline
        assert template.parameters == stand_ins(stack)
        assert set(stack.lookups) <= set(template.declared)
        assert stack.tags == {"Namespace": env_file.stem}


def test_stack_names_lookups_and_capabilities_are_the_engines():
    deployment = Deployment(REPO_ROOT / "environments" / "xy-0146-qa.env", REPO_ROOT, {"db_timestamp": TS2})
    assert [stack.stack_name for stack in deployment.stacks] == [
        "xy-0146-qa-base", "xy-0146-qa-db-%s" % TS2, "xy-0146-qa-service"]
    service = deployment.stack("service")
    assert service.lookups["DatabaseEndpointAddress"] == "${output db::DatabaseEndpointAddress}"
    assert service.lookups["VpcId"] == "${xref common-nonprod-vpc::VpcId}"
    assert service.lookups["DesiredCount"] == "${setting desired_count}"
    assert "Timestamp" not in service.lookups  # a plain variable: it shapes the template
    assert deployment.settings["db_timestamp"] == TS2
    engine_default = __import__("stacker.providers.aws.default" if ENGINE == "stacker"
                                else "runway.cfngin.providers.aws.default", fromlist=["x"]).DEFAULT_CAPABILITIES
    assert CAPABILITIES == tuple(engine_default) == ("CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")


def test_against_the_local_endpoint_the_task_definition_follows_the_parameter_values(monkeypatch):
    monkeypatch.setenv("TENANTSTACK_LOCAL_ENDPOINT", "moto")
    deployment = Deployment(REPO_ROOT / "environments" / "xy-0146-qa.env", REPO_ROOT)
    service = deployment.stack("service")
    values = stand_ins(service)
    first = deployment.template(service, values)
    second = deployment.template(service, dict(values, PhpImage="public.ecr.aws/x/php@sha256:" + "0" * 64))
    ids = [sorted(key for key in template.resources if key.startswith("TaskDefinition"))
           for template in (first, second, deployment.template(service, values))]
    assert ids[0] != ids[1] and ids[0] == ids[2]  # the endpoint quirk's digest of the values, as the engine renders


def test_a_missing_parameter_value_is_refused():
    deployment = Deployment(REPO_ROOT / "environments" / "xy-0146-qa.env", REPO_ROOT)
    with pytest.raises(Exception, match="stack base: no value for the parameter.s. VpcCidrBlock, VpcId"):
        deployment.template(deployment.stack("base"), {"LoadBalancerSecurityGroupId": "sg-1"})
