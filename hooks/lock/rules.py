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
  (c) its age exceeds its ttl (default 2 x stable_timeout + bake_seconds + 3600 s), so the run cannot
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
import getpass
import json
import os
import socket
from typing import Optional

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
BUILD_ID_VARIABLE = "CODEBUILD_BUILD_ID"


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


def default_ttl(stable_timeout, bake_seconds=0):
    """Long enough for a whole deploy: the stable gate twice, its bake time, plus an hour for the rest."""
    return 2 * stable_timeout + bake_seconds + 3600


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
