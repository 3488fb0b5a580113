"""Which AWS call a request is, and the describe answers rewritten to "in progress". Pure.

A request names its service in the SigV4 credential scope of its Authorization header
(`Credential=<key>/<date>/<region>/<service>/aws4_request`) and its operation in the
X-Amz-Target header (JSON protocols: ECS, ...), the Action= form field (query protocols:
CloudFormation, RDS, ...) or, for REST protocols (S3), its method and first path segment.

Rewriting touches only the status of a resource whose modelled wait is still running;
every other byte of the answer is the endpoint's (an answer with nothing to rewrite is
passed on unchanged, byte for byte).
"""
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from bench.latency import model

_SCOPE = re.compile(r"Credential=[^/,\s]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request")
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict = field(default_factory=dict)  # the request's top-level parameters (strings)


def identify(method, path, headers, body):
    """The Call a request makes. `headers`: a case-insensitive mapping (email.message.Message)."""
    scope = _SCOPE.search(headers.get("Authorization") or "")
    service = scope.group(1) if scope else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return Call(service, target.rsplit(".", 1)[-1], params if isinstance(params, dict) else {})
    if (headers.get("Content-Type") or "").startswith(FORM) or "Action=" in path:
        text = body.decode("utf-8", "replace") if body else ""
        params = dict(parse_qsl(urlsplit(path).query))
        params.update(parse_qsl(text))
        if "Action" in params:
            return Call(service, params.pop("Action"), params)
    segment = urlsplit(path).path.strip("/").split("/", 1)[0]
    return Call(service, "%s %s" % (method, "/" + segment if segment else "/"))


# --- rewriting -----------------------------------------------------------------------------

STACK_DONE = {"CREATE_COMPLETE": "CREATE_IN_PROGRESS", "UPDATE_COMPLETE": "UPDATE_IN_PROGRESS",
              "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_IN_PROGRESS"}
_STACK_STATUS = re.compile(r"<StackStatus>([A-Z_]+)</StackStatus>")
_STACK_NAME = re.compile(r"<StackName>([^<]+)</StackName>")
_SNAPSHOT = re.compile(r"<DBSnapshot>.*?</DBSnapshot>", re.S)
_SNAPSHOT_ID = re.compile(r"<DBSnapshotIdentifier>([^<]+)</DBSnapshotIdentifier>")
_SNAPSHOT_STATUS = re.compile(r"<Status>available</Status>")
_INSTANCE = re.compile(r"<DBInstance>.*?</DBInstance>", re.S)
_INSTANCE_ID = re.compile(r"<DBInstanceIdentifier>([^<]+)</DBInstanceIdentifier>")
_INSTANCE_STATUS = re.compile(r"<DBInstanceStatus>available</DBInstanceStatus>")


def rewrite(call, body, busy):
    """(new body, [(kind, resource id)] shown in progress); `body` itself when nothing is.

    busy(kind, resource id) -> True while that resource's modelled wait runs."""
    rewriter = _REWRITERS.get((call.service, call.operation))
    return rewriter(body, busy) if rewriter else (body, [])


def stacks(body, busy):
    """DescribeStacks: a busy stack's *_COMPLETE becomes *_IN_PROGRESS. A stack's StackName comes
    before its StackStatus (AWS's shape order, which the endpoint's serializer keeps)."""
    text, shown, out, last = body.decode("utf-8"), [], [], 0
    for match in _STACK_STATUS.finditer(text):
        names = list(_STACK_NAME.finditer(text, 0, match.start()))
        name = names[-1].group(1) if names else None
        status = match.group(1)
        if name and status in STACK_DONE and busy(model.STACK, name):
            out += [text[last:match.start(1)], STACK_DONE[status]]
            last = match.end(1)
            shown.append((model.STACK, name))
    return _joined(body, text, out, last, shown)


def _blocks(block, id_pattern, status_pattern, replacement, kind):
    def rewriter(body, busy):
        text, shown, out, last = body.decode("utf-8"), [], [], 0
        for match in block.finditer(text):
            found = id_pattern.search(match.group(0))
            status = status_pattern.search(match.group(0))
            if found and status and busy(kind, found.group(1)):
                start = match.start() + status.start()
                out += [text[last:start], replacement]
                last = match.start() + status.end()
                shown.append((kind, found.group(1)))
        return _joined(body, text, out, last, shown)
    return rewriter


def _joined(body, text, out, last, shown):
    if not shown:
        return body, []
    return ("".join(out) + text[last:]).encode("utf-8"), shown


def services(body, busy):
    """ECS DescribeServices: a busy service's PRIMARY deployment is still rolling out."""
    document = json.loads(body)
    shown = []
    for service in document.get("services") or []:
        name = service.get("serviceName")
        if not busy(model.SERVICE, name):
            continue
        for deployment in service.get("deployments") or []:
            if deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") in (None, "COMPLETED"):
                deployment["rolloutState"] = "IN_PROGRESS"
                deployment["rolloutStateReason"] = "latency model: rollout in progress"
                shown.append((model.SERVICE, name))
    return (json.dumps(document).encode("utf-8"), shown) if shown else (body, [])


_REWRITERS = {
    ("cloudformation", "DescribeStacks"): stacks,
    ("rds", "DescribeDBSnapshots"): _blocks(_SNAPSHOT, _SNAPSHOT_ID, _SNAPSHOT_STATUS,
                                            "<Status>creating</Status>", model.SNAPSHOT),
    ("rds", "DescribeDBInstances"): _blocks(_INSTANCE, _INSTANCE_ID, _INSTANCE_STATUS,
                                            "<DBInstanceStatus>creating</DBInstanceStatus>", model.INSTANCE),
    ("ecs", "DescribeServices"): services,
}
REWRITTEN = frozenset(_REWRITERS)
