"""A ceiling on this process's AWS API requests per second: a token bucket on botocore's before-send.

    install(5.0)                  # from now on, every botocore session of this process sends
                                  # at most 5 requests a second (retries included)
    install_from_environment()    # the rate a parent put in TENANTSTACK_MAX_API_RATE (unset, 0: none),
                                  # drawn from the shared bucket TENANTSTACK_API_BUCKET names, if any
    with limited(5.0): ...        # the same, for a block; the previous ceiling comes back after it
    with shared_ceiling(40.0) as child_env: ...  # ONE bucket of 40/s for this process and every child
                                  # process given `child_env` (a fleet: docs/deploy.md, "API rate budget")

Who uses it (docs/deploy.md, "API rate budget"): `tenantstack deploy --max-api-rate R`
(one deploy or a fleet) makes ONE bucket of R in a file (SharedBucket, `shared_ceiling`) and
gives every stacker child its rate and the file (TENANTSTACK_MAX_API_RATE,
TENANTSTACK_API_BUCKET); the child's entry point (hooks/run/stacker_child.py) installs it
before stacker starts, so stacker's own sessions, the hooks' and every other process of the
fleet draw from that one bucket, and so does the deploying process's own clean-up after a
failed deploy. A deploy's idle share is nobody's: whoever asks next gets the next token.

How: `install` wraps botocore.session.Session.__init__ once, so every session made
afterwards (stacker makes its own, hooks/aws/clients.py one per thread) registers `_before_send`
first on its `before-send` event, which botocore emits for every HTTP request, retries
included. The handler takes a token from the process's current bucket and sleeps until it
may send. hooks/aws/clients.py attaches its sessions itself, whenever they were made; other
sessions made before the first `install` are not limited.

The bucket (TokenBucket in one process, SharedBucket across processes) holds at most
BURST = 1 token, starts empty and runs 1 % below the rate (HEADROOM): requests leave at
least 1 / (0.99 * rate) seconds apart, counted from when each really left, and the first
waits that long after the bucket was made. So any 1-second window holds at most
ceil(0.99 * rate) <= ceil(rate) of the requests drawn from one bucket, whichever processes
and threads sent them: a fleet sharing one SharedBucket of R stays within R requests in
any second for integer R, at any --parallel.

SharedBucket keeps its one number, the monotonic time of the last grant (CLOCK_MONOTONIC
is one clock for every process of the machine), in a small file that every process takes
an exclusive flock on to read and move it: a process that dies holding the lock loses it
with its descriptor. One thread of a process at a time waits on the file (the others queue
on a threading lock behind it), so processes take turns, not threads.
"""
import contextlib
import fcntl
import math
import os
import shutil
import struct
import tempfile
import threading
import time

RATE_VARIABLE = "TENANTSTACK_MAX_API_RATE"
BUCKET_VARIABLE = "TENANTSTACK_API_BUCKET"  # the file of a SharedBucket every process of a fleet draws from
BURST = 1.0  # tokens a bucket saves up: requests are never closer than 1/rate
EVENT = "before-send"
HANDLER_ID = "tenantstack-api-rate"
ROUNDING = 1e-9  # a token short by float rounding after an exact sleep is a whole token
# A ceiling aims 1 % below the rate it is given: at a whole number of requests per second,
# the one that would make a second's count too many comes 10 ms after that second, which
# absorbs the moment between the bucket letting a request go and the request being sent
# (or counted) on a busy machine, where a process can be descheduled in between.
HEADROOM = 0.99


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up, `tokens` at the start.

    `acquire()` waits until a token is there and takes it. Callers take turns: one waits,
    the others queue behind it. A token is taken when its caller has woken up, so a caller
    that wakes late (a busy machine) does not let the next one go early: the requests
    really sent keep their spacing. `clock` and `sleep` are injectable (tests drive them).
    """

    def __init__(self, rate, capacity=BURST, tokens=0.0, clock=time.monotonic, sleep=time.sleep):
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise ValueError("token bucket rate %r is invalid: expected a number of tokens per second > 0" % (rate,))
        if not (isinstance(capacity, (int, float)) and capacity >= 1):
            raise ValueError("token bucket capacity %r is invalid: expected a number >= 1" % (capacity,))
        if not 0 <= tokens <= capacity:
            raise ValueError("token bucket tokens %r is invalid: expected 0 to the capacity %r" % (tokens, capacity))
        self.rate, self.capacity = float(rate), float(capacity)
        self._clock, self._sleep = clock, sleep
        self._tokens, self._updated = float(tokens), clock()
        self._guard = threading.Lock()

    def acquire(self):
        """Wait until a token is there, then take it; the seconds slept."""
        slept = 0.0
        with self._guard:
            while True:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1.0 - ROUNDING:
                    self._tokens -= 1.0
                    return slept
                wait = (1.0 - self._tokens) / self.rate
                self._sleep(wait)
                slept += wait


class SharedBucket:
    """A TokenBucket of capacity 1 whose state lives in a file, for every process that opens it.

    The file holds the monotonic time of the last grant (8 bytes). `acquire()` takes an
    exclusive flock, grants a token when 1/rate has passed since the last grant (and records
    now), else lets go of the lock and sleeps until then. A grant is recorded when its caller
    really took it, so a caller that wakes late does not let the next one go early.
    `create(path)` makes a bucket that starts empty (its last grant: now).
    """

    RECORD = struct.Struct("d")

    def __init__(self, path, rate, clock=time.monotonic, sleep=time.sleep):
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise ValueError("token bucket rate %r is invalid: expected a number of tokens per second > 0" % (rate,))
        self.path, self.rate = str(path), float(rate)
        self._clock, self._sleep = clock, sleep
        self._guard = threading.Lock()
        self._opened = None  # (pid, descriptor): a forked child opens its own (a shared flock excludes no one)

    @classmethod
    def create(cls, path, clock=time.monotonic):
        """Write a new, empty bucket file at `path` (its last grant: now)."""
        descriptor = os.open(str(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, cls.RECORD.pack(clock()))
        finally:
            os.close(descriptor)
        return path

    def _descriptor(self):
        if self._opened is None or self._opened[0] != os.getpid():
            self._opened = (os.getpid(), os.open(self.path, os.O_RDWR))
        return self._opened[1]

    def acquire(self):
        """Wait until a token is there, then take it; the seconds slept."""
        slept, interval = 0.0, 1.0 / self.rate
        with self._guard:
            descriptor = self._descriptor()
            while True:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                try:
                    record = os.pread(descriptor, self.RECORD.size, 0)
                    now = self._clock()
                    last = self.RECORD.unpack(record)[0] if len(record) == self.RECORD.size else now
                    wait = last + interval - now
                    if wait <= ROUNDING * interval:
                        os.pwrite(descriptor, self.RECORD.pack(now), 0)
                        return slept
                finally:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
                self._sleep(wait)
                slept += wait


class _State:
    rate = None  # the ceiling installed, requests per second; None: none
    bucket = None  # the TokenBucket (at rate * HEADROOM) every limited session takes from
    wrapped = False


_STATE = _State()
_WRAP_GUARD = threading.Lock()


def parse_rate(text, source=RATE_VARIABLE):
    """Requests per second from text: a number > 0, or None for no ceiling ('' or 0). ValueError names `source`."""
    try:
        rate = float(text) if str(text).strip() else 0.0
    except ValueError:
        rate = float("nan")
    if not math.isfinite(rate) or rate < 0:
        raise ValueError("%s %r is invalid: expected API calls per second, a number >= 0 (0: no limit), e.g. 40"
                         % (source, text))
    return rate or None


def current_rate():
    """The ceiling in force in this process (requests per second), None when there is none."""
    return _STATE.rate


def install(rate, shared=None):
    """From now on, this process's botocore sessions send at most `rate` requests a second (None, 0: no ceiling).

    `shared`: the file of a SharedBucket (made with SharedBucket.create) to draw from, with every
    other process that draws from it; None: a bucket of this process's own."""
    if not rate:
        _STATE.rate = _STATE.bucket = None
        return
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate < 0:
        raise ValueError("API rate %r is invalid: expected requests per second, a number >= 0 (0: none)" % (rate,))
    if shared and not os.path.isfile(str(shared)):
        raise ValueError("API rate bucket %s is invalid: expected the file a parent made (%s)"
                         % (shared, BUCKET_VARIABLE))
    bucket = SharedBucket(shared, rate * HEADROOM) if shared else TokenBucket(rate * HEADROOM)
    _wrap_sessions()
    _STATE.rate, _STATE.bucket = float(rate), bucket


def install_from_environment(environ=None):
    """install() the rate of TENANTSTACK_MAX_API_RATE, from the bucket file TENANTSTACK_API_BUCKET names
    (if it does); the rate, or None. ValueError for a bad value."""
    environ = os.environ if environ is None else environ
    rate = parse_rate(environ.get(RATE_VARIABLE, ""))
    install(rate, environ.get(BUCKET_VARIABLE) or None)
    return rate


@contextlib.contextmanager
def limited(rate, shared=None):
    """install(rate, shared) for the block, then the ceiling that was in force before."""
    previous = _STATE.rate, _STATE.bucket
    install(rate, shared)
    try:
        yield
    finally:
        _STATE.rate, _STATE.bucket = previous


def child_variables(rate, shared=None):
    """The environment variables that hold a child process to `rate` (from the bucket file `shared`); {} for none."""
    if not rate:
        return {}
    variables = {RATE_VARIABLE: repr(float(rate))}
    if shared:
        variables[BUCKET_VARIABLE] = str(shared)
    return variables


@contextlib.contextmanager
def shared_ceiling(rate):
    """For the block: ONE bucket of `rate` requests a second, in a new file, for this process (installed,
    as `limited` does) and every child process started with the variables it yields
    (TENANTSTACK_MAX_API_RATE, TENANTSTACK_API_BUCKET; {} without a rate). The file goes after the block."""
    if not rate:
        with limited(None):
            yield {}
        return
    directory = tempfile.mkdtemp(prefix="tenantstack-api-budget-")
    path = SharedBucket.create(os.path.join(directory, "bucket"))
    try:
        with limited(rate, path):
            yield child_variables(rate, path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _before_send(**kwargs):
    bucket = _STATE.bucket
    if bucket is not None:
        bucket.acquire()
    return None  # never answer the request ourselves


def attach(events):
    """Make a session's event emitter (boto3 `session.events`) send through the process's ceiling.

    Harmless without a ceiling, and done once per emitter (hooks/aws/clients.py attaches each of
    its sessions, so they are held to the ceiling whenever they were made).
    """
    events.register_first(EVENT, _before_send, unique_id=HANDLER_ID)


def _wrap_sessions():
    """Attach every botocore session created from now on."""
    import botocore.session  # here, so that importing this module costs nothing

    with _WRAP_GUARD:
        if _STATE.wrapped:
            return
        original_init = botocore.session.Session.__init__

        def limited_init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            attach(self.get_component("event_emitter"))

        botocore.session.Session.__init__ = limited_init
        _STATE.wrapped = True
