"""The per-namespace deploy lock in SSM Parameter Store: AWS functions and stacker hooks.

The record, its time-to-live and the recovery rule (when a lock is stale and taken over
automatically) are pure and live in hooks/lock_rules.py; read its docstring for the rule.
"""
import dataclasses
import datetime
import functools
import logging
import os
import socket

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, errors, naming, processes, settings
from hooks.hookargs import HookArgumentError, check_arguments, environment_of
from hooks.lock_rules import (  # noqa: F401  (the pure layer; re-exported for hooks and the CLI)
    LockRecord,
    Verdict,
    assess,
    current_holder,
    default_ttl,
    format_time,
    human_duration,
    lock_held_message,
    new_record,
    this_user,
    unlock_command,
)

logger = logging.getLogger(__name__)

TTL_RANGE = (60, 7 * 86400)
MAX_ATTEMPTS = 5  # rounds of create / inspect / take over before giving up


class LockLost(errors.DeployFailed):
    """This run no longer holds its namespace's lock: another run took it over."""


# --- AWS -------------------------------------------------------------------------------


def process_alive(pid):
    """True when a process with this pid runs on this host (zombies count as gone)."""
    return processes.alive(pid)


def build_unknown(build_id):
    """The build_finished used without a CodeBuild client: nothing is provable."""
    return None


def build_finished(codebuild, build_id):
    """True when CodeBuild reports the build finished, False while IN_PROGRESS, None if unknown."""
    try:
        builds = codebuild.batch_get_builds(ids=[build_id])["builds"]
    except ClientError as error:
        if aws.error_code(error) == "InvalidInputException":  # not a build id at all
            return None
        raise
    if not builds:
        return None
    return builds[0]["buildStatus"] != "IN_PROGRESS"


def _get(ssm, namespace):
    """(record, raw value, version) of the stored lock, or None."""
    name = naming.ssm_lock_parameter(namespace)
    try:
        parameter = ssm.get_parameter(Name=name)["Parameter"]
    except ClientError as error:
        if aws.error_code(error) == "ParameterNotFound":
            return None
        raise
    try:
        record = LockRecord.from_json(parameter["Value"])
    except (ValueError, TypeError, AttributeError) as error:
        raise errors.DeployFailed(
            "%s holds %r, which is not a lock record (%s); inspect it and delete it with "
            "aws ssm delete-parameter --name %s" % (name, parameter["Value"], error, name)
        ) from None
    return record, parameter["Value"], parameter["Version"]


def read(ssm, namespace):
    """The namespace's lock record, or None when nobody holds it."""
    stored = _get(ssm, namespace)
    return stored[0] if stored else None


def _create(ssm, namespace, record):
    """Create-if-absent; False when the lock exists.

    The tags ride on the create (allowed with Overwrite=False, unlike Overwrite=True),
    so the lock is never untagged, not even between two calls.
    """
    try:
        ssm.put_parameter(
            Name=naming.ssm_lock_parameter(namespace),
            Value=record.to_json(),
            Type="String",
            Overwrite=False,
            Description="Deploy lock of %s (tenantstack): who deploys and since when" % namespace,
            Tags=[{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()],
        )
    except ClientError as error:
        if aws.error_code(error) == "ParameterAlreadyExists":
            return False
        raise
    return True


def _overwrite(ssm, namespace, record):
    # Overwrite=True cannot carry Tags; the tags set at creation stay with the parameter.
    ssm.put_parameter(Name=naming.ssm_lock_parameter(namespace), Value=record.to_json(), Type="String", Overwrite=True)


def _delete(ssm, namespace):
    try:
        ssm.delete_parameter(Name=naming.ssm_lock_parameter(namespace))
    except ClientError as error:
        if aws.error_code(error) != "ParameterNotFound":
            raise


@dataclasses.dataclass(frozen=True)
class Acquired:
    record: LockRecord
    status: str  # acquired | re-entered | took-over
    detail: str


def acquire(ssm, namespace, record, now, pid_alive=process_alive, build_finished=build_unknown):
    """Take the namespace's lock for `record` (its host is this host); raise LockHeld if live."""
    last = None
    for _ in range(MAX_ATTEMPTS):
        if _create(ssm, namespace, record) and _holds(ssm, namespace, record):
            return _log(namespace, Acquired(record, "acquired", "acquired"))
        stored = _get(ssm, namespace)
        if stored is None:
            continue  # released between our create and our read: try again
        held = last = stored[0]
        if held.holder == record.holder:
            refreshed = dataclasses.replace(
                record, previous_task_definition=record.previous_task_definition or held.previous_task_definition
            )
            _overwrite(ssm, namespace, refreshed)
            return _log(namespace, Acquired(refreshed, "re-entered", "re-entered (lock refreshed)"))
        verdict = assess(held, now, record.host, pid_alive, build_finished)
        if not verdict.stale:
            raise errors.LockHeld(lock_held_message(namespace, held, now, verdict.reason))
        # SSM has no compare-and-swap (no conditional delete or overwrite). Re-read right
        # before deleting and delete only if it is still the very same stale record (value
        # and version): a racer that took it over meanwhile is left alone. A gap remains
        # between this read and the delete: a racer may create its lock in it, and we would
        # delete that. The re-read after creating catches most of those; fencing
        # (ensure_held before flip and retire) stops a run that lost the lock anyway.
        if _get(ssm, namespace) != stored:
            continue
        _delete(ssm, namespace)
        if _create(ssm, namespace, record) and _holds(ssm, namespace, record):
            detail = "took over stale lock held by %s: %s" % (held.holder, verdict.reason)
            return _log(namespace, Acquired(record, "took-over", detail))
    raise errors.LockHeld(
        "namespace %s: the deploy lock kept changing while this run tried to take it (%d attempts%s); "
        "another deploy is starting, try again later"
        % (namespace, MAX_ATTEMPTS, ", last holder %s" % last.holder if last else "")
    )


def _holds(ssm, namespace, record):
    current = read(ssm, namespace)
    return current is not None and current.holder == record.holder


def _log(namespace, acquired):
    logger.info("deploy lock of %s: %s (holder %s)", namespace, acquired.detail, acquired.record.holder)
    return acquired


def ensure_held(ssm, namespace, holder):
    """Fencing: the stored record if `holder` still holds the lock, else raise LockLost."""
    current = read(ssm, namespace)
    if current is None:
        raise LockLost(
            "this run (%s) no longer holds the deploy lock of %s: nobody holds it (it was released "
            "or cleared); stopping before changing anything else" % (holder, namespace)
        )
    if current.holder != holder:
        raise LockLost(
            "this run (%s) no longer holds the deploy lock of %s: %s took it over at %s; "
            "stopping before changing anything else" % (holder, namespace, current.holder, current.acquired_at)
        )
    return current


def update_record(ssm, namespace, holder, **changes):
    """Change fields of the stored record; only its holder may. Returns the new record."""
    changeable = {field.name for field in dataclasses.fields(LockRecord)} - {"holder"}
    refused = sorted(set(changes) - changeable)
    if refused:
        raise ValueError(
            "update_record: cannot change %s; changeable: %s" % (", ".join(refused), ", ".join(sorted(changeable)))
        )
    # Read-modify-write without compare-and-swap: a takeover can only happen once this run
    # is stale (ttl passed or process gone), and fencing stops such a run before it acts.
    updated = dataclasses.replace(ensure_held(ssm, namespace, holder), **changes)
    _overwrite(ssm, namespace, updated)
    return updated


def release(ssm, namespace, holder):
    """Delete the lock if `holder` holds it. Losing it to someone else is a warning."""
    current = read(ssm, namespace)
    if current is None:
        return {"status": "absent", "namespace": namespace, "holder": holder}
    if current.holder != holder:
        warning = "did not release the deploy lock of %s: it is held by %s, not by this run (%s)" % (
            namespace, current.holder, holder,
        )
        logger.warning("%s", warning)
        return {"status": "not-held", "namespace": namespace, "holder": holder, "warning": warning}
    _delete(ssm, namespace)
    logger.info("released the deploy lock of %s (holder %s)", namespace, holder)
    return {"status": "released", "namespace": namespace, "holder": holder}


def force_unlock(ssm, namespace, holder):
    """For the operator: delete the lock only if its holder is `holder`."""
    try:
        naming.parse_namespace(namespace)
    except naming.NamingError as error:
        raise errors.BadInput(str(error)) from None
    current = read(ssm, namespace)
    if current is None:
        return {"status": "absent", "namespace": namespace, "record": None}
    if current.holder != holder:
        raise errors.BadInput(
            "the deploy lock of %s is held by %r, not by %r; nothing was changed. If that holder is "
            "dead too, run: %s" % (namespace, current.holder, holder, unlock_command(namespace, current.holder))
        )
    _delete(ssm, namespace)
    logger.info("cleared the deploy lock of %s held by %s since %s", namespace, holder, current.acquired_at)
    return {"status": "unlocked", "namespace": namespace, "record": current}


# --- stacker hooks ---------------------------------------------------------------------


def _ttl_argument(value, stable_timeout):
    if value is None:
        return default_ttl(stable_timeout)
    low, high = TTL_RANGE
    if isinstance(value, bool) or not str(value).isdigit() or not low <= int(value) <= high:
        raise HookArgumentError(
            "hook acquire_lock: argument ttl_seconds %r is invalid: expected a whole number of seconds "
            "from %d to %d (default 2 x stable_timeout + 3600)" % (value, low, high)
        )
    return int(value)


def acquire_lock(context, provider, **kwargs):
    """pre_build hook: take the namespace's deploy lock or stop with LockHeld."""
    check_arguments("acquire_lock", kwargs, accepted=("ttl_seconds",))
    values = settings.load_settings(environment_of(context))
    ttl = _ttl_argument(kwargs.get("ttl_seconds"), values["stable_timeout"])
    namespace, now = values["namespace"], datetime.datetime.now(datetime.timezone.utc)
    record = new_record(os.environ, socket.gethostname(), this_user(), os.getpid(), now, ttl, values["db_timestamp"])
    codebuild = aws.client("codebuild", provider.region)
    result = acquire(
        aws.client("ssm", provider.region),
        namespace,
        record,
        now,
        build_finished=functools.partial(build_finished, codebuild),
    )
    return {"status": result.status, "holder": record.holder, "namespace": namespace, "detail": result.detail}


def release_lock(context, provider, **kwargs):
    """post_build hook: release this process's deploy lock."""
    check_arguments("release_lock", kwargs, accepted=())
    namespace = settings.load_settings(environment_of(context))["namespace"]
    return release(aws.client("ssm", provider.region), namespace, current_holder())


def releasing_lock_on_failure(hook):
    """Wrap a post_build hook: if it raises, release this process's lock, then re-raise.

    stacker skips every later post_build hook (release_lock too) once one raises.
    """

    @functools.wraps(hook)
    def wrapper(context, provider, **kwargs):
        try:
            return hook(context, provider, **kwargs)
        except Exception:
            _release_after_failure(context, provider, hook.__name__)
            raise

    return wrapper


def _release_after_failure(context, provider, hook_name):
    try:
        namespace = settings.load_settings(environment_of(context))["namespace"]
        result = release(aws.client("ssm", provider.region), namespace, current_holder())
    except (ClientError, BotoCoreError, errors.TenantstackError, ValueError) as error:
        logger.error("%s failed, and releasing the deploy lock failed too: %s", hook_name, error)
        return
    if result["status"] == "released":
        logger.warning("%s failed; released the deploy lock of %s so the next deploy can start", hook_name, namespace)
