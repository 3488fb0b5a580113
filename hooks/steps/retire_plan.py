"""Which databases a tenant keeps after a flip, and why: the retirement plan, pure.

After the pointer flips, the tenant should have exactly the active database plus the
`retain_previous` most recently active previous ones. Everything else is retired. Never
retired: the active database, one in flight, one the service's task definitions
reference. hooks/steps/retire.py acts on the plan; `tenantstack status` and `reap` show it.
"""
from dataclasses import dataclass

KEEP, RETIRE = "keep", "retire"


@dataclass(frozen=True)
class Decision:
    timestamp: str
    action: str  # KEEP or RETIRE
    reason: str


def plan_retirement(databases, active, in_flight, recently_active, retain_previous, referenced):
    """One Decision per database, in timestamp order.

    `recently_active`: previously active timestamps, newest first, without `active`
    (inventory.previously_active). The `retain_previous` newest of those that still exist
    are kept; so are the active database, those in flight and those referenced.
    """
    if isinstance(retain_previous, bool) or not isinstance(retain_previous, int) or retain_previous < 0:
        raise ValueError("retain_previous %r is invalid: expected a whole number >= 0" % (retain_previous,))
    existing = sorted({database.timestamp for database in databases})
    ranks = {}
    for timestamp in recently_active:
        if timestamp in existing and timestamp != active and timestamp not in ranks:
            ranks[timestamp] = len(ranks) + 1
    in_flight, referenced = set(in_flight), set(referenced)
    decisions = []
    for timestamp in existing:
        action, reason = _decide(timestamp, active, in_flight, referenced, ranks.get(timestamp), retain_previous)
        decisions.append(Decision(timestamp, action, reason))
    return decisions


def _decide(timestamp, active, in_flight, referenced, rank, retain_previous):
    if timestamp == active:
        return KEEP, "active"
    if timestamp in in_flight:
        return KEEP, "in flight"
    if timestamp in referenced:
        return KEEP, "referenced by the running task definition"
    if active is None:
        return KEEP, "no active database yet: nothing is retired before the first flip"
    if rank is None:
        return RETIRE, "never active: leftover of a failed run"
    if rank <= retain_previous:
        return KEEP, "retained: previous #%d" % rank
    return RETIRE, "previously active, beyond retain_previous=%d" % retain_previous
