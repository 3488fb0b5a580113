"""A ceiling on this process's AWS API requests per second: a token bucket on botocore's before-send.

    install(5.0)                  # from now on, every botocore session of this process sends
                                  # at most 5 requests a second (retries included)
    install_from_environment()    # the rate a parent put in TENANTSTACK_MAX_API_RATE (unset, 0: none)
    with limited(5.0): ...        # the same, for a block; the previous ceiling comes back after it

Who uses it (docs/deploy.md, "API rate budget"): `tenantstack deploy --max-api-rate R`
gives each stacker child its share of R (R / the deploys that run at once) in
TENANTSTACK_MAX_API_RATE, and the child's entry point (hooks/run/stacker_child.py) installs
it before stacker starts, so stacker's own sessions and the hooks' share one bucket.
The deploying process limits its own clean-up calls to the same share.

How: `install` wraps botocore.session.Session.__init__ once, so every session made
afterwards (stacker makes its own, hooks/aws/clients.py one per thread) registers `_before_send`
first on its `before-send` event, which botocore emits for every HTTP request, retries
included. The handler takes a token from the process's current bucket and sleeps until it
may send. hooks/aws/clients.py attaches its sessions itself, whenever they were made; other
sessions made before the first `install` are not limited.

The bucket (TokenBucket) holds at most BURST = 1 token, starts empty and runs 1 % below
the rate (HEADROOM): requests of one process leave at least 1 / (0.99 * rate) seconds
apart, counted from when each really left, and the first waits that long after
`install`. So any 1-second window holds at most ceil(rate) of its requests, also across a
process that ends and the next that starts in its place: a fleet of P deploys at R / P
each stays within P * ceil(R / P) requests in any second, which is R when P divides R.
"""
import contextlib
import math
import os
import threading
import time

RATE_VARIABLE = "TENANTSTACK_MAX_API_RATE"
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


def install(rate):
    """From now on, this process's botocore sessions send at most `rate` requests a second (None, 0: no ceiling)."""
    if not rate:
        _STATE.rate = _STATE.bucket = None
        return
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate < 0:
        raise ValueError("API rate %r is invalid: expected requests per second, a number >= 0 (0: none)" % (rate,))
    bucket = TokenBucket(rate * HEADROOM)
    _wrap_sessions()
    _STATE.rate, _STATE.bucket = float(rate), bucket


def install_from_environment(environ=None):
    """install() the rate of TENANTSTACK_MAX_API_RATE; the rate, or None. ValueError for a bad value."""
    rate = parse_rate((os.environ if environ is None else environ).get(RATE_VARIABLE, ""))
    install(rate)
    return rate


@contextlib.contextmanager
def limited(rate):
    """install(rate) for the block, then the ceiling that was in force before."""
    previous = _STATE.rate, _STATE.bucket
    install(rate)
    try:
        yield
    finally:
        _STATE.rate, _STATE.bucket = previous


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
