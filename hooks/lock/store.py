"""The deploy lock's SSM parameters: create-if-absent, read, overwrite, delete.

Storage only; hooks/lock/deploy_lock.py decides when to call which. Every function takes the
namespace and, for the takeover claim, the parameter's name (default: the lock itself).
"""
from botocore.exceptions import ClientError

from hooks import aws, errors, naming
from hooks.lock.rules import LockRecord


def get(ssm, namespace, name=None):
    """(record, raw value, version) of the stored lock (or of the record at `name`), or None."""
    name = name or naming.ssm_lock_parameter(namespace)
    found = aws.or_none(ssm.get_parameter, "ParameterNotFound", Name=name)
    if found is None:
        return None
    parameter = found["Parameter"]
    try:
        record = LockRecord.from_json(parameter["Value"])
    except (ValueError, TypeError, AttributeError) as error:
        raise errors.DeployFailed(
            "%s holds %r, which is not a lock record (%s); inspect it and delete it with "
            "aws ssm delete-parameter --name %s" % (name, parameter["Value"], error, name)
        ) from None
    return record, parameter["Value"], parameter["Version"]


def read(ssm, namespace):
    """The namespace's lock record, or None when nobody holds it."""
    stored = get(ssm, namespace)
    return stored[0] if stored else None


def create(ssm, namespace, record, name=None, purpose="Deploy lock"):
    """Create-if-absent; False when the lock (or the record at `name`) exists.

    The tags ride on the create (allowed with Overwrite=False, unlike Overwrite=True),
    so the lock is never untagged, not even between two calls.
    """
    try:
        ssm.put_parameter(
            Name=name or naming.ssm_lock_parameter(namespace),
            Value=record.to_json(),
            Type="String",
            Overwrite=False,
            Description="%s of %s (tenantstack): who deploys and since when" % (purpose, namespace),
            Tags=[{"Key": key, "Value": value} for key, value in naming.tags(namespace).items()],
        )
    except ClientError as error:
        if aws.error_code(error) == "ParameterAlreadyExists":
            return False
        raise
    return True


def overwrite(ssm, namespace, record):
    # Overwrite=True cannot carry Tags; the tags set at creation stay with the parameter.
    ssm.put_parameter(Name=naming.ssm_lock_parameter(namespace), Value=record.to_json(), Type="String", Overwrite=True)


def delete(ssm, namespace, name=None):
    aws.or_none(ssm.delete_parameter, "ParameterNotFound", Name=name or naming.ssm_lock_parameter(namespace))
