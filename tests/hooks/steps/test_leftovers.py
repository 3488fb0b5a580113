import pytest

from hooks.steps import leftovers

TS = "20261115t120000z"


@pytest.mark.parametrize(
    "active, instance, stack, cleared",
    [
        pytest.param(None, None, None, False, id="nothing-there-first-creation"),
        pytest.param(TS, "available", "CREATE_COMPLETE", False, id="re-run-of-the-active-one"),
        pytest.param("20261101t090000z", "available", "CREATE_COMPLETE", False, id="rollback-to-a-retained-one"),
        pytest.param("20261101t090000z", "available", "UPDATE_ROLLBACK_COMPLETE", False, id="usable-after-rollback"),
        pytest.param("20261101t090000z", "available", None, True, id="instance-without-stack"),
        pytest.param("20261101t090000z", "available", "ROLLBACK_COMPLETE", True, id="failed-create-rolled-back"),
        pytest.param("20261101t090000z", None, "ROLLBACK_COMPLETE", True, id="failed-stack-without-instance"),
        pytest.param(TS, "available", None, False, id="never-the-active-one"),
    ],
)
def test_leftover_reason(active, instance, stack, cleared):
    reason = leftovers.leftover_reason(TS, active, instance, stack)
    assert (reason is not None) == cleared
    if cleared:
        assert reason == "a failed earlier run left it behind (instance: %s, stack: %s)" % (
            instance or "none",
            stack or "none",
        )
