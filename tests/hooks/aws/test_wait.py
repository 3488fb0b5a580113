"""The one poller (hooks/aws/wait.py): looks at once, then every poll_seconds, tells progress on
each change and every minute, and gives up after its budget with the last look."""
import pytest

from hooks.aws.wait import Look, Wait, poll
from hooks.errors import WaitTimedOut
from tests.fake_clock import Clock


def test_gives_up_after_its_budget_with_the_last_look_polling_at_the_deadline():
    clock, looks = Clock(), []

    def look():
        looks.append(clock.now)
        return Look(False, "still creating", value=clock.now)

    with pytest.raises(WaitTimedOut) as raised:
        poll(look, "the thing", Wait(5, 12), progress=lambda line: None, clock=clock, sleep=clock.sleep)
    assert looks == [0, 5, 10, 12]  # the last sleep is cut to the deadline
    assert str(raised.value) == "the thing: still not done after 12 s"
    assert raised.value.last.value == 12


def test_returns_the_done_looks_value_and_how_long_it_waited():
    clock, answers = Clock(), iter([None, None, "ready"])

    def look():
        answer = next(answers)
        return Look(answer is not None, "waiting", answer)

    done = poll(look, "the thing", Wait(2, 60), progress=lambda line: None, clock=clock, sleep=clock.sleep)
    assert (done.value, done.waited_seconds) == ("ready", 4)


def test_progress_on_each_change_and_every_minute_while_nothing_changes():
    clock, lines = Clock(), []
    states = ["creating"] * 4 + ["copying"] * 40

    def look():
        return Look(False, states.pop(0) if states else "copying")

    with pytest.raises(WaitTimedOut):
        poll(look, "the thing", Wait(30, 150), progress=lines.append, clock=clock, sleep=clock.sleep)
    assert lines == [
        "creating (0 s of 150 s)",
        "creating (60 s of 150 s)",
        "copying (120 s of 150 s)",
    ]


def test_a_look_that_sees_a_dead_end_stops_the_wait_with_its_own_error():
    class Broken(Exception):
        pass

    def look():
        raise Broken("the snapshot failed")

    with pytest.raises(Broken):
        poll(look, "the thing", Wait(1, 60), progress=lambda line: None)
