"""hooks/tenant/audit_trail.py: the pointer's versions read back as flips."""
import datetime

import pytest

from hooks.steps import pointer
from hooks.tenant import audit_trail
from hooks.tenant.inventory import PointerChange

AT = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
T1, T2 = "20261101t090000z", "20261115t120000z"


@pytest.mark.parametrize(
    "previous, holder",
    [
        pytest.param(None, "alice@ci-1:4242", id="first-deploy"),
        pytest.param(T1, "xy-0146-qa-deploy:0b8f6a3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b", id="codebuild-build"),
        pytest.param(T1, "bob smith@laptop (home):77", id="spaces-and-parentheses"),
    ],
)
def test_holder_of_reads_what_flip_description_wrote(previous, holder):
    assert audit_trail.holder_of(pointer.flip_description(previous, T2, holder, AT)) == holder


@pytest.mark.parametrize("description", [None, "", "set by hand", "%s set by alice at noon" % T2])
def test_holder_of_a_description_the_flip_did_not_write_is_none(description):
    assert audit_trail.holder_of(description) is None


def test_flips_follow_the_versions_and_fall_back_to_the_ssm_user():
    history = [
        PointerChange(2, T2, pointer.flip_description(T1, T2, "ci:2", AT), AT, "arn:aws:iam::1:role/ci"),
        PointerChange(1, T1, "set by hand during the migration", AT, "arn:aws:iam::1:user/alice"),
    ]
    assert audit_trail.flips(history) == [
        audit_trail.Flip(1, AT, None, T1, "arn:aws:iam::1:user/alice", "set by hand during the migration"),
        audit_trail.Flip(2, AT, T1, T2, "ci:2", history[0].description),
    ]
    assert audit_trail.flips([]) == []


@pytest.mark.parametrize(
    "holder",
    [
        pytest.param("xy-0146-qa-deploy:0b8f6a3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b", id="codebuild-build"),
        pytest.param("bob smith@laptop (home) at noon:77", id="holder-with-at"),
    ],
)
def test_a_flip_of_latest_keeps_its_holder_and_what_was_requested(holder):
    description = pointer.flip_description(T1, T2, holder, AT, requested="latest")
    assert description.endswith("; requested latest")
    assert (audit_trail.holder_of(description), audit_trail.requested_of(description)) == (holder, "latest")
    (first, second) = audit_trail.flips([PointerChange(1, T1, pointer.flip_description(None, T1, holder, AT), AT, None),
                                         PointerChange(2, T2, description, AT, None)])
    assert (first.requested, second.requested, second.to_timestamp, second.by) == (None, "latest", T2, holder)


def test_only_latest_reaches_the_record_from_the_deploys_environment():
    assert pointer.requested_timestamp({pointer.REQUESTED_VARIABLE: "latest"}) == "latest"
    assert pointer.requested_timestamp({pointer.REQUESTED_VARIABLE: T2}) is None
    assert pointer.requested_timestamp({}) is None
