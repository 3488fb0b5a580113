"""bench/calls.py: reading the children's call logs, counting, the peak rate."""
import pytest

from bench import calls


def timeline(*times, service="ssm", operation="GetParameter"):
    return [calls.Call(t, service, operation, 1) for t in times]


@pytest.mark.parametrize(
    "times, peak",
    [
        pytest.param((), 0, id="no-calls"),
        pytest.param((5.0,), 1, id="one-call"),
        pytest.param((0.0, 0.5, 0.99), 3, id="all-within-one-second"),
        pytest.param((0.0, 1.0, 2.0), 1, id="exactly-one-second-apart-is-another-window"),
        pytest.param((0.0, 0.1, 1.25, 1.26, 1.27), 3, id="densest-window-later"),
        pytest.param((0.0, 0.1, 1.05, 1.06), 3, id="window-starts-at-any-call-not-at-whole-seconds"),
        pytest.param((3.0, 0.2, 0.1, 3.5), 2, id="unsorted-input"),
    ],
)
def test_peak_rate_is_the_most_calls_in_any_one_second_window(times, peak):
    assert calls.peak_rate(timeline(*times)) == peak


def test_calls_of_several_processes_merge_into_one_sorted_timeline(tmp_path):
    (tmp_path / "calls-101.log").write_text("2.000000 ssm GetParameter\n4.000000 rds DescribeDBInstances\n")
    (tmp_path / "calls-202.log").write_text("3.000000 cloudformation DescribeStacks\n5.0 ssm Put")  # cut short
    (tmp_path / "other.txt").write_text("1.0 not a call log\n")
    merged = calls.read_calls(tmp_path)
    assert [(c.time, c.name, c.pid) for c in merged] == [
        (2.0, "ssm.GetParameter", 101),
        (3.0, "cloudformation.DescribeStacks", 202),
        (4.0, "rds.DescribeDBInstances", 101),
        (5.0, "ssm.Put", 202),
    ]
    assert calls.process_count(merged) == 2


def test_a_partial_last_line_of_a_killed_child_is_skipped(tmp_path):
    (tmp_path / "calls-7.log").write_text("1.000000 ssm GetParameter\n2.0000")
    assert [c.name for c in calls.read_calls(tmp_path)] == ["ssm.GetParameter"]


def test_counts_by_operation_and_peaks_by_service():
    merged = timeline(0.1, 0.2, service="ssm") + timeline(0.3, 5.0, service="ecs", operation="DescribeServices")
    assert calls.count_by_operation(merged) == {"ssm.GetParameter": 2, "ecs.DescribeServices": 2}
    assert calls.count_by_service(merged) == {"ssm": 2, "ecs": 2}
    assert calls.peak_rate_by_service(merged) == {"ecs": 1, "ssm": 2}
