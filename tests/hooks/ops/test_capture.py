"""hooks/ops/capture.py: waiting for a snapshot, with progress and a bounded budget.

The local endpoint's snapshots are available at once, so the states in between (creating,
failed) come from botocore's Stubber.
"""
import boto3
import pytest
from botocore.stub import Stubber

from hooks.ops import capture
from hooks.steps import retire
from tests.fake_clock import Clock

SNAPSHOT = "xy-0146-dev-20261115t120000z"




def stubbed_rds(*statuses):
    rds = boto3.client("rds", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(rds)
    for status in statuses:
        stubber.add_response(
            "describe_db_snapshots",
            {"DBSnapshots": [{"DBSnapshotIdentifier": SNAPSHOT, "Status": status}]},
            {"DBSnapshotIdentifier": SNAPSHOT},
        )
    stubber.activate()
    return rds, stubber


def wait(rds, budget, progress=lambda line: None):
    clock = Clock()
    capture.wait_until_available(rds, SNAPSHOT, retire.Wait(30, budget), progress, clock=clock, sleep=clock.sleep)


def test_progress_on_each_change_and_every_minute():
    rds, stubber = stubbed_rds("creating", "creating", "creating", "creating", "available")
    lines = []
    wait(rds, 600, lines.append)
    assert lines == [
        "snapshot %s: creating, 0%% done (0 s of 600 s)" % SNAPSHOT,
        "snapshot %s: creating, 0%% done (60 s of 600 s)" % SNAPSHOT,
        "snapshot %s is available after 120 s" % SNAPSHOT,
    ]
    stubber.assert_no_pending_responses()


def test_a_snapshot_still_creating_after_the_budget_is_not_ready():
    rds, _ = stubbed_rds("creating", "creating", "creating")
    with pytest.raises(capture.SnapshotNotReady) as raised:
        wait(rds, 60)
    assert str(raised.value) == (
        "snapshot %s is not available after 60 s; it keeps being taken: follow it with `aws rds "
        "describe-db-snapshots --db-snapshot-identifier %s`" % (SNAPSHOT, SNAPSHOT)
    )
    assert raised.value.exit_code == 1


def test_a_failed_snapshot_says_so_at_once():
    rds, _ = stubbed_rds("creating", "failed")
    with pytest.raises(capture.SnapshotNotReady, match="^snapshot %s is failed, not available; look at its "
                       "events in the RDS console and take it again$" % SNAPSHOT):
        wait(rds, 600)
