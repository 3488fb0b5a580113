"""The active pointer's audit trail: each flip as when, from, to and by whom.

SSM keeps every version of /<namespace>/db/active (inventory.pointer_history); the flip
writes each version's description with hooks.steps.pointer.flip_description:
`<new> (was <old>) set by <holder> at <time>`, followed by `; requested latest` when the deploy
asked for db_timestamp `latest` and <new> is what it resolved to. This module reads it back. A version
written by other means (by hand) keeps its raw description and `by` falls back to the
IAM identity SSM recorded.

Pure.
"""
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

# The inverse of hooks.steps.pointer.flip_description (a test keeps the two in step).
FLIP_DESCRIPTION = re.compile(
    r"^(?P<new>\S+) \(was (?P<old>.+)\) set by (?P<holder>.+) at (?P<at>[^\s;]+)(?:; requested (?P<requested>\S+))?$"
)


@dataclass(frozen=True)
class Flip:
    version: int
    at: datetime
    from_timestamp: Optional[str]  # None: the first version
    to_timestamp: str
    by: Optional[str]  # the deploy's lock holder (a CodeBuild build id, or user@host:pid)
    description: Optional[str]
    requested: Optional[str] = None  # "latest": the deploy asked for the newest snapshot; to_timestamp is what it was


def requested_of(description):
    """What the deploy asked for when it was not the timestamp itself (`latest`), None otherwise."""
    match = FLIP_DESCRIPTION.match(description or "")
    return match.group("requested") if match else None


def holder_of(description):
    """The holder a flip description names, None when it is not one."""
    match = FLIP_DESCRIPTION.match(description or "")
    return match.group("holder") if match else None


def flips(history):
    """One Flip per pointer version (inventory.PointerChange), oldest first."""
    result, previous = [], None
    for change in sorted(history, key=lambda change: change.version):
        result.append(
            Flip(
                version=change.version,
                at=change.modified_at,
                from_timestamp=previous,
                to_timestamp=change.value,
                by=holder_of(change.description) or change.user,
                description=change.description,
                requested=requested_of(change.description),
            )
        )
        previous = change.value
    return result
