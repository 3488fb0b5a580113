"""A config as the engine deploys it: each stack's CloudFormation name, tags, parameters and template.

    deployment = Deployment(env_path, root, overrides={"db_timestamp": ts})
    for stack in deployment.stacks:          # in the config's order: base, db, service
        stack.stack_name                     # xy-0146-qa-db-20261115t120000z
        stack.lookups                        # {parameter variable: its raw value, e.g. "${output base::X}"}
        template = deployment.template(stack, {"VpcId": "vpc-1", ...})
        template.body                        # the TemplateBody the engine sends, byte for byte
        template.parameters                  # {parameter: value} the engine sends (before stringifying)

`tenantstack diff` (hooks/ops/preview_run.py) builds what a deploy would send to
CloudFormation without deploying: the same config, loaded by the engine
(stacker_compat.load_config, `${env}` values and `-e` overrides substituted), the same
blueprint classes and variables. Values of the CloudFormation-parameter variables (stacker
`CFNType`) come from `${output}`, `${xref}` and `${setting}` lookups that need live stacks; the
caller resolves them (hooks/ops/preview_values.py) and passes them to `template()`, which
renders exactly as the engine's build does: the blueprint resolves every variable and
`render_template()` gives the minified body (adapted to the local endpoint's gaps when its
switch is on, hooks/aws/endpoint_quirks.py: the task definition's logical id carries a
digest of the parameter values). Every other variable is resolved offline as
hooks/engine/render.py does. Stack tags are the engine's (the config's `tags:`, else its
default), capabilities the engine provider's (stacker_compat.DEFAULT_CAPABILITIES).
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

from hooks.config import envfile, settings
from hooks.engine import render
from hooks.engine.stacker_compat import (
    DEFAULT_CAPABILITIES,
    is_parameter_type,
    load_config,
    make_context,
    parameter_values,
    variable_definitions,
)
from hooks.errors import RenderError

CAPABILITIES = tuple(DEFAULT_CAPABILITIES)


@dataclass(frozen=True)
class StackDefinition:
    """One stack of the config, before its parameters are known."""

    name: str  # the config's name: base, db, service
    stack_name: str  # the CloudFormation stack name (the engine's fully qualified name)
    class_path: str
    tags: Dict[str, str]
    lookups: Dict[str, object]  # {CFN-parameter variable: raw value as the config gives it}
    definitions: Dict[str, dict]  # {CFN-parameter variable: its definition (type, allowed_pattern, ...)}


@dataclass(frozen=True)
class Template:
    body: str  # the TemplateBody the engine sends
    parameters: Dict[str, object]  # the blueprint's CloudFormation parameter values
    declared: Dict[str, dict]  # the template's Parameters section
    resources: Dict[str, dict]  # the template's Resources section


class Deployment:
    """The stacks one env file (with `-e` overrides) deploys, loaded by the engine."""

    def __init__(self, env_path, root, overrides=None):
        env_path = Path(env_path)
        self.environment = dict(envfile.read(env_path), **dict(overrides or {}))
        self.settings = settings.load_settings(self.environment, str(env_path))
        self.config = load_config(render.config_for(env_path, root).read_text(), self.environment)
        self.context = make_context(self.config, self.environment)
        self.stacks = tuple(self._definition(stack) for stack in self.config.stacks)
        self._configs = {stack.name: stack for stack in self.config.stacks}

    def _definition(self, stack):
        blueprint_class = render.load_class(stack.class_path)
        defined = variable_definitions(blueprint_class(name=stack.name, context=self.context))
        lookups, definitions = {}, {}
        for key, raw_value in (stack.variables or {}).items():
            definition = defined.get(key)
            if definition is not None and is_parameter_type(definition.get("type")):
                lookups[key], definitions[key] = raw_value, definition
        tags = dict(self.context.tags or {}, **(stack.tags or {}))
        return StackDefinition(stack.name, self.context.get_fqn(stack.stack_name or stack.name), stack.class_path,
                               {str(k): str(v) for k, v in tags.items()}, lookups, definitions)

    def stack(self, name):
        """The StackDefinition of the config's stack `name` (base, db, service); KeyError if none."""
        return next(stack for stack in self.stacks if stack.name == name)

    def template(self, stack, parameters):
        """The Template the engine would send for `stack`, with these CFN-parameter values."""
        missing = sorted(set(stack.lookups) - set(parameters))
        if missing:
            raise RenderError("stack %s: no value for the parameter(s) %s" % (stack.name, ", ".join(missing)))
        config_stack = self._configs[stack.name]
        blueprint_class = render.load_class(stack.class_path)
        variables = render.offline_variables(config_stack, blueprint_class, self.context)
        variables.update(parameters)
        blueprint = blueprint_class(name=stack.name, context=self.context)
        body = blueprint.to_json(variables=variables)
        document = json.loads(body)
        return Template(body, parameter_values(blueprint), document.get("Parameters") or {},
                        document.get("Resources") or {})
