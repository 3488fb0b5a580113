"""boto3 clients for hooks and the CLI.

Region and endpoint come from the standard AWS environment (AWS_DEFAULT_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL), so the same code runs against an account or the
local endpoint. Retries are adaptive: throttling slows us down instead of failing.

Failure drills: `TENANTSTACK_FAIL_CALLS=ssm.PutParameter,rds.DeleteDBInstance` makes
those API calls of this process fail with error code `InjectedFault` before they are
sent. The end-to-end tests use it to prove that a failing flip or retirement leaves the
tenant serving; operators can use it for game days. Unset, it costs nothing.
"""
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
FAULTS_VARIABLE = "TENANTSTACK_FAIL_CALLS"
INJECTED_FAULT = "InjectedFault"


def injected_faults(environ=None):
    """{(service, Operation)} named by TENANTSTACK_FAIL_CALLS."""
    raw = (environ if environ is not None else os.environ).get(FAULTS_VARIABLE, "")
    faults = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        service, dot, operation = item.partition(".")
        if not dot or not service or not operation:
            raise ValueError(
                "%s: %r is not service.Operation (e.g. ssm.PutParameter)" % (FAULTS_VARIABLE, item)
            )
        faults.add((service, operation))
    return faults


def _fail(operation):
    def handler(**kwargs):
        raise ClientError(
            {"Error": {"Code": INJECTED_FAULT, "Message": "%s failed on purpose (%s)" % (operation, FAULTS_VARIABLE)}},
            operation,
        )

    return handler


def client(service, region=None):
    made = boto3.session.Session(region_name=region).client(service, config=RETRY_CONFIG)
    for fault_service, operation in injected_faults():
        if fault_service == service:
            made.meta.events.register("before-call.%s.%s" % (made.meta.service_model.service_id.hyphenize(), operation), _fail(operation))
    return made


def error_code(error):
    """The AWS error code of a botocore ClientError."""
    return error.response.get("Error", {}).get("Code")
