"""Parse and check a CodeBuild buildspec (version 0.2) for scripts/local_codebuild.py.

Pure: no processes, no files. Standard library and PyYAML only. Every scalar is read
as a string (YAML's BaseLoader), as CodeBuild reads them: `python: 3.10` stays "3.10".

What the local runner supports, and what it refuses before anything runs
(BuildspecError names the key and what to do):

    version                0.2 only
    env.shell              bash (required: CodeBuild's Linux default is /bin/sh, which the
                           runner does not emulate; say bash so both run the same shell)
    env.variables          plain values
    env.parameter-store    only with the value given by --env NAME=VALUE (no lookup)
    env.secrets-manager    the same
    env.exported-variables names
    phases.<phase>         install, pre_build, build, post_build: commands, finally,
                           on-failure (ABORT | CONTINUE); runtime-versions in install only
    artifacts              files, base-directory, name, discard-paths
    cache                  paths (recorded in the report; nothing is cached)
"""
import re
from dataclasses import dataclass, field
from typing import Optional, Tuple

import yaml

PHASES = ("install", "pre_build", "build", "post_build")
ON_FAILURE = ("ABORT", "CONTINUE")
TOP_LEVEL_KEYS = ("version", "env", "phases", "artifacts", "cache")
ENV_KEYS = ("shell", "variables", "parameter-store", "secrets-manager", "exported-variables")
PHASE_KEYS = ("commands", "finally", "on-failure", "runtime-versions")
ARTIFACT_KEYS = ("files", "base-directory", "name", "discard-paths")
CACHE_KEYS = ("paths",)
SHELLS = ("bash",)
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BuildspecError(ValueError):
    """The buildspec (or an input to it) cannot be run locally; nothing was run."""

    def __init__(self, source, problem):
        super().__init__("%s: %s" % (source, problem))


@dataclass(frozen=True)
class Phase:
    name: str
    commands: Tuple[str, ...] = ()
    finally_commands: Tuple[str, ...] = ()
    on_failure: str = "ABORT"
    runtime_versions: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Artifacts:
    files: Tuple[str, ...]
    base_directory: str = "."
    name: Optional[str] = None
    discard_paths: bool = False


@dataclass(frozen=True)
class Buildspec:
    shell: str
    variables: Tuple[Tuple[str, str], ...] = ()
    resolved_elsewhere: Tuple[Tuple[str, str], ...] = ()  # (variable, "parameter-store /name")
    exported_variables: Tuple[str, ...] = ()
    phases: Tuple[Phase, ...] = ()
    artifacts: Optional[Artifacts] = None
    cache_paths: Tuple[str, ...] = field(default=())

    def phase(self, name):
        return next((phase for phase in self.phases if phase.name == name), Phase(name))


def parse(text, source="buildspec"):
    """The Buildspec in `text`; BuildspecError naming the first problem otherwise."""
    try:
        document = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        raise BuildspecError(source, "not valid YAML: %s" % error) from None
    check = _Checker(source)
    document = check.mapping(document, "the buildspec", TOP_LEVEL_KEYS)
    if document.get("version") != "0.2":
        check.fail("version %r is not supported: the local runner runs version 0.2 buildspecs" % document.get("version"))
    env = check.mapping(document.get("env", {}), "env", ENV_KEYS)
    shell = env.get("shell")
    if shell not in SHELLS:
        check.fail(
            "env.shell %r is not supported: set `shell: bash` (CodeBuild's default on Linux is /bin/sh, "
            "which the local runner does not emulate)" % shell
        )
    resolved_elsewhere = []
    for key in ("parameter-store", "secrets-manager"):
        for name, reference in check.names(check.strings(env.get(key, {}), "env.%s" % key), "env.%s" % key).items():
            resolved_elsewhere.append((name, "%s %s" % (key, reference)))
    return Buildspec(
        shell=shell,
        variables=tuple(check.names(check.strings(env.get("variables", {}), "env.variables"), "env.variables").items()),
        resolved_elsewhere=tuple(resolved_elsewhere),
        exported_variables=tuple(
            check.names(check.string_list(env.get("exported-variables", []), "env.exported-variables"), "env.exported-variables")
        ),
        phases=tuple(
            _phase(check, name, body)
            for name, body in check.mapping(document.get("phases"), "phases", PHASES).items()
        ),
        artifacts=_artifacts(check, document.get("artifacts")),
        cache_paths=tuple(
            check.string_list(check.mapping(document.get("cache", {}), "cache", CACHE_KEYS).get("paths", []), "cache.paths")
        ),
    )


def _phase(check, name, body):
    where = "phases.%s" % name
    body = check.mapping(body, where, PHASE_KEYS)
    on_failure = body.get("on-failure", "ABORT")
    if on_failure not in ON_FAILURE:
        check.fail("%s.on-failure %r is invalid: expected one of %s" % (where, on_failure, ", ".join(ON_FAILURE)))
    if "runtime-versions" in body and name != "install":
        check.fail("%s.runtime-versions is invalid: CodeBuild reads runtime-versions in the install phase only" % where)
    return Phase(
        name=name,
        commands=tuple(check.string_list(body.get("commands", []), "%s.commands" % where)),
        finally_commands=tuple(check.string_list(body.get("finally", []), "%s.finally" % where)),
        on_failure=on_failure,
        runtime_versions=tuple(check.strings(body.get("runtime-versions", {}), "%s.runtime-versions" % where).items()),
    )


def _artifacts(check, body):
    if body is None:
        return None
    body = check.mapping(body, "artifacts", ARTIFACT_KEYS)
    files = check.string_list(body.get("files"), "artifacts.files")
    if not files:
        check.fail("artifacts.files is missing: list the files to collect, e.g. `- status.json` or `- '**/*'`")
    discard = body.get("discard-paths", "no")
    if discard not in ("yes", "no"):
        check.fail("artifacts.discard-paths %r is invalid: expected yes or no" % discard)
    return Artifacts(
        files=tuple(files),
        base_directory=body.get("base-directory", "."),
        name=body.get("name"),
        discard_paths=discard == "yes",
    )


class _Checker:
    """Shape checks that name the key in the buildspec that breaks them."""

    def __init__(self, source):
        self.source = source

    def fail(self, problem):
        raise BuildspecError(self.source, problem)

    def mapping(self, value, where, known):
        if not isinstance(value, dict):
            self.fail("%s must be a mapping, got %r" % (where, value))
        unknown = sorted(set(value) - set(known))
        if unknown:
            self.fail(
                "%s: %s not supported by the local runner (supported: %s)"
                % (where, ", ".join(unknown), ", ".join(known))
            )
        return value

    def strings(self, value, where):
        if value == "":
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail("%s must map names to plain values, got %r" % (where, value))
        return dict(value)

    def names(self, value, where):
        """A mapping keyed by, or a list of, shell variable names."""
        for name in value:
            if not VARIABLE_NAME.match(name):
                self.fail("%s: %r is not a variable name (letters, digits and _, not starting with a digit)"
                          % (where, name))
        return value

    def string_list(self, value, where):
        if value is None or value == "":
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail("%s must be a list of strings, got %r" % (where, value))
        return list(value)
