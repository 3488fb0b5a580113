"""What every bucket and KMS key of tenantstack is, whichever stack holds it.

- `bucket`: versioned, never public, objects owned by the bucket owner, kept (Retain) when
  the stack is deleted or the bucket replaced; encrypted as the caller says
  (`s3_managed_encryption` or `kms_encryption`).
- `tls_only_policy`: its bucket policy, refusing every request not made over TLS
  (blueprints.iam.tls_only_bucket_policy).
- `key` and `key_alias`: a customer-managed key, rotated yearly and kept when the stack goes
  (losing it would lose everything encrypted with it); the caller writes its key policy.
"""
from troposphere import Ref, kms, s3

from blueprints.iam import tls_only_bucket_policy

RETAIN = "Retain"


def bucket(logical_id, encryption_rule, **properties):
    """A kept, versioned, private bucket; `properties` add to (never replace) those settings."""
    return s3.Bucket(
        logical_id,
        DeletionPolicy=RETAIN,
        UpdateReplacePolicy=RETAIN,
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[encryption_rule]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
        ),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        **properties
    )


def s3_managed_encryption():
    return s3.ServerSideEncryptionRule(
        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    )


def kms_encryption(key_arn):
    """Objects encrypted with a customer-managed key, through an S3 bucket key (fewer KMS calls)."""
    return s3.ServerSideEncryptionRule(
        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn),
        BucketKeyEnabled=True,
    )


def tls_only_policy(logical_id, bucket_logical_id):
    policy = tls_only_bucket_policy(bucket_logical_id)
    return s3.BucketPolicy(logical_id, Bucket=Ref(bucket_logical_id), PolicyDocument=policy)


def key(logical_id, description, policy):
    return kms.Key(
        logical_id,
        DeletionPolicy=RETAIN,
        UpdateReplacePolicy=RETAIN,
        Description=description,
        EnableKeyRotation=True,
        KeyPolicy=policy,
    )


def key_alias(logical_id, alias, key_logical_id):
    return kms.Alias(logical_id, AliasName=alias, TargetKeyId=Ref(key_logical_id))
