"""Retire a tenant's orphans outside a deploy, as safely as the pipeline does.

`tenantstack reap --apply` runs this: it takes the namespace's deploy lock (so it never
runs beside a deploy, and a deploy never starts beside it), retires with
retire.retire_databases, which plans again from live state, re-checks the pointer, the
service and the lock right before each deletion and takes a final snapshot first, and
releases the lock however it ends.

AWS functions; they take clients (hooks.tenant.status.Clients).
"""
import datetime
import functools
import os
import socket

from hooks.lock import deploy_lock
from hooks.steps import retire


def reap_record(namespace, target_timestamp, stable_timeout, now, environ=None):
    """The lock record a reap holds: this process, deploying nothing new (its target is the active one)."""
    return deploy_lock.new_record(
        os.environ if environ is None else environ,
        socket.gethostname(),
        deploy_lock.this_user(),
        os.getpid(),
        now,
        deploy_lock.default_ttl(stable_timeout),
        target_timestamp,
    )


def reap(clients, namespace, shared_namespace, retain_previous, active, stable_timeout, wait, now=None):
    """Take the lock, retire what the plan retires, release the lock; retire_databases' result.

    Raises LockHeld when a deploy holds the lock (nothing was touched) and RetirementFailed
    when a retirement failed (the others were done; the lock is released either way).
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    record = reap_record(namespace, active, stable_timeout, now)
    deploy_lock.acquire(
        clients.ssm, namespace, record, now, build_finished=functools.partial(deploy_lock.build_finished, clients.codebuild)
    )
    try:
        return retire.retire_databases(
            clients.ssm,
            clients.tagging,
            clients.rds,
            clients.cfn,
            clients.ecs,
            namespace=namespace,
            shared_namespace=shared_namespace,
            in_flight=set(),
            retain_previous=retain_previous,
            holder=record.holder,
            now=now,
            wait=wait,
        )
    finally:
        deploy_lock.release(clients.ssm, namespace, record.holder)
