"""Render every stack of every env file to reviewable JSON, offline.

    tenantstack render            # write <project>/templates/<namespace>/<stack>.json
    tenantstack render --check    # exit 1 and list files that are stale

Env files: environments/<namespace>.env (tenant and shared namespaces) and
environments/pipelines/<project>.env (a project's delivery pipeline, stacker/pipeline.yaml;
its templates go to templates/<project>/).

Cross-stack values are CloudFormation parameters, so a template never depends on
another stack's outputs: the renderer gives those variables a placeholder and needs
no AWS access. A variable that is not a CloudFormation parameter must not use a
lookup that needs AWS; the renderer refuses such a config with a message naming it.
Output is canonical (sorted keys, two-space indent, trailing newline): two runs are
byte-identical. A tenant env file that says `db_timestamp: latest` is refused: the timestamp,
which the database and service templates carry, is known only when a deploy starts.
"""
import json
import os
from pathlib import Path

from hooks import naming
from hooks.aws import endpoint_quirks
from hooks.config import envfile, project, settings
from hooks.engine.stacker_compat import is_parameter_type, load_config, make_context, make_variable, variable_definitions
from hooks.errors import RenderError

REFRESH_COMMAND = "make templates"


def canonical_json(template):
    return json.dumps(template, sort_keys=True, indent=2, separators=(",", ": ")) + "\n"


def load_class(class_path):
    module_path, _, name = class_path.rpartition(".")
    module = __import__(module_path, fromlist=[name])
    return getattr(module, name)


def render_blueprint(blueprint_class, variables, name="stack", context=None):
    """Render one blueprint with plain variable values; CFN parameters need none.

    Returns the template as a dict.
    """
    blueprint = blueprint_class(name=name, context=context or make_context(None, {}))
    return json.loads(blueprint.to_json(variables=variables))


def config_for(env_path, root):
    """The stacker config an env file deploys with: shared, tenant or pipeline, by its namespace."""
    namespace = envfile.read(env_path).get("namespace")
    if naming.is_project(namespace):
        kind = "pipeline"
    else:
        kind = "shared" if namespace in naming.SHARED_NAMESPACES else "tenant"
    return project.config_path(root, kind)


def offline_variables(stack, blueprint_class, context):
    """Variable values for rendering: CFN parameters are skipped, the rest resolved."""
    defined = variable_definitions(blueprint_class(name=stack.name, context=context))
    values = {}
    for key, raw_value in (stack.variables or {}).items():
        definition = defined.get(key)
        if definition is None:
            raise RenderError(
                "stack %s: variable %s is not defined by %s" % (stack.name, key, stack.class_path)
            )
        if is_parameter_type(definition.get("type")):
            continue
        variable = make_variable(key, raw_value)
        try:
            variable.resolve(context, provider=None)
        except Exception as error:  # each engine wraps every lookup failure differently
            raise RenderError(
                "stack %s: variable %s (%r) cannot be resolved offline (%s); values from other "
                "stacks must enter as CloudFormation parameters (a CFNType variable)"
                % (stack.name, key, raw_value, error)
            ) from None
        values[key] = variable.value
    return values


def render_env_file(env_path, root):
    """Render every stack the env file deploys: {config stack name: template dict}."""
    env_path = Path(env_path)
    environment = envfile.read(env_path)
    values = settings.load_settings(environment, str(env_path))
    if values.get("db_timestamp") == naming.LATEST_TIMESTAMP:
        raise RenderError(
            "%s says db_timestamp %s, which names a snapshot only when a deploy starts (tenantstack deploy "
            "resolves it), so its database and service templates cannot be rendered for review; where templates "
            "are reviewed, keep a timestamp in the file and give `-e db_timestamp=%s` to the deploy"
            % (env_path, naming.LATEST_TIMESTAMP, naming.LATEST_TIMESTAMP)
        )
    config = load_config(config_for(env_path, root).read_text(), environment)
    context = make_context(config, environment)
    rendered = {}
    for stack in config.stacks:
        blueprint_class = load_class(stack.class_path)
        variables = offline_variables(stack, blueprint_class, context)
        rendered[stack.name] = render_blueprint(blueprint_class, variables, stack.name, context)
    return rendered


def env_files(root):
    """The env files of tenant and shared namespaces."""
    return sorted(project.environments_dir(root).glob("*.env"))


def pipeline_env_files(root):
    """The env files of the projects' delivery pipelines."""
    return sorted((project.environments_dir(root) / "pipelines").glob("*.env"))


def render_all(root):
    """{relative output path: canonical JSON} for every stack of every tenant and shared env file."""
    return _render(env_files(root), root)


def render_pipelines(root):
    """{relative output path: canonical JSON} for every stack of every pipeline env file."""
    return _render(pipeline_env_files(root), root)


def render_templates(root):
    """{relative output path: canonical JSON} of every template `make templates` writes."""
    files = render_all(root)
    files.update(render_pipelines(root))
    return files


def _render(paths, root):
    if endpoint_quirks.enabled():
        raise RenderError(
            "%s=%s is set: templates for review must be what AWS gets; unset it and render again"
            % (endpoint_quirks.SWITCH, endpoint_quirks.SWITCH_VALUE)
        )
    files = {}
    for env_path in paths:
        namespace = envfile.read(env_path)["namespace"]
        for stack_name, template in render_env_file(env_path, root).items():
            files[os.path.join(namespace, stack_name + ".json")] = canonical_json(template)
    return files


def stale_files(out_dir, root):
    """Paths under out_dir that differ from a fresh render, are missing or are extra."""
    out_dir = Path(out_dir)
    expected = render_templates(root)
    present = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*.json")} if out_dir.exists() else set()
    stale = [
        path
        for path, text in expected.items()
        if path not in present or (out_dir / path).read_text() != text
    ]
    return sorted(stale + sorted(present - set(expected)))


def write_all(out_dir, root):
    """Write every template and remove rendered files no env file produces any more."""
    out_dir = Path(out_dir)
    expected = render_templates(root)
    for path, text in expected.items():
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    for extra in out_dir.rglob("*.json"):
        if str(extra.relative_to(out_dir)) not in expected:
            extra.unlink()
    for directory in sorted(out_dir.glob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return sorted(expected)

