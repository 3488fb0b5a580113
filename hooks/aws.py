"""boto3 clients for hooks and the CLI.

Region and endpoint come from the standard AWS environment (AWS_DEFAULT_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL), so the same code runs against an account or the
local endpoint. Retries are adaptive: throttling slows us down instead of failing.
"""
import boto3
from botocore.config import Config

RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})


def client(service, region=None):
    return boto3.session.Session(region_name=region).client(service, config=RETRY_CONFIG)


def error_code(error):
    """The AWS error code of a botocore ClientError."""
    return error.response.get("Error", {}).get("Code")
