"""A tenant's CloudWatch alarms as they stand: read by name prefix (status), by name (the bake) or by state (--alarms).

Every alarm of a tenant is named `<namespace>-...` (hooks.naming.alarm_name_prefix: its service's and its
databases'), so one tenant's alarms are one DescribeAlarms with AlarmNamePrefix, and every tenant in ALARM
is one DescribeAlarms with StateValue=ALARM for the whole account, whatever the number of tenants.

Layers: `alarm_state`, `firing`, `by_namespace` (pure); `namespace_alarms`, `named_alarms`,
`alarms_in_alarm` (AWS, take a CloudWatch client).
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from hooks import naming

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
DESCRIBE_PAGE = 100  # DescribeAlarms returns at most 100 alarms a page


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM or INSUFFICIENT_DATA
    reason: str
    since: Optional[datetime]  # when it entered that state (UTC)

    @property
    def since_text(self):
        """ISO 8601 UTC, the contracts' form (2026-11-15T12:00:00Z); None when unknown."""
        if self.since is None:
            return None
        return self.since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- pure --------------------------------------------------------------------------------


def alarm_state(described):
    """An AlarmState from one MetricAlarms entry of DescribeAlarms."""
    since = described.get("StateUpdatedTimestamp")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return AlarmState(described["AlarmName"], described.get("StateValue", INSUFFICIENT_DATA),
                      described.get("StateReason") or "", since)


def firing(alarms):
    """The alarms in ALARM, by name."""
    return sorted((alarm for alarm in alarms if alarm.state == ALARM), key=lambda alarm: alarm.name)


def by_namespace(alarms, namespaces):
    """{namespace: [AlarmState]} of the alarms named by one of `namespaces` (naming.alarm_namespace); others dropped."""
    grouped = {}
    for alarm in sorted(alarms, key=lambda alarm: alarm.name):
        owner = naming.alarm_namespace(alarm.name, namespaces)
        if owner is not None:
            grouped.setdefault(owner, []).append(alarm)
    return grouped


# --- AWS ---------------------------------------------------------------------------------


def _describe(cloudwatch, **query):
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": DESCRIBE_PAGE}, **query)
    return [alarm_state(alarm) for page in pages for alarm in page.get("MetricAlarms", [])]


def namespace_alarms(cloudwatch, namespace):
    """Every alarm of the namespace, by name: one DescribeAlarms (a page per 100 alarms)."""
    return sorted(_describe(cloudwatch, AlarmNamePrefix=naming.alarm_name_prefix(namespace)),
                  key=lambda alarm: alarm.name)


def named_alarms(cloudwatch, names):
    """The alarms of these names that exist, by name (DescribeAlarms takes up to 100 names)."""
    return sorted(_describe(cloudwatch, AlarmNames=list(names)), key=lambda alarm: alarm.name)


def alarms_in_alarm(cloudwatch, namespaces):
    """{namespace: [AlarmState in ALARM]} for every namespace among `namespaces` with one: one DescribeAlarms."""
    return by_namespace(_describe(cloudwatch, StateValue=ALARM), namespaces)
