"""boto3 sessions and clients for hooks and the CLI, and the one "not found" rule.

Region and endpoint come from the standard AWS environment (AWS_DEFAULT_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL), so the same code runs against an account or the
local endpoint. Retries are adaptive: throttling slows us down instead of failing.

Sessions: each thread gets one boto3 session per AWS environment, reused by every client
it makes (a new session parses botocore's JSON models again: about 0.1 s each). The key is
the thread and a fingerprint of the os.environ entries that shape a session and its
clients (every AWS_* variable: region, profile, endpoint, credentials, retry mode; and the
local-endpoint switch, under which CloudWatch clients speak the query protocol: behaviour
"cloudwatch-query-protocol-only" of hooks/aws/endpoint_quirks.py), so a changed environment
never gets a stale session. Per thread, because a boto3 session is
not thread-safe for making clients (the fleet cleans up failed deploys in threads).
Clients are not cached here: each call makes a new one, with its own failure and
throttling drills (hooks/aws/drills.py). Every session is attached to
hooks/aws/api_rate.py's ceiling (none unless a parent set one).
"""
import hashlib
import os
import threading

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from hooks.aws import api_rate, drills, endpoint_quirks

QUERY_ONLY_BEHAVIOUR = "cloudwatch-query-protocol-only"
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
_THREAD = threading.local()  # .session: (fingerprint, boto3 session) of this thread's last environment


def environment_fingerprint(environ=None):
    """A digest of the AWS_* variables of `environ` (os.environ) and the local-endpoint switch (which
    shapes the CloudWatch model): equal environments, equal digests."""
    environ = os.environ if environ is None else environ
    digest = hashlib.sha256()
    for key in sorted(key for key in environ if key.startswith("AWS_") or key == endpoint_quirks.SWITCH):
        digest.update(("%s=%s\0" % (key, environ[key])).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def session():
    """This thread's boto3 session for the current AWS environment: made on first use, then reused."""
    fingerprint = environment_fingerprint()
    cached = getattr(_THREAD, "session", None)
    if cached is None or cached[0] != fingerprint:
        made = boto3.session.Session()
        api_rate.attach(made.events)  # held to the process's API rate ceiling, if one is installed
        if endpoint_quirks.tolerates(QUERY_ONLY_BEHAVIOUR):
            endpoint_quirks.query_protocol_only(made._session.get_component("data_loader"))
        cached = _THREAD.session = (fingerprint, made)
    return cached[1]


def client(service, region=None):
    """A new client of this thread's session (region: else the environment's), with the drills armed."""
    made = session().client(service, region_name=region, config=RETRY_CONFIG)
    drills.arm(made, service)
    return made


class Clients:
    """The clients of one hook run or command, made on first use and reused (one per service)."""

    def __init__(self, region=None):
        self.region = region
        self._made = {}

    def __call__(self, service):
        if service not in self._made:
            self._made[service] = client(service, self.region)
        return self._made[service]


def error_code(error):
    """The AWS error code of a botocore ClientError."""
    return error.response.get("Error", {}).get("Code")


def or_none(call, missing, **params):
    """`call(**params)`, or None when AWS answers with the error code(s) `missing` (its "not found").

        found = or_none(rds.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier=name)

    Every other error propagates: only the absence the caller names is an answer.
    """
    codes = (missing,) if isinstance(missing, str) else tuple(missing)
    try:
        return call(**params)
    except ClientError as error:
        if error_code(error) in codes:
            return None
        raise
