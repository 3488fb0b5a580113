"""The real `stacker build` of the shared tier and two tenants against the local endpoint.

Asserts what was created by reading the endpoint's state: names, tags, parameters.
"""
import json

import pytest
from local_endpoint import client_env, free_port
from seed import local_certificate, pinned_images, seed_dev_snapshot, seed_images, tier_key_arn

from hooks import naming
from hooks.config import envfile
from tests.e2e.stacker_cli import build

pytestmark = pytest.mark.e2e

SHARED_ENV = "environments/common-nonprod.env"
TENANTS = ("xy-0146-qa", "ab-0212-qa")


def env_of(namespace):
    return envfile.load("environments/%s.env" % namespace)


def resource_tags(aws, tags):
    """Tags as a dict, from any of the list shapes AWS APIs return."""
    return {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags}


def assert_namespace_tags(tags, namespace):
    assert {k: tags.get(k) for k in naming.TAG_KEYS} == naming.tags(namespace)


@pytest.fixture
def built(aws):
    """common-nonprod plus two tenants of different customers, built from their env files."""
    certificate = local_certificate(aws.client("acm"), "*.apps-nonprod.example.com")
    build(aws.env, SHARED_ENV, "stacker/shared.yaml", "-e", "certificate_arn=%s" % certificate)
    rds = aws.client("rds")
    for namespace in TENANTS:  # the dev databases under the tier key, as the pipeline restores them
        tenant = env_of(namespace)
        seed_dev_snapshot(rds, tenant["source_namespace"], tenant["db_timestamp"], kms=aws.client("kms"))
        seed_images(aws.client("ecr"), pinned_images(["environments/%s.env" % namespace]))
    for namespace in TENANTS:
        build(aws.env, "environments/%s.env" % namespace, "stacker/tenant.yaml")
    return aws


def stacks_by_name(aws):
    return {s["StackName"]: s for s in aws.client("cloudformation").describe_stacks()["Stacks"]}


def test_every_stack_is_created_under_its_contract_name(built):
    stacks = stacks_by_name(built)
    expected = {naming.vpc_stack_name("common-nonprod"), naming.tier_stack_name("common-nonprod")}
    for namespace in TENANTS:
        timestamp = env_of(namespace)["db_timestamp"]
        expected |= {
            naming.base_stack_name(namespace),
            naming.db_stack_name(namespace, timestamp),
            naming.service_stack_name(namespace),
        }
    assert set(stacks) == expected
    assert {s["StackStatus"] for s in stacks.values()} == {"CREATE_COMPLETE"}


@pytest.mark.parametrize("namespace", TENANTS)
def test_database_is_named_tagged_registered_and_restores_the_snapshot(built, namespace):
    tenant = env_of(namespace)
    timestamp = tenant["db_timestamp"]
    rds, ssm, cfn = built.client("rds"), built.client("ssm"), built.client("cloudformation")
    instance_id = naming.db_instance_id(namespace, timestamp)
    db = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"][0]
    assert db["Engine"] == "mysql"
    assert db["PubliclyAccessible"] is False
    assert_namespace_tags(resource_tags(built, db["TagList"]), namespace)

    # The local endpoint ignores DBSnapshotIdentifier in templates (docs/architecture.md), so prove
    # the stack asks AWS for the right snapshot by reading the deployed template.
    stack_name = naming.db_stack_name(namespace, timestamp)
    template = cfn.get_template(StackName=stack_name)["TemplateBody"]
    template = template if isinstance(template, dict) else json.loads(template)
    properties = template["Resources"]["Database"]["Properties"]
    # It restores what naming.restores_from names: the source snapshot itself within a tier, the
    # namespace's own copy across tiers (made under the tier key by hooks.steps.tier_copy, tagged
    # with where it came from). Either is on the endpoint, under the tier key.
    source = naming.snapshot_id(tenant["source_namespace"], timestamp)
    restored = naming.restores_from(namespace, tenant["source_namespace"], timestamp, tenant["snapshot_copy"])
    assert properties["DBSnapshotIdentifier"] == restored
    assert "KmsKeyId" not in properties
    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=restored)["DBSnapshots"][0]
    tier_key = tier_key_arn(built.client("kms"), namespace)  # alias/<tier>/rds's key
    assert (snapshot["Status"], snapshot["KmsKeyId"]) == ("available", tier_key)
    copy_id = naming.restore_snapshot_id(namespace, timestamp)
    if restored == copy_id and restored != source:
        assert resource_tags(built, snapshot["TagList"]) == dict(naming.tags(namespace),
                                                                 **{naming.COPIED_FROM_TAG: source})
    else:
        assert restored == source
        assert not rds.describe_db_snapshots(SnapshotType="manual", Filters=[
            {"Name": "db-snapshot-id", "Values": [copy_id]}])["DBSnapshots"]  # no copy was made
    assert properties["DBInstanceIdentifier"] == instance_id
    assert template["Resources"]["Database"]["DeletionPolicy"] == "Retain"

    registration = ssm.get_parameter(Name=naming.ssm_database_parameter(namespace, timestamp))["Parameter"]
    record = json.loads(registration["Value"])
    assert record["instance_id"] == instance_id
    assert record["stack"] == stack_name
    assert (record["snapshot"], record["source"]) == (restored, source)
    assert record["endpoint"] == db["Endpoint"]["Address"]
    parameter_tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=registration["Name"])
    assert_namespace_tags(resource_tags(built, parameter_tags["TagList"]), namespace)


@pytest.mark.parametrize("namespace", TENANTS)
def test_service_runs_the_env_files_images_against_its_database(built, namespace):
    tenant = env_of(namespace)
    ecs, rds, cfn = built.client("ecs"), built.client("rds"), built.client("cloudformation")
    cluster = naming.cluster_name("common-nonprod")
    service = ecs.describe_services(cluster=cluster, services=[naming.service_name(namespace)])["services"][0]
    assert (service["desiredCount"], service["runningCount"]) == (tenant["desired_count"],) * 2

    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    images = {c["name"]: c["image"] for c in task["containerDefinitions"]}
    # migrate runs the php image (its bin/migrate) before php starts.
    assert images == {"nginx": tenant["nginx_image"], "php": tenant["php_image"], "migrate": tenant["php_image"]}
    php = next(c for c in task["containerDefinitions"] if c["name"] == "php")
    environment = {e["name"]: e["value"] for e in php["environment"]}
    secrets = {s["name"]: s["valueFrom"] for s in php["secrets"]}
    app_secret = built.client("ssm").get_parameter(Name=naming.ssm_app_secret_arn_parameter(namespace))
    assert secrets["DB_USERNAME"] == app_secret["Parameter"]["Value"] + ":username::"  # not the master user
    db = rds.describe_db_instances(
        DBInstanceIdentifier=naming.db_instance_id(namespace, tenant["db_timestamp"])
    )["DBInstances"][0]
    assert environment["DB_HOST"] == db["Endpoint"]["Address"]
    assert environment["APP_NAMESPACE"] == namespace

    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in cfn.describe_stacks(StackName=naming.service_stack_name(namespace))["Stacks"][0]["Parameters"]
    }
    assert parameters["Hostname"] == tenant["hostname"]
    assert parameters["ListenerPriority"] == str(tenant["listener_priority"])
    assert parameters["DesiredCount"] == str(tenant["desired_count"])
    assert parameters["DatabaseEndpointAddress"] == db["Endpoint"]["Address"]


def test_each_tenant_has_its_own_listener_rule_on_the_shared_listener(built):
    cfn, elbv2 = built.client("cloudformation"), built.client("elbv2")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=naming.tier_stack_name("common-nonprod"))["Stacks"][0]["Outputs"]
    }
    rules = elbv2.describe_rules(ListenerArn=outputs["HttpsListenerArn"])["Rules"]
    by_priority = {
        r["Priority"]: [v for c in r["Conditions"] for v in c.get("HostHeaderConfig", {}).get("Values", c.get("Values", []))]
        for r in rules
        if r["Priority"] != "default"
    }
    assert by_priority == {str(env_of(n)["listener_priority"]): [env_of(n)["hostname"]] for n in TENANTS}


@pytest.mark.parametrize("namespace", TENANTS)
def test_namespace_secret_is_referenced_by_arn_only(built, namespace):
    ssm, secrets = built.client("ssm"), built.client("secretsmanager")
    arn = ssm.get_parameter(Name=naming.ssm_secret_arn_parameter(namespace))["Parameter"]["Value"]
    described = secrets.describe_secret(SecretId=arn)
    assert described["Name"] == naming.db_secret_name(namespace)
    assert_namespace_tags(resource_tags(built, described["Tags"]), namespace)


def test_every_deployed_resource_asks_for_its_namespace_tags(built):
    # The endpoint drops Tags on some resources (ECS clusters and services among them), so
    # read what each stack asked for from its deployed template as well as the APIs above.
    cfn = built.client("cloudformation")
    for stack in cfn.describe_stacks()["Stacks"]:
        template = cfn.get_template(StackName=stack["StackName"])["TemplateBody"]
        template = template if isinstance(template, dict) else json.loads(template)
        owner = stack["StackName"].rsplit("-", 1)[0] if stack["StackName"].startswith("common-") else None
        owner = owner or next(n for n in TENANTS if stack["StackName"].startswith(n + "-"))
        untagged = []
        for logical_id, resource in template["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if tags is None:
                continue
            tags = tags if isinstance(tags, dict) else resource_tags(built, tags)
            if {k: tags.get(k) for k in naming.TAG_KEYS} != naming.tags(owner):
                untagged.append(logical_id)
        assert untagged == [], "%s: wrong namespace tags on %s" % (stack["StackName"], untagged)


def test_shared_resources_carry_the_shared_tags(built):
    ec2 = built.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Namespace", "Values": ["common-nonprod"]}])["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["CidrBlock"] == envfile.load(SHARED_ENV)["vpc_cidr"]


# --- bad input fails before any AWS call ---------------------------------------------

BAD_ENV_CASES = [
    pytest.param(
        {"namespace": "XY-0146-qa"}, "env key namespace 'XY-0146-qa' is invalid", id="invalid-namespace"
    ),
    pytest.param(
        {"db_timestamp": "2026-11-01T09:00"},
        "env key db_timestamp '2026-11-01T09:00' is invalid: expected YYYYMMDDtHHMMSSz",
        id="malformed-timestamp",
    ),
    pytest.param({"hostname": None}, "env key hostname is missing", id="missing-key-with-rule"),
    pytest.param({"shared_namespace": None}, "shared_namespace", id="missing-key-stacker-needs"),
    pytest.param({"db_timestamp": "latest"}, "db_timestamp latest reached the engine unresolved", id="latest-unresolved"),
]


def write_env(tmp_path, changes):
    text = open("environments/xy-0146-qa.env").read()
    raw = envfile.parse(text)
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    path = tmp_path / "bad.env"
    path.write_text("".join("%s: %s\n" % item for item in raw.items()))
    return str(path)


@pytest.mark.parametrize("changes, message", BAD_ENV_CASES)
def test_bad_env_file_fails_before_any_aws_call(tmp_path, changes, message):
    # Nothing listens on this port: any AWS call would fail with a connection error instead.
    dead = client_env("http://127.0.0.1:%d" % free_port())
    result = build(dead, write_env(tmp_path, changes), "stacker/tenant.yaml", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output, output[-3000:]
    assert "Could not connect" not in output and "EndpointConnectionError" not in output


def test_bad_override_on_the_command_line_changes_nothing(aws):
    result = build(
        aws.env, "environments/xy-0146-qa.env", "stacker/tenant.yaml", "-e", "db_timestamp=yesterday", check=False
    )
    assert result.returncode != 0
    assert "env key db_timestamp 'yesterday' is invalid" in result.stdout + result.stderr
    assert aws.client("cloudformation").describe_stacks()["Stacks"] == []
    assert aws.client("secretsmanager").list_secrets()["SecretList"] == []
