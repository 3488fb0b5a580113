"""hooks/steps/latest_snapshot.py and hooks/run/latest.py: what `db_timestamp: latest` stands for."""
import pytest

from hooks import errors
from hooks.config import envfile, settings
from hooks.run import deploy, latest
from hooks.steps import latest_snapshot, pointer
from tests.e2e.stacker_cli import REPO

DEV = "xy-0146-dev"
T1, T2, T3 = "20261101t090000z", "20261115t120000z", "20261120t080000z"


def snapshot(snapshot_id, status="available", instance="xy-0146-dev-db-20261001t080000z", namespace_tag=DEV):
    tags = [{"Key": "Namespace", "Value": namespace_tag}] if namespace_tag else []
    return {"DBSnapshotIdentifier": snapshot_id, "Status": status, "DBInstanceIdentifier": instance, "TagList": tags}


@pytest.mark.parametrize(
    "snapshots, expected",
    [
        pytest.param([snapshot("xy-0146-dev-" + T1), snapshot("xy-0146-dev-" + T3), snapshot("xy-0146-dev-" + T2)],
                     T3, id="newest-available-wins"),
        pytest.param([snapshot("xy-0146-dev-" + T1), snapshot("xy-0146-dev-" + T3, status="creating")],
                     T1, id="one-being-taken-is-ignored"),
        pytest.param([snapshot("xy-0146-dev-" + T2), snapshot("xy-0146-dev-" + T3, status="failed")],
                     T2, id="a-failed-one-is-ignored"),
        pytest.param([snapshot("xy-0146-dev-" + T1),
                      snapshot("xy-0146-dev-db-%s-final-%s" % (T2, T3), instance="xy-0146-dev-db-" + T2)],
                     T1, id="final-snapshots-are-not-data-to-promote"),
        pytest.param([snapshot("xy-0146-dev-" + T1),
                      snapshot("xy-0146-dev-" + T3, instance="xy-0146-qa-db-" + T1, namespace_tag="xy-0146-qa")],
                     T1, id="a-snapshot-holding-another-namespaces-data-is-not-devs"),
        pytest.param([snapshot("xy-0146-dev-" + T1), snapshot("xy-0146-qa-" + T3, namespace_tag="xy-0146-qa"),
                      snapshot("ab-0212-dev-" + T3, namespace_tag="ab-0212-dev")],
                     T1, id="other-namespaces-snapshots"),
        pytest.param([snapshot("xy-0146-dev-" + T2, instance="restored-by-hand", namespace_tag=DEV)],
                     T2, id="the-namespace-tag-is-enough"),
    ],
)
def test_the_newest_available_snapshot_of_the_source_wins(snapshots, expected):
    timestamp, described = latest_snapshot.newest_available(snapshots, DEV)
    assert (timestamp, described["DBSnapshotIdentifier"]) == (expected, "xy-0146-dev-" + expected)


@pytest.mark.parametrize(
    "snapshots",
    [
        pytest.param([], id="none"),
        pytest.param([snapshot("xy-0146-dev-" + T1, status="creating"), snapshot("xy-0146-dev-" + T2, status="failed")],
                     id="none-available"),
        pytest.param([snapshot("xy-0146-qa-" + T1, namespace_tag="xy-0146-qa")], id="only-other-namespaces"),
    ],
)
def test_no_available_snapshot_is_a_clear_error_naming_the_source(snapshots):
    with pytest.raises(errors.SourceSnapshotMissing) as raised:
        latest_snapshot.newest_available(snapshots, DEV)
    assert str(raised.value) == (
        "db_timestamp latest: xy-0146-dev has no available snapshot xy-0146-dev-<timestamp> (manual, of its own "
        "database), so there is nothing to deploy; take one with `tenantstack snapshot xy-0146-dev`, or name a "
        "timestamp; nothing was changed"
    )
    assert isinstance(raised.value, errors.BadInput)


@pytest.mark.parametrize("snapshot_id, expected", [
    ("xy-0146-dev-" + T1, T1), ("xy-0146-dev-20261301t000000z", None), ("xy-0146-dev-db-" + T1, None),
    ("xy-0146-dev-%s-copy" % T1, None), ("xy-0146-qa-" + T1, None),
])
def test_timestamp_of_a_snapshot_id(snapshot_id, expected):
    assert latest_snapshot.timestamp_of(snapshot_id, DEV) == expected


def env_of(namespace, **values):
    raw = envfile.read(REPO / "environments" / ("%s.env" % namespace))
    return dict(raw, **values)


def test_latest_is_accepted_below_prod_and_refused_for_prod():
    assert settings.load_settings(env_of("xy-0146-qa", db_timestamp="latest"))["db_timestamp"] == "latest"
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(env_of("xy-0146-prod", db_timestamp="latest"))
    assert raised.value.problems == [
        "env key db_timestamp 'latest' is invalid for xy-0146-prod: a prod namespace names its timestamp, the data "
        "qa tested (e.g. `tenantstack promote xy-0146-qa xy-0146-prod` writes it)"]
    with pytest.raises(settings.SettingsError):
        settings.load_settings(env_of("xy-0146-qa", db_timestamp="newest"))


def test_a_prod_deploy_of_latest_is_refused_before_any_call():
    with pytest.raises(errors.BadInput, match="a prod namespace names its timestamp"):
        deploy.prepare(str(REPO / "environments" / "xy-0146-prod.env"), {"db_timestamp": "latest"})


def test_a_resolved_request_names_the_timestamp_and_tells_the_flip_what_was_asked():
    prepared = deploy.prepare(str(REPO / "environments" / "xy-0146-qa.env"), [("db_timestamp", "latest")])
    assert latest.requests_latest(prepared) and prepared.source_namespace == DEV
    assert latest.child_variables(prepared) == {}
    resolved = latest.resolved(prepared, T2)
    assert (resolved.db_timestamp, resolved.overrides, resolved.requested_timestamp) == (
        T2, (("db_timestamp", T2),), "latest")
    assert latest.child_variables(resolved) == {pointer.REQUESTED_VARIABLE: "latest"}
    assert latest.note(resolved) == (
        "db_timestamp latest of xy-0146-qa: xy-0146-dev-%s, the newest available snapshot of xy-0146-dev" % T2)
    named = deploy.prepare(str(REPO / "environments" / "xy-0146-qa.env"), [("db_timestamp", T1)])
    assert latest.resolve(named, rds_client=None) is named  # a named timestamp needs no call
    assert latest.note(named) is None and latest.child_variables(named) == {}
