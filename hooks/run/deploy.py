"""One promotion of one tenant: `stacker build <env> stacker/tenant.yaml`, and what a failure leaves.

    result = deploy(env_file, overrides={"db_timestamp": ts} or None, stacker_args=(), output=sys.stderr)
    result.exit_code   0 ok, 2 bad input, 3 lock held, 4 deploy failed
    result.namespace, result.message (one line), result.seconds, result.recovery, ...

1. The env file (with the overrides) is checked against hooks/config/settings.py before any
   AWS call: a bad one ends here with exit code 2 and nothing started.
2. The engine runs as a child process: stacker, or runway's CFNgin (TENANTSTACK_ENGINE,
   `tenantstack deploy --engine`; default what is installed, CFNgin when both: docs/engines.md),
   through hooks/run/stacker_child.py (for stacker: the stacker script next to
   this Python, in a process of its own) with its output streamed to `output`, adaptive
   AWS retries unless the environment chose otherwise, its API rate ceiling if the caller
   gave one (`max_api_rate`, hooks/aws/api_rate.py), and leaves a small JSON outcome:
   the class of the error a hook raised decides the exit code, not stacker's text.
3. stacker 1.7.2 skips every post_build hook once a stack fails, so a run that failed
   while holding the namespace's deploy lock leaves the lock, maybe a new database that
   never became active, and maybe a service that moved. When the child's own lock is
   still there, hooks/run/recovery.py takes it over (the child is dead), points the
   service back at what it ran before, retires the failed target's database (final
   snapshot first) and releases the lock. It never moves the pointer. A run that failed
   before it held the lock (bad input, lock held by another deploy) changes nothing.

Tracebacks: stacker's output keeps the message of an error of ours (bad input, lock held,
a step that failed as it says) and its traceback goes to `.run/deploy/<namespace>-<UTC
time>.log` under the current directory, a file the message names (stacker_child.Tracebacks);
`debug=True` (`tenantstack deploy --debug`, or TENANTSTACK_DEBUG=1) keeps every traceback in
the output instead.

`cancel` (a Cancel) lets a caller stop the child: `terminate` asks stacker to stop at the
next stack boundary (SIGTERM), `kill` or `kill_after_seconds` later ends it (SIGKILL).
Ctrl-C while deploy() waits does the same: first a graceful stop, a second one kills.
"""
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from hooks import aws, errors, naming
from hooks.aws import api_rate
from hooks.config import envfile, project, settings
from hooks.engine import stacker_compat
from hooks.lock import rules as lock_rules
from hooks.run import child_process, latest, stacker_child
from hooks.run import recovery as deploy_recovery
from hooks.run.child_process import Cancel

OK, BAD_INPUT, LOCK_HELD, DEPLOY_FAILED = (
    stacker_child.OK, stacker_child.BAD_INPUT, stacker_child.LOCK_HELD, stacker_child.DEPLOY_FAILED
)
RETRY_DEFAULTS = {"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "10"}
# stacker arguments the wrapper refuses: each would make the run something other than
# one promotion the wrapper can account for.
REFUSED_STACKER_ARGUMENTS = {
    ("-e", "--env"): "give env overrides as `-e KEY=VALUE` before `--`, so they are checked first",
    ("-r", "--region"): "set AWS_DEFAULT_REGION instead, so the clean-up after a failure uses the same region",
    ("-p", "--profile"): "set AWS_PROFILE instead, so the clean-up after a failure uses the same account",
    ("-o", "--outline"): "it skips every hook (no lock, no stable gate, no flip); run stacker directly",
    ("-d", "--dump"): "it skips every hook; render templates with `make templates` or stacker directly",
}
SHORT_OPTIONS_WITH_VALUE = "erpjd"  # stacker build's one-letter options that take a value
TRACEBACK_DIR = os.path.join(".run", "deploy")  # under the current directory, as the fleet's logs


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A checked deploy request: what to run, for which namespace."""

    env_file: str  # absolute path
    namespace: str
    shared_namespace: str
    db_timestamp: str
    retain_previous: int
    hostname: str
    listener_priority: int
    overrides: tuple  # ((key, value), ...) in the order given
    stacker_args: tuple
    project_root: str = "."  # the project (hooks.config.project): stacker runs there
    config: str = "stacker/tenant.yaml"  # the tenant config, absolute
    source_namespace: Optional[str] = None  # whose snapshots it restores
    requested_timestamp: Optional[str] = None  # "latest" once hooks/run/latest.py resolved it to db_timestamp


@dataclasses.dataclass(frozen=True)
class DeployResult:
    env_file: str
    namespace: Optional[str]  # None when the env file could not be read
    exit_code: int
    message: str  # one line
    seconds: float
    db_timestamp: Optional[str] = None
    error: Optional[str] = None  # class of the error that ended the run, e.g. hooks.errors.LockHeld
    stacker_exit: Optional[int] = None  # None: stacker did not run; negative: killed by that signal
    interrupted: bool = False
    recovery: Optional[deploy_recovery.Recovery] = None

    @property
    def ok(self):
        return self.exit_code == OK

    def to_dict(self):
        data = dataclasses.asdict(self)
        data["seconds"] = round(self.seconds, 1)
        data["recovery"] = self.recovery.to_dict() if self.recovery else None
        return data


# --- planning (pure) ----------------------------------------------------------------------


def one_line(text):
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def options_in(argument):
    """The options a stacker argument stands for: '--reg=x' -> ['--reg'], '-vr' -> ['-v', '-r']."""
    if argument.startswith("--"):
        return [argument.split("=", 1)[0]]
    options = []
    if argument.startswith("-"):
        for letter in argument[1:]:
            options.append("-" + letter)
            if letter in SHORT_OPTIONS_WITH_VALUE:
                break  # the rest is its value
    return options


def refusal(option):
    """Why tenantstack deploy refuses a stacker option (abbreviated long options too); None if it does not."""
    for options, why in REFUSED_STACKER_ARGUMENTS.items():
        abbreviates = option.startswith("--") and len(option) > 3 and any(
            name.startswith(option) for name in options if name.startswith("--"))
        if option in options or abbreviates:
            return why
    return None


def check_stacker_args(stacker_args):
    """Refuse stacker arguments that would break the wrapper's account of the run."""
    for argument in stacker_args:
        for option in options_in(argument):
            why = refusal(option)
            if why:
                raise errors.BadInput("stacker argument %r is not accepted by tenantstack deploy: %s" % (argument, why))
    return tuple(stacker_args)


def check_settings(env_file, raw, overrides):
    """The tenant settings of env file + overrides; BadInput naming each problem and the fix."""
    merged = dict(raw, **dict(overrides))
    try:
        values = settings.load_settings(merged, env_file)
    except errors.SettingsError as error:
        raise errors.BadInput("%s\nFix the env file (or the -e override), then deploy again." % error) from None
    if values["namespace"] in naming.SHARED_NAMESPACES:
        raise errors.BadInput(
            "env file %s is the shared tier %s, not a tenant; tenantstack deploy runs stacker/tenant.yaml. "
            "Build a shared tier with: stacker build %s stacker/shared.yaml" % (env_file, values["namespace"], env_file)
        )
    return values


def check_overrides(overrides):
    """((key, value), ...) from a mapping or pairs; BadInput for an empty key."""
    pairs = tuple((overrides or {}).items()) if isinstance(overrides, dict) or overrides is None else tuple(overrides)
    for key, value in pairs:
        if not key or "=" in key:
            raise errors.BadInput("override %r=%r is invalid: expected KEY=VALUE with an env key" % (key, value))
    return pairs


def prepare(env_file, overrides=None, stacker_args=(), project_root=None):
    """Check a deploy request without any AWS call; Prepared, or BadInput naming the fix.

    `project_root`: the project whose stacker/tenant.yaml deploys it (default: found from
    the env file's directory upward, hooks.config.project)."""
    path = Path(env_file)
    try:
        raw = envfile.read(path)
    except errors.SettingsError as error:
        raise errors.BadInput("%s\nFix the env file, then deploy again." % error) from None
    pairs = check_overrides(overrides)
    values = check_settings(str(env_file), raw, pairs)
    misnamed = envfile.file_name_problem(env_file, values["namespace"])
    if misnamed:
        raise errors.BadInput(misnamed)
    root = project.find_root(start=path.resolve().parent, given=project_root)
    config = project.config_path(root, "tenant")
    return Prepared(
        env_file=str(path.resolve()),
        namespace=values["namespace"],
        shared_namespace=values["shared_namespace"],
        db_timestamp=values["db_timestamp"],
        retain_previous=values["retain_previous"],
        hostname=values["hostname"],
        listener_priority=values["listener_priority"],
        overrides=pairs,
        stacker_args=check_stacker_args(stacker_args),
        project_root=str(root),
        config=str(config),
        source_namespace=values["source_namespace"],
    )


def child_command(prepared, outcome_path, executable=None):
    """The child's command line: stacker build through hooks.run.stacker_child."""
    command = [executable or sys.executable, "-m", "hooks.run.stacker_child", outcome_path, "build"]
    for key, value in prepared.overrides:
        command += ["-e", "%s=%s" % (key, value)]
    return command + list(prepared.stacker_args) + [prepared.env_file, prepared.config]


def child_environment(environ, max_api_rate=None, api_bucket=None):
    """The caller's environment, with adaptive retries unless it chose otherwise, and the
    child's API rate ceiling (hooks/aws/api_rate.py; None: none, whatever the caller's environment says),
    drawn from the shared bucket file `api_bucket` when given (a fleet's, or the caller's clean-up's)."""
    env = dict(environ)
    for key, value in RETRY_DEFAULTS.items():
        env.setdefault(key, value)
    env.pop(api_rate.RATE_VARIABLE, None)
    env.pop(api_rate.BUCKET_VARIABLE, None)
    env.update(api_rate.child_variables(max_api_rate, api_bucket))
    return env


def traceback_environment(namespace, debug=False, now=None, directory=TRACEBACK_DIR):
    """The child's traceback settings (hooks/run/stacker_child.py): with `debug`, every traceback in
    the output; else the file our own errors' tracebacks go to (absolute: the child runs elsewhere)."""
    if debug:
        return {stacker_child.DEBUG_VARIABLE: "1"}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = os.path.abspath(os.path.join(directory, "%s-%s.log" % (namespace, stamp)))
    return {stacker_child.TRACEBACK_LOG_VARIABLE: path}


def stacker_failure_message(outcome, returncode, engine="stacker"):
    """One line for a failed engine run, from its outcome file (None when it left none)."""
    if outcome is None:
        if returncode is not None and returncode < 0:
            return "%s was killed by signal %s" % (engine, signal.Signals(-returncode).name)
        return "%s exited %s without leaving an outcome" % (engine, returncode)
    if outcome.get("error"):
        return "%s: %s" % (outcome["error"].rsplit(".", 1)[-1], one_line(outcome.get("message") or ""))
    return one_line(outcome.get("message") or "%s failed" % engine)


def exit_code_of(outcome, returncode):
    if outcome is not None:
        return outcome["exit_code"]
    return OK if returncode == 0 else DEPLOY_FAILED


# --- running ---------------------------------------------------------------------------------


def deploy(env_file, overrides=None, stacker_args=(), output=None, cancel=None, environ=None, max_api_rate=None,
           project_root=None, debug=False, api_bucket=None):
    """Run one promotion; a DeployResult, never an exception for an expected failure.

    `max_api_rate`: the stacker child's ceiling of AWS requests per second (None: none), drawn from the
    shared bucket file `api_bucket` (hooks/aws/api_rate.py, shared_ceiling) when given.
    `project_root`: see `prepare`. `debug`: keep every traceback in the output (module docstring).
    """
    output = output or sys.stderr
    started = time.monotonic()
    try:
        prepared = prepare(env_file, overrides, stacker_args, project_root)
    except errors.BadInput as error:
        return DeployResult(str(env_file), None, BAD_INPUT, one_line(error), time.monotonic() - started,
                            error=stacker_child.qualified_name(type(error)))
    environ = os.environ if environ is None else environ
    try:  # the child's engine: TENANTSTACK_ENGINE (`--engine`), else what is installed (CFNgin when both)
        engine = stacker_compat.choose_engine(environ, modules={})
    except errors.BadInput as error:
        return DeployResult(prepared.env_file, prepared.namespace, BAD_INPUT, one_line(error),
                            time.monotonic() - started, error=stacker_child.qualified_name(type(error)))
    try:  # db_timestamp latest: the stack names need the timestamp before the engine starts
        prepared = latest.resolve(prepared, lambda: aws.client("rds"))
    except errors.BadInput as error:
        return DeployResult(prepared.env_file, prepared.namespace, BAD_INPUT, one_line(error),
                            time.monotonic() - started, error=stacker_child.qualified_name(type(error)))
    if latest.note(prepared):
        print(latest.note(prepared), file=output, flush=True)
    workdir = tempfile.mkdtemp(prefix="tenantstack-deploy-")
    try:
        outcome_path = os.path.join(workdir, "outcome.json")
        env = child_environment(environ, max_api_rate, api_bucket)
        env.update(traceback_environment(prepared.namespace, debug), **latest.child_variables(prepared))
        command = child_command(prepared, outcome_path)
        returncode, pid, interrupted = child_process.run(command, env, output, cancel or Cancel(),
                                                         prepared.project_root)
        outcome = read_outcome(outcome_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    code = exit_code_of(outcome, returncode)
    stacker_exit = outcome["stacker_exit"] if outcome else returncode
    if code == OK:  # also when asked to stop: it finished first
        return DeployResult(prepared.env_file, prepared.namespace, OK,
                            "deployed %s with db_timestamp %s%s" % (prepared.namespace, prepared.db_timestamp, " (%s)"
                                                                    % prepared.requested_timestamp
                                                                    if prepared.requested_timestamp else ""),
                            time.monotonic() - started, prepared.db_timestamp, None, stacker_exit, interrupted)
    message = stacker_failure_message(outcome, returncode, engine)
    holder = lock_rules.current_holder(env, pid=pid)
    recovery = deploy_recovery.recover_in(prepared, holder, output)
    if recovery.status != deploy_recovery.NOT_NEEDED:
        message = "%s; %s" % (message, recovery.summary())
    return DeployResult(prepared.env_file, prepared.namespace, code, one_line(message), time.monotonic() - started,
                        prepared.db_timestamp, outcome.get("error") if outcome else None, stacker_exit,
                        interrupted, recovery)


def read_outcome(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
