"""hooks/naming/resources.py: snapshots, databases, stacks, SSM paths, log groups and tags."""
import pytest

from hooks import naming

TS = "20260115t103000z"


@pytest.mark.parametrize(
    "built, expected",
    [
        pytest.param(lambda: naming.snapshot_id("xy-0146-dev", TS), "xy-0146-dev-20260115t103000z", id="snapshot"),
        pytest.param(lambda: naming.db_instance_id("xy-0146-qa", TS), "xy-0146-qa-db-20260115t103000z", id="db-id"),
        pytest.param(lambda: naming.db_stack_name("xy-0146-qa", TS), "xy-0146-qa-db-20260115t103000z", id="db-stack"),
        pytest.param(lambda: naming.service_stack_name("xy-0146-qa"), "xy-0146-qa-service", id="service-stack"),
        pytest.param(lambda: naming.base_stack_name("xy-0146-qa"), "xy-0146-qa-base", id="base-stack"),
        pytest.param(lambda: naming.vpc_stack_name("common-prod"), "common-prod-vpc", id="vpc-stack"),
        pytest.param(lambda: naming.tier_stack_name("common-nonprod"), "common-nonprod-tier", id="tier-stack"),
        pytest.param(lambda: naming.ssm_active_parameter("xy-0146-qa"), "/xy-0146-qa/db/active", id="ssm-active"),
        pytest.param(
            lambda: naming.ssm_database_parameter("xy-0146-qa", TS),
            "/xy-0146-qa/db/databases/20260115t103000z",
            id="ssm-database",
        ),
        pytest.param(lambda: naming.ssm_secret_arn_parameter("xy-0146-qa"), "/xy-0146-qa/db/secret-arn", id="ssm-secret"),
        pytest.param(lambda: naming.ssm_lock_parameter("xy-0146-qa"), "/xy-0146-qa/deploy/lock", id="ssm-lock"),
        pytest.param(
            lambda: naming.ssm_lock_takeover_parameter("xy-0146-qa"),
            "/xy-0146-qa/deploy/lock-takeover",
            id="ssm-lock-takeover",
        ),
        pytest.param(lambda: naming.db_secret_name("xy-0146-qa"), "xy-0146-qa/db/master", id="secret-name"),
        pytest.param(lambda: naming.log_group_name("xy-0146-qa"), "/xy-0146-qa/service", id="log-group"),
        pytest.param(lambda: naming.s3_prefix("xy-0146-qa"), "xy-0146-qa/", id="s3-prefix"),
        pytest.param(lambda: naming.files_root("xy-0146-qa"), "xy-0146-qa/files/", id="files-root"),
        pytest.param(lambda: naming.files_prefix("xy-0146-qa", TS), "xy-0146-qa/files/20260115t103000z/",
                     id="files-prefix"),
        pytest.param(
            lambda: naming.final_snapshot_id("xy-0146-qa", TS, "20260201t000000z"),
            "xy-0146-qa-db-20260115t103000z-final-20260201t000000z",
            id="final-snapshot",
        ),
    ],
)
def test_builders(built, expected):
    assert built() == expected


def test_longest_final_snapshot_id_fits_rds_limit():
    longest = naming.final_snapshot_id("abcdef-9999-stage", TS, TS)
    assert len(longest) <= naming.RDS_IDENTIFIER_MAX


def test_builders_refuse_bad_namespace():
    with pytest.raises(naming.NamingError, match="namespace 'XY-0146-qa' is invalid"):
        naming.db_instance_id("XY-0146-qa", TS)


@pytest.mark.parametrize(
    "value, namespace, timestamp",
    [
        pytest.param("xy-0146-qa-db-20260115t103000z", "xy-0146-qa", TS, id="db-id"),
        pytest.param("ab-0212-prod-db-20261101t090000z", "ab-0212-prod", "20261101t090000z", id="prod"),
    ],
)
def test_parse_db_instance_id(value, namespace, timestamp):
    parsed_namespace, parsed_timestamp = naming.parse_db_instance_id(value)
    assert (parsed_namespace.name, parsed_timestamp) == (namespace, timestamp)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("xy-0146-qa-20260115t103000z", id="snapshot-not-db"),
        pytest.param("other-db-20260115t103000z", id="foreign-name"),
        pytest.param(None, id="none"),
    ],
)
def test_parse_db_instance_id_rejects(value):
    with pytest.raises(naming.NamingError):
        naming.parse_db_instance_id(value)


def test_parse_snapshot_id():
    namespace, timestamp = naming.parse_snapshot_id("xy-0146-dev-20260115t103000z")
    assert (namespace.name, timestamp) == ("xy-0146-dev", TS)


@pytest.mark.parametrize(
    "namespace, expected",
    [
        pytest.param(
            "xy-0146-qa",
            {"Customer": "xy", "Project": "0146", "Environment": "qa", "Namespace": "xy-0146-qa"},
            id="tenant",
        ),
        pytest.param(
            "common-prod",
            {"Customer": "common", "Project": "shared", "Environment": "prod", "Namespace": "common-prod"},
            id="shared",
        ),
    ],
)
def test_tags(namespace, expected):
    assert naming.tags(namespace) == expected
    assert tuple(naming.tags(namespace)) == naming.TAG_KEYS


@pytest.mark.parametrize(
    "namespace, tier, source",
    [
        pytest.param("xy-0146-dev", "common-nonprod", "xy-0146-dev", id="dev"),
        pytest.param("xy-0146-stage", "common-nonprod", "xy-0146-dev", id="stage"),
        pytest.param("xy-0146-prod", "common-prod", "xy-0146-dev", id="prod"),
    ],
)
def test_tier_and_default_source(namespace, tier, source):
    parsed = naming.parse_namespace(namespace)
    assert (parsed.shared_namespace, parsed.default_source_namespace) == (tier, source)


def test_parse_final_snapshot_id():
    namespace, timestamp, taken_at = naming.parse_final_snapshot_id(
        naming.final_snapshot_id("xy-0146-qa", TS, "20260201t000000z")
    )
    assert (namespace.name, timestamp, taken_at) == ("xy-0146-qa", TS, "20260201t000000z")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("xy-0146-qa-db-20260115t103000z", id="not-final"),
        pytest.param("xy-0146-qa-db-20260115t103000z-final-soon", id="bad-time"),
        pytest.param("xy-0146-dev-20260115t103000z-final-20260201t000000z", id="not-a-database"),
    ],
)
def test_parse_final_snapshot_id_rejects(value):
    with pytest.raises(naming.NamingError):
        naming.parse_final_snapshot_id(value)


@pytest.mark.parametrize(
    "built, expected",
    [
        pytest.param(lambda: naming.log_group_prefix("xy-0146-qa"), "/xy-0146-qa/", id="prefix"),
        pytest.param(lambda: naming.log_group_name("xy-0146-qa"), "/xy-0146-qa/service", id="service"),
    ],
)
def test_log_groups(built, expected):
    assert built() == expected


def test_the_service_log_group_is_below_the_prefix():
    assert naming.log_group_name("ab-0212-prod").startswith(naming.log_group_prefix("ab-0212-prod"))


def test_files_prefix_round_trips_and_refuses_what_is_not_one():
    namespace, timestamp = naming.parse_files_prefix(naming.files_prefix("xy-0146-qa", TS))
    assert (namespace.name, timestamp) == ("xy-0146-qa", TS)
    for bad in ("xy-0146-qa/files/20260115t103000z", "xy-0146-qa/uploads/20260115t103000z/", "xy-0146-qa/"):
        with pytest.raises(naming.NamingError, match="files prefix"):
            naming.parse_files_prefix(bad)
    with pytest.raises(naming.NamingError, match="timestamp"):
        naming.files_prefix("xy-0146-qa", "2026-01-15")
