"""Run the stacker CLI in this process and leave how it ended in a small JSON file.

    python -m hooks.run.stacker_child OUTCOME_FILE build [stacker arguments...]

runs `<venv>/bin/stacker build ...` (the stacker script next to this interpreter) in
this very process, exactly as `stacker` would run it, then writes OUTCOME_FILE:

    {"exit_code": 0|2|3|4, "error": "hooks.errors.LockHeld" | null, "message": "..." | null,
     "stacker_exit": <what stacker itself would have exited with>}

(`message`: the error's message, or the last line stacker logged at ERROR level, such
as "The following steps failed: db".)

and exits with `exit_code`. hooks/run/deploy.py starts stacker this way: the class of the
exception a hook raised says what happened (bad input, lock held, deploy failed),
without reading stacker's free-text output. stacker's own output is unchanged (an
uncaught exception still prints its traceback).

Before stacker starts, the API rate ceiling the parent set in TENANTSTACK_MAX_API_RATE
(hooks/aws/api_rate.py) is installed for the whole process: stacker's own sessions and the
hooks' share it. A value that is not a rate ends the run as bad input, before stacker.
"""
import json
import logging
import os
import runpy
import sys
import traceback
from pathlib import Path

from hooks import errors
from hooks.aws import api_rate

OK, BAD_INPUT, LOCK_HELD, DEPLOY_FAILED = errors.OK, errors.BAD_INPUT, errors.LOCK_HELD, errors.DEPLOY_FAILED
ARGPARSE_EXIT = 2  # stacker's argument parser refused its command line


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


def classify_exit(status, last_error=None):
    """(exit code, message) for stacker ending through sys.exit(status).

    `last_error`: the last line stacker logged at ERROR level (e.g. "The following steps
    failed: db"), which names what failed; its output has the reason.
    """
    if status in (None, 0):
        return OK, None
    if status == ARGPARSE_EXIT:
        return BAD_INPUT, "stacker refused its command line (its usage message says why)"
    if last_error:
        return DEPLOY_FAILED, "stacker: %s (its output has the reason)" % last_error
    if isinstance(status, int):
        return DEPLOY_FAILED, "stacker exited %d (its output has the reason)" % status
    return DEPLOY_FAILED, "stacker stopped: %s" % status


class LastError(logging.Handler):
    """Keeps the last message stacker logs at ERROR level."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.message = None

    def emit(self, record):
        self.message = record.getMessage().splitlines()[0] if record.getMessage() else None


def write_outcome(path, outcome):
    """Write atomically: the reader sees the whole file or none."""
    partial = "%s.partial" % path
    with open(partial, "w") as handle:
        json.dump(outcome, handle, sort_keys=True)
    os.replace(partial, path)


def run(outcome_path, stacker_args, script=None):
    """Run stacker with `stacker_args`; write the outcome; return the exit code."""
    script = str(script or stacker_script())
    sys.argv = [script] + list(stacker_args)
    # As the `stacker` script would start: its own directory first on sys.path, not the current
    # directory `python -m` put there (a project directory must not shadow installed packages).
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path[0] = str(Path(script).parent)
    outcome = {"exit_code": OK, "error": None, "message": None, "stacker_exit": 0}
    last_error = LastError()
    logging.getLogger("stacker").addHandler(last_error)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        outcome["exit_code"], outcome["message"] = classify_exit(exit_.code, last_error.message)
        outcome["stacker_exit"] = exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        outcome.update(exit_code=DEPLOY_FAILED, error="KeyboardInterrupt", message="interrupted", stacker_exit=1)
    except Exception as error:  # whatever stacker lets through is the run's outcome, reported not hidden
        traceback.print_exc()
        code, name, message = classify_error(error)
        outcome.update(exit_code=code, error=name, message=message, stacker_exit=1)
    logging.getLogger("stacker").removeHandler(last_error)
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
