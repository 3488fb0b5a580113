"""boto3 clients for hooks and the CLI.

Region and endpoint come from the standard AWS environment (AWS_DEFAULT_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL), so the same code runs against an account or the
local endpoint. Retries are adaptive: throttling slows us down instead of failing.

Failure drills: `TENANTSTACK_FAIL_CALLS=ssm.PutParameter@/xy-0146-qa/db/active,rds.DeleteDBInstance`
makes those API calls of this process fail with error code `InjectedFault` before they
are sent (`@value`: only calls with a parameter equal to value). The end-to-end tests use it to prove that a failing flip or retirement leaves the
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


def client(service, region=None):
    made = boto3.session.Session(region_name=region).client(service, config=RETRY_CONFIG)
    for fault_service, operation, value in injected_faults():
        if fault_service == service:
            event = "before-parameter-build.%s.%s" % (made.meta.service_model.service_id.hyphenize(), operation)
            made.meta.events.register(event, _fail(operation, value))
    return made


def error_code(error):
    """The AWS error code of a botocore ClientError."""
    return error.response.get("Error", {}).get("Code")
