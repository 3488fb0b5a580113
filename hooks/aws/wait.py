"""The one poller: look until done, tell progress, give up after a budget.

    snapshot = poll(look, "snapshot xy-0146-qa-20261115t120000z", Wait(poll_seconds=15, budget_seconds=3600))

`look()` returns a Look: `done` (stop and return `value`), and `line`, what the look saw
in a few words. `poll` looks once at once, then every `poll_seconds`, with one last look
at the deadline; `progress(line)` (default: the logger) hears every change of line and,
while nothing changes, a line at least every `progress_every` seconds, each as
"<line> (<waited> s of <budget> s)". A look that sees a
state that will never become done raises its own error; that propagates. When the budget
is used up, `poll` raises WaitTimedOut with the last Look, and the caller turns it into
its own error and message.

Every wait of tenantstack goes through here: the stable gate, the snapshot copy, final
snapshots, deletions and the operator's snapshot. Tests pass a fake `clock` and `sleep`.
"""
import logging
import time
from dataclasses import dataclass
from typing import Any

from hooks.errors import WaitTimedOut

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Wait:
    """How often to look and how long to wait, in seconds."""

    poll_seconds: float = 15
    budget_seconds: float = 30 * 60


@dataclass(frozen=True)
class Look:
    """One look: done or not, the value to return when done, and what was seen."""

    done: bool
    line: str = ""
    value: Any = None


@dataclass(frozen=True)
class Done:
    """What `poll` returns: the value of the last look, and how long it waited."""

    value: Any
    waited_seconds: float


def poll(look, what, wait, progress=None, clock=time.monotonic, sleep=time.sleep,
         progress_every=PROGRESS_EVERY_SECONDS):
    """Call `look()` until its Look is done; Done(value, waited). WaitTimedOut after the budget."""
    progress = progress or (lambda line: logger.info("%s", line))
    started = clock()
    told, told_at = None, None
    while True:
        seen = look()
        waited = clock() - started
        if seen.done:
            return Done(seen.value, waited)
        if seen.line and (seen.line != told or waited - told_at >= progress_every):
            progress("%s (%s s of %s s)" % (seen.line, seconds(waited), seconds(wait.budget_seconds)))
            told, told_at = seen.line, waited
        if waited >= wait.budget_seconds:
            raise WaitTimedOut(what, wait.budget_seconds, seen)
        sleep(max(0, min(wait.poll_seconds, wait.budget_seconds - waited)))


def seconds(value):
    """A duration for people: 12.3, 1800."""
    return "%g" % round(value, 1)
