"""Shared base for every tenantstack blueprint: namespace, validation, description, tags.

A variable that breaks its rule raises hooks.errors.BlueprintError (a BadInput: exit code 2),
naming the blueprint, the variable, the value and the rule (`fail`, `parse`).
"""
import copy
import json

from troposphere import Output, Tags

from hooks import naming
from hooks.aws import endpoint_quirks
from hooks.engine.stacker_compat import Blueprint, parameter_values
from hooks.errors import BlueprintError  # noqa: F401  (re-exported: blueprints.base.BlueprintError)

NAMESPACE_KINDS = {
    "tenant": naming.parse_namespace,
    "shared": naming.parse_shared_namespace,
    "project": naming.parse_project,
}


def minified(rendered):
    """A template's JSON with no whitespace between tokens, keys sorted (deterministic)."""
    return json.dumps(json.loads(rendered), separators=(",", ":"), sort_keys=True)


def invalid_variable(blueprint, variable, value, rule):
    """The BlueprintError for a variable that breaks its rule: names the blueprint, variable, value and rule."""
    return BlueprintError("blueprint %s, variable %s: %r is invalid: %s" % (blueprint, variable, value, rule))


def tag_resources(template, tags):
    """Give every taggable resource in the template the namespace's tags.

    Tags a resource already has (a Name, say) are kept; the namespace tags win on conflict.
    """
    for resource in template.resources.values():
        expected = resource.props.get("Tags")
        if expected is None:
            continue
        existing = resource.properties.get("Tags")
        if expected[0] is dict:
            merged = dict(existing or {})
            merged.update(tags)
            resource.Tags = merged
            continue
        current = {}
        if existing is not None:
            current = {tag["Key"]: tag["Value"] for tag in existing.to_dict()}
        current.update(tags)
        resource.Tags = Tags(**current)


class TenantstackBlueprint(Blueprint):
    """Base class: subclasses set DESCRIPTION, NAMESPACE_KIND (a key of NAMESPACE_KINDS), VARIABLES and build()."""

    DESCRIPTION = None
    NAMESPACE_KIND = "tenant"
    VARIABLES = {}

    def variable_definitions(self):
        """VARIABLES plus Namespace (the engine's `defined_variables`, a method in stacker and a
        property in CFNgin, returns this: hooks/engine/stacker_compat.py)."""
        variables = {
            "Namespace": {
                "type": str,
                "description": "The %s namespace this stack belongs to" % self.NAMESPACE_KIND,
            }
        }
        variables.update(copy.deepcopy(self.VARIABLES))
        return variables

    def create_template(self):
        variables = self.variable_values()
        self.namespace = self.parse_namespace(variables["Namespace"])
        self.validate(variables)
        # stacker 1.7.2's config `description:` calls a method troposphere 3+ removed,
        # so each blueprint describes itself.
        self.template.set_description("%s (%s)" % (self.DESCRIPTION, self.namespace))
        self.build(variables)
        tag_resources(self.template, self.resource_tags())

    def resource_tags(self):
        """The tags every resource of this stack carries."""
        return naming.tags(self.namespace)

    def render_template(self):
        """What the engine sends to CloudFormation: the template minified (templates go inline, where
        CloudFormation takes at most 51,200 bytes), adapted to the local endpoint's gaps when (only
        when) its switch is on. Reviewers read the indented rendering (tenantstack render)."""
        version, rendered = super().render_template()
        if endpoint_quirks.enabled():
            rendered = endpoint_quirks.adapt(rendered, parameters=parameter_values(self))
        return version, minified(rendered)

    def parse_namespace(self, value):
        return self.parse("Namespace", value, NAMESPACE_KINDS[self.NAMESPACE_KIND])

    def parse(self, variable, value, parser):
        """parser(value, variable) (a hooks.naming or settings rule), its NamingError a BlueprintError."""
        try:
            return parser(value, variable)
        except naming.NamingError as error:
            raise invalid_variable(type(self).__name__, variable, value, error.rule) from None

    def fail(self, variable, value, rule):
        raise invalid_variable(type(self).__name__, variable, value, rule)

    def validate(self, variables):
        """Check non-parameter variables; raise through self.fail. Override as needed."""

    def build(self, variables):
        raise NotImplementedError

    def add_resource(self, resource):
        return self.template.add_resource(resource)

    def output(self, logical_id, attribute, value, description=None):
        """Outputs are named <LogicalId><Attribute>."""
        name = "%s%s" % (logical_id, attribute)
        props = {"Value": value}
        if description:
            props["Description"] = description
        self.template.add_output(Output(name, **props))
        return name
