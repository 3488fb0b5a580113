"""The latency model: AWS's waits, scaled down, in front of the local endpoint.

The local endpoint answers every call at once and finishes every stack, copy, restore and
rollout before the call that started it returns, so a fleet shows only the machine's CPU.
A loopback proxy (proxy.py) sits in front of it; every AWS client of a latency run talks to
the proxy, which

- delays each call by its operation's latency (model.CALL_SECONDS), and
- keeps what a call started "in progress" for its modelled duration (model.WAIT_SECONDS):
  the describe calls the hooks and stacker poll see `creating`, `CREATE_IN_PROGRESS` or an
  ECS rollout `IN_PROGRESS` until then (rewrite.py); a deletion's call returns after it.

Every duration is AWS's, from the table in model.py (sources in docs/performance.md, "The
latency model"), times one scale factor, so a bench second is 1 / scale seconds on AWS.
measure.py builds the rows `fleet.latency` and `promotion.latency` from it.
"""
