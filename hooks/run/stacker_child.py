"""Run the engine's CLI in this process and leave how it ended in a small JSON file.

    python -m hooks.run.stacker_child OUTCOME_FILE build [stacker arguments...]

runs the engine's `build` with stacker's arguments in this very process
(hooks/engine/stacker_compat.py picks the engine; TENANTSTACK_ENGINE, set by
`tenantstack deploy --engine`, chooses when both are installed):

- stacker: `<venv>/bin/stacker build ...` (the stacker script next to this interpreter),
  exactly as `stacker` would run it;
- CFNgin: `tenantstack-cfngin build ...` (hooks/engine/cfngin_cli.py: stacker's command line
  over runway's CFNgin deploy action),

then writes OUTCOME_FILE:

    {"exit_code": 0|2|3|4, "error": "hooks.errors.LockHeld" | null, "message": "..." | null,
     "stacker_exit": <what stacker itself would have exited with>}

(`message`: the error's message, or the last line stacker logged at ERROR level, such
as "The following steps failed: db".)

and exits with `exit_code`. hooks/run/deploy.py starts stacker this way: the class of the
exception a hook raised says what happened (bad input, lock held, deploy failed),
without reading stacker's free-text output.

Tracebacks: when the parent names a file in TENANTSTACK_TRACEBACK_LOG, an error of our own
(hooks.errors.TenantstackError: bad input, lock held, a step that failed the way it says)
is reported as one line, its message, with "(traceback in FILE)"; the traceback goes to
that file. That is the line the engine logs when a hook raises (stacker.hooks.utils) or a
stack step fails (stacker.plan; CFNgin: runway.cfngin.*), and the uncaught error at the end. Anything else (a bug,
an AWS error stacker did not expect) keeps its traceback in the output: it is the evidence.
TENANTSTACK_DEBUG=1 (`tenantstack deploy --debug`) keeps every traceback in the output.

Before stacker starts, the API rate ceiling the parent set in TENANTSTACK_MAX_API_RATE
(hooks/aws/api_rate.py) is installed for the whole process: stacker's own sessions and the
hooks' share it. A value that is not a rate ends the run as bad input, before stacker.
"""
import json
import logging
import os
import runpy
import sys
import time
import traceback
from pathlib import Path

from hooks import errors
from hooks.aws import api_rate
from hooks.engine import stacker_compat

OK, BAD_INPUT, LOCK_HELD, DEPLOY_FAILED = errors.OK, errors.BAD_INPUT, errors.LOCK_HELD, errors.DEPLOY_FAILED
ARGPARSE_EXIT = 2  # stacker's argument parser refused its command line
DEBUG_VARIABLE = "TENANTSTACK_DEBUG"  # "1": every traceback stays in the output
TRACEBACK_LOG_VARIABLE = "TENANTSTACK_TRACEBACK_LOG"  # where our own errors' tracebacks go instead
# The loggers the engine reports an exception through, with its traceback: a hook that raised, a failed
# step (stacker's, and CFNgin's of the same name under runway.cfngin).
TRACEBACK_LOGGERS = ("stacker.hooks.utils", "stacker.plan", "runway.cfngin.hooks.utils", "runway.cfngin.plan")


def stacker_script(executable=None):
    """The `stacker` console script installed next to the Python that runs us."""
    return Path(executable or sys.executable).parent / "stacker"


def qualified_name(error_class):
    return "%s.%s" % (error_class.__module__, error_class.__qualname__)


def classify_error(error):
    """(exit code, error class name, one message) for an exception stacker let through."""
    code = error.exit_code if isinstance(error, errors.TenantstackError) else errors.UNEXPECTED
    # A hook that failed in a way we did not foresee still failed the deploy.
    return (DEPLOY_FAILED if code == errors.UNEXPECTED else code), qualified_name(type(error)), str(error)


def classify_exit(status, last_error=None, engine="stacker"):
    """(exit code, message) for stacker ending through sys.exit(status).

    `last_error`: the last line stacker logged at ERROR level (e.g. "The following steps
    failed: db"), which names what failed; its output has the reason.
    """
    if status in (None, 0):
        return OK, None
    if status == ARGPARSE_EXIT:
        return BAD_INPUT, "%s refused its command line (its usage message says why)" % engine
    if last_error:
        return DEPLOY_FAILED, "%s: %s (its output has the reason)" % (engine, last_error)
    if isinstance(status, int):
        return DEPLOY_FAILED, "%s exited %d (its output has the reason)" % (engine, status)
    return DEPLOY_FAILED, "%s stopped: %s" % (engine, status)


class LastError(logging.Handler):
    """Keeps the last message stacker logs at ERROR level."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.message = None

    def emit(self, record):
        self.message = record.getMessage().splitlines()[0] if record.getMessage() else None


class Tracebacks(logging.Filter):
    """Moves the tracebacks of our own errors out of the output into one file (see the module).

    A logger filter: it rewrites a record stacker logs with an exception (`logger.exception`)
    into its message plus the error's one line, and writes the traceback to `path`. A
    traceback that cannot be written stays in the output."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.reported = set()  # ids of the errors already shown as a line

    @classmethod
    def from_environment(cls, environ=None):
        environ = os.environ if environ is None else environ
        path = environ.get(TRACEBACK_LOG_VARIABLE)
        return cls(path) if path and environ.get(DEBUG_VARIABLE) != "1" else None

    def filter(self, record):
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, errors.TenantstackError) and self.store(error, record.getMessage()):
            text = record.getMessage()  # stacker.plan logs the error itself as the message
            record.msg = self.line(error) if text == str(error) else "%s %s" % (text, self.line(error))
            record.args = ()
            record.exc_info = record.exc_text = None
            self.reported.add(id(error))
        return True

    def line(self, error):
        return "%s: %s (traceback in %s; `tenantstack deploy --debug` shows it here)" % (
            type(error).__name__, error, self.path)

    def store(self, error, heading):
        """Append the error's traceback to the file; False when it cannot be written."""
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a") as handle:
                handle.write("=== %s %s\n%s" % (time.strftime("%Y-%m-%dT%H:%M:%S"), heading, "".join(
                    traceback.format_exception(type(error), error, error.__traceback__))))
        except OSError:
            return False
        return True

    def install(self):
        for name in TRACEBACK_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def uninstall(self):
        for name in TRACEBACK_LOGGERS:
            logging.getLogger(name).removeFilter(self)


def report_uncaught(error, tracebacks):
    """The error that ended stacker: one line for our own (once), else its traceback."""
    if tracebacks and isinstance(error, errors.TenantstackError):
        if id(error) in tracebacks.reported:
            return  # stacker's line already said it
        if tracebacks.store(error, "stacker stopped"):
            sys.stderr.write("stacker stopped: %s\n" % tracebacks.line(error))
            return
    traceback.print_exc()


def write_outcome(path, outcome):
    """Write atomically: the reader sees the whole file or none."""
    partial = "%s.partial" % path
    with open(partial, "w") as handle:
        json.dump(outcome, handle, sort_keys=True)
    os.replace(partial, path)


def engine_entry(stacker_args, script=None):
    """(engine name, its logger's name, a callable running it with `stacker_args`): the given
    script (a stand-in stacker), else the engine hooks/engine/stacker_compat.py picked."""
    if script is None and stacker_compat.ENGINE == "cfngin":
        from hooks.engine import cfngin_cli

        sys.argv = [cfngin_cli.__file__] + list(stacker_args)
        return "cfngin", stacker_compat.ENGINE_LOGGER, lambda: sys.exit(cfngin_cli.main(list(stacker_args)))
    script = str(script or stacker_script())
    sys.argv = [script] + list(stacker_args)
    return "stacker", "stacker", lambda: runpy.run_path(script, run_name="__main__")


def run(outcome_path, stacker_args, script=None):
    """Run the engine with `stacker_args`; write the outcome; return the exit code."""
    engine, logger_name, start = engine_entry(stacker_args, script)
    # As the `stacker` script would start: its own directory first on sys.path, not the current
    # directory `python -m` put there (a project directory must not shadow installed packages).
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path[0] = str(Path(sys.argv[0]).parent)
    outcome = {"exit_code": OK, "error": None, "message": None, "stacker_exit": 0}
    last_error = LastError()
    logging.getLogger(logger_name).addHandler(last_error)
    tracebacks = Tracebacks.from_environment()
    if tracebacks:
        tracebacks.install()
    try:
        start()
    except SystemExit as exit_:
        outcome["exit_code"], outcome["message"] = classify_exit(exit_.code, last_error.message, engine)
        outcome["stacker_exit"] = exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        outcome.update(exit_code=DEPLOY_FAILED, error="KeyboardInterrupt", message="interrupted", stacker_exit=1)
    except Exception as error:  # whatever stacker lets through is the run's outcome, reported not hidden
        report_uncaught(error, tracebacks)
        code, name, message = classify_error(error)
        outcome.update(exit_code=code, error=name, message=message, stacker_exit=1)
    logging.getLogger(logger_name).removeHandler(last_error)
    if tracebacks:
        tracebacks.uninstall()
    sys.stdout.flush()
    sys.stderr.flush()
    write_outcome(outcome_path, outcome)
    return outcome["exit_code"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        sys.stderr.write("usage: python -m hooks.run.stacker_child OUTCOME_FILE build [stacker arguments...]\n")
        return BAD_INPUT
    try:
        api_rate.install_from_environment()
    except ValueError as error:
        sys.stderr.write("%s\n" % error)
        write_outcome(argv[0], {"exit_code": BAD_INPUT, "error": None, "message": str(error), "stacker_exit": None})
        return BAD_INPUT
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
