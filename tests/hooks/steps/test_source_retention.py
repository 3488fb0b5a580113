"""hooks/steps/source_retention.py: a dev namespace's snapshots go only when no environment needs them."""
import datetime

import pytest

from hooks import naming
from hooks.steps import source_retention
from hooks.steps.retention import DELETE, KEEP, FinalSnapshot as Snapshot

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DEV, QA, PROD = "xy-0146-dev", "xy-0146-qa", "xy-0146-prod"


def ago(days):
    return naming.format_timestamp(NOW - datetime.timedelta(days=days))


def verdicts(ages, keep=2, days=14, referenced=None):
    snapshots = [Snapshot(naming.snapshot_id(DEV, ago(age)), ago(age), ago(age)) for age in ages]
    return [(v.snapshot.timestamp, v.action, v.reason) for v in source_retention.plan_source_retention(
        snapshots, keep, days, NOW, referenced or {})]


OLD = "older than 14 days, not one of the newest 2, and no environment runs, retains or names it"


@pytest.mark.parametrize("ages, referenced, expected", [
    pytest.param([1, 2, 3], {}, [(ago(1), KEEP, "one of the newest 2"), (ago(2), KEEP, "one of the newest 2"),
                                 (ago(3), KEEP, "younger than 14 days")], id="young"),
    pytest.param([100, 20, 50, 10], {}, [
        (ago(10), KEEP, "one of the newest 2"), (ago(20), KEEP, "one of the newest 2"),
        (ago(50), DELETE, OLD), (ago(100), DELETE, OLD)], id="old-beyond-the-newest"),
    pytest.param([100, 20, 50, 10], {ago(100): "xy-0146-prod.env names it"}, [
        (ago(10), KEEP, "one of the newest 2"), (ago(20), KEEP, "one of the newest 2"),
        (ago(50), DELETE, OLD), (ago(100), KEEP, "xy-0146-prod.env names it")], id="referenced-whatever-its-age"),
])
def test_plan(ages, referenced, expected):
    assert verdicts(ages, referenced=referenced) == expected


def test_not_available_is_kept():
    snapshot = Snapshot(naming.snapshot_id(DEV, ago(90)), ago(90), ago(90), status="creating")
    [verdict] = source_retention.plan_source_retention([snapshot], 0, 14, NOW, {})
    assert (verdict.action, verdict.reason) == (KEEP, "it is creating, not available")
