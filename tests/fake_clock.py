"""A monotonic clock for wait tests: time moves only when the waiter sleeps (hooks.aws.wait.poll)."""


class Clock:
    """Call it for the time; `sleep` moves it forward and records each sleep."""

    def __init__(self, now=0.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
