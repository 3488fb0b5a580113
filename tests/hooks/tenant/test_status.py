"""hooks/tenant/status.py: each database's role agrees with the retirement plan."""
import pytest

from hooks.steps import retire
from hooks.tenant import status as tenant_status
from hooks.tenant.status import ACTIVE, IN_FLIGHT, ORPHAN, REFERENCED, RETAINED
from tests.hooks.tenant.test_inventory import T1, T2, T3, T4, database

T5 = "20260105t000000z"


def roles(existing, active=T5, in_flight=(), recently_active=(), retain_previous=0, referenced=()):
    found = tenant_status.database_roles(
        [database(ts) for ts in existing], active, set(in_flight), list(recently_active), retain_previous, set(referenced)
    )
    return [(role.timestamp, role.role, role.action, role.reason) for role in found]


KEEP, RETIRE = retire.KEEP, retire.RETIRE


@pytest.mark.parametrize(
    "case, expected",
    [
        pytest.param(
            dict(existing=[T1, T2, T3, T4, T5], in_flight=[T4], recently_active=[T3, T1], retain_previous=1,
                 referenced=[T2]),
            [
                (T1, ORPHAN, RETIRE, "previously active, beyond retain_previous=1"),
                (T2, REFERENCED, KEEP, "referenced by the running task definition"),
                (T3, RETAINED, KEEP, "retained: previous #1"),
                (T4, IN_FLIGHT, KEEP, "in flight"),
                (T5, ACTIVE, KEEP, "active"),
            ],
            id="every-role",
        ),
        pytest.param(
            dict(existing=[T1, T5], recently_active=[T1]),
            [(T1, ORPHAN, RETIRE, "previously active, beyond retain_previous=0"), (T5, ACTIVE, KEEP, "active")],
            id="retain-0",
        ),
        pytest.param(
            dict(existing=[T1, T5], active=T5, in_flight=[T5]),
            [(T1, ORPHAN, RETIRE, "never active: leftover of a failed run"), (T5, ACTIVE, KEEP, "active")],
            id="redeploy-of-the-active",
        ),
        pytest.param(
            dict(existing=[T1, T2], active=None, in_flight=[T2]),
            [
                (T1, ORPHAN, KEEP, "no active database yet: nothing is retired before the first flip"),
                (T2, IN_FLIGHT, KEEP, "in flight"),
            ],
            id="before-the-first-flip",
        ),
        pytest.param(dict(existing=[]), [], id="nothing"),
    ],
)
def test_database_roles(case, expected):
    assert roles(**case) == expected
