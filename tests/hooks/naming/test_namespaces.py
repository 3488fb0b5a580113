"""hooks/naming/namespaces.py: namespaces, shared namespaces, timestamps and the RDS identifier rules."""
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
