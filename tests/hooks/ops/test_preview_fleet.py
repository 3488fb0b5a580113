"""hooks/ops/preview_fleet.py: many previews at once, within one rate budget, and their exit code."""
import threading

import pytest

from hooks import errors
from hooks.aws import api_rate
from hooks.ops import change_sets, preview_fleet
from hooks.ops.preview import ResourceChange, StackPreview, TenantPreview
from hooks.run import deploy
from tests.conftest import REPO_ROOT

ENV = REPO_ROOT / "environments"
FLAGGED = StackPreview("base", "b", "CREATE_COMPLETE", (ResourceChange("G", "AWS::EC2::SecurityGroup", "modify",
                                                                       "True"),))


class Recorder:
    def __init__(self):
        self.lines = []

    def started(self, item):
        self.lines.append(("start", item.namespace))

    def finished(self, item, result):
        self.lines.append((result.result, item.namespace))

    def note(self, text):
        self.lines.append(("note", text))


def prepared(*namespaces):
    return [deploy.prepare(str(ENV / ("%s.env" % namespace))) for namespace in namespaces]


@pytest.mark.parametrize("preview, fail_on_replace, code", [
    (TenantPreview("n", "e"), False, 0),
    (TenantPreview("n", "e", stacks=(FLAGGED,)), False, 0),
    (TenantPreview("n", "e", stacks=(FLAGGED,)), True, 5),
    (TenantPreview("n", "e", error="bad", exit_code=2), True, 2),
])
def test_a_tenants_exit_code(preview, fail_on_replace, code):
    assert preview_fleet.tenant_exit_code(preview, fail_on_replace) == code


@pytest.mark.parametrize("codes, interrupted, code", [
    ([0, 0], False, 0),
    ([0, 5, 2], False, 2),
    ([5, 1, 2], False, 1),
    ([5, 0], False, 5),
    ([0, 130], False, 130),
    ([0], True, 130),
])
def test_a_fleets_exit_code_is_the_worst_by_precedence(codes, interrupted, code):
    assert preview_fleet.fleet_exit_code(codes, interrupted) == code


def test_every_tenant_is_previewed_within_the_fleets_one_rate_budget_and_the_change_sets_are_cleared():
    rates, threads, registry = [], set(), change_sets.ChangeSets()
    left_over = object()

    def preview(item, clients, registry_, cancel=None):
        rates.append(api_rate.current_rate())
        threads.add(threading.current_thread().name)
        registry_.add(left_over, "%s-service" % item.namespace, "left")  # as if a thread died mid-way
        return TenantPreview(item.namespace, item.env_file)

    deleted = []
    registry.delete_all = lambda wait=None: deleted.extend(registry.open()) or []
    recorder = Recorder()
    summary = preview_fleet.preview_fleet(prepared("xy-0146-qa", "xy-0146-prod", "ab-0212-qa"), 2, recorder,
                                          max_api_rate=12.0, preview=preview, registry=registry,
                                          clients=lambda: None)
    assert [p.namespace for p in summary.previews] == ["xy-0146-qa", "xy-0146-prod", "ab-0212-qa"]
    assert rates == [12.0, 12.0, 12.0] and api_rate.current_rate() is None
    assert len(threads) <= 2 and all(name.startswith("diff") for name in threads)
    assert summary.counts() == {"unchanged": 3, "changes": 0, "replacements": 0, "new": 0, "error": 0, "skipped": 0}
    assert sorted(deleted) == [("ab-0212-qa-service", "left"), ("xy-0146-prod-service", "left"),
                               ("xy-0146-qa-service", "left")]
    assert sorted(recorder.lines) == sorted([("start", ns) for ns in ("xy-0146-qa", "xy-0146-prod", "ab-0212-qa")] +
                                            [("unchanged", ns) for ns in ("xy-0146-qa", "xy-0146-prod", "ab-0212-qa")])


def test_a_cancelled_fleet_skips_the_tenants_not_started():
    cancel = threading.Event()

    def preview(item, clients, registry, cancel=None):
        cancel.set()  # Ctrl-C arrives during the first tenant
        return TenantPreview(item.namespace, item.env_file, error="interrupted before stack x",
                             exit_code=errors.INTERRUPTED)

    summary = preview_fleet.preview_fleet(prepared("xy-0146-qa", "xy-0146-prod"), 1, Recorder(), cancel=cancel,
                                          preview=preview, clients=lambda: None)
    assert [p and p.namespace for p in summary.previews] == ["xy-0146-qa", None]
    assert summary.counts()["skipped"] == 1
    assert preview_fleet.fleet_exit_code([errors.INTERRUPTED], summary.interrupted) == 130
