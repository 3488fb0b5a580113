"""pre_build / post_build: take the namespace's deploy lock first, give it back last.

The lock itself (record, recovery rule, storage, takeover) is hooks/lock/; these are the
two stacker hooks around a promotion. Hooks that run while the lock is held release it
when they fail (wiring's `holds_lock`), because stacker then skips release_lock.
"""
import datetime
import functools
import os
import socket

from hooks.config import hookargs
from hooks.lock import deploy_lock
from hooks.lock.rules import default_ttl, new_record, this_user
from hooks.steps.wiring import stacker_hook

TTL_SECONDS = hookargs.whole_number(
    *deploy_lock.TTL_RANGE, default=None, default_text="default 2 x stable_timeout + bake_seconds + 3600"
)


@stacker_hook(ttl_seconds=TTL_SECONDS)
def acquire_lock(run, ttl_seconds):
    """Take the namespace's deploy lock or stop with LockHeld."""
    ttl = (default_ttl(run.settings["stable_timeout"], run.settings["bake_seconds"]) if ttl_seconds is None
           else ttl_seconds)
    now = datetime.datetime.now(datetime.timezone.utc)
    record = new_record(os.environ, socket.gethostname(), this_user(), os.getpid(), now, ttl, run.timestamp)
    result = deploy_lock.acquire(
        run.client("ssm"),
        run.namespace,
        record,
        now,
        build_finished=functools.partial(deploy_lock.build_finished, run.client("codebuild")),
    )
    return {"status": result.status, "holder": record.holder, "namespace": run.namespace, "detail": result.detail}


@stacker_hook()
def release_lock(run):
    """Release this process's deploy lock."""
    return deploy_lock.release(run.client("ssm"), run.namespace, run.holder)
