"""After a stacker run died holding its namespace's deploy lock: what the skipped hooks would do.

stacker 1.7.2 skips every post_build hook once a stack fails, and a killed run runs none,
so such a run leaves the lock, maybe the database of its target timestamp (never active)
and maybe a service that moved. `recover` finishes the job in the deploying process, with
the pipeline's own functions and rules:

1. only if the lock still names the dead child's holder: take it over (hooks/lock/deploy_lock.py:
   the same host's pid is gone, or the same CodeBuild build re-enters); otherwise the run
   failed before the lock, or a post_build hook already released it: touch nothing;
2. wait until CloudFormation is done with the target's database stack and the service stack;
3. if the pointer already names the target, the run got past its flip: nothing to undo;
4. else point the service back at the task definition recorded in the lock
   (hooks/steps/stable.revert_to_recorded) and retire the target's database when the pipeline's
   rules say it is a leftover (hooks/steps/leftovers.leftover_reason, else
   hooks/steps/retire.plan_retirement: never the active, a retained or a referenced database),
   final snapshot first (hooks/steps/retire.retire);
5. release the lock, also when a step failed.

It never moves the pointer.

Layers: `Recovery` (the report), `target_decision` (pure), `recover` (AWS, takes
clients), `recover_in` (wiring: clients, and the hooks' log lines into the deploy's output).
"""
import contextlib
import dataclasses
import datetime
import logging
import os
import socket
import threading
from dataclasses import replace
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, errors, naming
from hooks.aws import resources
from hooks.config import hookargs
from hooks.lock import deploy_lock
from hooks.lock import rules as lock_rules
from hooks.steps import leftovers, retire, stable
from hooks.tenant import inventory

logger = logging.getLogger(__name__)

NOT_NEEDED, DONE, FAILED, SKIPPED = "not-needed", "done", "failed", "skipped"


@dataclasses.dataclass(frozen=True)
class Recovery:
    """What the wrapper did after a failed run, in order."""

    status: str  # not-needed | done | failed (a step failed; see error) | skipped (another deploy has the lock)
    actions: tuple = ()
    final_snapshot: Optional[str] = None  # of the retired target database
    error: Optional[str] = None

    def summary(self):
        """A short clause for the deploy's one-line message; `actions` has every step."""
        if self.status == SKIPPED:
            return "another deploy took the lock first, so nothing was cleaned up"
        if self.status == FAILED:
            return "cleaning up after it failed: %s" % self.error
        retired = ", database retired (final snapshot %s)" % self.final_snapshot if self.final_snapshot else ""
        return "cleaned up: lock released%s" % retired

    def to_dict(self):
        return dataclasses.asdict(self, dict_factory=lambda items: {k: list(v) if isinstance(v, tuple) else v
                                                                    for k, v in items})


@dataclasses.dataclass(frozen=True)
class Clients:
    ssm: object
    rds: object
    cfn: object
    ecs: object
    tagging: object

    @classmethod
    def from_environment(cls, region=None):
        make = lambda service: aws.client(service, region)  # noqa: E731
        return cls(make("ssm"), make("rds"), make("cloudformation"), make("ecs"), make("resourcegroupstaggingapi"))


# --- planning (pure) ----------------------------------------------------------------------


def target_decision(target, active, instance_status, stack_status, referenced, plan):
    """(retire?, reason) for the failed run's target database.

    `plan`: the retire.Decision plan_retirement gives the target among all the namespace's
    databases (asked only when the leftover rule does not already decide).
    """
    if instance_status is None and stack_status is None:
        return False, "nothing of it was created"
    if target == active:
        return False, "it is the active database"
    if target in referenced:
        return False, "the service's task definition still uses it"
    if leftovers.leftover_reason(target, active, instance_status, stack_status) is not None:
        return True, "left by the failed run (instance: %s, stack: %s)" % (instance_status or "none",
                                                                          stack_status or "none")
    decision = plan()
    return decision.action == retire.RETIRE, decision.reason


# --- AWS -------------------------------------------------------------------------------------


class _Report:
    """What recovery has done so far: each step is logged as it happens."""

    def __init__(self):
        self.actions, self.final_snapshot, self.error = [], None, None

    def add(self, action):
        logger.info("tenantstack deploy: %s", action)
        self.actions.append(action)

    def recovery(self):
        return Recovery(FAILED if self.error else DONE, tuple(self.actions), self.final_snapshot, self.error)


def recover(clients, namespace, shared_namespace, child_holder, retain_previous, now, wait, make_record):
    """Steps 1-5 of the module docstring; a Recovery. `make_record(held)` is our LockRecord."""
    held = deploy_lock.read(clients.ssm, namespace)
    if held is None or held.holder != child_holder:
        why = "nobody holds the lock" if held is None else "the lock is held by %s, not by the run" % held.holder
        return Recovery(NOT_NEEDED, ("nothing to clean up: %s" % why,))
    try:
        holder = deploy_lock.acquire(clients.ssm, namespace, make_record(held), now).record.holder
    except errors.LockHeld as error:
        return Recovery(SKIPPED, ("left everything to the deploy that took the lock first",), error=str(error))
    report = _Report()
    report.add("took over the deploy lock the failed run left (%s)" % held.holder)
    try:
        _restore(clients, namespace, shared_namespace, held, holder, retain_previous, now, wait, report)
    except (ClientError, BotoCoreError, errors.TenantstackError) as error:
        report.error = "%s: %s" % (type(error).__name__, error)
        logger.error("tenantstack deploy: cleaning up after the failed run failed: %s", report.error)
    finally:
        _release(clients.ssm, namespace, holder, report)
    return report.recovery()


def _release(ssm, namespace, holder, report):
    try:
        released = deploy_lock.release(ssm, namespace, holder)
    except (ClientError, BotoCoreError) as error:
        report.error = report.error or "releasing the deploy lock failed: %s" % error
        report.add("could not release the deploy lock (%s); clear it with: %s"
                   % (error, lock_rules.unlock_command(namespace, holder)))
        return
    report.add("released the deploy lock" if released["status"] == "released"
               else released.get("warning", "the deploy lock was already gone"))


def _restore(clients, namespace, shared_namespace, held, holder, retain_previous, now, wait, report):
    target = held.target_timestamp
    stack_status = leftovers.settled_stack_status(clients.cfn, naming.db_stack_name(namespace, target), wait)
    leftovers.settled_stack_status(clients.cfn, naming.service_stack_name(namespace), wait)
    if inventory.active_timestamp(clients.ssm, namespace) == target:
        report.add("the pointer already names %s (the run got past its flip): nothing reverted or retired" % target)
        return
    cluster = naming.cluster_name(shared_namespace)
    if held.previous_task_definition is None:
        report.add("service %s not reverted: the run recorded no task definition before it changed anything "
                   "(a first deploy, or it failed before recording one)" % naming.service_name(namespace))
    else:
        report.add(stable.revert_to_recorded(clients.ssm, clients.ecs, namespace, cluster))
    _reap_target(clients, namespace, cluster, target, stack_status, retain_previous, holder, now, wait, report)


def _reap_target(clients, namespace, cluster, target, stack_status, retain_previous, holder, now, wait, report):
    instance_id = naming.db_instance_id(namespace, target)
    instance = resources.describe_instance(clients.rds, instance_id)
    instance_status = instance["DBInstanceStatus"] if instance else None
    active = inventory.active_timestamp(clients.ssm, namespace)
    referenced = inventory.referenced_timestamps(clients.ecs, cluster, naming.service_name(namespace))
    history = inventory.pointer_history(clients.ssm, namespace)
    database = inventory.Database(target, instance_id, naming.db_stack_name(namespace, target), False,
                                  instance_status, stack_status)

    def plan():
        others = [d for d in inventory.discover(clients.ssm, clients.tagging, clients.rds, clients.cfn, namespace)
                  if d.timestamp != target]
        decisions = retire.plan_retirement(others + [database], active, (), inventory.previously_active(
            history, active), retain_previous, referenced)
        return next(decision for decision in decisions if decision.timestamp == target)

    reap, reason = target_decision(target, active, instance_status, stack_status, referenced, plan)
    if not reap:
        report.add("kept database %s: %s" % (instance_id, reason))
        return
    deploy_lock.ensure_held(clients.ssm, namespace, holder)
    report.add("retiring database %s (%s): final snapshot first" % (instance_id, reason))
    done = retire.retire(clients.rds, clients.cfn, namespace, database, now, wait,
                         inventory.active_until(history, target))
    report.final_snapshot = done["final_snapshot"]
    report.add("retired database %s: final snapshot %s" % (instance_id, done["final_snapshot"] or "none"))


# --- wiring ----------------------------------------------------------------------------------


def our_record(held, now):
    """The lock record this process takes over with: the dead run's target and recorded service."""
    record = lock_rules.new_record(os.environ, socket.gethostname(), lock_rules.this_user(), os.getpid(), now,
                                   held.ttl_seconds, held.target_timestamp)
    return dataclasses.replace(record, previous_task_definition=held.previous_task_definition)


def recover_in(prepared, child_holder, output):
    """Recover with clients from the standard AWS environment; log lines go to `output`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    with hooks_log_to(output):
        try:
            wait = replace(retire.DEFAULT_WAIT, poll_seconds=hookargs.poll_seconds(retire.DEFAULT_WAIT.poll_seconds))
            clients = Clients.from_environment()
            return recover(clients, prepared.namespace, prepared.shared_namespace, child_holder,
                           prepared.retain_previous, now, wait, lambda held: our_record(held, now))
        except (ClientError, BotoCoreError, errors.TenantstackError) as error:  # before the lock: nothing touched
            logger.error("tenantstack deploy: could not check the deploy lock of %s: %s", prepared.namespace, error)
            return Recovery(FAILED, (), error="could not check the deploy lock: %s" % error)


class _ThisThread(logging.Filter):
    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record):
        return record.thread == self.thread


@contextlib.contextmanager
def hooks_log_to(output):
    """While inside: this thread's hooks.* log lines (INFO and up) are written to `output`."""
    hooks_logger = logging.getLogger("hooks")
    handler = logging.StreamHandler(output)
    handler.setLevel(logging.INFO)
    handler.addFilter(_ThisThread())
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%Y-%m-%dT%H:%M:%S"))
    if hooks_logger.getEffectiveLevel() > logging.INFO:
        hooks_logger.setLevel(logging.INFO)
    hooks_logger.addHandler(handler)
    try:
        yield
    finally:
        hooks_logger.removeHandler(handler)
        handler.flush()
