"""hooks/steps/files.py: whether a promotion copies the data set's files."""
import pytest

from hooks import naming
from hooks.errors import HookArgumentError
from hooks.steps import files
from tests.hooks.cli.commands.seeded import files_tier
from tests.hooks.tenant.test_inventory import create_instance

TS = "20261101t090000z"


OLD = "20260901t000000z"
FINAL = "xy-0146-qa-db-%s-final-20261001t000000z" % OLD


@pytest.mark.parametrize(
    "namespace, source, exists, copied_from, expected",
    [
        pytest.param("xy-0146-qa", "xy-0146-dev", False, None,
                     (files.COPY, "copying xy-0146-dev/files/%s/ to xy-0146-qa/files/%s/" % (TS, TS),
                      "xy-0146-dev/files/%s/" % TS), id="promotion"),
        pytest.param("xy-0146-dev", "xy-0146-dev", False, None,
                     (files.OWN_SOURCE, "xy-0146-dev is its own source: its files of %s are xy-0146-dev/files/%s/ "
                                        "already" % (TS, TS), None), id="own-source"),
        pytest.param("xy-0146-qa", "xy-0146-qa", False, FINAL,
                     (files.COPY, "copying xy-0146-qa/files/%s/ to xy-0146-qa/files/%s/: xy-0146-qa-%s is a copy of "
                                  "the final snapshot %s" % (OLD, TS, TS, FINAL), "xy-0146-qa/files/%s/" % OLD),
                     id="rollback-from-a-final-snapshot"),
        pytest.param("xy-0146-prod", "xy-0146-prod", False, FINAL,
                     (files.OWN_SOURCE, "xy-0146-prod is its own source: its files of %s are xy-0146-prod/files/%s/ "
                                        "already" % (TS, TS), None), id="another-namespaces-final-is-not-ours"),
        pytest.param("xy-0146-qa", "xy-0146-dev", True, None,
                     (files.DATABASE_EXISTS, "database xy-0146-qa-db-%s exists: xy-0146-qa/files/%s/ is the data set "
                                             "it serves, never overwritten" % (TS, TS), None), id="database-exists"),
    ],
)
def test_plan(namespace, source, exists, copied_from, expected):
    assert files.plan_files(namespace, source, TS, exists, copied_from) == expected


@pytest.mark.parametrize("workers", [0, 65, "eight", True])
def test_a_bad_workers_argument_is_refused_before_any_aws_call(workers):
    with pytest.raises(HookArgumentError, match=r"argument workers .* expected a whole number .* from 1 to 64"):
        files.copy_data_set_files(context=None, workers=workers)


# --- against the endpoint -----------------------------------------------------------------------


def ensure(aws, namespace, source, shared):
    return files.ensure_files(aws.client("s3"), aws.client("cloudformation"), aws.client("rds"), namespace, source,
                              shared, TS)


def test_a_prod_promotion_copies_from_the_nonprod_tiers_bucket_into_the_prod_tiers(aws):
    nonprod, prod = files_tier(aws, "common-nonprod"), files_tier(aws, "common-prod")
    s3 = aws.client("s3")
    s3.put_object(Bucket=nonprod, Key="xy-0146-dev/files/%s/a.pdf" % TS, Body=b"%PDF")
    result = ensure(aws, "xy-0146-prod", "xy-0146-dev", "common-prod")
    assert (result["status"], result["copied"], result["target"]) == (
        files.COPY, 1, "s3://%s/xy-0146-prod/files/%s/" % (prod, TS))
    assert s3.get_object(Bucket=prod, Key="xy-0146-prod/files/%s/a.pdf" % TS)["Body"].read() == b"%PDF"
    assert ensure(aws, "xy-0146-prod", "xy-0146-dev", "common-prod")["copied"] == 0  # complete: nothing copied


def test_a_rollback_from_a_final_snapshot_brings_the_retired_data_sets_files(aws):
    bucket, s3, rds = files_tier(aws), aws.client("s3"), aws.client("rds")
    s3.put_object(Bucket=bucket, Key="xy-0146-qa/files/%s/a.pdf" % OLD, Body=b"retired")
    create_instance(rds, "xy-0146-qa", OLD)
    rds.create_db_snapshot(DBSnapshotIdentifier="xy-0146-qa-%s" % TS, DBInstanceIdentifier="xy-0146-qa-db-%s" % OLD,
                           Tags=[{"Key": naming.COPIED_FROM_TAG, "Value": FINAL}])
    result = ensure(aws, "xy-0146-qa", "xy-0146-qa", "common-nonprod")
    assert (result["status"], result["copied"]) == (files.COPY, 1)
    assert s3.get_object(Bucket=bucket, Key="xy-0146-qa/files/%s/a.pdf" % TS)["Body"].read() == b"retired"
