"""hooks/steps/tier_copy.py: the database restores from <namespace>-<ts>, under the tier key."""
import json

import boto3
import pytest
from botocore.stub import Stubber
from seed import create_dev_database, snapshot_database

from hooks import naming
from hooks.aws.wait import Wait
from hooks.errors import BadInput, CopyFailed
from hooks.steps import retire, tier_copy
from hooks.steps.tier_copy import COPY, REUSE, SKIP, USE_SOURCE, WAIT
from tests.fake_clock import Clock
from tests.hooks.tenant.test_inventory import Clients, aws_tags, create_database

NS, SOURCE, TS = "xy-0146-qa", "xy-0146-dev", "20261101t090000z"
PROD = "xy-0146-prod"
ACROSS_TIERS = naming.COPY_ACROSS_TIERS
TIER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/tier"
DEV_KEY = "arn:aws:kms:eu-west-1:123456789012:key/dev"
SOURCE_ID, COPY_ID = "xy-0146-dev-20261101t090000z", "xy-0146-qa-20261101t090000z"


def snapshot(snapshot_id, key, status="available", copied_from=None):
    tags = [{"Key": naming.COPIED_FROM_TAG, "Value": copied_from}] if copied_from else []
    return {"DBSnapshotIdentifier": snapshot_id, "KmsKeyId": key, "Status": status, "TagList": tags}


def plan(namespace=NS, source_namespace=SOURCE, exists=False, source=None, copy=None,
         snapshot_copy=naming.COPY_ALWAYS, registered=None):
    """The copy path by default (snapshot_copy always); ACROSS_TIERS cases say so."""
    decided = tier_copy.plan_copy(namespace, source_namespace, TS, TIER_KEY, exists, source, copy, snapshot_copy,
                                  registered)
    return decided.action, decided.snapshot, decided.reason


SOURCE_UNDER_DEV_KEY = snapshot(SOURCE_ID, DEV_KEY)
PLAN_CASES = [
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY),
        (COPY, COPY_ID, "copying %s to %s under the tier key %s" % (SOURCE_ID, COPY_ID, TIER_KEY)),
        id="key-differs-copy",
    ),
    pytest.param(
        dict(source=snapshot(SOURCE_ID, TIER_KEY)),
        (COPY, COPY_ID, "copying %s to %s under the tier key %s" % (SOURCE_ID, COPY_ID, TIER_KEY)),
        id="key-matches-still-copied-to-the-namespaces-own-id",
    ),
    pytest.param(
        dict(namespace=SOURCE, source=snapshot(SOURCE_ID, TIER_KEY)),
        (USE_SOURCE, SOURCE_ID, "%s is the namespace's own snapshot, already under the tier key" % SOURCE_ID),
        id="source-is-self-under-tier-key",
    ),
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY, copy=snapshot(COPY_ID, TIER_KEY, copied_from=SOURCE_ID)),
        (REUSE, COPY_ID, "%s, the copy of %s under the tier key, is available" % (COPY_ID, SOURCE_ID)),
        id="copy-available-reused",
    ),
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY, copy=snapshot(COPY_ID, TIER_KEY, "creating", SOURCE_ID)),
        (WAIT, COPY_ID, "%s, the copy of %s, is still being created" % (COPY_ID, SOURCE_ID)),
        id="copy-creating-waited-for",
    ),
    pytest.param(
        dict(exists=True),
        (SKIP, COPY_ID, "database xy-0146-qa-db-20261101t090000z exists: nothing is restored"),
        id="database-exists",
    ),
    pytest.param(
        dict(source=snapshot(SOURCE_ID, TIER_KEY), snapshot_copy=ACROSS_TIERS),
        (USE_SOURCE, SOURCE_ID, "%s is in the same tier and already under the tier key: no copy" % SOURCE_ID),
        id="across-tiers-same-tier-restores-the-source-as-it-is",
    ),
    pytest.param(
        dict(namespace=PROD, source=snapshot(SOURCE_ID, TIER_KEY), snapshot_copy=ACROSS_TIERS),
        (COPY, "xy-0146-prod-20261101t090000z", "copying %s to xy-0146-prod-20261101t090000z under the tier key %s"
         % (SOURCE_ID, TIER_KEY)),
        id="across-tiers-other-tier-is-copied",
    ),
    pytest.param(
        dict(exists=True, snapshot_copy=ACROSS_TIERS, registered=SOURCE_ID),
        (SKIP, SOURCE_ID, "database xy-0146-qa-db-20261101t090000z exists: nothing is restored"),
        id="across-tiers-database-exists-restored-from-the-source",
    ),
    pytest.param(
        dict(namespace=SOURCE, exists=True),
        (SKIP, SOURCE_ID, "database xy-0146-dev-db-20261101t090000z exists: nothing is restored"),
        id="database-exists-source-is-self",
    ),
]


@pytest.mark.parametrize("given, expected", PLAN_CASES)
def test_plan(given, expected):
    assert plan(**given) == expected


REFUSALS = [
    pytest.param(
        dict(namespace=SOURCE, source=SOURCE_UNDER_DEV_KEY), BadInput,
        "source snapshot %s is the namespace's own snapshot (source_namespace is xy-0146-dev itself) and is "
        "encrypted with %s, not the tier key %s; a database restored from it would keep that key, and a snapshot "
        "cannot be copied onto its own id. Copy it under the tier key with a new timestamp and deploy that one: "
        "aws rds copy-db-snapshot --source-db-snapshot-identifier %s --target-db-snapshot-identifier "
        "xy-0146-dev-<new timestamp> --kms-key-id %s --copy-tags, then -e db_timestamp=<new timestamp>"
        % (SOURCE_ID, DEV_KEY, TIER_KEY, SOURCE_ID, TIER_KEY),
        id="source-is-self-under-another-key",
    ),
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY, snapshot_copy=ACROSS_TIERS), BadInput,
        "source snapshot %s is in xy-0146-qa's tier and is encrypted with %s, not the tier key %s, so xy-0146-qa "
        "cannot restore from it as it is (a database keeps its snapshot's key). Set snapshot_copy: always in "
        "xy-0146-qa's env file to copy it under the tier key first, or snapshot xy-0146-dev again from a database "
        "under the tier key; nothing was changed" % (SOURCE_ID, DEV_KEY, TIER_KEY),
        id="across-tiers-same-tier-source-under-another-key",
    ),
    pytest.param(
        dict(exists=True, snapshot_copy=ACROSS_TIERS, registered=COPY_ID), BadInput,
        "database xy-0146-qa-db-20261101t090000z was restored from %s, but this deploy's template restores it from "
        "%s (env key snapshot_copy is across-tiers): CloudFormation would try to replace the database (and fail on "
        "its fixed identifier). Set snapshot_copy: always in the env file while this database is active, or "
        "promote to a new db_timestamp; nothing was changed" % (COPY_ID, SOURCE_ID),
        id="a-live-database-restored-from-another-snapshot-is-never-replaced",
    ),
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY, copy=snapshot(COPY_ID, TIER_KEY, "failed", SOURCE_ID)), CopyFailed,
        "snapshot %s, the copy of %s, is 'failed': delete it (aws rds delete-db-snapshot --db-snapshot-identifier "
        "%s: the source still holds the data) and re-run" % (COPY_ID, SOURCE_ID, COPY_ID),
        id="copy-failed",
    ),
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY, copy=snapshot(COPY_ID, DEV_KEY, copied_from=SOURCE_ID)), BadInput,
        "snapshot %s, the copy of %s, is encrypted with %s, not the tier key %s; delete it (aws rds "
        "delete-db-snapshot --db-snapshot-identifier %s: the source still holds the data) and re-run"
        % (COPY_ID, SOURCE_ID, DEV_KEY, TIER_KEY, COPY_ID),
        id="copy-under-another-key",
    ),
    pytest.param(
        dict(source=SOURCE_UNDER_DEV_KEY, copy=snapshot(COPY_ID, TIER_KEY)), BadInput,
        "snapshot %s exists but is not a copy of the source snapshot %s (its CopiedFrom tag is None): the "
        "database would restore other data than db_timestamp %s of xy-0146-dev names. Check it (aws rds "
        "describe-db-snapshots --db-snapshot-identifier %s); if it is not needed, delete it and re-run"
        % (COPY_ID, SOURCE_ID, TS, COPY_ID),
        id="snapshot-of-the-same-id-not-a-copy-of-the-source",
    ),
]


@pytest.mark.parametrize("given, error, message", REFUSALS)
def test_refusals_name_the_snapshot_the_keys_and_the_fix(given, error, message):
    with pytest.raises(error) as raised:
        plan(**given)
    assert str(raised.value) == message


# --- against the endpoint -----------------------------------------------------------------------


@pytest.fixture
def aws(aws):
    return Clients(aws)


def tier(aws, shared="common-nonprod"):
    """A tier stack with its key and output DatabaseKeyArn, as blueprints.tier makes them."""
    template = {
        "Resources": {"DatabaseKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}}}},
        "Outputs": {"DatabaseKeyArn": {"Value": {"Fn::GetAtt": ["DatabaseKey", "Arn"]}}},
    }
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName=naming.tier_stack_name(shared), TemplateBody=json.dumps(template))
    return tier_copy.tier_key_arn(cfn, shared)


def dev_snapshot(aws, kms_key_id=None):
    rds = aws.client("rds")
    instance = create_dev_database(rds, SOURCE, "20261001t080000z", **({"kms_key_id": kms_key_id} if kms_key_id else {}))
    return snapshot_database(rds, instance, SOURCE, TS)


def ensure(aws, namespace=NS, snapshot_copy=naming.COPY_ALWAYS, **timing):
    return tier_copy.ensure_restore_snapshot(
        aws.client("rds"), aws.client("cloudformation"), aws.client("ssm"), namespace, SOURCE, "common-nonprod", TS,
        Wait(0, 0), snapshot_copy, **timing
    )


def described(aws, snapshot_id):
    return tier_copy.describe_snapshot(aws.client("rds"), snapshot_id)


def test_the_source_is_copied_under_the_tier_key_tagged_as_the_namespaces_then_reused(aws):
    key = tier(aws)
    dev_snapshot(aws)
    assert ensure(aws) == {"status": COPY, "snapshot": COPY_ID, "source": SOURCE_ID, "key": key}
    copy = described(aws, COPY_ID)
    assert (copy["Status"], copy["KmsKeyId"]) == ("available", key)
    assert {t["Key"]: t["Value"] for t in copy["TagList"]} == dict(
        naming.tags(NS), **{naming.COPIED_FROM_TAG: SOURCE_ID})
    assert ensure(aws)["status"] == REUSE  # a re-run copies nothing


def test_a_namespace_that_is_its_own_source_restores_its_snapshot_under_the_tier_key(aws):
    key = tier(aws)
    dev_snapshot(aws, kms_key_id=key)
    assert ensure(aws, namespace=SOURCE) == {"status": USE_SOURCE, "snapshot": SOURCE_ID, "source": SOURCE_ID,
                                             "key": key}
    with pytest.raises(tier_copy.CopyFailed):  # nothing was copied
        tier_copy.wait_for_snapshot(aws.client("rds"), "xy-0146-dev-20261101t090001z", Wait(0, 0))


def test_within_a_tier_the_source_under_the_tier_key_is_restored_as_it_is_and_nothing_is_copied(aws):
    key = tier(aws)
    dev_snapshot(aws, kms_key_id=key)
    assert ensure(aws, snapshot_copy=ACROSS_TIERS) == {"status": USE_SOURCE, "snapshot": SOURCE_ID,
                                                       "source": SOURCE_ID, "key": key}
    assert described(aws, COPY_ID) is None


def test_within_a_tier_a_source_under_another_key_is_refused_and_nothing_is_copied(aws):
    tier(aws)
    dev_snapshot(aws)
    with pytest.raises(BadInput, match="Set snapshot_copy: always"):
        ensure(aws, snapshot_copy=ACROSS_TIERS)
    assert described(aws, COPY_ID) is None


def test_nothing_is_copied_when_the_database_exists(aws):
    tier(aws)
    create_database(aws, NS, TS)  # registered as restored from the source, as within a tier
    assert ensure(aws, snapshot_copy=ACROSS_TIERS)["status"] == SKIP
    assert described(aws, COPY_ID) is None
    with pytest.raises(BadInput, match="was restored from xy-0146-dev-20261101t090000z, but"):
        ensure(aws)  # snapshot_copy always would name the copy: CloudFormation would replace the database


def test_a_missing_tier_stack_is_bad_input_naming_the_fix(aws):
    with pytest.raises(BadInput) as raised:
        ensure(aws)
    assert str(raised.value) == (
        "the tier stack common-nonprod-tier has no output DatabaseKeyArn: build the shared stacks first "
        "(stacker build environments/common-nonprod.env stacker/shared.yaml)"
    )


def stubbed_rds(statuses, no_database=False):
    """An RDS client answering DescribeDBSnapshots with `statuses` in turn (moto copies at once); first,
    with no_database, DescribeDBInstances with DBInstanceNotFound."""
    rds = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(rds)
    if no_database:
        stubber.add_client_error("describe_db_instances", "DBInstanceNotFound")
    for status in statuses:
        stubber.add_response("describe_db_snapshots", {"DBSnapshots": [
            {"DBSnapshotIdentifier": COPY_ID, "Status": status, "PercentProgress": 40}]})
    stubber.activate()
    return rds




def test_waiting_for_a_copy_logs_progress_until_available(caplog):
    clock = Clock()
    caplog.set_level("INFO", logger="hooks.steps.tier_copy")
    found = tier_copy.wait_for_snapshot(stubbed_rds(["creating"] * 4 + ["available"]), COPY_ID, Wait(30, 600),
                                        clock=clock, sleep=clock.sleep)
    assert found["Status"] == "available"
    assert [r.getMessage() for r in caplog.records] == [
        "snapshot %s: creating, 40%% done (0 s of 600 s)" % COPY_ID,
        "snapshot %s: creating, 40%% done (60 s of 600 s)" % COPY_ID,
        "snapshot %s is available after 120 s" % COPY_ID,
    ]  # unchanged progress is logged once a minute, not on every 30 s poll


@pytest.mark.parametrize(
    "statuses, budget, message",
    [
        pytest.param(["creating", "failed"], 600, "snapshot %s is failed, not available: delete it if it exists "
                     "(aws rds delete-db-snapshot --db-snapshot-identifier %s: the source still holds the data) "
                     "and re-run" % (COPY_ID, COPY_ID), id="failed"),
        pytest.param(["creating", "creating"], 30, "snapshot %s is still creating after 30 s; re-run the deploy "
                     "to keep waiting (the copy goes on)" % COPY_ID, id="out-of-time"),
    ],
)
def test_a_copy_that_fails_or_takes_too_long_stops_the_run(statuses, budget, message):
    clock = Clock()
    with pytest.raises(CopyFailed) as raised:
        tier_copy.wait_for_snapshot(stubbed_rds(statuses), COPY_ID, Wait(30, budget), clock=clock, sleep=clock.sleep)
    assert str(raised.value) == message


def test_a_copy_started_without_waiting_is_waited_for_later_and_a_database_that_exists_needs_no_wait(aws):
    key = tier(aws)
    dev_snapshot(aws)
    started = tier_copy.ensure_restore_snapshot(
        aws.client("rds"), aws.client("cloudformation"), aws.client("ssm"), PROD, SOURCE, "common-nonprod", TS,
        Wait(0, 0), naming.COPY_ACROSS_TIERS, wait_for_copy=False)
    prod_copy = naming.restore_snapshot_id(PROD, TS)
    assert started == {"status": COPY, "snapshot": prod_copy, "source": SOURCE_ID, "key": key}
    assert tier_copy.await_restore_snapshot(aws.client("rds"), PROD, SOURCE, TS, Wait(0, 0)) == {
        "status": "available", "snapshot": prod_copy}
    create_database(aws, PROD, TS)
    assert tier_copy.await_restore_snapshot(aws.client("rds"), PROD, SOURCE, TS, Wait(0, 0))["status"] == SKIP


def test_the_later_wait_follows_the_copy_and_stops_the_run_when_it_fails():
    clock = Clock()
    rds = stubbed_rds(["creating", "creating", "failed"], no_database=True)
    with pytest.raises(CopyFailed, match="is failed, not available"):
        tier_copy.await_restore_snapshot(rds, PROD, SOURCE, TS, Wait(30, 600), clock=clock, sleep=clock.sleep)


def test_only_copies_the_pipeline_made_are_deleted(aws):
    tier(aws)
    dev_snapshot(aws)
    ensure(aws)
    rds = aws.client("rds")
    assert tier_copy.delete_copy(rds, SOURCE, TS, Wait(0, 0)) is None  # the dev team's snapshot: no CopiedFrom tag
    assert described(aws, SOURCE_ID)["Status"] == "available"
    assert tier_copy.delete_copy(rds, NS, TS, Wait(0, 0)) == COPY_ID
    assert described(aws, COPY_ID) is None
    assert tier_copy.delete_copy(rds, NS, TS, Wait(0, 0)) is None  # re-run: nothing left


def test_retirement_deletes_the_copy_after_the_final_snapshot_and_an_orphan_copy_too(aws):
    tier(aws)
    dev_snapshot(aws)
    ensure(aws)  # the copy of TS, and a database of TS retired below
    create_database(aws, NS, TS)
    orphan = "20261102t090000z"  # a run that copied, then failed before its database
    rds = aws.client("rds")
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier=SOURCE_ID, TargetDBSnapshotIdentifier=naming.snapshot_id(NS, orphan),
                         Tags=aws_tags(NS, **{naming.COPIED_FROM_TAG: SOURCE_ID}))
    active = "20261103t090000z"
    create_database(aws, NS, active)
    aws.client("ssm").put_parameter(Name=naming.ssm_active_parameter(NS), Value=active, Type="String")
    result = retire.retire_databases(
        aws.client("ssm"), aws.client("resourcegroupstaggingapi"), rds, aws.client("cloudformation"),
        aws.client("ecs"), NS, "common-nonprod", in_flight=set(), retain_previous=0,
        wait=Wait(poll_seconds=0, budget_seconds=0),
    )
    retired = {r["timestamp"]: r for r in result["retired"]}
    assert sorted(retired) == [TS, orphan]
    assert retired[TS]["final_snapshot"] and retired[TS]["deleted_copy"] == COPY_ID
    assert retired[orphan]["final_snapshot"] is None and retired[orphan]["deleted_copy"] == naming.snapshot_id(NS, orphan)
    assert described(aws, COPY_ID) is None and described(aws, naming.snapshot_id(NS, orphan)) is None
    assert described(aws, SOURCE_ID)["Status"] == "available"  # the source is never touched
