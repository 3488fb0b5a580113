"""Tenant state for the command tests, made through the endpoint's API as the pipeline leaves it.

Databases come from tests.hooks.tenant.test_inventory (instance + DB stack + registration); the
pointer versions carry the description the flip writes; the service runs on the tier's
cluster with the env files' desired count (the endpoint reports 2 tasks running).
"""
import datetime
import json
import re

from hooks import naming
from hooks.aws import file_copy
from hooks.config import envfile
from hooks.lock import deploy_lock
from hooks.steps import pointer
from tests.conftest import ECS_RUNNING, REPO_ROOT
from tests.hooks.tenant.test_inventory import create_database, register_task_definition, set_pointer

FLIPPED_AT = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
DEPLOYER = "deployer@ci-7:4242"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
SOME_TIME = "YYYY-MM-DDTHH:MM:SSZ"  # as wide as a time, so tables keep their columns


def masked(text):
    """`text` with every time as SOME_TIME (times the endpoint records are not the test's)."""
    return re.sub(TIME, SOME_TIME, text)


def environments(directory, **changes):
    """The repository's env files copied to `directory`; changes: {namespace: {key: value}}."""
    for source in sorted((REPO_ROOT / envfile.DEFAULT_ENVIRONMENTS).glob("*.env")):
        lines = source.read_text().splitlines()
        for key, value in changes.get(source.stem, {}).items():
            lines = [line for line in lines if not line.startswith(key + ":")] + ["%s: %s" % (key, value)]
        (directory / source.name).write_text("\n".join(lines) + "\n")
    return directory


def flip(ssm, namespace, *timestamps, holder=DEPLOYER):
    """Move the pointer through `timestamps` as deploys by `holder` would."""
    for timestamp in timestamps:
        previous = _active(ssm, namespace)
        set_pointer(ssm, namespace, timestamp, pointer.flip_description(previous, timestamp, holder, FLIPPED_AT))


def _active(ssm, namespace):
    try:
        return ssm.get_parameter(Name=naming.ssm_active_parameter(namespace))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def run_service(ecs, namespace, timestamp, shared_namespace="common-nonprod"):
    """The tenant's service on a task definition against `timestamp` (created, or updated)."""
    cluster, name = naming.cluster_name(shared_namespace), naming.service_name(namespace)
    ecs.create_cluster(clusterName=cluster)
    arn = register_task_definition(ecs, namespace, timestamp)
    services = ecs.describe_services(cluster=cluster, services=[name])["services"]
    if any(service["status"] == "ACTIVE" for service in services):
        ecs.update_service(cluster=cluster, service=name, taskDefinition=arn)
    else:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=arn, desiredCount=ECS_RUNNING)
    return arn


def files_tier(aws, shared_namespace="common-nonprod"):
    """The tier stack's files bucket (output AppFilesBucketName: where retention finds a tenant's files), once."""
    cfn, stack = aws.client("cloudformation"), naming.tier_stack_name(shared_namespace)
    if not any(s["StackName"] == stack for s in cfn.describe_stacks()["Stacks"]):
        cfn.create_stack(StackName=stack, TemplateBody=json.dumps({
            "Resources": {"AppFilesBucket": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {"AppFilesBucketName": {"Value": {"Ref": "AppFilesBucket"}}}}))
    return file_copy.files_bucket(cfn, shared_namespace)


def tenant(aws, namespace, flips, leftovers=(), shared_namespace="common-nonprod"):
    """Databases of every flipped timestamp and of each leftover, the pointer moved through
    `flips`, the service on the last one; the tier's files bucket."""
    files_tier(aws, shared_namespace)
    for timestamp in sorted(set(flips) | set(leftovers)):
        create_database(aws, namespace, timestamp)
    flip(aws.client("ssm"), namespace, *flips)
    if flips:
        run_service(aws.client("ecs"), namespace, flips[-1], shared_namespace)


def hold_lock(ssm, namespace, target, now, host="ci-7", pid=4242, ttl=7200, user="deployer"):
    """A deploy elsewhere holds the namespace's lock (taken at `now`)."""
    record = deploy_lock.new_record({}, host, user, pid, now, ttl, target)
    deploy_lock.acquire(ssm, namespace, record, now)
    return record
