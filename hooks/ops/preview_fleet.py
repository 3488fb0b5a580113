"""Preview many tenants' deploys: `tenantstack diff --fleet`, N at a time, within an API rate budget.

    summary = preview_fleet(fleet.check_fleet(env_files), parallel=4, progress=..., max_api_rate=40.0)

- Every env file is checked first, by the deploy's own fleet check (hooks/run/fleet.py
  check_fleet: the same problems, the same messages, exit 2, nothing started).
- Each tenant is one hooks/ops/preview_run.preview_tenant in a thread of this process, at most
  `parallel` at once, each with its own clients (hooks/aws/clients.py: one session per thread).
- The API rate budget (hooks/aws/api_rate.py): all threads share this process's one token
  bucket, so the whole fleet sends at most `max_api_rate` requests a second, retries
  included (docs/deploy.md, "API rate budget"; `deploy --fleet` splits the same budget over
  its stacker processes).
- Ctrl-C: no new tenant starts, running ones stop before their next stack; every change set
  made is deleted (each preview deletes its own in `finally`; whatever is left, the fleet
  deletes last, with Ctrl-C deferred). Tenants not started are skipped; the exit code is 130.

Layers: `fleet_exit_code`, `counts` (pure); `preview_fleet` (threads, AWS).
"""
import dataclasses
import datetime
import threading
import time
from collections import Counter
from typing import Optional

from hooks import aws, errors
from hooks.aws import api_rate
from hooks.ops import change_sets, preview_run
from hooks.ops.preview import RESULTS
from hooks.run import fleet

SKIPPED = "skipped"
COUNTED = RESULTS + (SKIPPED,)
# Worst first: a fleet exits with the first of these any tenant has (after 130, interrupted).
EXIT_PRECEDENCE = (errors.UNEXPECTED, errors.BAD_INPUT, errors.PREVIEW_REPLACEMENTS)


@dataclasses.dataclass(frozen=True)
class FleetPreview:
    prepared: tuple  # hooks.run.deploy.Prepared, in the order given
    previews: tuple  # a TenantPreview each, None where skipped
    parallel: int
    max_api_rate: Optional[float]
    started_at: datetime.datetime
    seconds: float
    interrupted: bool

    def counts(self):
        counted = Counter(preview.result if preview else SKIPPED for preview in self.previews)
        return {result: counted.get(result, 0) for result in COUNTED}


def tenant_exit_code(preview, fail_on_replace=False):
    """A tenant's exit code: its preview's own (1, 2, 130), else 5 when --fail-on-replace meets a flagged
    change no allowance names, else 0."""
    if preview.exit_code:
        return preview.exit_code
    return errors.PREVIEW_REPLACEMENTS if fail_on_replace and preview.refused else errors.OK


def fleet_exit_code(codes, interrupted=False):
    """130 if interrupted, else the worst tenant code by EXIT_PRECEDENCE, else 0."""
    if interrupted or errors.INTERRUPTED in codes:
        return errors.INTERRUPTED
    return next((code for code in EXIT_PRECEDENCE if code in codes), errors.OK)


def preview_fleet(prepared, parallel, progress, max_api_rate=None, cancel=None, preview=None, registry=None,
                  clients=aws.Clients):
    """Preview every Prepared, `parallel` at a time; a FleetPreview (never raises for a tenant).

    progress: .started(item), .finished(item, preview), .note(text); preview: preview_run.preview_tenant
    (tests pass another); clients: makes one tenant's clients (in its thread)."""
    parallel = fleet.check_parallel(parallel)
    preview = preview or preview_run.preview_tenant
    registry = registry or change_sets.ChangeSets()
    cancel = cancel or threading.Event()
    started_at, started = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    results, guard = {}, threading.Lock()

    def one(item):
        if cancel.is_set():
            return
        progress.started(item)
        result = preview(item, clients(), registry, cancel=cancel)
        with guard:
            results[item.namespace] = result
        progress.finished(item, result)

    def interrupt():
        cancel.set()
        progress.note("stopping: no new preview starts; running ones stop before their next stack "
                      "and delete their change sets")

    try:
        with api_rate.limited(max_api_rate):
            interrupted = fleet.run_threads(prepared, one, parallel, "diff", interrupt)
    finally:
        with change_sets.deferred_signals():
            registry.delete_all()
    return FleetPreview(tuple(prepared), tuple(results.get(item.namespace) for item in prepared), parallel,
                        max_api_rate or None, started_at, time.monotonic() - started, interrupted)
