"""The environment and the shell of one local CodeBuild build (scripts/local_codebuild.py).

The environment: the caller's (the image's), then env.variables, then --env values, then
the variables CodeBuild itself sets; runtime-versions python puts the interpreter first
on PATH.

The shell: CodeBuild runs every command of a version 0.2 buildspec in the same shell instance, so a
`cd`, a variable, a function or `set -o pipefail` carries over to the next command and
phase. Here each command is its own `bash` process (so each has its own exit status and
can be killed on timeout): it restores the state the previous command left, runs, and on
exit saves non-exported variables, functions, shell options and the working directory to
a state file, and its exported environment to an env file that becomes the next
process's environment (so `unset` and `export` carry over too).
"""
import getpass
import os
import signal
import subprocess
import time

from codebuild_spec import BuildspecError

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEPTH_VARIABLE = "LOCAL_CODEBUILD_DEPTH"
SUCCEEDING = "CODEBUILD_BUILD_SUCCEEDING"

# Set by bash itself in every process; carrying them over would be wrong (SHLVL would grow).
PER_PROCESS_VARIABLES = ("_", "SHLVL", "PWD", "OLDPWD")


def builtin_variables(options, build_id, resolved_version, source_dir):
    """The variables CodeBuild itself sets for every build."""
    region = options.region or DEFAULT_REGION
    source_version = options.source_version or resolved_version
    variables = {
        "CODEBUILD_BUILD_ID": build_id,
        "CODEBUILD_BUILD_ARN": "arn:aws:codebuild:%s:%s:build/%s" % (region, options.account, build_id),
        "CODEBUILD_BUILD_NUMBER": str(options.build_number),
        "CODEBUILD_BUILD_IMAGE": "local_codebuild",
        "CODEBUILD_INITIATOR": options.initiator or "local_codebuild/%s" % getpass.getuser(),
        "CODEBUILD_SOURCE_VERSION": source_version,
        "CODEBUILD_RESOLVED_SOURCE_VERSION": resolved_version,
        "CODEBUILD_SRC_DIR": str(source_dir),
        "CODEBUILD_START_TIME": str(int(time.time() * 1000)),
        SUCCEEDING: "1",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if options.pull_request:
        variables.update(
            CODEBUILD_SOURCE_VERSION="pr/%s" % options.pull_request,
            CODEBUILD_WEBHOOK_TRIGGER="pr/%s" % options.pull_request,
            CODEBUILD_WEBHOOK_EVENT="PULL_REQUEST_UPDATED",
            CODEBUILD_WEBHOOK_BASE_REF="refs/heads/%s" % options.base_ref,
            CODEBUILD_WEBHOOK_HEAD_REF=git(source_dir, "symbolic-ref", "-q", "HEAD") or "",
        )
    return variables


def initial_environment(spec, options, base_env, built_ins, source):
    """base_env < env.variables < --env overrides < built-ins; refuses unresolved lookups."""
    env = dict(base_env)
    env.update(spec.variables)
    for name, reference in spec.resolved_elsewhere:
        if name not in options.overrides:
            raise BuildspecError(
                source,
                "env %s for variable %s is not looked up by the local runner: pass its value with "
                "--env %s=VALUE" % (reference, name, name),
            )
    env.update(options.overrides)
    env.update(built_ins)
    env[DEPTH_VARIABLE] = str(int(base_env.get(DEPTH_VARIABLE, "0")) + 1)
    return env


def python_shims(runtime_versions, interpreter, shim_dir, source):
    """Check runtime-versions against the interpreter; link it first on PATH. Returns the dir."""
    for runtime, requested in runtime_versions:
        if runtime != "python":
            raise BuildspecError(
                source, "runtime-versions: %s %s is not available in the local runner (it provides python only)"
                % (runtime, requested)
            )
        found = _python_version(interpreter)
        if found != requested:
            raise BuildspecError(
                source, "runtime-versions: python %s is requested, but %s is Python %s: pass a Python %s "
                "interpreter with --python" % (requested, interpreter, found or "(does not run)", requested)
            )
        shim_dir.mkdir(parents=True, exist_ok=True)
        for name in ("python", "python3", "python%s" % found):
            (shim_dir / name).symlink_to(interpreter)
    return shim_dir


def _python_version(interpreter):
    """'3.9' for a Python 3.9 interpreter; '' when it does not run."""
    try:
        return subprocess.run(
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False, timeout=30,
        ).stdout.strip()
    except OSError:
        return ""


def git(source_dir, *args):
    """`git <args>`'s output in source_dir; None when it fails (no checkout, no git)."""
    try:
        result = subprocess.run(["git", *args], cwd=str(source_dir), capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


# One command of the build: restore the state the previous command left (non-exported
# variables, functions, shell options, working directory; exported variables arrive as the
# process environment), run the command, save the state and the environment on exit.
WRAPPER = r"""
__cb_state=$1 __cb_env=$2 __cb_command=$3
if [ -s "$__cb_state" ]; then . "$__cb_state" 2>/dev/null; fi
__cb_save() {
    local __cb_name __cb_decl __cb_flags
    {
        for __cb_name in $(compgen -v); do
            case "$__cb_name" in
                __cb_*|BASH|BASH_*|BASHOPTS|BASHPID|COLUMNS|COMP_*|DIRSTACK|EPOCHREALTIME|EPOCHSECONDS|EUID|FUNCNAME|\
                GROUPS|HISTCMD|IFS|LINENO|LINES|OLDPWD|OPTARG|OPTERR|OPTIND|PIPESTATUS|PPID|PWD|RANDOM|SECONDS|\
                SHELLOPTS|SHLVL|SRANDOM|UID|_) continue ;;
            esac
            __cb_decl=$(declare -p "$__cb_name" 2>/dev/null) || continue
            __cb_flags=${__cb_decl#declare -}
            case "${__cb_flags%% *}" in *x*) continue ;; esac
            printf '%s\n' "$__cb_decl"
        done
        for __cb_name in $(compgen -A function); do
            case "$__cb_name" in __cb_*) ;; *) declare -f "$__cb_name" ;; esac
        done
        set +o
        shopt -p
        printf 'cd -- %q\n' "$PWD"
    } > "$__cb_state"
    /usr/bin/env -0 > "$__cb_env"
}
trap '__cb_rc=$?; trap - EXIT; __cb_save; exit $__cb_rc' EXIT
eval "$(<"$__cb_command")"
"""


class Shell:
    """One build's shell: one bash process per command, state carried from each to the next."""

    def __init__(self, workdir, source_dir, deadline):
        self.state, self.env_dump, self.command, self.wrapper = (
            workdir / name for name in ("state", "env", "command", "wrapper.sh")
        )
        self.wrapper.write_text(WRAPPER)
        self.source_dir, self.deadline = source_dir, deadline

    def run(self, command, env, capture=False):
        """(exit status or None if the time budget ran out, the environment after, captured output)."""
        self.command.write_text(command)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return None, env, b""
        process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", str(self.wrapper), str(self.state), str(self.env_dump), str(self.command)],
            cwd=str(self.source_dir), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else None, start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return None, env, b""
        return process.returncode, self._saved_env(env), output or b""

    def _saved_env(self, previous):
        if not self.env_dump.exists():
            return previous
        env = {}
        for item in self.env_dump.read_bytes().split(b"\0"):
            name, sep, value = item.decode(errors="surrogateescape").partition("=")
            if sep and name not in PER_PROCESS_VARIABLES:
                env[name] = value
        return env

    def values(self, names, env):
        """The values (exported or not) the build's variables have now; '' for unset ones."""
        listing = " ".join("%s" % name for name in names)
        code, _, output = self.run('for __cb_n in %s; do printf "%%s\\0" "${!__cb_n-}"; done' % listing, env, True)
        values = output.decode(errors="surrogateescape").split("\0") if code == 0 else []
        return dict(zip(names, values + [""] * len(names)))
