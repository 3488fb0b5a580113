"""Other tenants in the account: what a promotion must not slow down for.

Each other tenant gets what a live tenant has, made directly through the API (stacker
500 times would take most of the time budget):

- CloudFormation stacks <ns>-base, <ns>-db-<ts>, <ns>-service, tagged like tenant
  stacks (a trivial template: the promotion only ever looks stacks up by name);
- its RDS instance <ns>-db-<ts>, tagged with the tenant tags (the endpoint adds an
  automated snapshot of each; manual final snapshots are left out: with them, 500 tenants
  pass the endpoint's quota of 1,000 snapshots, MOTO_RDS_SNAPSHOT_LIMIT);
- its SSM parameters /<ns>/db/active, /<ns>/db/databases/<ts>, /<ns>/db/secret-arn.

Namespaces are `ot-<n>-<dev|qa|prod>`, so they share no prefix with the measured tenant.
Creation runs on one thread per service.
"""
import json
from concurrent.futures import ThreadPoolExecutor

from hooks import naming

CUSTOMER = "ot"
TIMESTAMP = "20261001t080000z"  # each other tenant's active database
ENVIRONMENTS = ("dev", "qa", "prod")
TRIVIAL_TEMPLATE = json.dumps({
    "Description": "benchmark filler: another tenant's stack",
    "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
})


def namespaces(count):
    """`count` other tenants' namespaces: ot-0001-dev, ot-0001-qa, ot-0001-prod, ot-0002-dev..."""
    return [
        naming.parse_namespace("%s-%04d-%s" % (CUSTOMER, 1 + index // len(ENVIRONMENTS),
                                               ENVIRONMENTS[index % len(ENVIRONMENTS)])).name
        for index in range(count)
    ]


def _tags(namespace):
    return [{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()]


def add_stacks(cfn, namespace, timestamp=TIMESTAMP):
    for stack in (naming.base_stack_name(namespace), naming.db_stack_name(namespace, timestamp),
                  naming.service_stack_name(namespace)):
        cfn.create_stack(StackName=stack, TemplateBody=TRIVIAL_TEMPLATE, Tags=_tags(namespace))


def add_database(rds, namespace, timestamp=TIMESTAMP):
    """The active database (the endpoint also gives it an automated snapshot, as AWS does)."""
    rds.create_db_instance(
        DBInstanceIdentifier=naming.db_instance_id(namespace, timestamp), Engine="mysql", EngineVersion="8.0.39",
        DBInstanceClass="db.t4g.micro", AllocatedStorage=20, MasterUsername="dbadmin",
        MasterUserPassword="benchmark-filler-0", StorageEncrypted=True, Tags=_tags(namespace),
    )


def add_parameters(ssm, namespace, timestamp=TIMESTAMP):
    instance_id = naming.db_instance_id(namespace, timestamp)
    source = naming.parse_namespace(namespace).default_source_namespace
    registration = {"instance_id": instance_id, "stack": naming.db_stack_name(namespace, timestamp),
                    "snapshot": naming.snapshot_id(source, timestamp), "endpoint": "%s.local" % instance_id,
                    "port": 3306}
    secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:%s-AbCdEf" % naming.db_secret_name(namespace)
    for name, value in ((naming.ssm_active_parameter(namespace), timestamp),
                        (naming.ssm_database_parameter(namespace, timestamp), json.dumps(registration)),
                        (naming.ssm_secret_arn_parameter(namespace), secret_arn)):
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


# One thread per service: moto's backends are not safe for concurrent writes to one
# service (CloudFormation fails with "OrderedDict mutated during iteration").
ADDERS = {"cloudformation": add_stacks, "rds": add_database, "ssm": add_parameters}


def add_files(s3, namespace, bucket, timestamp=TIMESTAMP):
    """One file of the tenant's data set, under <ns>/files/<ts>/ in the tier's files bucket."""
    s3.put_object(Bucket=bucket, Key=naming.files_prefix(namespace, timestamp) + "uploads/a.png", Body=b"png")


def populate(endpoint, count, start=0, files_bucket=None):
    """Add other tenants number start+1 .. count (so a larger population extends a smaller one); with
    `files_bucket`, each with a file of its data set."""
    wanted = namespaces(count)[start:]
    adders = dict(ADDERS, **({"s3": lambda s3, ns: add_files(s3, ns, files_bucket)} if files_bucket else {}))

    def worker(service):
        client, add = endpoint.client(service), adders[service]
        for namespace in wanted:
            add(client, namespace)

    with ThreadPoolExecutor(max_workers=len(adders)) as pool:
        for future in [pool.submit(worker, service) for service in adders]:
            future.result()
    return len(wanted)
