"""Drift: what in a tenant's stacks was changed outside CloudFormation (`tenantstack status --drift`).

CloudFormation's drift detection compares each resource's live configuration with its
template. It is slow (seconds to minutes a stack) and rate-limited, so it runs only when
asked: DetectStackDrift on every stack first (they run side by side), then
DescribeStackDriftDetectionStatus of each through the one poller (hooks.aws.wait.poll) until
it is done, then DescribeStackResourceDrifts (MODIFIED and DELETED, every page) of each
stack that drifted. Detection changes no resource; it only records its result on the stack
(DescribeStacks' DriftInformation, which `tenantstack diff` reads without detecting).

A stack whose detection fails (or whose calls are refused) is reported with the error;
the others still are.

Layers: `stack_names`, `resource_drift` (pure); `start`, `finish`, `detect`, `tenant_drift` (AWS, take a client).
"""
import logging
from dataclasses import dataclass
from typing import Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from hooks import naming
from hooks.aws import resources as aws_resources
from hooks.aws.wait import Look, Wait, poll
from hooks.config import hookargs
from hooks.errors import TenantstackError

logger = logging.getLogger(__name__)

IN_PROGRESS = "DETECTION_IN_PROGRESS"
DRIFTED_RESOURCES = ("MODIFIED", "DELETED")
BUDGET_SECONDS = 900
DEFAULT_POLL_SECONDS = 5


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    resource_type: str
    status: str  # MODIFIED, DELETED
    differences: Tuple[dict, ...] = ()  # {"path", "type", "expected", "actual"}


@dataclass(frozen=True)
class StackDrift:
    stack_name: str
    status: Optional[str] = None  # DRIFTED, IN_SYNC, UNKNOWN, NOT_CHECKED
    detection: Optional[str] = None  # DETECTION_COMPLETE, DETECTION_FAILED
    reason: Optional[str] = None  # DetectionStatusReason
    resources: Tuple[ResourceDrift, ...] = ()
    error: Optional[str] = None  # the detection could not be run or read


def default_wait():
    return Wait(poll_seconds=hookargs.poll_seconds(default=DEFAULT_POLL_SECONDS), budget_seconds=BUDGET_SECONDS)


def stack_names(namespace, database_stacks):
    """The tenant's stacks: its base, the stack of each of its databases, its service."""
    return [naming.base_stack_name(namespace)] + sorted(database_stacks) + [naming.service_stack_name(namespace)]


def resource_drift(entry):
    """A ResourceDrift of one DescribeStackResourceDrifts entry."""
    differences = tuple({"path": d.get("PropertyPath"), "type": d.get("DifferenceType"),
                         "expected": d.get("ExpectedValue"), "actual": d.get("ActualValue")}
                        for d in entry.get("PropertyDifferences") or ())
    return ResourceDrift(entry.get("LogicalResourceId", "?"), entry.get("ResourceType", "?"),
                         entry.get("StackResourceDriftStatus", "?"), differences)


def _failure(error):
    return "%s: %s" % (type(error).__name__, " ".join(str(error).split()))


def start(cfn, stack_name):
    """DetectStackDrift: (detection id, None), or (None, why it could not start)."""
    try:
        return cfn.detect_stack_drift(StackName=stack_name)["StackDriftDetectionId"], None
    except (ClientError, BotoCoreError) as error:
        return None, _failure(error)


def finish(cfn, stack_name, detection_id, wait):
    """The StackDrift of a started detection, once it is done."""

    def look():
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        detection = status.get("DetectionStatus")
        return Look(detection != IN_PROGRESS, "drift detection of %s: %s" % (stack_name, detection), status)

    try:
        status = poll(look, "drift detection of %s" % stack_name, wait).value
        resources = []
        if status.get("StackDriftStatus") == "DRIFTED":
            token = None
            while True:
                page = cfn.describe_stack_resource_drifts(
                    StackName=stack_name, StackResourceDriftStatusFilters=list(DRIFTED_RESOURCES),
                    **({"NextToken": token} if token else {}))
                resources += [resource_drift(entry) for entry in page.get("StackResourceDrifts") or ()]
                token = page.get("NextToken")
                if not token:
                    break
    except (ClientError, BotoCoreError, TenantstackError) as error:
        return StackDrift(stack_name, error=_failure(error))
    return StackDrift(stack_name, status.get("StackDriftStatus"), status.get("DetectionStatus"),
                      status.get("DetectionStatusReason"), tuple(resources))


def detect(cfn, stack_names_, wait=None):
    """A StackDrift per stack name, in order: every detection started first, then each waited for."""
    wait = wait or default_wait()
    started = [(name,) + start(cfn, name) for name in stack_names_]
    return [StackDrift(name, error=problem) if problem else finish(cfn, name, detection_id, wait)
            for name, detection_id, problem in started]


def tenant_drift(cfn, namespace, database_stacks, wait=None):
    """Drift of every stack of the tenant that exists (stack_names; DescribeStacks each first)."""
    names = [name for name in stack_names(namespace, database_stacks) if aws_resources.stack_status(cfn, name)]
    return detect(cfn, names, wait)
