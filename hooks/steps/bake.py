"""The stable gate's bake time: the new tasks serve for `bake_seconds` without the tenant's 5xx or
unhealthy-host alarm firing, or the deploy fails before the pointer flips.

After ECS says the service is stable and the targets are healthy (hooks/steps/stable.py), the gate
polls the service's bake alarms (hooks.naming.BAKE_ALARMS: `<namespace>-target-5xx-rate`,
`<namespace>-unhealthy-hosts`) by name through hooks.aws.wait.poll for `bake_seconds` (env key,
default 300 for prod namespaces and 0, no bake, elsewhere). The rule (`judge`):

- an alarm that enters ALARM during the bake fails it at once: the new tasks set it off;
- an alarm already in ALARM when the bake began (the old tasks' trouble) fails it only if it is still in
  ALARM when the bake ends: a fix gets the bake time to clear it;
- a bake alarm that does not exist fails it: the service stack creates both, so the template or the
  stack is not what the gate expects.

The failure is ServiceNotStable (exit 4) naming the alarm and its reason; the gate then points the
service back at what it ran before, as for any failed gate. Layers: `judge` (pure), `bake` (AWS).
"""
import logging
import time
from datetime import datetime, timezone

from hooks import naming
from hooks.aws.wait import Look, Wait, poll, seconds
from hooks.errors import ServiceNotStable, WaitTimedOut
from hooks.steps.stable_rules import FAILED, STABLE, WAITING, Assessment
from hooks.tenant import alarms as tenant_alarms

logger = logging.getLogger(__name__)

# Looking more often than once a second tells nothing new: CloudWatch evaluates alarms once a minute.
MIN_POLL_SECONDS = 1


def bake_alarm_names(namespace):
    return [naming.alarm_name(namespace, what) for what in naming.BAKE_ALARMS]


def judge(seen, expected_names, started_at, final):
    """The bake's Assessment after one look: `seen` the AlarmStates read, `started_at` when the bake began
    (aware datetime), `final` whether the bake time is over (an alarm from before the bake then counts too)."""
    missing = sorted(set(expected_names) - {alarm.name for alarm in seen})
    if missing:
        return Assessment(FAILED, "alarm %s does not exist; the service stack creates it (blueprints/alarms.py)"
                          % ", ".join(missing))
    fired = [alarm for alarm in tenant_alarms.firing(seen)
             if final or alarm.since is None or alarm.since >= started_at]
    if fired:
        first = fired[0]
        when = "since %s" % first.since_text if first.since_text else "state time unknown"
        return Assessment(FAILED, "alarm %s is in ALARM (%s): %s" % (first.name, when, first.reason or "no reason given"))
    states = ", ".join("%s %s" % (alarm.name, alarm.state) for alarm in seen)
    return Assessment(STABLE if final else WAITING, states)


def bake(cloudwatch, namespace, bake_seconds, poll_seconds, clock=time.monotonic, sleep=time.sleep, progress=None,
         now=lambda: datetime.now(timezone.utc)):
    """Watch the bake alarms for `bake_seconds`; {"status": "baked", ...} or ServiceNotStable naming the alarm."""
    progress = progress or (lambda line: logger.info("%s", line))
    names = bake_alarm_names(namespace)
    # Alarm state times have whole seconds: a state set within the second the bake began counts as during it.
    started_at = now().replace(microsecond=0)

    def look(final=False):
        seen = judge(tenant_alarms.named_alarms(cloudwatch, names), names, started_at, final)
        if seen.state == FAILED:
            raise _bake_failed(namespace, bake_seconds, seen.reason)
        return Look(False, "%s: baking: %s" % (namespace, seen.reason), seen)

    wait = Wait(poll_seconds=max(poll_seconds, MIN_POLL_SECONDS), budget_seconds=bake_seconds)
    try:
        poll(look, "bake of %s" % namespace, wait, progress, clock, sleep)
    except WaitTimedOut:
        look(final=True)
    progress("%s: baked %s s, no alarm fired: %s" % (namespace, seconds(bake_seconds), ", ".join(names)))
    return {"status": "baked", "bake_seconds": bake_seconds, "alarms": names}


def _bake_failed(namespace, bake_seconds, reason):
    message = (
        "the rollout of %s failed its bake of %s s: %s. The SSM pointer was not flipped, so the old database still "
        "serves. Look at `tenantstack status %s`, the ALB access logs and the log group %s (docs/operations.md, "
        "\"An alarm fired\"), fix the cause, then run the deploy again."
        % (namespace, seconds(bake_seconds), reason, namespace, naming.log_group_name(namespace))
    )
    return ServiceNotStable(message, Assessment(FAILED, reason), timed_out=False)
