"""`make demo`: two promotions of a tenant against a local AWS endpoint, start to finish.

1. start the local AWS endpoint (moto server) on 127.0.0.1, on a free port;
2. seed the dev team's database and its snapshot xy-0146-dev-<db_timestamp>;
3. build the shared tier common-nonprod, then promote it to xy-0146-qa, with the engine of
   this venv (`make demo`: runway's CFNgin, `tenantstack-cfngin build`; `make demo-stacker`:
   `stacker build`, docs/engines.md);
4. the dev team takes a newer snapshot; promote that one (`-e db_timestamp=<now>`):
   the old database is retired and leaves a final snapshot;
5. print what exists after each promotion: stacks, databases, service, SSM values,
   the pointer's history and the final snapshots;
6. stop the endpoint. Exit code 0 only if every step worked.
"""
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import boto3  # noqa: E402
from local_endpoint import LocalEndpoint, client_env  # noqa: E402
from seed import local_certificate, pinned_images, seed_dev_snapshot, seed_images  # noqa: E402

from hooks import naming
from hooks.config import envfile
from hooks.engine import stacker_compat
from hooks.tenant import inventory

SHARED_ENV = "environments/common-nonprod.env"
TENANT_ENV = "environments/xy-0146-qa.env"
ENGINE_CLI = {"stacker": "stacker", "cfngin": "tenantstack-cfngin"}[stacker_compat.ENGINE]
STACKER = str(Path(sys.executable).parent / ENGINE_CLI)
TENANTSTACK = str(Path(sys.executable).parent / "tenantstack")
BUILD_TIMEOUT = 600


def step(message):
    print("\n==> %s" % message, flush=True)


def stacker_build(env, env_file, config, *extra):
    command = [STACKER, "build", *extra, env_file, config]
    print("$ %s" % " ".join([ENGINE_CLI] + command[1:]), flush=True)
    subprocess.run(command, cwd=str(REPO), env=env, check=True, timeout=BUILD_TIMEOUT)


def is_final_snapshot_of_namespace(snapshot_id, namespace):
    try:
        return naming.parse_final_snapshot_id(snapshot_id)[0].name == namespace
    except naming.NamingError:
        return False


def show(session, tenant, timestamp):
    namespace = tenant["namespace"]
    tenant = dict(tenant, db_timestamp=timestamp)
    cfn, rds, ecs, ssm = (session.client(s) for s in ("cloudformation", "rds", "ecs", "ssm"))
    print("\nStacks:")
    for stack in sorted(cfn.describe_stacks()["Stacks"], key=lambda s: s["StackName"]):
        print("  %-45s %s" % (stack["StackName"], stack["StackStatus"]))
    instance_id = naming.db_instance_id(namespace, tenant["db_timestamp"])
    db = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"][0]
    print("\nDatabase:")
    print("  %s  %s  %s  public=%s" % (
        db["DBInstanceIdentifier"], db["Engine"], db["DBInstanceStatus"], db.get("PubliclyAccessible")))
    template = cfn.get_template(StackName=naming.db_stack_name(namespace, tenant["db_timestamp"]))["TemplateBody"]
    template = template if isinstance(template, dict) else json.loads(template)
    asked = template["Resources"]["Database"]
    print("  its stack asks for: snapshot %s, encrypted=%s, deletion protection=%s, DeletionPolicy %s" % (
        asked["Properties"]["DBSnapshotIdentifier"], asked["Properties"]["StorageEncrypted"],
        asked["Properties"]["DeletionProtection"], asked["DeletionPolicy"]))
    print("  (the local endpoint creates an empty instance and ignores those; AWS restores the snapshot)")
    cluster = naming.cluster_name(tenant["shared_namespace"])
    service = ecs.describe_services(cluster=cluster, services=[naming.service_name(namespace)])["services"][0]
    print("\nService:")
    print("  %s on %s: %s running %d/%d, task definition %s" % (
        service["serviceName"], cluster, service["status"], service["runningCount"],
        service["desiredCount"], service["taskDefinition"].rsplit("/", 1)[-1]))
    print("\nSSM under %s:" % naming.ssm_namespace_path(namespace))
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=naming.ssm_namespace_path(namespace), Recursive=True)
    for page in pages:
        for parameter in page["Parameters"]:
            print("  %-45s %s" % (parameter["Name"], parameter["Value"]))
    print("\nPointer history (%s):" % naming.ssm_active_parameter(namespace))
    for version in ssm.get_parameter_history(Name=naming.ssm_active_parameter(namespace))["Parameters"]:
        print("  v%d  %s" % (version["Version"], version.get("Description", version["Value"])))
    print("\nDatabases of %s:" % namespace)
    for database in inventory.discover(ssm, session.client("resourcegroupstaggingapi"), rds, cfn, namespace):
        print("  %s  %s" % (database.instance_id, database.instance_status))
    finals = [s for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
              if is_final_snapshot_of_namespace(s["DBSnapshotIdentifier"], namespace)]
    print("\nFinal snapshots of retired databases:")
    for snapshot in finals:
        print("  %s  %s" % (snapshot["DBSnapshotIdentifier"], snapshot["Status"]))
    if not finals:
        print("  (none yet)")


def main():
    tenant = envfile.load(REPO / TENANT_ENV)
    step("starting the local AWS endpoint (moto server) on 127.0.0.1")
    with LocalEndpoint(ecs_running=tenant["desired_count"]) as endpoint:
        print("endpoint %s" % endpoint.url)
        env = client_env(endpoint.url)
        env["STACKER_STACK_POLL_TIME"] = env["CFNGIN_STACK_POLL_TIME"] = "0"
        env["TENANTSTACK_POLL_SECONDS"] = "0"
        session = boto3.session.Session(region_name=env["AWS_DEFAULT_REGION"],
                                        aws_access_key_id="testing", aws_secret_access_key="testing")
        os.environ["AWS_ENDPOINT_URL"] = endpoint.url

        step("building the shared tier common-nonprod (with a local certificate for its HTTPS listener)")
        certificate = local_certificate(session.client("acm"), "*.apps-nonprod.example.com")
        stacker_build(env, SHARED_ENV, "stacker/shared.yaml", "-e", "certificate_arn=%s" % certificate)
        step("the dev team snapshots its database (under the tier's key): %s" % naming.snapshot_id(
            tenant["source_namespace"], tenant["db_timestamp"]))
        seed_dev_snapshot(session.client("rds"), tenant["source_namespace"], tenant["db_timestamp"],
                          kms=session.client("kms"))
        step("the project's pipeline has pushed the images %s pins" % TENANT_ENV)
        seed_images(session.client("ecr"), pinned_images([TENANT_ENV]))
        step("promoting %s to tenant %s" % (
            naming.snapshot_id(tenant["source_namespace"], tenant["db_timestamp"]), tenant["namespace"]))
        stacker_build(env, TENANT_ENV, "stacker/tenant.yaml")
        step("what now exists")
        show(session, tenant, tenant["db_timestamp"])

        newer = naming.format_timestamp(datetime.datetime.now(datetime.timezone.utc))
        step("the dev team takes a newer snapshot: %s" % naming.snapshot_id(tenant["source_namespace"], newer))
        seed_dev_snapshot(session.client("rds"), tenant["source_namespace"], newer, kms=session.client("kms"))
        step("promoting it: the old database is retired after the new service is stable")
        stacker_build(env, TENANT_ENV, "stacker/tenant.yaml", "-e", "db_timestamp=%s" % newer)
        step("what now exists")
        show(session, tenant, newer)
        step("what an operator sees")
        for command in (["status", tenant["namespace"]], ["history", tenant["namespace"]]):
            print("$ tenantstack %s" % " ".join(command), flush=True)
            subprocess.run([TENANTSTACK, *command], cwd=str(REPO), env=env, check=True, timeout=BUILD_TIMEOUT)
    print("\ndemo finished: endpoint stopped")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as error:
        print("\ndemo failed: %s exited %d" % (" ".join(error.cmd[1:3]), error.returncode), file=sys.stderr)
        sys.exit(1)
