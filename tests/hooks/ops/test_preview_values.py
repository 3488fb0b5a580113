"""hooks/ops/preview_values.py: the parameter values a deploy would send, resolved before it (pure).

`build_parameters` is held against the engine's own rule (stacker's and CFNgin's
_resolve_parameters + _handle_missing_parameters, which build_parameters composes)."""
import importlib

import pytest

from hooks.engine import stacker_compat
from hooks.engine.deployment import StackDefinition
from hooks.errors import RenderError
from hooks.ops import preview_values
from hooks.ops.preview import Unknown

STRING, PORT = {"type": stacker_compat.CFNString}, {"type": stacker_compat.CFNString, "allowed_pattern": "^[0-9]+$"}
VPC = {"type": stacker_compat.EC2VPCId}
FQN = {"base": "xy-0146-qa-base", "db": "xy-0146-qa-db-20261115t120000z", "service": "xy-0146-qa-service"}
LIVE = {
    "common-nonprod-vpc": {"VpcId": "vpc-1", "PrivateSubnetIds": "subnet-a,subnet-b"},
    "xy-0146-qa-base": {"ServiceSecurityGroupId": "sg-1"},
}


def stack(**lookups):
    definitions = {key: (VPC if key == "VpcId" else PORT if key.endswith("Port") else STRING) for key in lookups}
    return StackDefinition("service", "xy-0146-qa-service", "blueprints.service.TenantService", {}, lookups,
                           definitions)


def resolve(definition, previous=None):
    return preview_values.resolve(definition, FQN.__getitem__, LIVE.get, {"hostname": "qa.example.com",
                                                                          "desired_count": 2}, previous)


@pytest.mark.parametrize("lookups, values, unknowns", [
    pytest.param({"VpcId": "${xref common-nonprod-vpc::VpcId}"}, {"VpcId": "vpc-1"}, (), id="xref"),
    pytest.param({"Group": "${output base::ServiceSecurityGroupId}"}, {"Group": "sg-1"}, (), id="output"),
    pytest.param({"Hostname": "${setting hostname}", "DesiredCount": "${setting desired_count}"},
                 {"Hostname": "qa.example.com", "DesiredCount": 2}, (), id="setting"),
    pytest.param({"Plain": "as written", "Number": 3}, {"Plain": "as written", "Number": 3}, (), id="plain"),
    pytest.param({"Address": "${output db::DatabaseEndpointAddress}"},
                 {"Address": "<unknown until deployed: xy-0146-qa-db-20261115t120000z::DatabaseEndpointAddress>"},
                 (Unknown("Address", "xy-0146-qa-db-20261115t120000z::DatabaseEndpointAddress",
                          "stack xy-0146-qa-db-20261115t120000z does not exist yet",
                          "<unknown until deployed: xy-0146-qa-db-20261115t120000z::DatabaseEndpointAddress>"),),
                 id="a-stack-not-there-yet"),
    pytest.param({"Group": "${output base::Missing}"}, {"Group": "<unknown until deployed: xy-0146-qa-base::Missing>"},
                 (Unknown("Group", "xy-0146-qa-base::Missing", "stack xy-0146-qa-base has no output Missing",
                          "<unknown until deployed: xy-0146-qa-base::Missing>"),), id="an-output-not-there"),
])
def test_each_lookup_resolves_against_the_live_outputs(lookups, values, unknowns):
    assert resolve(stack(**lookups)) == (values, unknowns)


def test_an_unknown_value_the_marker_would_break_is_previewed_with_the_current_one():
    values, (unknown,) = resolve(stack(DatabaseEndpointPort="${output db::DatabaseEndpointPort}"),
                                 previous={"DatabaseEndpointPort": "3306"})
    assert values == {"DatabaseEndpointPort": "3306"}
    assert (unknown.previewed_with, unknown.reason) == ("3306", "stack xy-0146-qa-db-20261115t120000z does not "
                                                                "exist yet")


@pytest.mark.parametrize("definition, previous, expected", [
    (STRING, "old", "<unknown until deployed: s::O>"),  # a plain string takes the marker
    (PORT, "3306", "3306"),
    (PORT, None, "<unknown until deployed: s::O>"),  # nothing better known: CloudFormation judges it
    (VPC, "vpc-1", "vpc-1"),
    ({"type": stacker_compat.CFNNumber}, "2", "2"),
    ({"type": stacker_compat.CFNString, "allowed_values": ["a"]}, "a", "a"),
])
def test_the_stand_in_of_an_unknown_value(definition, previous, expected):
    assert preview_values.stand_in("s::O", definition, previous) == expected


@pytest.mark.parametrize("raw, message", [
    ("${cfn xy-0146-qa-base.Output}", "stack service: variable V ('${cfn xy-0146-qa-base.Output}') cannot be "
                                      "previewed: a parameter's value must be a plain value or one lookup of "
                                      "${output ...}, ${xref ...}, ${setting ...}"),
    ("prefix-${setting hostname}", "stack service: variable V ('prefix-${setting hostname}') cannot be previewed"),
    ("${output nope::X}", "stack service: variable V: ${output nope::X}: the config has no stack nope"),
    ("${output base}", "stack service: variable V: 'base' is not STACK::OUTPUT"),
    ("${setting nope}", "stack service: variable V: ${setting nope}: no such env key"),
])
def test_a_value_the_preview_cannot_resolve_is_refused_naming_it(raw, message):
    with pytest.raises(RenderError) as refused:
        resolve(stack(V=raw))
    assert str(refused.value).startswith(message)


# --- the engine's parameter rule -----------------------------------------------------------------

DEFINITIONS = {"A": {}, "B": {}, "Flag": {}, "Kept": {}, "Optional": {"default": "x"}}


@pytest.mark.parametrize("values, live, expected", [
    pytest.param({"A": "1", "B": 2, "Flag": True, "Kept": "k"}, None,
                 [{"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "B", "ParameterValue": "2"},
                  {"ParameterKey": "Flag", "ParameterValue": "true"}, {"ParameterKey": "Kept", "ParameterValue": "k"}],
                 id="every-value-a-string"),
    pytest.param({"A": "1", "B": "2", "Flag": False, "Undeclared": "u", "Kept": None},
                 {"Parameters": [{"ParameterKey": "Kept", "ParameterValue": "old"}]},
                 [{"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "B", "ParameterValue": "2"},
                  {"ParameterKey": "Flag", "ParameterValue": "false"}, {"ParameterKey": "Kept", "UsePreviousValue": True}],
                 id="none-keeps-the-previous-value"),
])
def test_parameters_are_built_by_the_engines_rule(values, live, expected):
    assert preview_values.build_parameters(values, DEFINITIONS, live) == expected
    assert sorted(expected, key=repr) == sorted(engine_parameters(values, DEFINITIONS, live), key=repr)


def test_a_required_parameter_without_a_value_is_refused():
    with pytest.raises(RenderError, match="no value for the required parameter.s. A, B"):
        preview_values.build_parameters({"Flag": "x", "Kept": "y"}, DEFINITIONS)


def engine_parameters(values, definitions, live):
    """The engine's own build_parameters over the same inputs (its module-level functions)."""
    module = importlib.import_module("stacker.actions.build" if stacker_compat.ENGINE == "stacker"
                                     else "runway.cfngin.actions.deploy")

    class Blueprint:
        name = "b"
        parameter_definitions = definitions

        def get_parameter_definitions(self):
            return definitions

    resolved = module._resolve_parameters(dict(values), Blueprint())
    required = [key for key, definition in definitions.items() if "default" not in definition]
    pairs = module._handle_missing_parameters(resolved, list(definitions), required, live)
    return [{"ParameterKey": key, "UsePreviousValue": True} if value is module.UsePreviousParameterValue
            else {"ParameterKey": key, "ParameterValue": str(value)} for key, value in pairs]
