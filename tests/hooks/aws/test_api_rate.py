"""hooks/aws/api_rate.py: the token bucket (pure, driven by a hand clock), the process-wide ceiling on
botocore's before-send, and a real stacker child that takes its rate from TENANTSTACK_MAX_API_RATE.

Timings are asserted as lower bounds only: a limiter's minimum duration holds on any machine,
however loaded; an upper bound would not."""
import json
import math
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from hooks.aws import api_rate, drills
from hooks.aws import clients as aws_clients
from tests.e2e.stacker_cli import REPO


class HandClock:
    """A clock that moves only when the bucket sleeps (`late`: how much longer each sleep takes)."""

    def __init__(self, now=100.0, late=lambda: 0.0):
        self.now, self.late = now, late

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds + self.late()


def bucket_on(clock, rate, **kwargs):
    return api_rate.TokenBucket(rate, clock=clock, sleep=clock.sleep, **kwargs)


def release_times(bucket, clock, arrivals):
    """When each request leaves, for requests of one caller arriving at `arrivals` (sorted)."""
    times = []
    for arrival in arrivals:
        clock.now = max(clock.now, arrival)
        bucket.acquire()
        times.append(clock.now)
    return times


def peak(times, window=1.0):
    """The most of `times` in any half-open window [t, t + window) (how bench/calls.py counts)."""
    times = sorted(times)
    return max(sum(1 for other in times if start <= other < start + window) for start in times)


@pytest.fixture
def no_ceiling():
    """Whatever a test installs is gone after it."""
    yield
    api_rate.install(None)


# --- the bucket ---------------------------------------------------------------------------------


def test_a_bucket_starts_empty_and_spaces_requests_one_interval_apart():
    clock = HandClock(0.0)
    bucket = bucket_on(clock, 5)
    assert [round(bucket.acquire(), 9) for _ in range(4)] == [0.2] * 4
    assert round(clock.now, 9) == 0.8


def test_a_burst_spends_the_saved_tokens_then_waits_and_saving_stops_at_the_capacity():
    clock = HandClock()
    bucket = bucket_on(clock, 5, capacity=3, tokens=3)
    assert [round(bucket.acquire(), 9) for _ in range(4)] == [0.0, 0.0, 0.0, 0.2]
    clock.now += 100  # idle: the bucket refills to its capacity, not to 500 tokens
    assert [round(bucket.acquire(), 9) for _ in range(4)] == [0.0, 0.0, 0.0, 0.2]


@pytest.mark.parametrize(
    "every, expected",
    [
        pytest.param(0.1, [0.2, 0.4, 0.6, 0.8, 1.0, 1.2], id="faster-than-the-rate-queues"),
        pytest.param(0.5, [0.2, 0.5, 1.0, 1.5, 2.0, 2.5], id="slower-than-the-rate-goes-at-once"),
    ],
)
def test_a_steady_stream_is_held_to_the_rate(every, expected):
    clock = HandClock(0.0)
    times = release_times(bucket_on(clock, 5), clock, [every * n for n in range(6)])
    assert [round(t, 9) for t in times] == expected


def test_a_caller_that_wakes_late_does_not_let_the_next_go_early():
    clock = HandClock(0.0, late=lambda: 0.3)  # every sleep ends 0.3 s late: a starved process
    times = release_times(bucket_on(clock, 5), clock, [0.0, 0.0, 0.0])
    assert [round(t, 9) for t in times] == [0.5, 1.0, 1.5]  # 0.2 due + 0.3 late, each from the last


@pytest.mark.parametrize("rate", [5, 4.5, 13.3, 0.5])
@pytest.mark.parametrize("late", [0.0, 0.3], ids=["on-time", "waking-late"])
def test_any_one_second_holds_at_most_ceil_rate_requests(rate, late):
    """The property the fleet's budget rests on, for bursty arrivals and a busy machine."""
    generator = random.Random(146)
    clock = HandClock(0.0, late=lambda: generator.uniform(0, late))
    arrivals, now = [], 0.0
    for _ in range(60):  # bursts of up to 25 requests, then up to 3 s of silence
        now += generator.uniform(0, 3)
        arrivals += [now + generator.uniform(0, 0.05) for _ in range(generator.randint(1, 25))]
    times = release_times(bucket_on(clock, rate), clock, sorted(arrivals))
    # Requests exactly 1 s apart belong to two windows; 1e-9 s absorbs the float rounding of "exactly".
    assert peak(times, window=1.0 - 1e-9) <= math.ceil(rate)
    assert min(b - a for a, b in zip(times, times[1:])) >= 1 / rate - 1e-9


def test_threads_take_turns_one_interval_each():
    clock = HandClock()
    bucket = bucket_on(clock, 10)
    slept, start = [], threading.Barrier(20)

    def take():
        start.wait(10)
        slept.append(bucket.acquire())

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [round(seconds, 9) for seconds in slept] == [0.1] * 20  # each waited its own interval, none shared
    assert round(clock.now, 9) == 102.0


def test_threads_on_the_real_clock_take_at_least_the_minimum_time():
    started = time.monotonic()  # before the bucket: it starts empty
    bucket = api_rate.TokenBucket(50)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(3)]) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert time.monotonic() - started >= 18 / 50  # 18 tokens at 50 a second


@pytest.mark.parametrize(
    "arguments, message",
    [
        pytest.param({"rate": 0}, "token bucket rate 0 is invalid: expected a number of tokens per second > 0",
                     id="rate-zero"),
        pytest.param({"rate": float("inf")},
                     "token bucket rate inf is invalid: expected a number of tokens per second > 0", id="rate-inf"),
        pytest.param({"rate": 5, "capacity": 0.5}, "token bucket capacity 0.5 is invalid: expected a number >= 1",
                     id="capacity"),
        pytest.param({"rate": 5, "tokens": 2}, "token bucket tokens 2 is invalid: expected 0 to the capacity 1.0",
                     id="tokens"),
    ],
)
def test_a_bad_bucket_is_refused(arguments, message):
    with pytest.raises(ValueError) as raised:
        api_rate.TokenBucket(**arguments)
    assert str(raised.value) == message


# --- the rate a parent hands down -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, rate",
    [
        pytest.param("", None, id="unset"),
        pytest.param("0", None, id="zero-no-limit"),
        pytest.param("5.0", 5.0, id="share"),
        pytest.param(" 13.333333333333334 ", 13.333333333333334, id="float-share"),
    ],
)
def test_parse_rate(text, rate):
    assert api_rate.parse_rate(text) == rate


@pytest.mark.parametrize("text", ["-1", "fast", "nan", "inf"])
def test_parse_rate_refuses_a_bad_value(text):
    with pytest.raises(ValueError) as raised:
        api_rate.parse_rate(text, "--max-api-rate")
    assert str(raised.value) == (
        "--max-api-rate %r is invalid: expected API calls per second, a number >= 0 (0: no limit), e.g. 40" % text)


def test_install_from_environment_sets_and_clears_the_ceiling(no_ceiling):
    assert api_rate.install_from_environment({api_rate.RATE_VARIABLE: "2.5"}) == 2.5
    assert api_rate.current_rate() == 2.5
    assert api_rate.install_from_environment({}) is None
    assert api_rate.current_rate() is None


def test_the_ceiling_aims_one_percent_below_the_rate_it_is_given(no_ceiling):
    api_rate.install(5)
    assert (api_rate.current_rate(), api_rate._STATE.bucket.rate) == (5.0, 4.95)


@pytest.mark.parametrize("rate", [-3, float("nan"), "5", True])
def test_install_refuses_a_bad_rate(rate, no_ceiling):
    with pytest.raises(ValueError) as raised:
        api_rate.install(rate)
    assert str(raised.value) == (
        "API rate %r is invalid: expected requests per second, a number >= 0 (0: none)" % (rate,))


def test_a_bad_rate_leaves_the_ceiling_as_it_was(no_ceiling):
    api_rate.install(3)
    with pytest.raises(ValueError):
        api_rate.install_from_environment({api_rate.RATE_VARIABLE: "-3"})
    assert api_rate.current_rate() == 3.0


# --- every botocore session of the process ------------------------------------------------------


def test_limited_holds_every_new_session_to_the_rate_and_then_lets_go(aws, no_ceiling):
    sent = []
    started = time.monotonic()  # before the bucket: it starts empty
    with api_rate.limited(20):
        client = aws.client("ssm")  # a boto3 session of its own, made inside the block
        client.meta.events.register("before-send", lambda **kwargs: sent.append(time.monotonic()))
        for _ in range(6):
            client.describe_parameters()
        assert sent[-1] - started >= 6 / 20  # the 6th request waits for the 6th token
        assert api_rate.current_rate() == 20.0
    assert api_rate.current_rate() is None
    client.describe_parameters()  # no ceiling now: the handler it still carries does nothing
    assert len(sent) == 7


def test_the_hooks_sessions_count_every_attempt_retries_and_drills_included(aws, monkeypatch, no_ceiling):
    for key, value in aws.env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv(drills.THROTTLE_VARIABLE, "ssm.DescribeParameters*2")
    aws_clients.session()  # this thread's session may well exist before the ceiling does
    taken, acquire = [], api_rate.TokenBucket.acquire
    monkeypatch.setattr(api_rate.TokenBucket, "acquire", lambda bucket: taken.append(bucket.rate) or acquire(bucket))
    api_rate.install(1000)
    assert aws_clients.client("ssm").describe_parameters()["ResponseMetadata"]["RetryAttempts"] == 2
    assert taken == [1000.0 * api_rate.HEADROOM] * 3  # two throttled attempts and the one that went through


# --- a real stacker child -----------------------------------------------------------------------

CHILD_RATE, CHILD_CALLS = 4.0, 7


def make_calls(provider, context, count, report, **kwargs):
    """A stacker pre_build hook (run by the child below): `count` SSM calls, timed, and the rate in force."""
    ssm = aws_clients.client("ssm", provider.region)
    started = time.monotonic()
    for _ in range(int(count)):
        ssm.describe_parameters(MaxResults=1)
    Path(report).write_text(json.dumps({"seconds": time.monotonic() - started, "rate": api_rate.current_rate()}))
    return {"status": "ok"}


def test_a_stacker_child_takes_its_rate_from_the_parent(aws, tmp_path):
    report = tmp_path / "report.json"
    config = tmp_path / "probe.yaml"
    config.write_text(textwrap.dedent("""\
        namespace: ratetest
        stacker_bucket: ""
        cfngin_bucket: ""
        sys_path: %s
        pre_build: &pre
          - path: tests.hooks.aws.test_api_rate.make_calls
            required: true
            args:
              count: %d
              report: %s
        pre_deploy: *pre
        stacks: []
        """ % (REPO, CHILD_CALLS, report)))
    env_file = tmp_path / "probe.env"
    env_file.write_text("namespace: ratetest\n")
    outcome = tmp_path / "outcome.json"
    env = dict(aws.env, **{api_rate.RATE_VARIABLE: repr(CHILD_RATE)})
    finished = subprocess.run(
        [sys.executable, "-m", "hooks.run.stacker_child", str(outcome), "build", str(env_file), str(config)],
        cwd=str(REPO), env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(outcome.read_text())["exit_code"] == 0, finished.stderr[-3000:]
    measured = json.loads(report.read_text())
    assert measured["rate"] == CHILD_RATE
    # One token may have been saved up since the child started; every other call waits its interval.
    assert measured["seconds"] >= (CHILD_CALLS - 1) / CHILD_RATE


# --- one bucket shared by processes (a fleet's budget) ---------------------------------------------


def shared_bucket_on(path, clock, rate):
    return api_rate.SharedBucket(path, rate, clock=clock, sleep=clock.sleep)


def test_a_shared_bucket_starts_empty_and_spaces_requests_of_every_opener_one_interval_apart(tmp_path):
    clock = HandClock(0.0)
    path = api_rate.SharedBucket.create(tmp_path / "bucket", clock=clock)
    first, second = shared_bucket_on(path, clock, 5), shared_bucket_on(path, clock, 5)  # two processes' views
    assert [round(bucket.acquire(), 9) for bucket in (first, second, first, second)] == [0.2] * 4
    assert round(clock.now, 9) == 0.8


def test_a_shared_bucket_left_idle_saves_up_one_token_only(tmp_path):
    clock = HandClock(0.0)
    path = api_rate.SharedBucket.create(tmp_path / "bucket", clock=clock)
    clock.now += 100
    buckets = [shared_bucket_on(path, clock, 5) for _ in range(3)]
    assert [round(bucket.acquire(), 9) for bucket in buckets] == [0.0, 0.2, 0.2]


@pytest.mark.parametrize("openers", [1, 3, 8])
@pytest.mark.parametrize("late", [0.0, 0.3], ids=["on-time", "waking-late"])
def test_any_one_second_of_a_shared_bucket_holds_at_most_ceil_rate_requests(tmp_path, openers, late):
    generator = random.Random(16)
    clock = HandClock(0.0, late=lambda: generator.uniform(0, late))
    path = api_rate.SharedBucket.create(tmp_path / "bucket", clock=clock)
    buckets = [shared_bucket_on(path, clock, 7.5) for _ in range(openers)]
    arrivals, now = [], 0.0
    for _ in range(40):
        now += generator.uniform(0, 2)
        arrivals += [now + generator.uniform(0, 0.05) for _ in range(generator.randint(1, 20))]
    times = []
    for arrival in sorted(arrivals):
        clock.now = max(clock.now, arrival)
        generator.choice(buckets).acquire()
        times.append(clock.now)
    assert peak(times, window=1.0 - 1e-9) <= math.ceil(7.5)


def test_install_draws_from_the_bucket_file_a_parent_names(tmp_path, no_ceiling):
    path = api_rate.SharedBucket.create(tmp_path / "bucket")
    assert api_rate.install_from_environment({api_rate.RATE_VARIABLE: "8", api_rate.BUCKET_VARIABLE: str(path)}) == 8
    assert isinstance(api_rate._STATE.bucket, api_rate.SharedBucket)
    assert (api_rate._STATE.bucket.path, api_rate._STATE.bucket.rate) == (str(path), 8 * api_rate.HEADROOM)


def test_a_bucket_file_that_is_not_there_is_refused_and_the_ceiling_stays(tmp_path, no_ceiling):
    api_rate.install(3)
    with pytest.raises(ValueError) as raised:
        api_rate.install_from_environment({api_rate.RATE_VARIABLE: "8", api_rate.BUCKET_VARIABLE: "/nowhere/b"})
    assert str(raised.value) == ("API rate bucket /nowhere/b is invalid: expected the file a parent made "
                                 "(TENANTSTACK_API_BUCKET)")
    assert api_rate.current_rate() == 3.0


def test_shared_ceiling_makes_one_file_for_the_block_and_removes_it(no_ceiling):
    with api_rate.shared_ceiling(40) as variables:
        path = variables[api_rate.BUCKET_VARIABLE]
        assert variables[api_rate.RATE_VARIABLE] == "40.0" and Path(path).is_file()
        assert api_rate._STATE.bucket.path == path
    assert not Path(path).exists() and api_rate.current_rate() is None
    with api_rate.shared_ceiling(None) as variables:
        assert variables == {} and api_rate.current_rate() is None


# The proof the fleet's budget rests on, with real processes: each worker (a deploy's stacker
# process) and the parent (a failed deploy's clean-up) sends requests through botocore to the local
# endpoint, drawing from one bucket file; each records every attempt after the bucket let it go
# (a before-send handler after the ceiling's, as bench/child/sitecustomize.py counts them), one
# of them throttled by a drill and retried. The records, merged, must hold at most BUDGET requests
# in any 1-second window, whatever the number of processes: no timing is asserted.
BUDGET, REQUESTS, HEAD_START_SECONDS = 25, 40, 1.5  # the workers' imports take about 0.5 s
WORKER = textwrap.dedent("""\
    import sys, time
    from hooks.aws import api_rate, clients
    api_rate.install_from_environment()
    record = open(sys.argv[1], "a")

    def note(**kwargs):
        record.write("%.6f\\n" % time.monotonic())

    clients.session().events.register("before-send", note)  # after the ceiling's handler
    ssm = clients.client("ssm")  # adaptive retries; the drill throttles its first DescribeParameters
    time.sleep(max(0, float(sys.argv[3]) - time.monotonic()))  # all start together: the bucket is contended
    for _ in range(int(sys.argv[2])):
        ssm.describe_parameters(MaxResults=1)
    record.close()
    """)


@pytest.mark.parametrize("parallel", [1, 3, 8])
def test_a_fleets_processes_together_stay_within_the_budget_in_every_second(aws, tmp_path, parallel, no_ceiling):
    records = tmp_path / "records"
    records.mkdir()
    per_worker, start = REQUESTS // (parallel + 1), time.monotonic() + HEAD_START_SECONDS
    with api_rate.shared_ceiling(BUDGET) as variables:
        env = dict(aws.env, **variables)
        # Worker 0 has its first request throttled and retried (adaptive retries then slow that worker down).
        throttled = dict(env, **{drills.THROTTLE_VARIABLE: "ssm.DescribeParameters"})
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(records / ("worker-%d" % n)), str(per_worker),
                                     repr(start)], cwd=str(REPO), env=throttled if n == 0 else env)
                   for n in range(parallel)]
        sent = []
        client = aws.client("ssm")  # made inside the block: held to the shared bucket, as the clean-up is
        client.meta.events.register("before-send", lambda **kwargs: sent.append(time.monotonic()))
        time.sleep(max(0, start - time.monotonic()))
        for _ in range(per_worker):
            client.describe_parameters(MaxResults=1)
        assert [worker.wait(120) for worker in workers] == [0] * parallel
    times = sent + [float(line) for path in records.iterdir() for line in path.read_text().split()]
    assert len(times) == per_worker * (parallel + 1) + 1  # every request, the throttled one's retry too
    assert peak(times) <= BUDGET
