"""The one way a stacker hook is wired: arguments checked, settings read once, clients reused.

    @stacker_hook(poll_seconds=hookargs.POLL_SECONDS, wait_seconds=hookargs.seconds(default=1800))
    def retire_old_databases(run, poll_seconds, wait_seconds):
        ...                                 # run.settings, run.client("rds"), run.namespace ...

stacker (and CFNgin) call `retire_old_databases(context=..., provider=..., **args)`. The
wrapper, before the hook's own code and before any AWS call:

1. checks the arguments against their declared rules (hooks/config/hookargs.py): an unknown
   argument or a bad value is HookArgumentError (bad input; the hook's body never runs);
2. reads the env values the engine was started with (stacker_compat.environment_of) and
   validates them (hooks/config/settings.py, cached: every hook and lookup of a run shares
   one check);
3. hands the hook a HookRun: the settings, the region, and clients made on first use and
   reused for the rest of the hook.

`holds_lock=True` marks a hook that runs while this process holds the namespace's deploy
lock: when it raises, the lock is released, then the error propagates. stacker skips every
later hook (release_lock too) once a required hook raises.

Hooks return a dict with a "status"; they raise on failure and never return False.
"""
import functools
import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from hooks import aws, errors, naming
from hooks.config import hookargs, settings
from hooks.engine import stacker_compat
from hooks.lock import deploy_lock

logger = logging.getLogger(__name__)


@dataclass
class HookRun:
    """What one hook call works with: the checked settings and this run's clients."""

    hook: str
    settings: dict
    client: aws.Clients
    context: object = None  # the engine's context, for what only it knows (stacker_compat.env_file_of)

    @property
    def namespace(self):
        return self.settings["namespace"]

    @property
    def shared_namespace(self):
        return self.settings["shared_namespace"]

    @property
    def timestamp(self):
        return self.settings["db_timestamp"]

    @property
    def cluster(self):
        return naming.cluster_name(self.shared_namespace)

    @property
    def holder(self):
        """This process's deploy-lock holder id."""
        return deploy_lock.current_holder()


def stacker_hook(holds_lock=False, **declared):
    """Decorate `function(run, **arguments)` into a stacker hook `hook(context, provider, **args)`."""

    def decorate(function):
        name = function.__name__

        @functools.wraps(function)
        def hook(context, provider=None, **given):
            try:
                arguments = hookargs.check(name, given, declared)
                run = _hook_run(name, context, provider)
                return function(run, **arguments)
            except Exception:  # any failure, a bad argument too: give the lock back, then let it propagate
                if holds_lock:
                    _release_after_failure(name, context, provider)
                raise

        hook.declared_arguments = dict(declared)
        return hook

    return decorate


def _hook_run(name, context, provider):
    environment = stacker_compat.environment_of(context)
    return HookRun(name, settings.load_settings(environment), aws.Clients(getattr(provider, "region", None)), context)


def _release_after_failure(name, context, provider):
    """Best effort: release this process's lock; what goes wrong is logged, the hook's own error wins."""
    try:
        run = _hook_run(name, context, provider)
        result = deploy_lock.release(run.client("ssm"), run.namespace, run.holder)
    except (ClientError, BotoCoreError, errors.TenantstackError, ValueError) as error:
        logger.error("%s failed, and releasing the deploy lock failed too: %s", name, error)
        return
    if result["status"] == "released":
        logger.warning("%s failed; released the deploy lock of %s so the next deploy can start", name, run.namespace)
