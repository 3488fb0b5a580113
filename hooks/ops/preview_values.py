"""The CloudFormation parameters a deploy would give a stack, worked out before the deploy: pure.

The tenant config (stacker/tenant.yaml) feeds cross-stack values into each template as
CloudFormation parameters, through three lookups; the engine resolves them while it
deploys, the preview resolves them here against the stacks as they are now:

    ${output STACK::OUTPUT}   output OUTPUT of the config's stack STACK of this namespace (base, db)
    ${xref FQN::OUTPUT}       output OUTPUT of the stack named FQN (the tier's <tier>-vpc, <tier>-tier)
    ${setting KEY}            the env file's value of KEY (with the -e overrides), default filled in

A value from a stack that does not exist yet (the database stack of a new timestamp), or that
lacks the output, cannot be known before the deploy: it becomes an Unknown, and the stack is
previewed with a stand-in: the marker `<unknown until deployed: FQN::OUTPUT>`, or, where the
parameter's type or constraints would refuse the marker, the live stack's current value of
that parameter (say, the port of the database being replaced). The report lists each.

`build_parameters` is the engines' own rule (stacker's and CFNgin's `build_parameters`, the
same code in both): values of parameters the blueprint does not declare, and None, are not
sent; booleans become "true"/"false"; a declared parameter without a value keeps its previous
value on an existing stack (UsePreviousValue); every value is sent as a string.
"""
import re

from hooks.errors import RenderError
from hooks.ops.preview import Unknown

LOOKUP = re.compile(r"^\$\{(?P<kind>[a-z]+)\s+(?P<argument>[^${}]+)\}$")
KINDS = ("output", "xref", "setting")
MARKER = "<unknown until deployed: %s>"
CONSTRAINTS = ("allowed_pattern", "allowed_values", "min_length", "max_length", "min_value", "max_value")


def parse_lookup(stack, variable, raw):
    """(kind, argument) of a raw variable value that is one lookup; (None, raw) for a plain value.
    RenderError for a value the preview cannot resolve (another lookup, a lookup inside text)."""
    if not isinstance(raw, str) or "${" not in raw:
        return None, raw
    match = LOOKUP.match(raw.strip())
    if not match or match.group("kind") not in KINDS:
        raise RenderError(
            "stack %s: variable %s (%r) cannot be previewed: a parameter's value must be a plain value or one "
            "lookup of %s" % (stack, variable, raw, ", ".join("${%s ...}" % kind for kind in KINDS)))
    return match.group("kind"), match.group("argument").strip()


def split_reference(stack, variable, argument):
    """('base', 'ServiceSecurityGroupId') of 'base::ServiceSecurityGroupId'; RenderError otherwise."""
    name, sep, output = argument.partition("::")
    if not sep or not name.strip() or not output.strip():
        raise RenderError("stack %s: variable %s: %r is not STACK::OUTPUT" % (stack, variable, argument))
    return name.strip(), output.strip()


def constrained(definition):
    """True when a parameter refuses an arbitrary string: a non-String type, or a constraint."""
    parameter_type = getattr(definition.get("type"), "parameter_type", "String")
    return parameter_type != "String" or any(definition.get(key) is not None for key in CONSTRAINTS)


def stand_in(reference, definition, previous):
    """What an unknown value is previewed with (module docstring)."""
    if constrained(definition) and previous is not None:
        return previous
    return MARKER % reference


def resolve(stack, fqn_of, outputs_of, settings_values, previous=None):
    """({variable: value}, (Unknown, ...)) of a StackDefinition's CloudFormation parameters.

    fqn_of(config stack name): the CloudFormation name of one of the config's stacks (KeyError: none);
    outputs_of(stack name): {output: value} of a live stack, None when it does not exist;
    previous: {parameter: value} the live stack has now (None: it does not exist)."""
    values, unknowns = {}, []
    for variable, raw in stack.lookups.items():
        kind, argument = parse_lookup(stack.name, variable, raw)
        if kind is None:
            values[variable] = raw
            continue
        if kind == "setting":
            if argument not in settings_values:
                raise RenderError("stack %s: variable %s: ${setting %s}: no such env key" % (stack.name, variable,
                                                                                           argument))
            values[variable] = settings_values[argument]
            continue
        name, output = split_reference(stack.name, variable, argument)
        if kind == "output":
            try:
                name = fqn_of(name)
            except KeyError:
                raise RenderError("stack %s: variable %s: ${output %s}: the config has no stack %s"
                                  % (stack.name, variable, argument, name)) from None
        outputs = outputs_of(name)
        if outputs is not None and output in outputs:
            values[variable] = outputs[output]
            continue
        reference = "%s::%s" % (name, output)
        why = "stack %s does not exist yet" % name if outputs is None else "stack %s has no output %s" % (name, output)
        values[variable] = stand_in(reference, stack.definitions[variable], (previous or {}).get(variable))
        unknowns.append(Unknown(variable, reference, why, str(values[variable])))
    return values, tuple(unknowns)


def build_parameters(values, definitions, live_stack=None):
    """The Parameters list a build sends for these blueprint parameter values (module docstring).

    definitions: {parameter: definition} the blueprint declares; live_stack: DescribeStacks' entry."""
    resolved = {}
    for key, value in values.items():
        if key not in definitions or value is None:
            continue
        resolved[key] = str(value).lower() if isinstance(value, bool) else value
    live = {parameter.get("ParameterKey") for parameter in (live_stack or {}).get("Parameters") or ()}
    previous = [key for key in definitions if key not in resolved and key in live]
    missing = sorted(key for key in definitions if key not in resolved and key not in live
                     and "default" not in definitions[key])
    if missing:
        raise RenderError("no value for the required parameter(s) %s" % ", ".join(missing))
    parameters = [{"ParameterKey": key, "ParameterValue": str(value)} for key, value in resolved.items()]
    return parameters + [{"ParameterKey": key, "UsePreviousValue": True} for key in previous]


def live_parameters(live_stack):
    """{parameter: value} a described stack has now (None for no stack)."""
    if live_stack is None:
        return None
    return {parameter["ParameterKey"]: parameter.get("ParameterValue")
            for parameter in live_stack.get("Parameters") or () if "ParameterKey" in parameter}
