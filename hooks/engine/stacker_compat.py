"""The one module that imports the deployment engine: stacker 1.7.2 or runway's CFNgin.

Blueprints, the renderer, the hook wiring, the env-file reader and the `setting` lookup
reach the engine only through here; nothing else knows which engine runs. Hook functions
never import an engine: they receive its context and read it through `environment_of`.

Which engine (ENGINE, "stacker" or "cfngin"), first rule that applies:

1. the engine already running this process (a `stacker build` or a runway/CFNgin run
   imported it before our blueprints and hooks): its classes are the ones it accepts;
2. TENANTSTACK_ENGINE=stacker|cfngin (`tenantstack deploy --engine` sets it for its child);
   an engine that is not installed is refused with the install hint;
3. CFNgin when runway is installed (the maintained engine, Python 3.10+), else stacker.

What differs between them and is hidden here (docs/engines.md has the full table):
`defined_variables` is a method in stacker and a property in CFNgin (blueprints define
`variable_definitions()` and read `variable_values()` instead); the env values are
`context.environment` in stacker and `context.parameters` in CFNgin, which also adds
`environment` and `region` of its own (`environment_of` leaves those two out); configs are
rendered, parsed and their lookups registered by `load_config` either way.
"""
import argparse
import copy
import importlib.util
import os
import sys
from pathlib import Path

from hooks.config import settings
from hooks.engine.config_keys import check_twin_keys
from hooks.errors import BadInput

ENGINE_VARIABLE = "TENANTSTACK_ENGINE"
ENGINES = ("stacker", "cfngin")
INSTALL_HINT = {
    "stacker": "stacker 1.7.2 runs on Python 3.9 only: its venv is .venv (make setup, requirements/project.txt)",
    "cfngin": "runway (CFNgin) needs Python 3.10+: its venv is .venv-cfngin (make setup, requirements/cfngin.txt)",
}
# Parameters CFNgin adds to every run (DEPLOY_ENVIRONMENT's name, the region): not env-file keys.
CFNGIN_INJECTED = ("environment", "region")


def _installed(engine):
    return importlib.util.find_spec("stacker" if engine == "stacker" else "runway") is not None


def choose_engine(environ=None, modules=None, installed=_installed):
    """The engine this process uses, by the rules of the module docstring."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if "stacker.blueprints.base" in modules or "stacker.commands" in modules:
        return "stacker"
    if "runway.cfngin.cfngin" in modules or "runway._cli" in modules:
        return "cfngin"
    wanted = environ.get(ENGINE_VARIABLE, "").strip()
    if wanted:
        if wanted not in ENGINES:
            raise BadInput("%s=%r is invalid: expected one of %s" % (ENGINE_VARIABLE, wanted, ", ".join(ENGINES)))
        if not installed(wanted):
            raise BadInput("%s=%s: that engine is not installed here; %s" % (ENGINE_VARIABLE, wanted,
                                                                             INSTALL_HINT[wanted]))
        return wanted
    if installed("cfngin"):
        return "cfngin"
    if installed("stacker"):
        return "stacker"
    raise BadInput("no deployment engine installed: install runway (CFNgin) or stacker; %s" % INSTALL_HINT["cfngin"])


ENGINE = choose_engine()

if ENGINE == "stacker":
    from stacker.blueprints.base import Blueprint as _EngineBlueprint
    from stacker.blueprints.variables import types as variable_types
    from stacker.config import render_parse_load as _render_parse_load
    from stacker.context import Context as _Context
    from stacker.environment import parse_environment as _parse_environment
    from stacker.lookups.handlers import LookupHandler as _EngineLookupHandler
    from stacker.providers.aws.default import DEFAULT_CAPABILITIES  # noqa: F401  (what a build passes)
    from stacker.variables import Variable as _Variable

    ENGINE_LOGGER = "stacker"
    POLL_TIME_VARIABLE = "STACKER_STACK_POLL_TIME"

    class Blueprint(_EngineBlueprint):
        """stacker's Blueprint; subclasses define `variable_definitions()` and read `variable_values()`."""

        def variable_definitions(self):
            return copy.deepcopy(self.VARIABLES)

        def defined_variables(self):  # stacker calls it as a method
            return self.variable_definitions()

        def variable_values(self):
            return self.get_variables()

    def load_config(config_text, environment):
        """Render (substitute `${env}` values), parse, validate and load (register lookups) a config."""
        check_twin_keys(config_text)
        return _render_parse_load(config_text, environment=environment)

    def make_context(config, environment):
        return _Context(environment=environment, config=config)

    def make_variable(name, value):
        return _Variable(name, value)

else:
    from runway.cfngin.blueprints.base import Blueprint as _EngineBlueprint
    from runway.cfngin.blueprints.variables import types as variable_types
    from runway.cfngin.environment import parse_environment as _parse_environment
    from runway.config import CfnginConfig as _CfnginConfig
    from runway.context import CfnginContext as _CfnginContext
    from runway.cfngin.providers.aws.default import DEFAULT_CAPABILITIES  # noqa: F401  (what a build passes)
    from runway.lookups.handlers.base import LookupHandler as _EngineLookupHandler
    from runway.variables import Variable as _RunwayVariable

    ENGINE_LOGGER = "runway"
    POLL_TIME_VARIABLE = "CFNGIN_STACK_POLL_TIME"

    class Blueprint(_EngineBlueprint):
        """CFNgin's Blueprint; subclasses define `variable_definitions()` and read `variable_values()`."""

        def variable_definitions(self):
            return copy.deepcopy(self.VARIABLES)

        @property
        def defined_variables(self):  # CFNgin reads it as a property
            return self.variable_definitions()

        def variable_values(self):
            return self.variables

    def load_config(config_text, environment):
        """Render (substitute `${env}` values), parse, validate and load (register lookups) a config."""
        check_twin_keys(config_text)
        config = _CfnginConfig.parse_raw(config_text, parameters=dict(environment), skip_package_sources=True)
        config.load()
        return config

    def make_context(config, environment):
        return _CfnginContext(config=config, parameters=dict(environment))

    def make_variable(name, value):
        return _RunwayVariable(name, value, "cfngin")

    def run_cfngin_action(action, config_path, parameters, region=None, stacks=(), interactive=False,
                          recreate_failed=False, cancel=None, **options):
        """One CFNgin action ("build", "diff", "destroy") of one config file, as runway's CFNgin
        module runs it (the same config, context and provider classes; `environment` and `region`
        added to the parameters), with stacker's options: `options` go to the action's execute
        (concurrency, tail, dump, outline, force); `cancel` (a threading.Event) stops it at the next
        stack boundary. Ends as CFNgin ends: sys.exit(1) after a failed plan."""
        from runway.cfngin.actions import deploy, destroy, diff
        from runway.cfngin.providers.aws.default import ProviderBuilder
        from runway.core.components import DeployEnvironment

        environment = DeployEnvironment(explicit_name=parameters.get("namespace"), ignore_git_branch=True)
        if region:
            environment.aws_region = region
        parameters = dict(parameters)
        parameters.setdefault("environment", environment.name)
        parameters.setdefault("region", environment.aws_region)
        work_dir = Path.cwd() / ".runway"
        check_twin_keys(Path(config_path).read_text(), config_path)
        config = _CfnginConfig.parse_file(file_path=Path(config_path), parameters=parameters, work_dir=work_dir)
        config.load()
        context = _CfnginContext(config_path=Path(config_path), config=config, deploy_environment=environment,
                                 parameters=parameters, stack_names=list(stacks), work_dir=work_dir)
        actions = {"build": deploy.Action, "diff": diff.Action, "destroy": destroy.Action}
        provider_builder = ProviderBuilder(region=environment.aws_region, interactive=interactive,
                                           recreate_failed=recreate_failed, service_role=config.service_role)
        actions[action](context=context, provider_builder=provider_builder, cancel=cancel).execute(**options)


CFNType = variable_types.CFNType
CFNString = variable_types.CFNString
CFNNumber = variable_types.CFNNumber
CFNCommaDelimitedList = variable_types.CFNCommaDelimitedList
EC2VPCId = variable_types.EC2VPCId
EC2SubnetIdList = variable_types.EC2SubnetIdList
EC2SecurityGroupId = variable_types.EC2SecurityGroupId
SSMParameterValueString = variable_types.SSMParameterValueString


def parse_environment(text):
    """{key: value} of env-file text, read by the engine's own parser (the two are the same rule)."""
    return dict(_parse_environment(text))


def environment_of(context):
    """The env file values (plus `-e` overrides or runway parameters) the engine was started with.

    By the context's shape, which tells the engines apart: CFNgin's `parameters` (a runway
    MutableMap, whose `.data` is the values without its own cache, and which holds CFNgin's
    own `environment` and `region`, left out here), else stacker's `environment`."""
    parameters = getattr(context, "parameters", None)
    if parameters is None:
        return dict(getattr(context, "environment", None) or {})
    values = dict(parameters.data if hasattr(parameters, "data") else parameters)
    for key in CFNGIN_INJECTED:
        values.pop(key, None)
    return values


class _ArgumentsRefused(ValueError):
    pass


class _QuietParser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message):
        raise _ArgumentsRefused(message)


_ENV_FILE_READ = {}  # {"path", "values"}: the env file tenantstack-cfngin read for this run


def record_env_file(path, values):
    """Remember the env file (and its values, overrides applied) a CFNgin run of this process reads."""
    _ENV_FILE_READ.clear()
    _ENV_FILE_READ.update(path=path, values=dict(values))


def env_file_of(context, argv=None):
    """The path of the env file this engine run read, as its command line gave it; None when it cannot know.

    stacker's context carries the env values, not the file they came from. A hook runs in the
    stacker process, so the file is the `environment` positional of its command line: this
    process must be the `stacker` script running `build` (plain `stacker build`, or
    hooks/run/stacker_child.py, which runs the script the same way), and stacker's own
    `build` parser reads sys.argv as stacker did. The answer is trusted only if that file,
    read by stacker's reader with the `-e` overrides applied, holds exactly the context's
    values. Under CFNgin the file is the one `tenantstack-cfngin` read in this process
    (`record_env_file`), on the same condition. Anything else is None: `runway deploy` (its env
    comes from DEPLOY_ENVIRONMENT and runway.yml, not a file argument), a hook called from
    Python, a file changed since.
    """
    if ENGINE != "stacker":
        read = _ENV_FILE_READ
        return read["path"] if read and read["values"] == environment_of(context) else None
    argv = sys.argv if argv is None else list(argv)
    if len(argv) < 2 or os.path.basename(argv[0]) != "stacker" or argv[1] != "build":
        return None
    from stacker.commands.stacker.base import environment_file
    from stacker.commands.stacker.build import Build

    parser = _QuietParser(prog="stacker build", add_help=False)
    Build().add_arguments(parser)
    for action in parser._actions:  # the paths as given, not the files they name
        if action.dest in ("environment", "config"):
            action.type = None
    try:
        options, _ = parser.parse_known_args(argv[2:])
    except (_ArgumentsRefused, SystemExit):
        return None
    path = options.environment
    if not isinstance(path, str):
        return None  # no env file on the command line
    try:
        values = dict(environment_file(path))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    values.update(options.cli_envs or {})
    return path if values == environment_of(context) else None


def is_parameter_type(variable_type):
    """True for a variable type that becomes a CloudFormation parameter (CFNString, EC2VPCId, ...):
    instances of CFNType in stacker, subclasses of it in CFNgin."""
    return isinstance(variable_type, CFNType) or (isinstance(variable_type, type) and issubclass(variable_type, CFNType))


def parameter_values(blueprint):
    """{name: value} of the CloudFormation parameters a blueprint's stack gets (its CFNType variables):
    stacker's `get_parameter_values()`, CFNgin's `parameter_values` property (CFNgin still has the
    method, deprecated: it logs a warning on every call)."""
    if ENGINE == "stacker":
        return dict(blueprint.get_parameter_values() or {})
    return dict(blueprint.parameter_values or {})


def variable_definitions(blueprint):
    """A blueprint's variable definitions, whichever engine (a method here, a property there)."""
    return blueprint.variable_definitions()


class SettingLookup(_EngineLookupHandler):
    """`${setting KEY}`: an env file value after validation, with its default filled in.

    Registered in the configs as `lookups: {setting: hooks.engine.stacker_compat.SettingLookup}`.
    Unlike `${KEY}`, it works for keys the env file leaves out (their documented
    default is used) and it refuses a value that breaks the key's rule.
    """

    TYPE_NAME = "setting"

    @classmethod
    def handle(cls, value, context=None, provider=None, **kwargs):
        values = settings.load_settings(environment_of(context))
        key = value.strip()
        if key not in values:
            raise KeyError("${setting %s}: no such env key (known: %s)" % (key, ", ".join(sorted(values))))
        return values[key]
