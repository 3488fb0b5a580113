"""The per-namespace deploy lock: two deploys of one namespace never interleave.

The lock is the SSM parameter /<namespace>/deploy/lock (naming.ssm_lock_parameter).
Taking it is create-if-absent: put_parameter(Overwrite=False) succeeds for exactly one
caller and answers ParameterAlreadyExists to every other. Its value is a LockRecord in
compact JSON: who holds it (a CodeBuild build id, or user@host:pid), since when, for
how long (ttl), which db_timestamp the run deploys, and, once the service hook has
looked, the task definition that ran before the deploy. Other namespaces have other
parameters, so they never block each other.

Recovery rule. A lock is stale, and the next deploy takes it over automatically, when
  (a) it was taken on this same host and its pid is no longer alive (the process is
      gone: proven), or
  (b) its holder is a CodeBuild build that CodeBuild reports as finished (any status
      other than IN_PROGRESS: proven), or
  (c) its age exceeds its ttl (default 2 x stable_timeout + 3600 s), so the run cannot
      legitimately still be working. The holder's flip and retire steps re-check the
      lock (ensure_held, fencing) and stop if they lost it, so a run that outlived its
      ttl cannot flip the pointer or delete a database after a takeover.
Otherwise the lock is live and the deploy stops with LockHeld, which names the holder,
its age, its target timestamp and the command that clears it when the operator knows
the holder is dead: tenantstack unlock <namespace> --holder '<holder>'.

Layers: LockRecord, current_holder, new_record, assess (pure); acquire, read,
update_record, ensure_held, release, force_unlock, build_finished (AWS, take clients);
acquire_lock, release_lock, releasing_lock_on_failure (stacker hooks).
"""
import dataclasses
import datetime
import functools
import getpass
import json
import logging
import os
import socket
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, errors, naming, settings
from hooks.hookargs import HookArgumentError, check_arguments, environment_of

logger = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
BUILD_ID_VARIABLE = "CODEBUILD_BUILD_ID"
TTL_RANGE = (60, 7 * 86400)
MAX_ATTEMPTS = 5  # rounds of create / inspect / take over before giving up


class LockLost(errors.DeployFailed):
    """This run no longer holds its namespace's lock: another run took it over."""


# --- pure ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LockRecord:
    holder: str
    host: str
    pid: int
    user: str
    build_id: Optional[str]
    acquired_at: str  # ISO-8601 UTC, e.g. 2026-01-15T10:30:00Z
    ttl_seconds: int
    target_timestamp: str
    previous_task_definition: Optional[str] = None

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text):
        """Parse a stored record; keys a newer version added are ignored."""
        data = json.loads(text)
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in fields})

    def acquired(self):
        parsed = datetime.datetime.strptime(self.acquired_at, TIME_FORMAT)
        return parsed.replace(tzinfo=datetime.timezone.utc)

    def age_seconds(self, now):
        return max(0, int((now - self.acquired()).total_seconds()))


@dataclasses.dataclass(frozen=True)
class Verdict:
    stale: bool
    reason: str


def format_time(moment):
    return moment.astimezone(datetime.timezone.utc).strftime(TIME_FORMAT)


def default_ttl(stable_timeout):
    """Long enough for a whole deploy: the stable gate twice, plus an hour for the rest."""
    return 2 * stable_timeout + 3600


def current_holder(environ=None, host=None, user=None, pid=None):
    """The lock holder id of a process: its CodeBuild build id, else user@host:pid.

    Each argument left out is this process's own, so `current_holder()` is the id
    acquire_lock recorded for this process.
    """
    environ = os.environ if environ is None else environ
    if environ.get(BUILD_ID_VARIABLE):
        return environ[BUILD_ID_VARIABLE]
    return "%s@%s:%d" % (
        this_user() if user is None else user,
        socket.gethostname() if host is None else host,
        os.getpid() if pid is None else pid,
    )


def this_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


def new_record(environ, host, user, pid, now, ttl_seconds, target_timestamp):
    """The lock record this process writes."""
    return LockRecord(
        holder=current_holder(environ, host, user, pid),
        host=host,
        pid=pid,
        user=user,
        build_id=environ.get(BUILD_ID_VARIABLE) or None,
        acquired_at=format_time(now),
        ttl_seconds=ttl_seconds,
        target_timestamp=target_timestamp,
    )


def human_duration(seconds):
    """4 min 12 s, 2 h 5 min, 1 d 3 h."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "%d d %d h" % (days, hours)
    if hours:
        return "%d h %d min" % (hours, minutes)
    if minutes:
        return "%d min %d s" % (minutes, secs)
    return "%d s" % secs


def assess(record, now, this_host, pid_alive, build_finished):
    """Stale or live, by the recovery rule in the module docstring.

    pid_alive(pid) -> bool; build_finished(build_id) -> True, False or None (unknown).
    They are asked only when the rule needs them.
    """
    age = record.age_seconds(now)
    same_host = record.host == this_host
    if same_host and not pid_alive(record.pid):
        return Verdict(True, "it was taken on this host (%s) by pid %d, which is no longer running" % (this_host, record.pid))
    finished = build_finished(record.build_id) if record.build_id else None
    if finished:
        return Verdict(True, "CodeBuild reports its build %s as finished" % record.build_id)
    if age > record.ttl_seconds:
        return Verdict(True, "it is %s old, past its ttl of %s" % (human_duration(age), human_duration(record.ttl_seconds)))
    if same_host:
        fact = "pid %d on this host (%s) is still running" % (record.pid, this_host)
    elif record.build_id and finished is False:
        fact = "CodeBuild reports build %s in progress" % record.build_id
    elif record.build_id:
        fact = "CodeBuild does not know build %s, so it cannot be proven finished" % record.build_id
    else:
        fact = "it was taken on another host (%s), whose processes this host cannot see" % record.host
    expires = record.acquired() + datetime.timedelta(seconds=record.ttl_seconds)
    return Verdict(
        False,
        "%s, and it is within its ttl of %s (stale after %s)"
        % (fact, human_duration(record.ttl_seconds), format_time(expires)),
    )


def unlock_command(namespace, holder):
    return "tenantstack unlock %s --holder '%s'" % (namespace, holder.replace("'", "'\\''"))


def lock_held_message(namespace, record, now, reason):
    return (
        "namespace %s is locked by another deploy: %s (user %s on host %s, pid %d) took the lock "
        "%s ago to deploy db_timestamp %s. The lock is live: %s. Wait for that deploy to finish; "
        "if you know it is dead, clear the lock with: %s"
        % (
            namespace,
            record.holder,
            record.user,
            record.host,
            record.pid,
            human_duration(record.age_seconds(now)),
            record.target_timestamp,
            reason,
            unlock_command(namespace, record.holder),
        )
    )


# --- AWS -------------------------------------------------------------------------------


def process_alive(pid):
    """True when a process with this pid exists on this host (another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
