"""The per-namespace deploy lock in SSM Parameter Store: acquire, fence, release, clear.

AWS functions; they take clients. The stacker hooks around a promotion are
hooks/steps/deploy_lock.py.

The record, its time-to-live and the recovery rule (when a lock is stale and taken over
automatically) are pure and live in hooks/lock/rules.py; read its docstring for the rule.

Taking over a stale lock is serialised by a second create-if-absent parameter, the
takeover claim (/<namespace>/deploy/lock-takeover): SSM has no compare-and-swap, so
without it two runs that both saw the same stale lock could each delete and recreate it
and both believe they won. Only the run that created the claim replaces the stale lock;
the others stop with LockHeld. A claim whose own holder died is stale by the same rule,
with CLAIM_TTL_SECONDS as its time-to-live.
"""
import dataclasses
import logging

from botocore.exceptions import ClientError

from hooks import aws, errors, naming
from hooks.errors import LockLost  # noqa: F401  (re-exported)
from hooks.lock import processes
from hooks.lock import store as lock_store
from hooks.lock.rules import (  # noqa: F401  (the pure layer; re-exported for hooks and the CLI)
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
from hooks.lock.store import read  # noqa: F401  (re-exported: hooks and the CLI read the lock here)

logger = logging.getLogger(__name__)

TTL_RANGE = (60, 7 * 86400)
MAX_ATTEMPTS = 5  # rounds of create / inspect / take over before giving up
CLAIM_TTL_SECONDS = 120  # a takeover takes a few API calls; a claim this old was abandoned


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


@dataclasses.dataclass(frozen=True)
class Acquired:
    record: LockRecord
    status: str  # acquired | re-entered | took-over
    detail: str


def acquire(ssm, namespace, record, now, pid_alive=process_alive, build_finished=build_unknown):
    """Take the namespace's lock for `record` (its host is this host); raise LockHeld if live."""
    last = None
    for _ in range(MAX_ATTEMPTS):
        if lock_store.create(ssm, namespace, record) and _holds(ssm, namespace, record):
            return _log(namespace, Acquired(record, "acquired", "acquired"))
        stored = lock_store.get(ssm, namespace)
        if stored is None:
            continue  # released between our create and our read: try again
        held = last = stored[0]
        if held.holder == record.holder:
            refreshed = dataclasses.replace(
                record, previous_task_definition=record.previous_task_definition or held.previous_task_definition
            )
            lock_store.overwrite(ssm, namespace, refreshed)
            return _log(namespace, Acquired(refreshed, "re-entered", "re-entered (lock refreshed)"))
        verdict = assess(held, now, record.host, pid_alive, build_finished)
        if not verdict.stale:
            raise errors.LockHeld(lock_held_message(namespace, held, now, verdict.reason))
        _claim_takeover(ssm, namespace, record, now, pid_alive, build_finished)
        try:
            # Still the very same stale record (value and version)? A run that took it over
            # before our claim is left alone; while we hold the claim, no other run can.
            if lock_store.get(ssm, namespace) != stored:
                continue
            lock_store.delete(ssm, namespace)
            if lock_store.create(ssm, namespace, record) and _holds(ssm, namespace, record):
                detail = "took over stale lock held by %s: %s" % (held.holder, verdict.reason)
                return _log(namespace, Acquired(record, "took-over", detail))
        finally:
            _release_claim(ssm, namespace, record.holder)
    raise errors.LockHeld(
        "namespace %s: the deploy lock kept changing while this run tried to take it (%d attempts%s); "
        "another deploy is starting, try again later"
        % (namespace, MAX_ATTEMPTS, ", last holder %s" % last.holder if last else "")
    )


def _claim_takeover(ssm, namespace, record, now, pid_alive, build_finished):
    """Create the takeover claim for `record`, or raise LockHeld naming the live claimant."""
    name = naming.ssm_lock_takeover_parameter(namespace)
    claim = dataclasses.replace(record, ttl_seconds=CLAIM_TTL_SECONDS)
    for _ in range(2):
        if lock_store.create(ssm, namespace, claim, name=name, purpose="Deploy lock takeover claim"):
            return
        stored = lock_store.get(ssm, namespace, name=name)
        if stored is None:
            continue  # its claimant finished between our create and our read
        verdict = assess(stored[0], now, record.host, pid_alive, build_finished)
        if not verdict.stale:
            raise errors.LockHeld(
                "namespace %s: another deploy, %s, is taking over the stale deploy lock right now (%s); "
                "this run stops without changing anything. Run it again once that deploy has finished."
                % (namespace, stored[0].holder, verdict.reason)
            )
        logger.warning("namespace %s: removing the abandoned lock takeover claim of %s: %s",
                       namespace, stored[0].holder, verdict.reason)
        lock_store.delete(ssm, namespace, name=name)
    raise errors.LockHeld(
        "namespace %s: the deploy lock takeover claim %s kept changing; another deploy is starting, "
        "try again later" % (namespace, name)
    )


def _release_claim(ssm, namespace, holder):
    name = naming.ssm_lock_takeover_parameter(namespace)
    stored = lock_store.get(ssm, namespace, name=name)
    if stored is not None and stored[0].holder == holder:
        lock_store.delete(ssm, namespace, name=name)


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
    lock_store.overwrite(ssm, namespace, updated)
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
    lock_store.delete(ssm, namespace)
    logger.info("released the deploy lock of %s (holder %s)", namespace, holder)
    return {"status": "released", "namespace": namespace, "holder": holder}


def force_unlock(ssm, namespace, holder):
    """For the operator: delete the lock only if its holder is `holder`."""
    naming.parse_namespace(namespace)  # NamingError is bad input: nothing changes
    current = read(ssm, namespace)
    if current is None:
        return {"status": "absent", "namespace": namespace, "record": None}
    if current.holder != holder:
        raise errors.BadInput(
            "the deploy lock of %s is held by %r, not by %r; nothing was changed. If that holder is "
            "dead too, run: %s" % (namespace, current.holder, holder, unlock_command(namespace, current.holder))
        )
    lock_store.delete(ssm, namespace)
    logger.info("cleared the deploy lock of %s held by %s since %s", namespace, holder, current.acquired_at)
    return {"status": "unlocked", "namespace": namespace, "record": current}
