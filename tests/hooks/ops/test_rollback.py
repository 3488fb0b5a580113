"""hooks/ops/rollback.py: which previous database a rollback may go to, and the ways back without one."""
import pytest

from hooks import naming
from hooks.errors import BadInput
from hooks.ops import rollback
from hooks.ops.rollback import FinalSnapshot
from hooks.tenant import status as tenant_status
from hooks.tenant.inventory import PointerChange
from tests.hooks.tenant.test_inventory import T1, T2, T3, T4, database

QA = "xy-0146-qa"
ENV = "environments/xy-0146-qa.env"
NEW = "20261201t101500z"
VALUES = {"source_namespace": "xy-0146-dev", "shared_namespace": "common-nonprod", "retain_previous": 0}


def databases(flips, existing, unregistered=(), unavailable=()):
    """Databases as read_databases returns them: pointer moved through `flips`."""
    history = tuple(PointerChange(number, ts, None, None, None) for number, ts in enumerate(flips, start=1))
    active = flips[-1] if flips else None
    found = [
        database(ts, registered=ts not in unregistered, instance="modifying" if ts in unavailable else "available")
        for ts in existing
    ]
    roles = tenant_status.database_roles(found, active, set(), [], 0, set())
    return tenant_status.Databases(active, history, None, frozenset(), tuple(roles))


@pytest.mark.parametrize(
    "state, targets",
    [
        pytest.param(databases([T1, T2, T3], [T1, T2, T3]), [T2, T1], id="newest-first"),
        pytest.param(databases([T1, T3, T1], [T1, T3]), [T3], id="back-and-forth"),
        pytest.param(databases([T1, T3], [T1, T2, T3]), [T1], id="never-active-is-no-target"),
        pytest.param(databases([T1, T2, T3], [T1, T2, T3], unregistered=[T2], unavailable=[T1]), [], id="unfit"),
        pytest.param(databases([T3], [T3]), [], id="first-deploy"),
    ],
)
def test_rollback_targets(state, targets):
    assert rollback.rollback_targets(state) == targets


def test_choose_defaults_to_the_newest_and_takes_an_explicit_one():
    state = databases([T1, T2, T3], [T1, T2, T3])
    assert rollback.choose(QA, state, None) == T2
    assert rollback.choose(QA, state, T1) == T1
    assert rollback.choose(QA, databases([T3], [T3]), None) is None


@pytest.mark.parametrize(
    "state, requested, why",
    [
        pytest.param(databases([T1, T3], [T1, T3]), T3, "it is the active database already", id="active"),
        pytest.param(databases([T1, T3], [T1, T2, T3]), T2, "the pointer never named it (never active)", id="never-active"),
        pytest.param(databases([T1, T2, T3], [T2, T3]), T1, "its database was retired", id="retired"),
        pytest.param(databases([T1, T2, T3], [T1, T2, T3], unregistered=[T1]), T1,
                     "its database is not registered (its stack is CREATE_COMPLETE)", id="unregistered"),
        pytest.param(databases([T1, T2, T3], [T1, T2, T3], unavailable=[T1]), T1,
                     "its database is modifying, not available", id="unavailable"),
    ],
)
def test_choose_refuses_a_timestamp_it_cannot_go_back_to(state, requested, why):
    with pytest.raises(BadInput) as raised:
        rollback.choose(QA, state, requested)
    targets = rollback.rollback_targets(state)
    listed = "It can roll back to: %s" % ", ".join(targets) if targets else (
        "It has no previous database to roll back to (see `tenantstack rollback` without --to)")
    assert str(raised.value) == "cannot roll xy-0146-qa back to %s: %s. %s; nothing was changed" % (requested, why, listed)


def test_choose_refuses_a_malformed_timestamp():
    with pytest.raises(naming.NamingError, match="^--to '2026-01-01' is invalid: expected YYYYMMDDtHHMMSSz"):
        rollback.choose(QA, databases([T1, T2], [T1, T2]), "2026-01-01")


def final(timestamp, taken_at):
    return FinalSnapshot(timestamp, "xy-0146-qa-db-%s-final-%s" % (timestamp, taken_at), taken_at, "available")


def test_restore_instructions_list_the_final_snapshots_and_both_ways_back():
    state = databases([T1, T2, T3], [T3])
    finals = [final(T2, T3), final(T1, T2)]
    text = rollback.restore_instructions(QA, VALUES, ENV, state, finals, {"xy-0146-dev-%s" % T2}, NEW)
    assert text == "\n".join([
        "xy-0146-qa has no previous database to roll back to (retain_previous is 0 in environments/xy-0146-qa.env; "
        "active: 20260103t000000z); nothing was changed.",
        "Final snapshots of its previous databases, newest first:",
        "  20260102t000000z  xy-0146-qa-db-20260102t000000z-final-20260103t000000z",
        "  20260101t000000z  xy-0146-qa-db-20260101t000000z-final-20260102t000000z",
        "To bring back the data of 20260102t000000z, the database before the active one:",
        "  as it was promoted (its source snapshot xy-0146-dev-20260102t000000z exists):",
        "    tenantstack deploy environments/xy-0146-qa.env -e db_timestamp=20260102t000000z",
        "  as it was when it was retired (final snapshot xy-0146-qa-db-20260102t000000z-final-20260103t000000z, "
        "restored as 20261201t101500z):",
        "    aws rds copy-db-snapshot --source-db-snapshot-identifier xy-0146-qa-db-20260102t000000z-final-"
        "20260103t000000z --target-db-snapshot-identifier xy-0146-qa-20261201t101500z --kms-key-id "
        "alias/common-nonprod/rds --tags Key=Customer,Value=xy Key=Project,Value=0146 Key=Environment,Value=qa "
        "Key=Namespace,Value=xy-0146-qa Key=CopiedFrom,Value=xy-0146-qa-db-20260102t000000z-final-20260103t000000z",
        "    aws rds wait db-snapshot-available --db-snapshot-identifier xy-0146-qa-20261201t101500z",
        "    tenantstack deploy environments/xy-0146-qa.env -e source_namespace=xy-0146-qa -e "
        "db_timestamp=20261201t101500z",
        "Then set the same db_timestamp (and source_namespace) in environments/xy-0146-qa.env, or its next deploy "
        "moves the tenant forward again. To keep previous databases for a rollback, raise retain_previous there.",
    ])


def test_restore_instructions_without_snapshots_say_what_is_gone():
    text = rollback.restore_instructions(QA, VALUES, ENV, databases([T1, T2], [T2]), [], set(), NEW)
    assert text.splitlines()[1:] == [
        "No final snapshot of a previous database exists.",
        "To bring back the data of 20260101t000000z, the database before the active one:",
        "  as it was promoted: not possible, its source snapshot xy-0146-dev-20260101t000000z is gone",
        "Then set the same db_timestamp (and source_namespace) in environments/xy-0146-qa.env, or its next deploy "
        "moves the tenant forward again. To keep previous databases for a rollback, raise retain_previous there.",
    ]


def test_restore_instructions_after_a_single_deploy():
    text = rollback.restore_instructions(QA, VALUES, ENV, databases([T4], [T4]), [], set(), NEW)
    assert text.splitlines()[1:] == [
        "No final snapshot of a previous database exists.",
        "The pointer never named another database: there is nothing to go back to.",
    ]
