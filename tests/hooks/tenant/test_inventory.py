"""hooks/tenant/inventory.py: what a tenant has, found with calls scoped to the tenant alone."""
import collections
import datetime
import json

import pytest

from blueprints.service import TenantService
from hooks import naming
from hooks.engine.render import render_blueprint
from hooks.tenant import inventory
from hooks.tenant.inventory import Database, PointerChange

NS = "xy-0146-qa"
CLUSTER = naming.cluster_name("common-nonprod")
SERVICE = naming.service_name(NS)
T1, T2, T3, T4 = "20260101t000000z", "20260102t000000z", "20260103t000000z", "20260104t000000z"


# --- building tenant state the way the DB stack and the service would -----------------------


class Clients:
    """The test's endpoint with one client per service (making a client takes ~0.1 s)."""

    def __init__(self, endpoint):
        self.endpoint, self.made = endpoint, {}

    def client(self, name):
        if name not in self.made:
            self.made[name] = self.endpoint.client(name)
        return self.made[name]


@pytest.fixture
def aws(aws):
    return Clients(aws)



def aws_tags(namespace, **extra):
    return [{"Key": k, "Value": v} for k, v in dict(naming.tags(namespace), **extra).items()]


def create_instance(rds, namespace, timestamp):
    """The DB instance as the DB stack makes it: protected from deletion, tagged."""
    rds.create_db_instance(
        DBInstanceIdentifier=naming.db_instance_id(namespace, timestamp),
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-secret-1",
        DeletionProtection=True,
        Tags=aws_tags(namespace),
    )


def registration(namespace, timestamp):
    return json.dumps(
        {
            "instance_id": naming.db_instance_id(namespace, timestamp),
            "stack": naming.db_stack_name(namespace, timestamp),
            "snapshot": naming.snapshot_id("xy-0146-dev", timestamp),
            "endpoint": "db.example.internal",
            "port": "3306",
        },
        separators=(",", ":"),
    )


def create_stack(cfn, namespace, timestamp):
    """A minimal DB stack: only its SSM registration (the instance is made by the API)."""
    template = {
        "Resources": {
            "DatabaseRegistration": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": naming.ssm_database_parameter(namespace, timestamp),
                    "Type": "String",
                    "Value": registration(namespace, timestamp),
                },
            }
        }
    }
    cfn.create_stack(
        StackName=naming.db_stack_name(namespace, timestamp),
        TemplateBody=json.dumps(template),
        Tags=aws_tags(namespace),  # stacker config `tags:`
    )


def create_database(aws, namespace, timestamp, instance=True, stack=True, registered=True):
    if instance:
        create_instance(aws.client("rds"), namespace, timestamp)
    if stack:
        create_stack(aws.client("cloudformation"), namespace, timestamp)
    elif registered:
        aws.client("ssm").put_parameter(
            Name=naming.ssm_database_parameter(namespace, timestamp),
            Value=registration(namespace, timestamp),
            Type="String",
        )


def set_pointer(ssm, namespace, timestamp, description="flip"):
    ssm.put_parameter(
        Name=naming.ssm_active_parameter(namespace),
        Value=timestamp,
        Type="String",
        Overwrite=True,
        Description=description,
    )


def register_task_definition(ecs, namespace, timestamp):
    return ecs.register_task_definition(
        family=naming.task_family(namespace),
        containerDefinitions=[
            {
                "name": naming.PHP_CONTAINER,
                "image": "php:8.3.14-fpm",
                "memory": 512,
                "environment": [{"name": naming.DB_TIMESTAMP_VARIABLE, "value": timestamp}],
            },
            {"name": "nginx", "image": "nginx:1.27.3", "memory": 128},
        ],
    )["taskDefinition"]["taskDefinitionArn"]


def run_service(ecs, namespace, *timestamps):
    """The service on the first timestamp's task definition, then updated to each next one."""
    ecs.create_cluster(clusterName=CLUSTER)
    arns = [register_task_definition(ecs, namespace, ts) for ts in timestamps]
    ecs.create_service(
        cluster=CLUSTER, serviceName=naming.service_name(namespace), taskDefinition=arns[0], desiredCount=1
    )
    for arn in arns[1:]:
        ecs.update_service(cluster=CLUSTER, service=naming.service_name(namespace), taskDefinition=arn)


def discover(aws, namespace=NS):
    return inventory.discover(
        aws.client("ssm"),
        aws.client("resourcegroupstaggingapi"),
        aws.client("rds"),
        aws.client("cloudformation"),
        namespace,
    )


def database(timestamp, registered=True, instance="available", stack="CREATE_COMPLETE", namespace=NS):
    return Database(
        timestamp=timestamp,
        instance_id=naming.db_instance_id(namespace, timestamp),
        stack_name=naming.db_stack_name(namespace, timestamp),
        registered=registered,
        instance_status=instance,
        stack_status=stack,
    )


# --- discover ------------------------------------------------------------------------------


def test_discover_finds_registered_databases_and_every_kind_of_leftover(aws):
    create_database(aws, NS, T1)  # complete: instance, stack, registration
    create_database(aws, NS, T2, stack=False, registered=False)  # instance that never registered
    create_database(aws, NS, T3, instance=False)  # stack whose instance is gone
    create_database(aws, NS, T4, instance=False, stack=False)  # registration only
    assert discover(aws) == [
        database(T1),
        database(T2, registered=False, stack=None),
        database(T3, instance=None),
        database(T4, instance=None, stack=None),
    ]


def test_discover_ignores_other_namespaces_and_the_tenants_other_stacks(aws):
    create_database(aws, NS, T2)
    create_database(aws, "xy-0146-prod", T1)
    create_database(aws, "ab-0212-qa", T3)
    # A foreign-named database carrying this namespace's tag does not count either.
    rds = aws.client("rds")
    rds.add_tags_to_resource(
        ResourceName=rds.describe_db_instances(DBInstanceIdentifier="ab-0212-qa-db-%s" % T3)["DBInstances"][0][
            "DBInstanceArn"
        ],
        Tags=[{"Key": "Namespace", "Value": NS}],
    )
    aws.client("cloudformation").create_stack(
        StackName=naming.service_stack_name(NS),
        TemplateBody=json.dumps({"Resources": {"Log": {"Type": "AWS::Logs::LogGroup"}}}),
        Tags=aws_tags(NS),
    )
    assert discover(aws) == [database(T2)]


def test_discover_finds_an_instance_by_the_tags_its_template_gives_it(aws):
    """A stack that never registered, made without stack tags: its instance has the template's."""
    instance = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "DBInstanceIdentifier": naming.db_instance_id(NS, T1),
            "Engine": "mysql",
            "DBInstanceClass": "db.t4g.micro",
            "AllocatedStorage": "20",
            "MasterUsername": "dbadmin",
            "MasterUserPassword": "not-a-secret-1",
            "Tags": aws_tags(NS),
        },
    }
    aws.client("cloudformation").create_stack(
        StackName=naming.db_stack_name(NS, T1), TemplateBody=json.dumps({"Resources": {"Database": instance}})
    )
    assert discover(aws) == [database(T1, registered=False)]


def test_discover_of_an_empty_namespace_is_empty(aws):
    create_database(aws, "xy-0146-prod", T1)
    assert discover(aws) == []


def test_discover_refuses_a_bad_namespace(aws):
    with pytest.raises(naming.NamingError, match="namespace 'common-prod' is invalid"):
        discover(aws, "common-prod")


def count_calls(*clients):
    """Record (operation, API parameters) of every call the clients send."""
    calls, pending = [], []
    for client in clients:
        client.meta.events.register("before-parameter-build", lambda params, **_: pending.append(dict(params)))
        client.meta.events.register("before-call", lambda model, **_: calls.append((model.name, pending.pop())))
    return calls


def other_tenant(aws, number):
    namespace = "t%02d-0001-qa" % number
    create_database(aws, namespace, T1)
    set_pointer(aws.client("ssm"), namespace, T1)
    return namespace


def test_discover_costs_the_same_calls_with_1_and_with_30_other_tenants(aws):
    create_database(aws, NS, T1)
    create_database(aws, NS, T2, stack=False, registered=False)
    create_database(aws, NS, T3, instance=False)
    other_tenant(aws, 0)

    def measure():
        clients = [aws.endpoint.client(name) for name in ("ssm", "resourcegroupstaggingapi", "rds", "cloudformation")]
        calls = count_calls(*clients)
        found = inventory.discover(*clients, NS)
        return [d.timestamp for d in found], calls

    found_with_1, calls_with_1 = measure()
    for number in range(1, 30):
        other_tenant(aws, number)
    found_with_30, calls_with_30 = measure()

    assert found_with_1 == found_with_30 == [T1, T2, T3]
    counts = collections.Counter(name for name, _ in calls_with_30)
    assert counts == collections.Counter(name for name, _ in calls_with_1)
    assert counts == {"GetParametersByPath": 1, "GetResources": 1, "DescribeDBInstances": 3, "DescribeStacks": 3}
    # One call per instance id (IAM authorises it on that instance's ARN; a filtered call needs db:*).
    assert [params for name, params in calls_with_30 if name == "DescribeDBInstances"] == [
        {"DBInstanceIdentifier": naming.db_instance_id(NS, ts)} for ts in (T1, T2, T3)
    ]
    for name, params in calls_with_30:
        if name == "DescribeStacks":
            assert params["StackName"].startswith(NS + "-db-")


def test_discover_never_lists_the_account(aws):
    other_tenant(aws, 1)
    clients = [aws.endpoint.client(name) for name in ("ssm", "resourcegroupstaggingapi", "rds", "cloudformation")]
    calls = count_calls(*clients)
    assert inventory.discover(*clients, NS) == []
    # Nothing of ours exists: the path and tag queries find nothing, so nothing is described.
    assert [name for name, _ in calls] == ["GetParametersByPath", "GetResources"]
    assert calls[1][1]["TagFilters"] == [{"Key": "Namespace", "Values": [NS]}]
    assert calls[1][1]["ResourceTypeFilters"] == ["rds:db", "rds:snapshot", "cloudformation:stack"]


def test_a_restore_copy_without_a_database_is_found_and_other_snapshots_are_not(aws):
    """hooks.steps.tier_copy's copy <ns>-<ts> (tag CopiedFrom) of a run that failed before its database."""
    rds = aws.client("rds")
    create_database(aws, NS, T1)
    rds.create_db_snapshot(DBSnapshotIdentifier=naming.snapshot_id(NS, T3), DBInstanceIdentifier=naming.db_instance_id(
        NS, T1), Tags=aws_tags(NS))  # no CopiedFrom: not the pipeline's, never a leftover
    copied = aws_tags(NS, **{naming.COPIED_FROM_TAG: "xy-0146-dev-" + T2})
    for target in (naming.snapshot_id(NS, T2), "manual-copy"):  # only <ns>-<ts> names a timestamp
        rds.copy_db_snapshot(SourceDBSnapshotIdentifier=naming.snapshot_id(NS, T3), TargetDBSnapshotIdentifier=target,
                             Tags=copied)
    found = inventory.discover(*(aws.client(n) for n in ("ssm", "resourcegroupstaggingapi", "rds", "cloudformation")),
                               NS)
    assert [(d.timestamp, d.instance_status is not None, d.restore_copy) for d in found] == [
        (T1, True, False), (T2, False, True)]
    rds.delete_db_snapshot(DBSnapshotIdentifier=naming.snapshot_id(NS, T2))
    found = inventory.discover(*(aws.client(n) for n in ("ssm", "resourcegroupstaggingapi", "rds", "cloudformation")),
                               NS)
    assert [d.timestamp for d in found] == [T1]


# --- pointer -------------------------------------------------------------------------------


def test_active_timestamp_is_none_without_a_pointer(aws):
    set_pointer(aws.client("ssm"), "xy-0146-prod", T1)
    assert inventory.active_timestamp(aws.client("ssm"), NS) is None


def test_active_timestamp_reads_the_pointer(aws):
    set_pointer(aws.client("ssm"), NS, T2)
    assert inventory.active_timestamp(aws.client("ssm"), NS) == T2


def test_active_timestamp_refuses_a_pointer_that_is_no_timestamp(aws):
    set_pointer(aws.client("ssm"), NS, "yesterday")
    with pytest.raises(naming.NamingError, match=r"/xy-0146-qa/db/active 'yesterday' is invalid"):
        inventory.active_timestamp(aws.client("ssm"), NS)


def test_pointer_history_lists_every_flip_oldest_first(aws):
    ssm = aws.client("ssm")
    assert inventory.pointer_history(ssm, NS) == []
    for number, timestamp in enumerate([T1, T2, T3, T2, T4] * 3, start=1):
        set_pointer(ssm, NS, timestamp, description="flip %d" % number)
    history = inventory.pointer_history(ssm, NS)
    assert [(c.version, c.value, c.description) for c in history] == [
        (n, ts, "flip %d" % n) for n, ts in enumerate([T1, T2, T3, T2, T4] * 3, start=1)
    ]
    assert all(isinstance(c.modified_at, datetime.datetime) for c in history)


def change(value, version=1):
    return PointerChange(version, value, None, datetime.datetime(2026, 1, 1), None)


@pytest.mark.parametrize(
    "values, active, expected",
    [
        pytest.param([], None, [], id="no-history"),
        pytest.param([T1], T1, [], id="only-the-active"),
        pytest.param([T1, T2, T3], T3, [T2, T1], id="newest-first"),
        pytest.param([T1, T2, T1, T3], T3, [T1, T2], id="repeat-counts-at-its-latest"),
        pytest.param([T1, T2, T3, T2], T2, [T3, T1], id="rollback-excludes-the-active"),
        pytest.param([T1, "junk", T2], T2, [T1], id="ignores-non-timestamps"),
    ],
)
def test_previously_active(values, active, expected):
    history = [change(value, n) for n, value in enumerate(values, start=1)]
    assert inventory.previously_active(history, active) == expected


def at(minute):
    return datetime.datetime(2026, 1, 1, 0, minute, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    "values, expected",
    [
        pytest.param([], None, id="no-history"),
        pytest.param([T2, T3], None, id="never-named"),
        pytest.param([T1], None, id="still-named"),
        pytest.param([T1, T2, T3], at(2), id="left-once"),
        pytest.param([T1, T2, T1, T3], at(4), id="left-twice-counts-the-last"),
        pytest.param([T1, T2, T1], None, id="named-again"),
    ],
)
def test_active_until(values, expected):
    history = [PointerChange(n, value, None, at(n), None) for n, value in enumerate(values, start=1)]
    assert inventory.active_until(history, T1) == expected


# --- the service ---------------------------------------------------------------------------


def test_referenced_timestamps_covers_every_task_definition_of_the_service(aws):
    ecs = aws.client("ecs")
    run_service(ecs, NS, T1, T2)
    run_service(ecs, "xy-0146-dev", T3)
    assert inventory.referenced_timestamps(ecs, CLUSTER, SERVICE) == {T1, T2}


def test_referenced_timestamps_is_empty_without_a_service(aws):
    ecs = aws.client("ecs")
    assert inventory.referenced_timestamps(ecs, CLUSTER, SERVICE) == set()  # no cluster either
    run_service(ecs, "xy-0146-dev", T3)
    assert inventory.referenced_timestamps(ecs, CLUSTER, SERVICE) == set()


def test_referenced_timestamps_is_empty_once_the_service_is_deleted(aws):
    ecs = aws.client("ecs")
    run_service(ecs, NS, T1)
    ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    assert inventory.referenced_timestamps(ecs, CLUSTER, SERVICE) == set()


def test_the_service_blueprint_puts_db_timestamp_where_inventory_reads_it():
    template = render_blueprint(TenantService, {"Namespace": NS, "Timestamp": T2})
    (definition,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    (php,) = [c for c in definition["Properties"]["ContainerDefinitions"] if c["Name"] == naming.PHP_CONTAINER]
    assert {"Name": naming.DB_TIMESTAMP_VARIABLE, "Value": T2} in php["Environment"]


PHP_WITH = {"name": naming.PHP_CONTAINER, "environment": [{"name": naming.DB_TIMESTAMP_VARIABLE, "value": T1}]}


@pytest.mark.parametrize(
    "containers, expected, found",
    [
        pytest.param([{"name": "nginx"}, PHP_WITH], T1, None, id="ours"),
        pytest.param(None, None, "no containers", id="containers-missing"),
        pytest.param([], None, "no containers", id="no-containers"),
        pytest.param([{"cpu": 0, "environment": []}, {"cpu": 0}], None, "<unnamed container>, <unnamed container>",
                     id="unnamed-containers-as-the-endpoints-update-leaves-them"),
        pytest.param([{"name": "web", "environment": [{"name": naming.DB_TIMESTAMP_VARIABLE, "value": T1}]}], None,
                     "web", id="no-php-container"),
        pytest.param([{"name": naming.PHP_CONTAINER}], None, "php", id="php-without-environment"),
        pytest.param([{"name": naming.PHP_CONTAINER, "environment": [{"value": T1}, {"name": "X"}]}], None, "php",
                     id="environment-entries-without-names-or-values"),
        pytest.param([{"name": naming.PHP_CONTAINER, "environment": [
            {"name": naming.DB_TIMESTAMP_VARIABLE, "value": "yesterday"}]}], None, "php", id="not-a-timestamp"),
    ],
)
def test_task_definition_timestamp_never_crashes_and_says_what_it_found(caplog, containers, expected, found):
    definition = {"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:9"}
    if containers is not None:
        definition["containerDefinitions"] = containers
    with caplog.at_level("WARNING", logger="hooks.tenant.inventory"):
        assert inventory.task_definition_timestamp(definition) == expected
    if found is None:
        assert caplog.text == ""
    else:
        assert ("task definition arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:9 has no DB_TIMESTAMP "
                "in a php container (it has %s); it references no database" % found) in caplog.text
