"""Run a CodeBuild buildspec (version 0.2) on this machine, the way CodeBuild runs it.

    scripts/local_codebuild.py buildspecs/deploy.yml --env ENV_FILE=environments/xy-0146-qa.env \\
        --artifacts-dir .run/build-out --report .run/build.json

Standard library and PyYAML only (runs under the project venv). Against the local AWS
endpoint, run it with the endpoint's client environment (scripts/local_endpoint.client_env).
What it emulates, from the CodeBuild user guide ("Build specification reference", "Shells
and commands in build environments", "Build phase transitions", "Environment variables in
build environments"):

- Version 0.2 runs every command in one shell instance: `cd`, variables, functions and shell
  options carry over to the next command and phase. Here each command is one `bash`
  process that restores the state the previous command left and saves its own.
- A command fails when its exit status is not 0; within one command line only the last
  status counts (as in CodeBuild: chain with && or `set -e` inside the line). The first
  failing command ends its phase; the phase's `finally` commands still run.
- install or pre_build failing ends the build (on-failure ABORT, the default); CONTINUE
  moves on to the next phase. Once build has run, post_build runs whatever build did, with
  CODEBUILD_BUILD_SUCCEEDING=0 after a failure, and artifacts are collected; a build with
  no file matching artifacts.files fails.
- Variables: the caller's environment (the image's), then env.variables, then --env
  (project and start-build values win over the buildspec's), then the built-ins
  (CODEBUILD_BUILD_ID=<project>:<uuid>, CODEBUILD_SRC_DIR, AWS_REGION, ...).
- runtime-versions: python must name the version of the interpreter given by --python
  (default: the one running this script); it is put first on PATH as python, python3 and
  python<version>. Other runtimes are refused.
- The build's time budget (--timeout) covers every command; when it runs out the running
  command's process group is killed and the build ends TIMED_OUT.

Batch builds: `--batch BATCH_BUILDSPEC` runs a batch buildspec (build-list or build-graph,
one build per entry, each this runner's single-build mode with the entry's variables), as
scripts/codebuild_batch.py describes, with --logs-dir and --max-concurrent.

Exit status: 0 SUCCEEDED, 1 FAILED or TIMED_OUT, 2 the buildspec or an argument is
refused (nothing ran). A nested run (a buildspec whose commands run this script again) is
refused, so a buildspec's test command can never recurse into itself.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import codebuild_batch  # noqa: E402
import codebuild_spec  # noqa: E402
from codebuild_shell import (  # noqa: E402
    DEFAULT_ACCOUNT,
    DEPTH_VARIABLE,
    SUCCEEDING,
    Shell,
    builtin_variables,
    git,
    initial_environment,
    python_shims,
)
from codebuild_spec import PHASES, BuildspecError  # noqa: E402

DEFAULT_TIMEOUT = 3600  # CodeBuild's default build timeout: 60 minutes


@dataclass
class Options:
    buildspec: Path
    source_dir: Path
    project: str
    overrides: dict = field(default_factory=dict)
    artifacts_dir: Path = None
    timeout: float = DEFAULT_TIMEOUT
    python: str = None
    source_version: str = None
    pull_request: str = None
    base_ref: str = "main"
    initiator: str = None
    region: str = None
    account: str = DEFAULT_ACCOUNT
    build_number: int = 1


@dataclass
class BuildResult:
    build_id: str
    status: str = "SUCCEEDED"
    phases: list = field(default_factory=list)  # [{"phase", "status", "failed_command", "exit_code"}]
    exported_variables: dict = field(default_factory=dict)
    artifacts: list = field(default_factory=list)
    cache_paths: list = field(default_factory=list)


def log(message):
    print("[Container] %s" % message, flush=True)


# --- running commands ------------------------------------------------------------------------


def run_commands(shell, commands, env):
    """Run until one fails: (env, failed command or None, its exit status, timed out)."""
    for command in commands:
        log("Running command %s" % command)
        code, env, _ = shell.run(command, env)
        if code is None:
            log("Build timed out while running %s" % command)
            return env, command, None, True
        if code != 0:
            log("Command did not exit successfully %s exit status %d" % (command, code))
            return env, command, code, False
    return env, None, 0, False


def run_phase(shell, phase, env):
    """Run one phase and its finally block: (env, phase record, timed out)."""
    log("Entering phase %s" % phase.name.upper())
    env, failed, code, timed_out = run_commands(shell, phase.commands, env)
    if phase.finally_commands and not timed_out:
        env, finally_failed, finally_code, timed_out = run_commands(shell, phase.finally_commands, env)
        if failed is None and finally_failed is not None:
            failed, code = finally_failed, finally_code
    status = "TIMED_OUT" if timed_out else ("FAILED" if failed is not None else "SUCCEEDED")
    log("Phase complete: %s State: %s" % (phase.name.upper(), status))
    if status == "FAILED":
        log("Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: "
            "%s. Reason: exit status %d" % (failed, code))
    return env, {"phase": phase.name, "status": status, "failed_command": failed, "exit_code": code}, timed_out


def run_build(spec, options, base_env, workdir):
    """Run every phase as CodeBuild would; returns the BuildResult (never raises for a failing build)."""
    source_dir = options.source_dir.resolve()
    build_id = "%s:%s" % (options.project, uuid.uuid4())
    resolved = git(source_dir, "rev-parse", "HEAD") or "local"
    env = initial_environment(
        spec, options, base_env, builtin_variables(options, build_id, resolved, source_dir), str(options.buildspec)
    )
    install = spec.phase("install")
    if install.runtime_versions:
        shims = python_shims(install.runtime_versions, options.python, workdir / "runtimes", str(options.buildspec))
        env["PATH"] = "%s:%s" % (shims, env.get("PATH", os.defpath))
    result = BuildResult(build_id, cache_paths=list(spec.cache_paths))
    shell = Shell(workdir, source_dir, time.monotonic() + options.timeout)
    log("Build %s started (source %s at %s)" % (build_id, source_dir, resolved))
    build_ran = False
    for name in PHASES:
        phase = spec.phase(name)
        if name == "post_build" and not build_ran:
            break
        if not phase.commands and not phase.finally_commands:
            build_ran = build_ran or name == "build"
            continue
        env, record, timed_out = run_phase(shell, phase, env)
        result.phases.append(record)
        build_ran = build_ran or name == "build"
        if timed_out:
            result.status = "TIMED_OUT"
            break
        if record["status"] == "FAILED":
            result.status, env[SUCCEEDING] = "FAILED", "0"
            if phase.on_failure == "ABORT" and name in ("install", "pre_build"):
                break
    if result.status != "TIMED_OUT":
        result.exported_variables = shell.values(list(spec.exported_variables), env) if spec.exported_variables else {}
    if build_ran and spec.artifacts and result.status != "TIMED_OUT":
        result.artifacts, problem = collect_artifacts(spec.artifacts, source_dir, options.artifacts_dir)
        if problem:
            log("Phase context status code: CLIENT_ERROR Message: %s" % problem)
            result.status = "FAILED"
    log("Build %s %s" % (build_id, result.status))
    return result


def collect_artifacts(artifacts, source_dir, out_dir):
    """Copy the files artifacts.files matches into out_dir[/name]: (copied paths, problem or None)."""
    base = (source_dir / artifacts.base_directory).resolve()
    matched = sorted({path for pattern in artifacts.files for path in base.glob(pattern) if path.is_file()})
    if not matched:
        return [], "no matching artifact paths found (base-directory %s, files %s)" % (
            artifacts.base_directory, ", ".join(artifacts.files))
    if out_dir is None:
        return [], "the buildspec has artifacts: pass --artifacts-dir"
    target = Path(out_dir) / (artifacts.name or "")
    copied = []
    for path in matched:
        relative = Path(path.name) if artifacts.discard_paths else path.relative_to(base)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(str(path), str(target / relative))
        copied.append(str(target / relative))
    return copied, None


def _read(path):
    try:
        return path.read_text()
    except OSError as error:
        raise BuildspecError(str(path), "cannot be read: %s" % error.strerror) from None


# --- command line ----------------------------------------------------------------------------


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("buildspec", type=Path)
    parser.add_argument("--source-dir", type=Path, default=Path.cwd(), help="CODEBUILD_SRC_DIR (default: here)")
    parser.add_argument("--project", help="build project name (default: the buildspec's file name)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="project/start-build variable")
    parser.add_argument("--artifacts-dir", type=Path, help="where artifacts.files are copied to")
    parser.add_argument("--report", type=Path, help="write the build's result as JSON here")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="build time budget in seconds")
    parser.add_argument("--python", default=os.path.realpath(sys.executable), help="runtime-versions python")
    parser.add_argument("--source-version", help="CODEBUILD_SOURCE_VERSION (default: the commit checked out)")
    parser.add_argument("--pull-request", metavar="NUMBER", help="set the webhook variables of a pull-request build")
    parser.add_argument("--base-ref", default="main", help="the pull request's base branch")
    parser.add_argument("--initiator", help="CODEBUILD_INITIATOR, e.g. codepipeline/xy-0146")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION"), help="AWS_REGION")
    parser.add_argument("--build-number", type=int, default=1)
    parser.add_argument("--batch", action="store_true", help="BUILDSPEC is a batch buildspec: run its builds")
    parser.add_argument("--logs-dir", type=Path, help="with --batch: each build's output and report")
    parser.add_argument("--max-concurrent", type=int, help="with --batch: builds at once (the account quota)")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error("--env %r: expected NAME=VALUE" % item)
        overrides[name] = value
    return args, Options(
        buildspec=args.buildspec, source_dir=args.source_dir, project=args.project or args.buildspec.stem,
        overrides=overrides, artifacts_dir=args.artifacts_dir, timeout=args.timeout, python=args.python,
        source_version=args.source_version, pull_request=args.pull_request, base_ref=args.base_ref,
        initiator=args.initiator, region=args.region, build_number=args.build_number,
    )


def batch_child_arguments(args):
    """What every build of a batch gets of the batch's own arguments."""
    arguments = ["--source-dir", str(args.source_dir), "--timeout", str(args.timeout), "--python", args.python]
    if args.region:
        arguments += ["--region", args.region]
    if args.artifacts_dir:
        arguments += ["--artifacts-dir", str(args.artifacts_dir)]
    return arguments


def main(argv=None):
    args, options = parse_arguments(argv)
    if int(os.environ.get(DEPTH_VARIABLE, "0")) >= 1:
        print("local_codebuild: refusing to start a build inside a local build (%s=%s): the buildspec's "
              "commands must not run buildspecs again (narrow its test selection)"
              % (DEPTH_VARIABLE, os.environ[DEPTH_VARIABLE]), file=sys.stderr)
        return 2
    if args.batch:
        return codebuild_batch.main(args, Path(__file__).resolve(), batch_child_arguments(args))
    workdir = Path(tempfile.mkdtemp(prefix="local-codebuild-"))
    try:
        spec = codebuild_spec.parse(_read(options.buildspec), str(options.buildspec))
        result = run_build(spec, options, dict(os.environ), workdir)
    except BuildspecError as error:
        print("local_codebuild: %s" % error, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(str(workdir), ignore_errors=True)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(vars(result), indent=2, sort_keys=True) + "\n")
    return 0 if result.status == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
