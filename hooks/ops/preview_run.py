"""Preview one tenant's deploy against the live account: `tenantstack diff ENV_FILE`.

    preview = preview_tenant(deploy.prepare(env_file, overrides), aws.Clients(), ChangeSets())

1. The config is loaded by the engine (hooks/engine/deployment.py) with the env file and the
   `-e` overrides, as `tenantstack deploy` runs it.
2. Per stack, in the config's order (base, db-<ts>, service): the live stack is described
   (DescribeStacks, once per name: its outputs feed the later stacks' lookups); the
   parameter values are resolved against the live outputs (hooks/ops/preview_values.py), the
   template rendered exactly as the engine would, and
   - a stack that does not exist: reported new, every resource of its template to add, with
     NO change set (a CREATE change set would create the stack in REVIEW_IN_PROGRESS);
   - a stack that exists: an UPDATE change set with the same template, Parameters, Tags and
     Capabilities the engine's build passes, described, then deleted (hooks/ops/change_sets.py);
     its drift status as DescribeStacks reports it (no detection is run).
3. The promotion steps (hooks/ops/preview_steps.py): the deploy's read-only checks, the restore,
   the flip, the retirement.

`db_timestamp: latest` is resolved first, by the deploy's own rule (hooks/run/latest.py): the
preview shows the timestamp a deploy started now would deploy.

Nothing else is written: no lock, no pointer, no snapshot, no stack. An error ends the
tenant's preview (BadInput: exit 2, the deploy would refuse; anything else: exit 1), and
every change set it made is deleted on the way out (also on Ctrl-C).
"""
import datetime
import logging
import time

from hooks import errors
from hooks.aws import resources
from hooks.engine.deployment import CAPABILITIES, Deployment
from hooks.ops import change_sets, preview_steps, preview_values
from hooks.ops.preview import RECREATED, StackPreview, TenantPreview, additions, resource_change
from hooks.run import latest
from hooks.run.deploy import one_line
from hooks.run.stacker_child import qualified_name

logger = logging.getLogger(__name__)


class LiveStacks:
    """DescribeStacks of each name once: None for a stack that does not exist."""

    def __init__(self, cfn):
        self.cfn, self._described = cfn, {}

    def __call__(self, stack_name):
        if stack_name not in self._described:
            self._described[stack_name] = resources.describe_stack(self.cfn, stack_name)
        return self._described[stack_name]

    def outputs(self, stack_name):
        stack = self(stack_name)
        return None if stack is None else resources.stack_outputs(stack)


def drift_status(stack):
    """DescribeStacks' DriftInformation.StackDriftStatus of a described stack (None: not reported)."""
    return ((stack or {}).get("DriftInformation") or {}).get("StackDriftStatus")


def preview_stack(cfn, deployment, definition, live, registry, wait=None):
    """The StackPreview of one StackDefinition (module docstring, step 2)."""
    described = live(definition.stack_name)
    previous = preview_values.live_parameters(described)
    values, unknowns = preview_values.resolve(definition, lambda name: deployment.stack(name).stack_name,
                                              live.outputs, deployment.settings, previous)
    template = deployment.template(definition, values)
    status = described["StackStatus"] if described else None
    if status is None or status in RECREATED:
        note = None if status is None else "the stack is %s: a deploy creates it afresh" % status
        return StackPreview(definition.name, definition.stack_name, status, additions(template.resources),
                            drift_status(described), unknowns, note)
    if status.endswith("_IN_PROGRESS"):
        return StackPreview(definition.name, definition.stack_name, status, (), drift_status(described), unknowns,
                            "the stack is %s: no change set can be made until it settles" % status)
    parameters = preview_values.build_parameters(template.parameters, definition.definitions, described)
    raw, note = change_sets.preview_update(cfn, definition.stack_name, template.body, parameters, definition.tags,
                                           CAPABILITIES, registry, wait)
    return StackPreview(definition.name, definition.stack_name, status, tuple(resource_change(c) for c in raw),
                        drift_status(described), unknowns, note)


def preview_tenant(prepared, clients, registry, now=None, wait=None, cancel=None):
    """The TenantPreview of one checked deploy request (hooks.run.deploy.Prepared); never raises for an
    expected failure (it is the preview's `error`), KeyboardInterrupt aside.

    clients: service name -> client; registry: change_sets.ChangeSets; cancel: a threading.Event
    checked before each stack (a cancelled preview reports exit 130)."""
    started = time.monotonic()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    base = dict(namespace=prepared.namespace, env_file=prepared.env_file, db_timestamp=prepared.db_timestamp)
    try:
        prepared = latest.resolve(prepared, lambda: clients("rds"))  # db_timestamp latest: as a deploy resolves it
        base["db_timestamp"] = prepared.db_timestamp
        if latest.note(prepared):
            logger.info("%s", latest.note(prepared))
        deployment = Deployment(prepared.env_file, prepared.project_root, prepared.overrides)
        steps = preview_steps.plan_steps(clients, deployment.settings, now)
        cfn, stacks = clients("cloudformation"), []
        live = LiveStacks(cfn)
        for definition in deployment.stacks:
            if cancel is not None and cancel.is_set():
                return TenantPreview(error="interrupted before stack %s" % definition.stack_name,
                                     exit_code=errors.INTERRUPTED, seconds=time.monotonic() - started, **base)
            stacks.append(preview_stack(cfn, deployment, definition, live, registry, wait))
    except errors.TenantstackError as error:
        code = errors.BAD_INPUT if isinstance(error, errors.BadInput) else errors.exit_code_of(error)
        return TenantPreview(error=one_line(error), error_class=qualified_name(type(error)), exit_code=code,
                             seconds=time.monotonic() - started, **base)
    except Exception as error:  # noqa: BLE001  (an AWS error, a bug: this tenant's preview failed, not the fleet)
        logger.debug("preview of %s failed", prepared.namespace, exc_info=True)
        return TenantPreview(error="%s: %s" % (type(error).__name__, one_line(error)),
                             error_class=qualified_name(type(error)), exit_code=errors.UNEXPECTED,
                             seconds=time.monotonic() - started, **base)
    return TenantPreview(stacks=tuple(stacks), steps=tuple(steps), seconds=time.monotonic() - started, **base)
