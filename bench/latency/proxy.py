"""The latency proxy: HTTP on 127.0.0.1 (a free port) in front of the local endpoint.

    with LatencyProxy(endpoint.url, scale=0.01) as proxy:
        env = dict(endpoint.env, AWS_ENDPOINT_URL=proxy.url)   # every client of the run
        ...
        proxy.tracker.timeline                                 # what was waited for, and when

One thread per connection (clients that call at the same time wait at the same time), one
upstream connection per thread. Each request is forwarded as it came; its answer is held
for the call's modelled latency, and, while a wait the call concerns is running, rewritten
to "in progress" (rewrite.py) and held up to one scaled poll interval. Anything not
rewritten is passed through byte for byte, streamed.
"""
import http.client
import logging
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from bench.latency import model, rewrite

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
# Not forwarded: hop-by-hop headers, and Expect (the proxy already answered 100 Continue to its client).
HOP_BY_HOP = frozenset(("connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade",
                        "expect"))
CHUNK = 64 * 1024
UPSTREAM_TIMEOUT = 300.0


@dataclass
class Span:
    """One modelled wait as it happened, in seconds since the tracker started."""

    phase: str
    kind: str
    resource: str
    started: float
    ends: float  # when the model lets it finish
    seen_done: Optional[float] = None  # the first look after it finished (or the deletion's return)


class Tracker:
    """The running waits and the timeline of a run; thread-safe. `clock` for tests."""

    def __init__(self, scale, clock=time.monotonic):
        self.scale, self.clock = scale, clock
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.origin = self.clock()
            self.open = {}  # (kind, resource) -> Span
            self.timeline = []  # every Span, in start order
            self.calls = []  # (seconds, service, operation)

    def now(self):
        return self.clock() - self.origin

    def called(self, service, operation):
        with self.lock:
            self.calls.append((self.now(), service, operation))

    def start(self, kind, resource, wait, seconds=None):
        """A wait begins now; `seconds` (bench) defaults to the wait's AWS seconds times scale."""
        with self.lock:
            now = self.now()
            span = Span(wait.phase, kind, resource, now, now + (wait.aws_seconds * self.scale
                                                               if seconds is None else seconds))
            self.open[(kind, resource)] = span
            self.timeline.append(span)
            return span

    def remaining(self, kind, resource):
        """Bench seconds until the wait on (kind, resource) ends; 0 when none runs. The first
        call that finds it over marks it seen."""
        with self.lock:
            span = self.open.get((kind, resource))
            if span is None:
                return 0.0
            left = span.ends - self.now()
            if left > 0:
                return left
            del self.open[(kind, resource)]
            span.seen_done = self.now()
            return 0.0

    def finished(self, span):
        with self.lock:
            span.seen_done = self.now()
            self.open.pop((span.kind, span.resource), None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tenantstack-latency-proxy"

    def setup(self):
        super().setup()
        # Headers and body leave in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add some 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self):
        super().finish()
        connection = getattr(self.server.local, "connection", None)  # this thread's, and it ends here
        if connection is not None:
            connection.close()
            self.server.local.connection = None

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        logger.debug(format, *args)

    def _upstream(self):
        local = self.server.local
        if getattr(local, "connection", None) is None:
            local.connection = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port,
                                                          timeout=UPSTREAM_TIMEOUT)
            local.connection.connect()
            local.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return local.connection

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self):
        body = self._read_body()
        call = rewrite.identify(self.command, self.path, self.headers, body)
        tracker, scale = self.server.tracker, self.server.scale
        tracker.called(call.service, call.operation)
        started = time.monotonic()
        headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT"):
            headers["Content-Length"] = str(len(body))
        response = self._send_upstream(headers, body)
        delay = model.call_seconds(call.service, call.operation) * scale
        deletion = model.deletion_wait(call.service, call.operation, call.params)
        ok = 200 <= response.status < 300
        if ok and deletion and deletion[0]:
            span = tracker.start(model.DELETION, deletion[0], deletion[1])
            delay = max(delay, span.ends - span.started)
        if ok:
            for kind, resource, wait in model.started_waits(call.service, call.operation, call.params):
                tracker.start(kind, resource, wait)
        rewritable = (call.service, call.operation) in rewrite.REWRITTEN and ok and not response.getheader(
            "Content-Encoding")
        if rewritable or response.getheader("Content-Length") is None:
            payload = response.read()
            if rewritable:
                payload, shown = rewrite.rewrite(call, payload, lambda kind, rid: tracker.remaining(kind, rid) > 0)
                if shown:  # hold "in progress" for a poll interval, or until the wait ends
                    hold = min(tracker.remaining(kind, rid) for kind, rid in shown)
                    delay = max(delay, min(hold, model.poll_seconds(call.service) * scale))
            self._sleep_until(started + delay)
            self._reply(response, payload)
        else:
            self._sleep_until(started + delay)
            self._reply(response, None)
        if ok and deletion and deletion[0]:
            tracker.finished(span)

    def _send_upstream(self, headers, body):
        for attempt in (1, 2):  # a kept-alive upstream connection the endpoint closed: reconnect once
            connection = self._upstream()
            try:
                connection.request(self.command, self.path, body=body if body else None, headers=headers)
                return connection.getresponse()
            except (http.client.HTTPException, OSError):
                connection.close()
                self.server.local.connection = None
                if attempt == 2:
                    raise

    @staticmethod
    def _sleep_until(deadline):
        left = deadline - time.monotonic()
        if left > 0:
            time.sleep(left)

    def _reply(self, response, payload):
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() in HOP_BY_HOP or (payload is not None and key.lower() == "content-length"):
                continue
            self.send_header(key, value)
        if payload is not None:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            response.read()
            return
        if payload is not None:
            self.wfile.write(payload)
            return
        while True:
            chunk = response.read(CHUNK)
            if not chunk:
                break
            self.wfile.write(chunk)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


class LatencyProxy:
    """The proxy as a context manager: started on a free port of 127.0.0.1, stopped on exit."""

    def __init__(self, upstream_url, scale=model.DEFAULT_SCALE):
        if not scale > 0:
            raise ValueError("scale must be > 0, e.g. 0.01, not %r" % (scale,))
        address = upstream_url.split("://", 1)[-1].rstrip("/")
        host, _, port = address.rpartition(":")
        self.scale = scale
        self.tracker = Tracker(scale)
        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.server.upstream_host, self.server.upstream_port = host, int(port)
        self.server.scale, self.server.tracker, self.server.local = scale, self.tracker, threading.local()
        self.thread = None

    @property
    def url(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, name="latency-proxy", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join()
            self.thread = None
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
