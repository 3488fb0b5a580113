"""Run scripts/demo.py unchanged, and keep what its endpoint holds before the demo stops it.

    python tests/security/demo_with_secrets.py OUT.json

The demo starts and stops its own local endpoint; this wrapper only hooks the endpoint's
stop to first write every Secrets Manager value it holds and the server's log to OUT.json,
for tests/security/test_no_secret.py to search for. Nothing else of the demo changes.
"""
import json
import runpy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import boto3  # noqa: E402
import local_endpoint  # noqa: E402

OUT = Path(sys.argv.pop(1))
original_stop = local_endpoint.LocalEndpoint.stop


def secret_values(url):
    client = boto3.session.Session().client(
        "secretsmanager", endpoint_url=url, region_name=local_endpoint.DEFAULT_REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    names = [s["Name"] for page in client.get_paginator("list_secrets").paginate() for s in page["SecretList"]]
    return {name: client.get_secret_value(SecretId=name)["SecretString"] for name in names}


def stop_after_keeping_the_evidence(self):
    if self.process is not None:
        OUT.write_text(json.dumps({
            "secrets": secret_values(self.url),
            "endpoint_log": local_endpoint.log_tail(str(self.log_path), lines=10 ** 6),
        }))
    original_stop(self)


local_endpoint.LocalEndpoint.stop = stop_after_keeping_the_evidence
runpy.run_path(str(REPO / "scripts" / "demo.py"), run_name="__main__")
