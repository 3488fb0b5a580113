"""Every error tenantstack raises on purpose, and the one table of exit codes.

Three families, each with its exit code (`tenantstack` and the stacker child report them;
docs/operations.md, "Exit codes" and "Error names"):

    BadInput      2  the input is wrong (env file, argument, name, config, source snapshot);
                     nothing was changed
    LockHeld      3  another deploy holds the namespace's lock; nothing was changed
    DeployFailed  4  a deploy step failed; the message says what the tenant is left with

and one exit code that is no error: 5, `tenantstack diff --fail-on-replace` found a guarded
resource that a deploy would replace or remove (hooks/ops/preview.py).

Every class lives here, so the names `--json` output and the deploy outcome report
(`hooks.errors.<Class>`) stay the same wherever the code that raises them moves.
Pure: no AWS, no stacker. Every message names the value, the rule and what to do.
"""

OK = 0
UNEXPECTED = 1
BAD_INPUT = 2
LOCK_HELD = 3
DEPLOY_FAILED = 4
PREVIEW_REPLACEMENTS = 5
INTERRUPTED = 130

EXIT_CODES = {
    OK: "done",
    UNEXPECTED: "unexpected error",
    BAD_INPUT: "bad input (nothing was changed)",
    LOCK_HELD: "the namespace's deploy lock is held by another deploy",
    DEPLOY_FAILED: "a deploy failed (the tenant keeps serving on its previous service and database)",
    PREVIEW_REPLACEMENTS: "a preview found replacements no --allow-replace names (diff --fail-on-replace; "
                          "nothing was changed)",
    INTERRUPTED: "interrupted",
}


class TenantstackError(Exception):
    """Base of every error tenantstack raises on purpose."""

    exit_code = UNEXPECTED


def exit_code_of(error):
    """The exit code an exception stands for (UNEXPECTED for anything not ours)."""
    return error.exit_code if isinstance(error, TenantstackError) else UNEXPECTED


# --- bad input: nothing was changed ------------------------------------------------------


class BadInput(TenantstackError, ValueError):
    """The input (env file, argument, source snapshot) is wrong; nothing was changed."""

    exit_code = BAD_INPUT


class NamingError(BadInput):
    """A value breaks a naming rule. Names the field, the value and the rule."""

    def __init__(self, field, value, rule):
        self.field, self.value, self.rule = field, value, rule
        super().__init__("%s %r is invalid: %s" % (field, value, rule))


class SettingsError(BadInput):
    """One or more env keys are missing, unknown or break their rule (all listed at once)."""

    def __init__(self, problems, source=None):
        self.problems = list(problems)
        self.source = source
        where = " in %s" % source if source else ""
        lines = ["invalid environment%s:" % where] + ["  - %s" % problem for problem in self.problems]
        super().__init__("\n".join(lines))


class HookArgumentError(BadInput):
    """A hook was given an argument it does not accept, or a bad value for one."""


class RenderError(BadInput):
    """A config or env file cannot be rendered offline."""


class BlueprintError(BadInput):
    """A blueprint was given a variable value it cannot build a template from."""


class SourceSnapshotMissing(BadInput):
    """The source snapshot a deploy would restore does not exist."""


# --- a live deploy holds the lock ----------------------------------------------------------


class LockHeld(TenantstackError):
    """Another deploy holds the namespace's lock."""

    exit_code = LOCK_HELD


# --- a deploy step failed --------------------------------------------------------------------


class DeployFailed(TenantstackError):
    """A deploy step failed; the message says what the tenant is left with."""

    exit_code = DEPLOY_FAILED


class LockLost(DeployFailed):
    """This run no longer holds its namespace's lock: another run took it over."""


class ServiceNotStable(DeployFailed):
    """The service failed on, or did not settle on, the new task definition in time."""

    def __init__(self, message, assessment, timed_out):
        super().__init__(message)
        self.assessment = assessment
        self.timed_out = timed_out


class CopyFailed(DeployFailed):
    """The tenant's snapshot copy ended in a bad state or did not finish in time; nothing else changed."""


class FilesCopyFailed(DeployFailed):
    """A data set's files could not all be copied, or the copy did not verify; nothing was flipped."""


class StepFailed(TenantstackError):
    """A step of a retirement ended in a bad state (a snapshot failed, a stack would not delete)."""


class SnapshotFailed(StepFailed):
    """A snapshot being waited for is gone or in a state that never becomes available."""

    def __init__(self, what, snapshot_id, status):
        self.snapshot_id, self.status = snapshot_id, status
        super().__init__("%s %s is %s, not available" % (what, snapshot_id, status or "gone"))


class DatabaseRetirementFailed(DeployFailed):
    """Retiring one database failed; `done` (what retire did so far) says how far it got."""

    def __init__(self, instance_id, stack_name, done, instance_existed, cause):
        self.instance_id, self.stack_name, self.done, self.cause = instance_id, stack_name, done, cause
        self.instance_existed = instance_existed
        super().__init__("%s: %s; %s" % (instance_id, cause, self.what_was_done()))

    def what_was_done(self):
        """What the failed retirement left behind, as a sentence."""
        done, stack = self.done, self.stack_name
        if done["final_snapshot"]:
            snapshot = "final snapshot %s is available" % done["final_snapshot"]
        elif self.instance_existed is False:
            snapshot = "no final snapshot of it exists"
        else:
            snapshot = "no final snapshot was taken"
        if self.instance_existed is False:
            instance = "the instance was already gone; stack %s is not deleted" % stack
        elif done["deleted_instance"]:
            instance = "the instance is deleted; stack %s is not" % stack
        else:
            instance = "the instance was not deleted"
        return "%s; %s" % (snapshot, instance)


class RetirementFailed(DeployFailed):
    """One or more databases of a namespace could not be retired (the others were)."""

    def __init__(self, namespace, failures):
        self.namespace, self.failures = namespace, list(failures)
        lines = ["retiring %d database(s) of %s failed; the others were handled:" % (len(failures), namespace)]
        lines += ["  - %s" % failure for failure in self.failures]
        lines.append(
            "The tenant keeps serving from its active database, and nothing was deleted without an "
            "available final snapshot. To finish, re-run the deploy (retirement reuses a final snapshot "
            "already taken), or run `tenantstack reap %s --apply` once it exists." % namespace
        )
        super().__init__("\n".join(lines))


# --- waits that ran out, outside a deploy --------------------------------------------------------


class WaitTimedOut(TenantstackError):
    """A wait (hooks.aws.wait.poll) used its whole budget; `last` is what the last look saw."""

    def __init__(self, what, budget_seconds, last=None):
        self.what, self.budget_seconds, self.last = what, budget_seconds, last
        super().__init__("%s: still not done after %s s" % (what, budget_seconds))


class PreviewFailed(TenantstackError):
    """CloudFormation could not compute a preview's change set (its status reason says why); nothing was changed."""


class SnapshotNotReady(TenantstackError):
    """A snapshot was started but is not available (failed, or not yet when the wait ended)."""
