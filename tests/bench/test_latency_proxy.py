"""bench/latency/proxy.py against the local endpoint: what it delays, what it rewrites, what it leaves alone."""
import http.client
import io
import re
import time

import pytest

from bench.latency import model
from bench.latency.proxy import LatencyProxy
from tests.conftest import Aws

pytestmark = pytest.mark.e2e

DB_STACK = "bt-0001-qa-db-20261101t090000z"
TEMPLATE = '{"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}'


@pytest.fixture
def proxied(aws):
    """(direct Aws, proxied Aws, proxy) with a scale that makes the copy 0.6 s and the db stack 0.9 s."""
    with LatencyProxy(aws.url, scale=0.001) as proxy:
        yield aws, Aws(proxy.url), proxy


REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")


def without_request_id(answer):
    status, headers, body = answer
    return status, headers, REQUEST_ID.sub(b"", body)


def raw(url, method, path, body=None, headers=None):
    host, port = url.split("://")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        varying = ("date", "x-amzn-requestid", "connection")  # per answer, or hop by hop
        return response.status, sorted((k, v) for k, v in response.getheaders() if k.lower() not in varying), \
            response.read()
    finally:
        connection.close()


def test_answers_pass_through_byte_for_byte_after_the_call_latency(proxied):
    direct, via, proxy = proxied
    payload = bytes(range(256)) * 8192  # binary, 2 MiB: streamed, not re-encoded
    via.client("s3").create_bucket(Bucket="latency-bytes")
    # a file-like body: botocore sends it with Expect: 100-continue
    via.client("s3").put_object(Bucket="latency-bytes", Key="blob", Body=io.BytesIO(payload))
    assert direct.client("s3").get_object(Bucket="latency-bytes", Key="blob")["Body"].read() == payload
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/s3/aws4_request, "
              "SignedHeaders=host, Signature=0"}
    status, headers, body = raw(proxy.url, "GET", "/latency-bytes/blob", headers=signed)
    assert (status, body) == (200, payload)
    assert (status, headers, body) == raw(direct.url, "GET", "/latency-bytes/blob", headers=signed)
    form = {"Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/cloudformation/aws4_request"}
    body = "Action=DescribeStacks&Version=2010-05-15&StackName=nope"
    direct.client("cloudformation").create_stack(StackName="other", TemplateBody=TEMPLATE)
    body = "Action=DescribeStacks&Version=2010-05-15&StackName=other"
    status, headers, answer = raw(proxy.url, "POST", "/", body, form)
    assert b"CREATE_COMPLETE" in answer  # not a stack the model waits for: as the endpoint said it
    expected = without_request_id(raw(direct.url, "POST", "/", body, form))
    assert (status, headers, REQUEST_ID.sub(b"", answer)) == expected

    with LatencyProxy(direct.url, scale=1.0) as slow:  # 1:1 with AWS: 50 ms a describe
        started = time.monotonic()
        raw(slow.url, "POST", "/", body, form)
        assert time.monotonic() - started >= model.DEFAULT_CALL_SECONDS
    assert ("cloudformation", "DescribeStacks") in [call[1:] for call in proxy.tracker.calls]


def test_a_snapshot_copy_is_creating_for_its_modelled_time_then_available(proxied):
    direct, via, proxy = proxied
    rds = direct.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="src", DBInstanceClass="db.t3.micro", Engine="mysql",
                           MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20)
    rds.create_db_snapshot(DBSnapshotIdentifier="src-snap", DBInstanceIdentifier="src")
    via.client("rds").copy_db_snapshot(SourceDBSnapshotIdentifier="src-snap", TargetDBSnapshotIdentifier="copy")

    def status(client, snapshot):
        return client.client("rds").describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0]["Status"]

    assert status(via, "copy") == "creating"
    assert status(direct, "copy") == "available"  # the endpoint itself is done
    assert status(via, "src-snap") == "available"  # only what the copy made waits
    time.sleep(model.COPY.aws_seconds * proxy.scale)
    assert status(via, "copy") == "available"
    [span] = proxy.tracker.timeline
    assert (span.phase, span.resource) == (model.SNAPSHOT_COPY, "copy")
    assert span.seen_done >= span.ends


def test_a_db_stack_is_in_progress_for_the_restore_time_and_other_stacks_are_not(proxied):
    _, via, proxy = proxied
    cfn = via.client("cloudformation")
    cfn.create_stack(StackName="bt-0001-qa-base", TemplateBody=TEMPLATE)
    time.sleep(model.BASE_STACK.aws_seconds * proxy.scale)
    cfn.create_stack(StackName=DB_STACK, TemplateBody=TEMPLATE)

    def statuses():
        return {stack["StackName"]: stack["StackStatus"] for stack in cfn.describe_stacks()["Stacks"]}

    assert statuses() == {"bt-0001-qa-base": "CREATE_COMPLETE", DB_STACK: "CREATE_IN_PROGRESS"}
    started = time.monotonic()
    while statuses()[DB_STACK] != "CREATE_COMPLETE":  # each in-progress answer is held a scaled poll
        assert time.monotonic() - started < 5
    waited = time.monotonic() - started
    assert model.DB_STACK.aws_seconds * proxy.scale * 0.8 <= waited
    assert [(span.phase, span.kind) for span in proxy.tracker.timeline] == [
        (model.STACK_CREATE, model.STACK), (model.RESTORE, model.STACK), (model.RESTORE, model.INSTANCE)]
