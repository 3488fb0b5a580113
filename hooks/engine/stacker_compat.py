"""The one module that imports stacker.

Blueprints, the renderer and the `setting` lookup reach stacker only through
here, so moving to runway's CFNgin (stacker's maintained fork) changes this file
and little else. Hook functions themselves never import stacker: they receive
stacker's context and read plain attributes from it.
"""
from stacker.blueprints.base import Blueprint  # noqa: F401  (re-exported)
from stacker.blueprints.variables import types as variable_types  # noqa: F401
from stacker.config import render_parse_load
from stacker.context import Context
from stacker.environment import parse_environment  # noqa: F401  (re-exported: hooks.config.envfile reads with it)
from stacker.lookups.handlers import LookupHandler
from stacker.variables import Variable  # noqa: F401

from hooks.config import settings

CFNString = variable_types.CFNString
CFNNumber = variable_types.CFNNumber
CFNCommaDelimitedList = variable_types.CFNCommaDelimitedList
EC2VPCId = variable_types.EC2VPCId
EC2SubnetIdList = variable_types.EC2SubnetIdList
EC2SecurityGroupId = variable_types.EC2SecurityGroupId
SSMParameterValueString = variable_types.SSMParameterValueString
CFNType = variable_types.CFNType


def environment_of(context):
    """The env file values (plus `-e` overrides) the engine was started with."""
    return dict(context.environment or {})


class SettingLookup(LookupHandler):
    """`${setting KEY}`: an env file value after validation, with its default filled in.

    Registered in the configs as `lookups: {setting: hooks.engine.stacker_compat.SettingLookup}`.
    Unlike `${KEY}`, it works for keys the env file leaves out (their documented
    default is used) and it refuses a value that breaks the key's rule.
    """

    @classmethod
    def handle(cls, value, context=None, provider=None, **kwargs):
        values = settings.load_settings(environment_of(context))
        key = value.strip()
        if key not in values:
            raise KeyError("${setting %s}: no such env key (known: %s)" % (key, ", ".join(sorted(values))))
        return values[key]


def load_config(config_text, environment):
    """Render (substitute `${env}` values), parse and validate a stacker config."""
    return render_parse_load(config_text, environment=environment)


def make_context(config, environment):
    return Context(environment=environment, config=config)
