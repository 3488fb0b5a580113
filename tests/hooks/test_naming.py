import datetime

import pytest

from hooks import naming

NS_RULE = (
    "expected <customer: a letter then 1-5 letters/digits>-<4-digit project>-<dev|qa|uat|stage|prod>, "
    "e.g. xy-0146-dev (pattern ^[a-z][a-z0-9]{1,5}-[0-9]{4}-(dev|qa|uat|stage|prod)$)"
)


@pytest.mark.parametrize(
    "value, customer, project, environment",
    [
        pytest.param("xy-0146-dev", "xy", "0146", "dev", id="two-letter-customer"),
        pytest.param("abcdef-9999-stage", "abcdef", "9999", "stage", id="six-char-customer"),
        pytest.param("a1-0001-uat", "a1", "0001", "uat", id="digit-in-customer"),
        pytest.param("xy-0146-prod", "xy", "0146", "prod", id="prod"),
    ],
)
def test_parse_namespace_accepts(value, customer, project, environment):
    parsed = naming.parse_namespace(value)
    assert (parsed.customer, parsed.project, parsed.environment, parsed.name) == (
        customer,
        project,
        environment,
        value,
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Xy-0146-dev", id="upper-case"),
        pytest.param("x-0146-dev", id="customer-too-short"),
        pytest.param("abcdefg-0146-dev", id="customer-too-long"),
        pytest.param("1x-0146-dev", id="customer-starts-with-digit"),
        pytest.param("xy-146-dev", id="project-three-digits"),
        pytest.param("xy-0146-test", id="unknown-environment"),
        pytest.param("xy-0146-dev-", id="trailing-hyphen"),
        pytest.param("xy_0146_dev", id="underscores"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_namespace_rejects_with_rule(value):
    with pytest.raises(naming.NamingError) as raised:
        naming.parse_namespace(value)
    assert str(raised.value) == "namespace %r is invalid: %s" % (value, NS_RULE)


def test_shared_namespace_is_not_a_tenant():
    with pytest.raises(naming.NamingError) as raised:
        naming.parse_namespace("common-prod")
    assert "it is a shared namespace; a tenant namespace is expected" in str(raised.value)


@pytest.mark.parametrize(
    "value, ok",
    [
        pytest.param("common-nonprod", True, id="nonprod"),
        pytest.param("common-prod", True, id="prod"),
        pytest.param("common-dev", False, id="unknown-tier"),
        pytest.param("xy-0146-dev", False, id="tenant"),
    ],
)
def test_parse_shared_namespace(value, ok):
    if ok:
        assert naming.parse_shared_namespace(value).name == value
    else:
        with pytest.raises(naming.NamingError) as raised:
            naming.parse_shared_namespace(value)
        assert str(raised.value) == "namespace %r is invalid: expected one of common-nonprod, common-prod" % value


@pytest.mark.parametrize(
    "value, rule",
    [
        pytest.param("20260115T103000Z", "expected YYYYMMDDtHHMMSSz", id="upper-case"),
        pytest.param("2026-01-15t103000z", "expected YYYYMMDDtHHMMSSz", id="dashes"),
        pytest.param("20260115t1030z", "expected YYYYMMDDtHHMMSSz", id="no-seconds"),
        pytest.param("20261315t103000z", "not a real date and time", id="month-13"),
        pytest.param("20260230t103000z", "not a real date and time", id="february-30"),
        pytest.param("20260115t250000z", "not a real date and time", id="hour-25"),
    ],
)
def test_parse_timestamp_rejects(value, rule):
    with pytest.raises(naming.NamingError) as raised:
        naming.parse_timestamp(value)
    assert str(raised.value).startswith("db_timestamp %r is invalid: %s" % (value, rule))


def test_timestamp_round_trip_is_utc():
    moment = datetime.datetime(2026, 1, 15, 11, 30, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    stamp = naming.format_timestamp(moment)
    assert stamp == "20260115t103000z"
    assert naming.timestamp_datetime(stamp) == moment


def test_format_timestamp_refuses_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        naming.format_timestamp(datetime.datetime(2026, 1, 15))


@pytest.mark.parametrize(
    "value, ok",
    [
        pytest.param("xy-0146-qa-db-20260115t103000z", True, id="db-id"),
        pytest.param("a" * 63, True, id="63-chars"),
        pytest.param("a" * 64, False, id="64-chars"),
        pytest.param("Ab", False, id="upper-case"),
        pytest.param("1ab", False, id="starts-with-digit"),
        pytest.param("a--b", False, id="double-hyphen"),
        pytest.param("ab-", False, id="trailing-hyphen"),
        pytest.param("a_b", False, id="underscore"),
    ],
)
def test_rds_identifier_rules(value, ok):
    if ok:
        assert naming.check_rds_identifier(value) == value
    else:
        with pytest.raises(naming.NamingError) as raised:
            naming.check_rds_identifier(value)
        assert str(raised.value) == "RDS identifier %r is invalid: %s" % (value, naming.RDS_IDENTIFIER_RULES)


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
