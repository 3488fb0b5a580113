"""hooks/steps/snapshot_quota.py: a promotion warns before its snapshots would reach the account's quota.

The local endpoint does not implement RDS DescribeAccountAttributes (docs/architecture.md, the
endpoint's gaps), so the quota's answers come from botocore's Stubber; that an unanswerable
call is skipped is tested against the endpoint itself."""
import logging

import boto3
import pytest
from botocore.stub import Stubber

from hooks.steps import snapshot_quota

QA = "xy-0146-qa"


@pytest.mark.parametrize("used, maximum, needed, expected", [
    (10, 100, 2, None),
    (88, 100, 2, None),  # 90 of 100 after the promotion: not beyond 90%
    (89, 100, 2, "89 of 100 used in this account and Region; 89% of it is in use"),
    (98, 100, 2, "98 of 100 used in this account and Region; 98% of it is in use"),
    (99, 100, 2, "99 of 100 used in this account and Region; this promotion would reach it: up to 2 more"),
    (100, 100, 1, "100 of 100 used in this account and Region; this promotion would reach it: up to 1 more"),
    (5, 0, 2, None),  # a quota RDS reports as 0: nothing to judge
])
def test_judge(used, maximum, needed, expected):
    warning = snapshot_quota.judge(used, maximum, needed, QA)
    if expected is None:
        assert warning is None
    else:
        assert expected in warning
        assert "tenantstack reap <namespace>" in warning and "start with %s" % QA in warning
        assert "L-9B510759" in warning  # and how to raise it


def stubbed(quotas):
    rds = boto3.client("rds", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(rds)
    stubber.add_response("describe_account_attributes", {"AccountQuotas": quotas})
    stubber.activate()
    return rds


def test_a_quota_set_low_warns_before_the_promotion_and_says_what_to_prune(caplog):
    rds = stubbed([{"AccountQuotaName": "DBInstances", "Used": 3, "Max": 40},
                   {"AccountQuotaName": "ManualSnapshots", "Used": 4, "Max": 5}])
    with caplog.at_level(logging.WARNING, logger="hooks.steps.snapshot_quota"):
        warning = snapshot_quota.check(rds, QA)
    assert warning.startswith("manual DB snapshot quota: 4 of 5 used in this account and Region; this promotion "
                              "would reach it: up to 2 more are needed")
    assert caplog.messages == [warning]


def test_room_in_the_quota_says_nothing(caplog):
    with caplog.at_level(logging.INFO, logger="hooks.steps.snapshot_quota"):
        assert snapshot_quota.check(stubbed([{"AccountQuotaName": "ManualSnapshots", "Used": 4, "Max": 100}]),
                                    QA) is None
    assert caplog.messages == []


def test_a_quota_the_endpoint_cannot_answer_is_skipped_not_fatal(aws, caplog):
    with caplog.at_level(logging.INFO, logger="hooks.steps.snapshot_quota"):
        assert snapshot_quota.check(aws.client("rds"), QA) is None
    assert any(message.startswith("could not read the manual DB snapshot quota") for message in caplog.messages)
