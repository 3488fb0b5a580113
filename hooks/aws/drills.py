"""Failure and throttling drills: make chosen AWS calls of this process fail, on purpose.

Failure drills: `TENANTSTACK_FAIL_CALLS=ssm.PutParameter@/xy-0146-qa/db/active,rds.DeleteDBInstance`
makes those API calls of this process fail with error code `InjectedFault` before they
are sent (`@value`: only calls with a parameter equal to value). The end-to-end tests use
it to prove that a failing flip or retirement leaves the tenant serving; operators can use
it for game days. Unset, it costs nothing.

Throttling drills: `TENANTSTACK_THROTTLE_CALLS=ssm.GetParameter*3,rds.DescribeDBSnapshots`
answers the first N (default 1) requests of those operations, per client, the way AWS
throttles (HTTP 400, ThrottlingException / Throttling) without sending them; the retry
mode then retries them like real throttling. It proves throttling slows a run down
instead of failing it.

`arm(client, service)` registers both on a new client (hooks/aws/clients.py does it for
every client it makes).
"""
import os
import threading

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

FAULTS_VARIABLE = "TENANTSTACK_FAIL_CALLS"
INJECTED_FAULT = "InjectedFault"
THROTTLE_VARIABLE = "TENANTSTACK_THROTTLE_CALLS"
THROTTLE_MESSAGE = "Rate exceeded (injected by %s)" % THROTTLE_VARIABLE
# What AWS answers a throttled request with, by the service's protocol.
THROTTLE_RESPONSES = {
    "json": (
        "application/x-amz-json-1.1",
        '{"__type": "ThrottlingException", "message": "%s"}' % THROTTLE_MESSAGE,
    ),
    "query": (
        "text/xml",
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>%s</Message></Error>"
        "<RequestId>injected</RequestId></ErrorResponse>" % THROTTLE_MESSAGE,
    ),
}


def injected_faults(environ=None):
    """{(service, Operation, value or None)} named by TENANTSTACK_FAIL_CALLS."""
    raw = (environ if environ is not None else os.environ).get(FAULTS_VARIABLE, "")
    faults = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        call, _, value = item.partition("@")
        service, dot, operation = call.partition(".")
        if not dot or not service or not operation:
            raise ValueError(
                "%s: %r is not service.Operation[@value] (e.g. ssm.PutParameter@/xy-0146-qa/db/active)"
                % (FAULTS_VARIABLE, item)
            )
        faults.add((service, operation, value or None))
    return faults


def _fail(operation, value):
    def handler(params=None, **kwargs):
        if value is not None and value not in (params or {}).values():
            return
        raise ClientError(
            {"Error": {"Code": INJECTED_FAULT, "Message": "%s failed on purpose (%s)" % (operation, FAULTS_VARIABLE)}},
            operation,
        )

    return handler


def throttled_calls(environ=None):
    """{(service, Operation): how many requests to throttle} named by TENANTSTACK_THROTTLE_CALLS."""
    raw = (environ if environ is not None else os.environ).get(THROTTLE_VARIABLE, "")
    calls = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        call, star, count = item.partition("*")
        service, dot, operation = call.partition(".")
        if not dot or not service or not operation or (star and not count.isdigit()):
            raise ValueError(
                "%s: %r is not service.Operation[*count] (e.g. ssm.GetParameter*3)" % (THROTTLE_VARIABLE, item)
            )
        calls[(service, operation)] = int(count) if star else 1
    return calls


class _Body:
    """The raw body botocore reads from an AWSResponse."""

    def __init__(self, content):
        self.content = content

    def stream(self, **kwargs):
        yield self.content


def _throttle(protocol, count):
    if protocol not in THROTTLE_RESPONSES:
        raise ValueError("%s: cannot throttle a %s-protocol service" % (THROTTLE_VARIABLE, protocol))
    content_type, body = THROTTLE_RESPONSES[protocol]
    sent, guard = [0], threading.Lock()

    def handler(request=None, **kwargs):
        with guard:
            if sent[0] >= count:
                return None  # send it for real
            sent[0] += 1
        return AWSResponse(request.url, 400, {"Content-Type": content_type}, _Body(body.encode()))

    return handler


def arm(made, service):
    """Register the drills the environment names for `service` on the client `made`."""
    service_id = made.meta.service_model.service_id.hyphenize()
    for fault_service, operation, value in injected_faults():
        if fault_service == service:
            made.meta.events.register("before-parameter-build.%s.%s" % (service_id, operation), _fail(operation, value))
    for (throttle_service, operation), count in throttled_calls().items():
        if throttle_service == service:
            handler = _throttle(made.meta.service_model.protocol, count)
            made.meta.events.register("before-send.%s.%s" % (service_id, operation), handler)
