"""The pieces the blueprints' IAM policies are built from, as awacs objects.

- `Statement`: awacs's statement, also taking one action, or the resource "*", unlisted.
- ARNs for Fn::Sub in the stack's partition, region and account: `arn`, `bucket_arn`,
  `objects_arn`, `permissions_boundary_arn`; `parameter_arn` for an ARN a parameter holds.
  (awacs's ARN classes take the partition from the region, so a regionless ARN, of iam or
  s3, would get "aws", not ${AWS::Partition}.)
- Principals and trust: the service principals, `account_principal`, `trust_policy`.
- Conditions: `this_account`, `regional_endpoint` (kms:ViaService values, regional principals).
- Actions several policies share: key use and administration, and the wildcard actions.
- Whole documents every bucket and key policy repeats: `tls_only_bucket_policy`,
  `administer_key`, `use_key_through`.

Every action is an awacs object (awacs.<service>.<Action>) in a module-level constant, so
a misspelt action fails at import; tests/blueprints/test_iam.py checks the rendered templates for strays. The
namespace-specific part of every ARN and tag key comes from hooks.naming (hooks/naming/iam.py).
"""
from awacs import ecr, kms, logs, s3, sts
from awacs.aws import (
    Action,
    Allow,
    AWSPrincipal,
    Bool,
    Condition,
    Deny,
    Everybody,
    PolicyDocument,
    Principal,
    SecureTransport,
    SourceAccount,
    StringEquals,
)
from awacs.aws import Statement as AwacsStatement
from troposphere import AccountId, AWSHelperFn, GetAtt, Sub

from hooks import naming

POLICY_VERSION = "2012-10-17"
ANY_RESOURCE = "*"
ACCOUNT_ROOT = "root"  # the ARN resource of the account itself as a principal

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
CODEBUILD_PRINCIPAL = "codebuild.amazonaws.com"
CODEPIPELINE_PRINCIPAL = "codepipeline.amazonaws.com"
EVENTS_PRINCIPAL = "events.amazonaws.com"
FLOW_LOGS_PRINCIPAL = "vpc-flow-logs.amazonaws.com"

# awacs names each action; a wildcard over several is an awacs Action built from its prefix.
GENERATE_DATA_KEY_ANY = kms.Action("GenerateDataKey*")  # GenerateDataKey, ...Pair, ...WithoutPlaintext
REENCRYPT_ANY = kms.Action("ReEncrypt*")  # ReEncryptFrom, ReEncryptTo
S3_ANY = s3.Action("*")
ASSUME_ROLE = sts.AssumeRole
# Write events to a log group's streams: a service's tasks, a build.
LOG_WRITE_ACTIONS = [logs.CreateLogStream, logs.PutLogEvents]
# Log in to the account's ECR registry (docker login); the action has no resource-level scoping.
REGISTRY_AUTH_ACTIONS = [ecr.GetAuthorizationToken]

# Using a key for data (encrypt, decrypt, re-encrypt, data keys) and reading its description.
KEY_USE_ACTIONS = [kms.Decrypt, kms.DescribeKey, kms.Encrypt, GENERATE_DATA_KEY_ANY, REENCRYPT_ANY]
# What builds and the pipeline do with the artifact key: read and write artifacts, no re-encryption.
ARTIFACT_KEY_ACTIONS = [kms.Decrypt, kms.DescribeKey, kms.Encrypt, GENERATE_DATA_KEY_ANY]
# Administering one key. A key policy's resource is always the key itself, so no wildcard
# that would also name account-level actions such as kms:CreateKey.
KEY_ADMIN_ACTIONS = [
    kms.CancelKeyDeletion, kms.DescribeKey, kms.DisableKey, kms.DisableKeyRotation, kms.EnableKey,
    kms.EnableKeyRotation, kms.GetKeyPolicy, kms.GetKeyRotationStatus, kms.ListGrants, kms.ListResourceTags,
    kms.PutKeyPolicy, kms.RevokeGrant, kms.ScheduleKeyDeletion, kms.TagResource, kms.UntagResource,
    kms.UpdateKeyDescription,
]
# CloudWatch Logs encrypting log groups with a key (no DescribeKey), only for the groups the
# kms:EncryptionContext:aws:logs:arn condition names.
LOG_KEY_ACTIONS = [kms.Decrypt, kms.Encrypt, GENERATE_DATA_KEY_ANY, REENCRYPT_ANY]
LOGS_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:logs:arn"
# Administering a key whose alias lives in the same stack: the alias actions need the key's permission too.
ALIASED_KEY_ADMIN_ACTIONS = sorted(
    KEY_ADMIN_ACTIONS + [kms.CreateAlias, kms.DeleteAlias, kms.UpdateAlias], key=lambda action: action.JSONrepr()
)


# --- statements ---------------------------------------------------------------------------------


def _actions(value):
    actions = value if isinstance(value, list) else [value]
    strays = [action for action in actions if not isinstance(action, Action)]
    if not actions or strays:
        raise TypeError(
            "Statement Action %r is invalid: expected an awacs action (awacs.<service>.<Action>) or a "
            "non-empty list of them, so that a misspelt action fails where it is written" % (strays or value,)
        )
    return value


def _resources(value):
    if isinstance(value, (list, AWSHelperFn)) or value == ANY_RESOURCE:
        return value
    raise TypeError(
        "Statement Resource %r is invalid: expected a list, %r or a CloudFormation function" % (value, ANY_RESOURCE)
    )


def _condition(value):
    # awacs lets any helper through, so a bare StringEquals(...) would render without its operator.
    if not isinstance(value, Condition):
        raise TypeError("Statement Condition %r is invalid: expected awacs.aws.Condition(...)" % (value,))
    return value


class Statement(AwacsStatement):
    """awacs's Statement, which also takes one action, or the resource "*", unlisted.

    The blueprints write each statement out, keyword by keyword, rather than through a
    builder: a statement is what a reviewer reads, so statements of one shape (`duplicates`
    lists them) are different grants, not repeated code.

    awacs types Action as a list of actions and Resource as a list (or a CloudFormation
    function). The templates write a lone action ("sts:AssumeRole", "s3:*", "sns:Publish")
    and the resource "*" as they are, and rendering must not change, so this class takes
    those too. Everything else is awacs's: an action must still be an awacs action (a
    string is refused), and a Condition must be an awacs Condition.
    """

    props = dict(
        AwacsStatement.props,
        Action=(_actions, False),
        Resource=(_resources, False),
        Condition=(_condition, False),
    )


def sorted_actions(*groups):
    """The actions of every group, each once, in the order IAM lists them (by name)."""
    unique = {action.JSONrepr(): action for group in groups for action in group}
    return [unique[name] for name in sorted(unique)]


# --- ARNs ---------------------------------------------------------------------------------------


def arn(service, resource, region=True, account=True):
    """Fn::Sub of an ARN in the stack's partition (and region and account, unless turned off)."""
    return Sub(
        "arn:${AWS::Partition}:%s:%s:%s:%s"
        % (service, "${AWS::Region}" if region else "", "${AWS::AccountId}" if account else "", resource)
    )


def parameter_text(name):
    """A template parameter's value inside Fn::Sub text: ${Name}."""
    return "${%s}" % name


def parameter_arn(name):
    """A template parameter holding an ARN, as a Resource (Fn::Sub of ${Name})."""
    return Sub(parameter_text(name))


def bucket_arn(bucket):
    """bucket: the bucket's name as Fn::Sub text ("${ArtifactBucketName}", or "*" for any)."""
    return arn("s3", bucket, region=False, account=False)


def objects_arn(bucket, key_pattern):
    """The objects of `bucket` (Fn::Sub text) whose keys match `key_pattern`."""
    return arn("s3", "%s/%s" % (bucket, key_pattern), region=False, account=False)


def permissions_boundary_arn(namespace):
    """The ARN of the namespace's boundary policy, for Fn::Sub in any stack of the account."""
    return arn("iam", naming.permissions_boundary_arn_resource(namespace), region=False)


# --- principals, conditions, trust ---------------------------------------------------------------


def account_principal():
    """This account: a key policy that names it lets IAM policies of the account delegate."""
    return AWSPrincipal(arn("iam", ACCOUNT_ROOT, region=False))


def regional_endpoint(service):
    """Fn::Sub of a service's endpoint in this region: a kms:ViaService value, or a regional principal."""
    return Sub("%s.${AWS::Region}.amazonaws.com" % service)


def this_account(key=SourceAccount):
    """The condition element `key` is this stack's account (aws:SourceAccount unless told)."""
    return StringEquals(key, AccountId)


def trust_policy(service, *conditions):
    """Only `service`, acting for this account (the confused-deputy guard), may assume the role;
    further condition elements narrow it more."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", service),
                Action=ASSUME_ROLE,
                Condition=Condition([this_account(), *conditions]),
            )
        ],
    )


# --- bucket and key policies ---------------------------------------------------------------------


def deny_insecure_transport(bucket):
    """The statement that denies every request to the bucket (its logical id) and its objects not over TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal(Everybody),
        Action=S3_ANY,
        Resource=[GetAtt(bucket, "Arn"), Sub("${%s.Arn}/*" % bucket)],
        Condition=Condition(Bool(SecureTransport, "false")),
    )


def tls_only_bucket_policy(bucket):
    """Deny every request to the bucket (its logical id) and its objects that does not come over TLS."""
    return PolicyDocument(Version=POLICY_VERSION, Statement=[deny_insecure_transport(bucket)])


def administer_key(sid, actions):
    """A key policy statement: the account administers the key (its IAM policies may then delegate)."""
    return Statement(Sid=sid, Effect=Allow, Principal=account_principal(), Action=actions, Resource=ANY_RESOURCE)


def use_key_through(sid, actions, via):
    """A key policy statement: principals of this account use the key only through `via`
    (a regional_endpoint, or a list of them), never directly."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=account_principal(),
        Action=actions,
        Resource=ANY_RESOURCE,
        Condition=Condition(StringEquals({"kms:CallerAccount": AccountId, "kms:ViaService": via})),
    )
