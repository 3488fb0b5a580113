"""CloudFormation change sets for a preview: created, described, ALWAYS deleted, never executed.

    registry = ChangeSets()
    changes = preview_update(cfn, "xy-0146-qa-service", body, parameters, tags, capabilities, registry)
    # -> (raw Changes entries, note): the change set is deleted before this returns or raises

Only stacks that exist get a change set (ChangeSetType UPDATE): a CREATE change set would
create the stack in REVIEW_IN_PROGRESS, a change to the account. What a change set shows:

- AWS creates it asynchronously (CREATE_PENDING, CREATE_IN_PROGRESS) and ends CREATE_COMPLETE
  or FAILED; a FAILED one whose reason says it holds no changes means the deploy changes
  nothing ("The submitted information didn't contain changes", "No updates are to be
  performed"): it is deleted like any other. The local endpoint refuses such a change set at
  once with ValidationError "No updates are to be performed.", read the same way.
- Changes come in pages (NextToken); every page is read.

Deleted whatever happens, each by its name and stack:

- the name is recorded in the registry BEFORE CreateChangeSet is sent, so an interruption
  between the request and its answer still deletes a change set AWS did create;
- deletion describes it first (nothing to do when it does not exist) and waits while it is
  still being created (AWS refuses to delete it then), through hooks.aws.wait.poll;
- deletion runs in `finally`, with SIGINT and SIGTERM deferred in the main thread
  (`deferred_signals`): a Ctrl-C during the clean-up is acted on once it is done;
  `sigterm_interrupts` turns SIGTERM into KeyboardInterrupt while a preview runs, so a
  killed preview (CodeBuild's timeout, `kill`) unwinds through the same `finally`;
- ChangeSets.delete_all deletes whatever a thread left (the fleet's last word).
"""
import contextlib
import datetime
import logging
import signal
import threading
import uuid

from botocore.exceptions import ClientError

from hooks.aws.clients import error_code
from hooks.aws.wait import Look, Wait, poll
from hooks.config import hookargs
from hooks.errors import PreviewFailed

logger = logging.getLogger(__name__)

PREFIX = "tenantstack-preview"
DESCRIPTION = "tenantstack diff: a preview, never executed; deleted by the preview that made it"
CREATING = ("CREATE_PENDING", "CREATE_IN_PROGRESS")
COMPLETE, FAILED = "CREATE_COMPLETE", "FAILED"
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
NOT_FOUND = ("ChangeSetNotFound", "ChangeSetNotFoundException", "ValidationError")
CREATE_BUDGET_SECONDS = 600
DEFAULT_POLL_SECONDS = 2


def default_wait():
    return Wait(poll_seconds=hookargs.poll_seconds(default=DEFAULT_POLL_SECONDS),
                budget_seconds=CREATE_BUDGET_SECONDS)


def change_set_name(now=None, token=None):
    """tenantstack-preview-<UTC time>-<random>: unique, and says what made it (CloudFormation:
    a letter first, then letters, digits and hyphens, at most 128)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return "%s-%s-%s" % (PREFIX, now.strftime("%Y%m%dt%H%M%Sz"), token or uuid.uuid4().hex[:8])


class ChangeSets:
    """Every change set of this process not yet deleted: (client, stack name, change set name)."""

    def __init__(self):
        self._open = {}
        self._guard = threading.Lock()

    def add(self, cfn, stack_name, name):
        with self._guard:
            self._open[(stack_name, name)] = cfn

    def discard(self, stack_name, name):
        with self._guard:
            self._open.pop((stack_name, name), None)

    def open(self):
        with self._guard:
            return sorted(self._open)

    def delete_all(self, wait=None):
        """Delete every change set still recorded; the (stack, name) pairs that could not be deleted."""
        failed = []
        with self._guard:
            pending = list(self._open.items())
        for (stack_name, name), cfn in pending:
            try:
                delete_change_set(cfn, stack_name, name, wait)
                self.discard(stack_name, name)
            except Exception as error:  # noqa: BLE001  (every one is tried; the caller reports the rest)
                logger.error("could not delete change set %s of %s: %s", name, stack_name, error)
                failed.append((stack_name, name))
        return failed


def preview_update(cfn, stack_name, body, parameters, tags, capabilities, registry, wait=None, name=None):
    """(raw Changes entries, note) of an UPDATE change set of the live stack `stack_name`.

    note: None, or why the list is empty although the stack would be updated. The change set
    is deleted before this returns or raises. PreviewFailed when CloudFormation cannot make it."""
    wait = wait or default_wait()
    name = name or change_set_name()
    registry.add(cfn, stack_name, name)
    try:
        try:
            cfn.create_change_set(
                StackName=stack_name, ChangeSetName=name, ChangeSetType="UPDATE", TemplateBody=body,
                Parameters=list(parameters), Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                Capabilities=list(capabilities), Description=DESCRIPTION,
            )
        except ClientError as error:
            if error_code(error) == "ValidationError" and _no_changes(str(error)):
                return [], None
            raise
        described = wait_until_created(cfn, stack_name, name, wait)
        if described["Status"] == FAILED:
            reason = described.get("StatusReason") or ""
            if _no_changes(reason):
                return [], None
            raise PreviewFailed("CloudFormation could not preview %s: %s" % (stack_name, reason or "no reason given"))
        changes = list(described.get("Changes") or ())
        token = described.get("NextToken")
        while token:
            page = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name, NextToken=token)
            changes += page.get("Changes") or ()
            token = page.get("NextToken")
        note = None if changes else "the update changes no resource (parameters, tags or outputs only)"
        return changes, note
    finally:
        with deferred_signals():
            delete_change_set(cfn, stack_name, name, wait)
            registry.discard(stack_name, name)


def _no_changes(text):
    return any(phrase in text for phrase in NO_CHANGES)


def describe_change_set(cfn, stack_name, name):
    """DescribeChangeSet (first page), None when it does not exist."""
    try:
        return cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return None
        raise


def wait_until_created(cfn, stack_name, name, wait):
    """The described change set once it is CREATE_COMPLETE or FAILED (first page)."""

    def look():
        described = describe_change_set(cfn, stack_name, name)
        if described is None:
            raise PreviewFailed("change set %s of %s vanished while it was being created" % (name, stack_name))
        status = described.get("Status")
        return Look(status not in CREATING, "change set of %s: %s" % (stack_name, status), described)

    return poll(look, "change set %s of %s" % (name, stack_name), wait, progress=logger.debug).value


def delete_change_set(cfn, stack_name, name, wait=None):
    """Delete the change set if it exists, once it is no longer being created; True if one was deleted."""
    wait = wait or default_wait()

    def look():
        described = describe_change_set(cfn, stack_name, name)
        if described is None:
            return Look(True, value=False)
        if described.get("Status") in CREATING:
            return Look(False, "change set %s of %s is still being created" % (name, stack_name))
        try:
            cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return Look(True, value=False)
            if error_code(error) == "InvalidChangeSetStatus":
                return Look(False, "change set %s of %s cannot be deleted yet" % (name, stack_name))
            raise
        return Look(True, value=True)

    return poll(look, "deleting change set %s of %s" % (name, stack_name), wait, progress=logger.debug).value


# --- signals -------------------------------------------------------------------------------


def _main_thread():
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def deferred_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """While inside, SIGINT and SIGTERM are only noted (main thread; elsewhere nothing changes);
    on leaving, a noted one raises KeyboardInterrupt. For clean-ups that must finish."""
    if not _main_thread():
        yield
        return
    noted = []
    previous = {number: signal.signal(number, lambda number, frame: noted.append(number)) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if noted:
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts():
    """While inside, SIGTERM raises KeyboardInterrupt in the main thread, as Ctrl-C does, so
    every `finally` runs (no effect outside the main thread)."""
    if not _main_thread():
        yield
        return

    def interrupt(number, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
