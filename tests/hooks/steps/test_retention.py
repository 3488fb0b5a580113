"""hooks/steps/retention.py: which final snapshots go, and that nothing referenced or foreign ever does."""
import datetime
import random

import boto3
import pytest
from botocore.stub import Stubber

from hooks import naming
from hooks.aws import file_copy
from hooks.steps import retention
from tests.hooks.tenant.test_inventory import aws_tags, create_instance

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
QA, PROD, DEV = "xy-0146-qa", "xy-0146-prod", "xy-0146-dev"
T_A, T_B = "20250101t000000z", "20250202t000000z"


def taken(days_ago, hour=0):
    return naming.format_timestamp(NOW - datetime.timedelta(days=days_ago, hours=hour))


def final(days_ago, timestamp="20260101t000000z", status="available", namespace=QA, hour=0):
    taken_at = taken(days_ago, hour)
    return retention.FinalSnapshot(naming.final_snapshot_id(namespace, timestamp, taken_at), timestamp, taken_at,
                                   status)


def verdicts(finals, keep=3, days=30, copied_from=frozenset()):
    return [(v.snapshot.snapshot_id, v.action, v.reason)
            for v in retention.plan_retention(finals, keep, days, NOW, copied_from)]


# --- the rule ----------------------------------------------------------------------------------


def test_the_newest_are_kept_then_the_young_then_the_rest_goes():
    finals = [final(days, "2026%02d01t000000z" % (index + 1)) for index, days in enumerate((400, 200, 90, 60, 20, 10))]
    ids = [f.snapshot_id for f in finals]
    assert verdicts(finals) == [
        (ids[5], "keep", "one of the newest 3"),
        (ids[4], "keep", "one of the newest 3"),
        (ids[3], "keep", "one of the newest 3"),
        (ids[2], "delete", "older than 30 days and not one of the newest 3"),
        (ids[1], "delete", "older than 30 days and not one of the newest 3"),
        (ids[0], "delete", "older than 30 days and not one of the newest 3"),
    ]


@pytest.mark.parametrize("snapshot, copied_from, expected", [
    pytest.param(final(29), (), ("keep", "younger than 30 days"), id="young"),
    pytest.param(final(31), (), ("delete", "older than 30 days and not one of the newest 1"), id="old"),
    pytest.param(final(400), ("self",), ("keep", "a restore copy was made from it"), id="copied-from"),
    pytest.param(final(400, status="creating"), (), ("keep", "it is creating, not available"), id="creating"),
    pytest.param(final(400, status="failed"), (), ("keep", "it is failed, not available"), id="failed"),
    pytest.param(final(400, status=None), (), ("delete", "older than 30 days and not one of the newest 1"),
                 id="listed-not-described"),
])
def test_an_old_snapshot_beyond_the_newest_goes_unless_a_rule_keeps_it(snapshot, copied_from, expected):
    newest = final(0, "20261130t000000z")
    referenced = {snapshot.snapshot_id} if copied_from else set()
    assert verdicts([newest, snapshot], keep=1, copied_from=referenced)[1][1:] == expected


def test_zero_days_keeps_only_the_newest():
    finals = [final(days, hour=1) for days in (0, 1, 2)]
    assert [action for _, action, _ in verdicts(finals, keep=1, days=0)] == ["keep", "delete", "delete"]


@pytest.mark.parametrize("seed", range(25))
def test_the_rule_never_deletes_what_any_clause_keeps(seed):
    """Property, over random sets: every deleted one is older than `days`, outside the newest `keep`,
    unreferenced and available; and everything else is kept."""
    generator = random.Random(seed)
    finals = [final(generator.randint(0, 800),
                    "2026%02d%02dt000000z" % (generator.randint(1, 12), generator.randint(1, 28)),
                    status=generator.choice(["available"] * 5 + ["creating", "failed", None]),
                    hour=generator.randint(0, 23))
              for _ in range(generator.randint(0, 40))]
    finals = list({f.snapshot_id: f for f in finals}.values())
    keep, days = generator.randint(1, 10), generator.randint(0, 120)
    copied_from = {f.snapshot_id for f in finals if generator.random() < 0.1}
    plan = retention.plan_retention(finals, keep, days, NOW, copied_from)
    newest = sorted(finals, key=lambda f: (f.taken_at, f.snapshot_id), reverse=True)[:keep]
    cutoff = NOW - datetime.timedelta(days=days)
    for verdict in plan:
        snapshot = verdict.snapshot
        must_keep = (snapshot in newest or naming.timestamp_datetime(snapshot.taken_at) > cutoff
                     or snapshot.snapshot_id in copied_from or snapshot.status not in ("available", None))
        assert verdict.action == ("keep" if must_keep else "delete"), verdict
    assert sorted(v.snapshot.snapshot_id for v in plan) == sorted(f.snapshot_id for f in finals)


# --- against the endpoint ------------------------------------------------------------------------


def seed_finals(rds, namespace, ages, timestamp="20260101t000000z", retired_from=True):
    """Final snapshots of `namespace` taken `ages` days ago, as the retirement makes them (tags)."""
    instance_id = naming.db_instance_id(namespace, timestamp)
    if not rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [instance_id]}])["DBInstances"]:
        create_instance(rds, namespace, timestamp)
    made = []
    for index, days in enumerate(ages):
        snapshot_id = naming.final_snapshot_id(namespace, "2025%02d%02dt000000z" % (index % 12 + 1, index % 28 + 1),
                                               taken(days, hour=index % 24))
        tags = dict(naming.tags(namespace), **({naming.RETIRED_FROM_TAG: instance_id} if retired_from else {}))
        rds.create_db_snapshot(DBSnapshotIdentifier=snapshot_id, DBInstanceIdentifier=instance_id,
                               Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        made.append(snapshot_id)
    return made


def manual_snapshots(rds):
    pages = rds.get_paginator("describe_db_snapshots").paginate(SnapshotType="manual")
    return {s["DBSnapshotIdentifier"] for page in pages for s in page["DBSnapshots"]}


def test_150_final_snapshots_across_tenants_prune_to_exactly_the_documented_set(aws):
    rds, tagging = aws.client("rds"), aws.client("resourcegroupstaggingapi")
    ages = [7 * index for index in range(60)]  # one a week back to 413 days: 5 younger than 30
    qa = seed_finals(rds, QA, ages)
    prod = seed_finals(rds, PROD, ages[:50])
    dev = seed_finals(rds, DEV, ages[:40])
    foreign = seed_finals(rds, QA, [500], timestamp="20250101t000000z", retired_from=False)  # not the pipeline's
    # A rollback copied one old final snapshot as the tenant's own <ns>-<ts>: the copy keeps it.
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=qa[40], TargetDBSnapshotIdentifier=naming.snapshot_id(QA, taken(1)),
                         Tags=aws_tags(QA) + [{"Key": naming.COPIED_FROM_TAG, "Value": qa[40]}])
    before = manual_snapshots(rds)
    assert len(qa + prod + dev) == 150

    dry = retention.prune(rds, tagging, QA, keep=3, days=30, now=NOW, apply=False)
    assert dry["deleted"] == [] and manual_snapshots(rds) == before
    result = retention.prune(rds, tagging, QA, keep=3, days=30, now=NOW)

    kept = set(qa[:5]) | {qa[40]}  # younger than 30 days (the newest 3 among them), and the copied one
    assert sorted(result["deleted"]) == sorted(set(qa) - kept) and result["failed"] == []
    assert manual_snapshots(rds) == before - (set(qa) - kept)
    assert set(prod) | set(dev) | set(foreign) <= manual_snapshots(rds)  # other tenants, and what is not ours
    assert {v.snapshot.snapshot_id: v.reason for v in result["kept"]}[qa[40]] == "a restore copy was made from it"
    assert retention.prune(rds, tagging, QA, keep=3, days=30, now=NOW)["deleted"] == []  # converged


def test_a_snapshot_that_changed_since_the_listing_is_not_deleted(aws):
    rds = aws.client("rds")
    (snapshot_id,) = seed_finals(rds, QA, [400])
    rds.remove_tags_from_resource(ResourceName=rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)
                                  ["DBSnapshots"][0]["DBSnapshotArn"], TagKeys=[naming.RETIRED_FROM_TAG])
    assert retention._delete_if_still_prunable(rds, snapshot_id) is False
    assert snapshot_id in manual_snapshots(rds)
    assert retention._delete_if_still_prunable(rds, "xy-0146-qa-db-20260101t000000z-final-20260102t000000z") is False


def test_a_listing_the_tagging_api_refuses_prunes_nothing_and_says_so():
    """AccessDenied from the tagging API (the endpoint cannot refuse it: Stubber). The retirement that
    called it has already flipped: the failure is reported, not raised."""
    tagging = boto3.client("resourcegroupstaggingapi", region_name="eu-west-1", aws_access_key_id="x",
                           aws_secret_access_key="x")
    with Stubber(tagging) as stubbed:
        stubbed.add_client_error("get_resources", "AccessDeniedException", "not allowed")
        result = retention.prune(None, tagging, QA, keep=3, days=30, now=NOW)
    assert (result["deleted"], result["verdicts"]) == ([], [])
    assert [what for what, _ in result["failed"]] == ["listing"] and "AccessDeniedException" in result["failed"][0][1]


# --- the files of a data set go with its last final snapshot -------------------------------------


def verdict(timestamp, action):
    return retention.Verdict(final(400, timestamp), action, "")


@pytest.mark.parametrize("given, in_use, expected", [
    pytest.param([verdict(T_A, "delete")], set(), {T_A}, id="last-final-goes"),
    pytest.param([verdict(T_A, "delete"), verdict(T_A, "delete")], set(), {T_A}, id="every-final-goes"),
    pytest.param([verdict(T_A, "delete"), verdict(T_A, "keep")], set(), set(), id="one-final-kept"),
    pytest.param([verdict(T_A, "keep")], set(), set(), id="kept"),
    pytest.param([verdict(T_A, "delete"), verdict(T_B, "delete")], {T_B}, {T_A}, id="in-use-stays"),
])
def test_files_go_only_with_the_last_final_snapshot_of_a_timestamp_not_in_use(given, in_use, expected):
    assert retention.files_to_delete(given, in_use) == expected


def test_files_are_deleted_before_their_last_final_snapshot_and_a_failure_keeps_it(aws, monkeypatch):
    """Against the endpoint: the files of a pruned timestamp go first; those of a timestamp in use (a database,
    a capture <ns>-<ts>) or with a kept final snapshot stay; a failed deletion keeps the snapshot for the next run."""
    from hooks.aws import clients, drills
    rds, tagging, s3 = aws.client("rds"), aws.client("resourcegroupstaggingapi"), aws.client("s3")
    s3.create_bucket(Bucket="tier-files")
    finals = {}
    for age, timestamp in ((400, "20250101t000000z"), (300, "20250202t000000z"), (200, "20250303t000000z"),
                           (1, "20250404t000000z")):
        create_instance(rds, QA, timestamp)
        instance_id = naming.db_instance_id(QA, timestamp)
        finals[timestamp] = naming.final_snapshot_id(QA, timestamp, taken(age))
        rds.create_db_snapshot(DBSnapshotIdentifier=finals[timestamp], DBInstanceIdentifier=instance_id, Tags=aws_tags(
            QA) + [{"Key": naming.RETIRED_FROM_TAG, "Value": instance_id}])
        s3.put_object(Bucket="tier-files", Key=naming.files_prefix(QA, timestamp) + "a.pdf", Body=b"%")
    captured = "20250202t000000z"  # the namespace has a snapshot <ns>-<ts>: other namespaces may promote it
    rds.create_db_snapshot(DBSnapshotIdentifier=naming.snapshot_id(QA, captured),
                           DBInstanceIdentifier=naming.db_instance_id(QA, captured), Tags=aws_tags(QA))
    files = retention.Files(s3, "tier-files", frozenset({"20250303t000000z"}))  # its database exists

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    for key in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    monkeypatch.setenv(drills.FAULTS_VARIABLE, "s3.DeleteObjects")
    failing = retention.Files(clients.client("s3"), "tier-files", files.in_use)
    result = retention.prune(rds, tagging, QA, keep=1, days=30, now=NOW, files=failing)
    assert sorted(result["deleted"]) == sorted([finals["20250202t000000z"], finals["20250303t000000z"]])
    assert result["failed"][0][0] == naming.files_prefix(QA, "20250101t000000z") and result["files"] == {}
    assert finals["20250101t000000z"] in manual_snapshots(rds)  # kept: its files could not go

    monkeypatch.delenv(drills.FAULTS_VARIABLE)
    result = retention.prune(rds, tagging, QA, keep=1, days=30, now=NOW, files=files)
    assert (result["deleted"], result["failed"]) == ([finals["20250101t000000z"]], [])
    assert result["files"] == {"20250101t000000z": naming.files_prefix(QA, "20250101t000000z")}
    assert sorted(key.split("/")[2] for key, _, _ in file_copy.list_files(s3, "tier-files", "")) == [
        "20250202t000000z", "20250303t000000z", "20250404t000000z"]


def test_files_stay_with_a_final_snapshot_the_tagging_listing_does_not_show_yet(aws):
    rds, tagging, s3 = aws.client("rds"), aws.client("resourcegroupstaggingapi"), aws.client("s3")
    s3.create_bucket(Bucket="tier-files")
    create_instance(rds, QA, T_A)
    instance_id = naming.db_instance_id(QA, T_A)
    listed = naming.final_snapshot_id(QA, T_A, taken(400))
    rds.create_db_snapshot(DBSnapshotIdentifier=listed, DBInstanceIdentifier=instance_id,
                           Tags=aws_tags(QA) + [{"Key": naming.RETIRED_FROM_TAG, "Value": instance_id}])
    unlisted = naming.final_snapshot_id(QA, T_A, taken(0))  # untagged: as a just-taken one the listing lags behind
    rds.create_db_snapshot(DBSnapshotIdentifier=unlisted, DBInstanceIdentifier=instance_id)
    s3.put_object(Bucket="tier-files", Key=naming.files_prefix(QA, T_A) + "a.pdf", Body=b"%")
    result = retention.prune(rds, tagging, QA, keep=0, days=0, now=NOW, files=retention.Files(s3, "tier-files",
                                                                                              frozenset()))
    assert (result["deleted"], result["files"]) == ([listed], {})
    assert [key for key, _, _ in file_copy.list_files(s3, "tier-files", "")] == [naming.files_prefix(QA, T_A) + "a.pdf"]
