"""hooks/ops/preview_steps.py: the restore, flip and retirement a deploy would take, from the hooks' planning."""
import datetime

import pytest

from hooks.ops import preview_steps
from hooks.steps import tier_copy
from hooks.tenant.inventory import PointerChange

NS = "xy-0146-qa"
T1, T2, T3, T4 = "20261101t090000z", "20261115t120000z", "20261120t080000z", "20261201t000000z"
NOW = datetime.datetime(2026, 12, 4, 10, 15, 0, tzinfo=datetime.timezone.utc)
AT = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)


def history(*values):
    return [PointerChange(version, value, None, AT, None) for version, value in enumerate(values, 1)]


@pytest.mark.parametrize("plan, text, changes", [
    (tier_copy.CopyPlan(tier_copy.SKIP, "xy-0146-qa-%s" % T2, "database xy-0146-qa-db-%s exists" % T2),
     "database xy-0146-qa-db-%s exists: nothing is restored" % T2, False),
    (tier_copy.CopyPlan(tier_copy.COPY, "xy-0146-qa-%s" % T2, "copying xy-0146-dev-%s" % T2),
     "new database xy-0146-qa-db-%s restored from xy-0146-qa-%s (copy: copying xy-0146-dev-%s)" % (T2, T2, T2), True),
    (tier_copy.CopyPlan(tier_copy.REUSE, "xy-0146-qa-%s" % T2, "the copy is available"),
     "new database xy-0146-qa-db-%s restored from xy-0146-qa-%s (reuse copy: the copy is available)" % (T2, T2), True),
])
def test_the_restore_step_follows_the_copy_plan(plan, text, changes):
    step = preview_steps.restore_step(NS, T2, plan)
    assert (step.step, step.text, step.changes, step.data["action"]) == ("restore", text, changes, plan.action)


@pytest.mark.parametrize("active, text, changes", [
    (T1, "pointer /xy-0146-qa/db/active: %s -> %s" % (T1, T2), True),
    (None, "pointer /xy-0146-qa/db/active: nothing (first deploy) -> %s" % T2, True),
    (T2, "pointer /xy-0146-qa/db/active stays at %s" % T2, False),
])
def test_the_flip_step(active, text, changes):
    step = preview_steps.flip_step(NS, active, T2)
    assert (step.text, step.changes, step.data) == (text, changes, {"parameter": "/xy-0146-qa/db/active",
                                                                    "from": active, "to": T2})


@pytest.mark.parametrize("databases, pointer, retain, expected", [
    pytest.param([T1], [T1], 0, [("retire", T1, "previously active, beyond retain_previous=0")], id="promotion"),
    pytest.param([T1], [T1], 1, [("keep", T1, "retained: previous #1")], id="retained"),
    pytest.param([T1, T2], [T1, T2], 0, [("retire", T1, "previously active, beyond retain_previous=0")],
                 id="a-redeploy-retires-what-the-last-one-did-not"),
    pytest.param([T1, T3], [T1], 1, [("keep", T1, "retained: previous #1"),
                                     ("retire", T3, "never active: leftover of a failed run")], id="a-leftover"),
    pytest.param([], [], 0, [], id="first-deploy"),
])
def test_the_retirement_after_the_flip_is_planned_as_the_hook_plans_it(databases, pointer, retain, expected):
    steps = preview_steps.retirement_steps(NS, databases, history(*pointer), T2, retain, NOW)
    assert [(step.step, step.data["timestamp"], step.data["reason"]) for step in steps] == expected
    for step in steps:
        assert step.changes is (step.step == "retire")
        if step.step == "retire":
            assert step.data["final_snapshot"] == "xy-0146-qa-db-%s-final-20261204t101500z" % step.data["timestamp"]


def test_the_planned_database_is_never_retired_even_when_the_pointer_left_it_before():
    steps = preview_steps.retirement_steps(NS, [T1, T2, T4], history(T2, T4, T1), T2, 0, NOW)
    assert [(step.step, step.data["timestamp"]) for step in steps] == [("retire", T1), ("retire", T4)]
