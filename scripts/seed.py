"""Seed data the way the dev team does: a dev database and a timestamped snapshot of it; and the
images the env files pin, as the pipeline's Images stage pushes them.

Used by the demo and the end-to-end tests against the local endpoint. The dev
database's own password is random and thrown away: promotion never needs it.
"""
import hashlib
import json
import secrets
import time

from hooks import naming
from hooks.config import envfile

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
WAIT_SECONDS = 120
WAIT_INTERVAL = 0.5


def _wait_for(describe, ready, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if ready(describe()):
            return
        time.sleep(WAIT_INTERVAL)
    raise TimeoutError("%s not ready after %d s" % (what, WAIT_SECONDS))


def create_dev_database(rds, namespace, timestamp, engine="mysql", engine_version="8.0.39", kms_key_id=None):
    """The dev namespace's database <namespace>-db-<timestamp>, encrypted (with `kms_key_id`
    when given, e.g. its tier key, as a database the pipeline restored would be), MySQL 8."""
    instance_id = naming.db_instance_id(namespace, timestamp)
    key = {"KmsKeyId": kms_key_id} if kms_key_id else {}
    rds.create_db_instance(
        **key,
        DBInstanceIdentifier=instance_id,
        Engine=engine,
        EngineVersion=engine_version,
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="dbadmin",
        MasterUserPassword=secrets.token_urlsafe(24),
        StorageEncrypted=True,
        PubliclyAccessible=False,
        Tags=[{"Key": k, "Value": v} for k, v in naming.tags(namespace).items()],
    )
    _wait_for(
        lambda: rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"][0],
        lambda db: db["DBInstanceStatus"] == "available",
        "database %s" % instance_id,
    )
    return instance_id


def snapshot_database(rds, instance_id, source_namespace, timestamp):
    """Snapshot a database as <source_namespace>-<timestamp>; wait until available."""
    snapshot = naming.snapshot_id(source_namespace, timestamp)
    rds.create_db_snapshot(DBSnapshotIdentifier=snapshot, DBInstanceIdentifier=instance_id)
    _wait_for(
        lambda: rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0],
        lambda snap: snap["Status"] == "available",
        "snapshot %s" % snapshot,
    )
    return snapshot


def tier_key_arn(kms, namespace):
    """The ARN of the KMS key of `namespace`'s tier (alias/<tier>/rds), None before the tier exists."""
    alias = naming.db_kms_alias(naming.parse_namespace(namespace).shared_namespace)
    # Listed, not described: the local endpoint answers DescribeKey of a missing alias (and of
    # the key CloudFormation made) with a 500. The key's ARN is the alias's, with key/<id>.
    for page in kms.get_paginator("list_aliases").paginate():
        for entry in page["Aliases"]:
            if entry["AliasName"] == alias and entry.get("TargetKeyId"):
                target = entry["TargetKeyId"]
                return target if target.startswith("arn:") else "%s:key/%s" % (
                    entry["AliasArn"].rsplit(":", 1)[0], target)
    return None


def seed_dev_snapshot(rds, source_namespace, timestamp, database_timestamp="20261001t080000z", kms=None, **engine):
    """A dev database (created on first use) and its snapshot at `timestamp`.

    The database is under `kms_key_id` (among `engine`) if given, else, with a `kms` client, under
    its tier's key, as a database the pipeline restored is (so a same-tier tenant restores its
    snapshot as it is: naming.restores_from), else under the default key."""
    instance_id = naming.db_instance_id(source_namespace, database_timestamp)
    try:
        rds.describe_db_instances(DBInstanceIdentifier=instance_id)
    except rds.exceptions.DBInstanceNotFoundFault:
        if kms is not None and "kms_key_id" not in engine:
            engine["kms_key_id"] = tier_key_arn(kms, source_namespace)
        create_dev_database(rds, source_namespace, database_timestamp, **engine)
    return snapshot_database(rds, instance_id, source_namespace, timestamp)


def local_certificate(acm, domain):
    """A certificate for the shared ALB's HTTPS listener, for the local endpoint only.

    The env files name real ACM certificates; the local endpoint refuses a listener
    whose certificate it does not hold, so local builds request one and pass its ARN
    with `stacker build -e certificate_arn=...`.
    """
    return acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]


def seed_images(ecr, images):
    """The project images `images` (references) name, as the pipeline leaves them: each project's
    repository (the <project>-images stack's, immutable tags) holding an image under the pinned
    digest (the local endpoint takes the digest it is given; ECR computes it from the manifest).
    References to other registries, or by tag, are skipped. Returns the references seeded."""
    seeded = []
    for image in images:
        reference = naming.parse_image_reference(image)
        if reference.ecr_account_region is None or not reference.digest:
            continue
        try:
            ecr.create_repository(repositoryName=reference.repository, imageTagMutability="IMMUTABLE")
        except ecr.exceptions.RepositoryAlreadyExistsException:
            pass
        hexdigits = reference.digest.split(":", 1)[1]
        manifest = json.dumps({  # one manifest per digest: the endpoint keeps one image per manifest
            "schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                       "digest": "sha256:%s" % hashlib.sha256(hexdigits.encode()).hexdigest()},
            "layers": [],
        })
        try:
            ecr.put_image(repositoryName=reference.repository, imageManifest=manifest, imageDigest=reference.digest,
                          imageManifestMediaType=MANIFEST_MEDIA_TYPE, imageTag="seed-%s" % hexdigits[:12])
        except ecr.exceptions.ImageAlreadyExistsException:
            pass
        seeded.append(image)
    return seeded


def pinned_images(env_paths):
    """Every image the tenant env files `env_paths` pin."""
    keys = [naming.image_setting(container) for container in naming.IMAGE_CONTAINERS]
    values = [envfile.load(path) for path in env_paths]
    return sorted({tenant[key] for tenant in values for key in keys if key in tenant})
