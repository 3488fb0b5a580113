"""What the operator sees, the tier's part: its logs key, its alarm topic and its access-log bucket.

Shared by the blueprints that build them (vpc: the logs key; tier: the topic, its key, the log
bucket); the tenants' alarms are blueprints/alarms.py:

- `log_bucket`, `access_logging`, `alarm_topic`, `alarm_topic_access`: the tier's pieces.
- `logs_key_policy`: the account administers the key; CloudWatch Logs of this region may use
  it only for the tier's log groups (kms:EncryptionContext:aws:logs:arn), nobody else at all.
  Reading an encrypted group takes no KMS permission (CloudWatch Logs decrypts), so who reads
  which group stays IAM's business: each tenant's roles name only its own groups.
- `alarm_topic_key_policy`, `alarm_topic_policy`: CloudWatch alarms of this account may
  publish to the tier's encrypted topic; principals of the account use its key only through SNS.
- `log_bucket_policy`: TLS only; the regional Elastic Load Balancing log delivery writes the
  ALB's access logs under `alb/AWSLogs/<account>/`, S3's logging service the files bucket's
  server access logs under `app-files/` (for that bucket of this account only). ALB access
  logs support SSE-S3 only (AWS: "The only server-side encryption option that's supported is
  Amazon S3-managed keys"), so the bucket is SSE-S3. Regions opened before August 2022 deliver
  with the region's ELB account instead of the service principal: the tier's env key
  `elb_log_delivery_account` adds it.
"""
from awacs import kms, s3, sns
from awacs.aws import (
    Allow, ArnLike, AWSPrincipal, Bool, Condition, Deny, Everybody, PolicyDocument, Principal, SecureTransport, SourceArn,
    StringLike,
)
from troposphere import GetAtt, Ref, Sub, s3 as bucket_properties, sns as topics

from blueprints import storage
from blueprints.iam import (
    ACCOUNT_ROOT, ALIASED_KEY_ADMIN_ACTIONS, ANY_RESOURCE, GENERATE_DATA_KEY_ANY, KEY_USE_ACTIONS, LOG_KEY_ACTIONS,
    LOGS_ENCRYPTION_CONTEXT, POLICY_VERSION, Statement, administer_key, arn, deny_insecure_transport,
    regional_endpoint, this_account, use_key_through,
)
from hooks import naming

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
ELB_LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"
S3_LOGGING_PRINCIPAL = "logging.s3.amazonaws.com"
# What CloudWatch needs of an encrypted topic's key to publish an alarm (AWS: "Amazon SNS ... encryption").
TOPIC_KEY_PUBLISH_ACTIONS = [kms.Decrypt, GENERATE_DATA_KEY_ANY]
LOG_DELIVERY_ACTIONS = [s3.PutObject]
PUBLISH_ACTIONS = [sns.Publish]
ANY_ALARM = "alarm:*"
# --- the tier's log bucket and alarm topic -----------------------------------------------------


def log_bucket(logical_id, retention_days):
    """The tier's access-log bucket: SSE-S3 (what ALB access logs support), versioned, private, kept;
    logs expire after `retention_days` (a Ref), replaced versions a day later."""
    return storage.bucket(
        logical_id,
        storage.s3_managed_encryption(),
        LifecycleConfiguration=bucket_properties.LifecycleConfiguration(Rules=[
            bucket_properties.LifecycleRule(
                Id="expire-access-logs",
                Status="Enabled",
                ExpirationInDays=retention_days,
                NoncurrentVersionExpiration=bucket_properties.NoncurrentVersionExpiration(NoncurrentDays=1),
                AbortIncompleteMultipartUpload=bucket_properties.AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
            )
        ]),
    )


def access_logging(log_bucket_logical_id, shared_namespace, source):
    """A bucket's server access logging into the tier's log bucket, under the source's prefix."""
    return bucket_properties.LoggingConfiguration(
        DestinationBucketName=Ref(log_bucket_logical_id),
        LogFilePrefix=naming.access_log_prefix(shared_namespace, source),
    )


def alarm_topic(logical_id, shared_namespace, key_logical_id):
    """The tier's alarm topic, encrypted with the tier's alarms key."""
    return topics.Topic(
        logical_id,
        TopicName=naming.alarm_topic_name(shared_namespace),
        DisplayName="%s alarms" % shared_namespace,
        KmsMasterKeyId=GetAtt(key_logical_id, "Arn"),
    )


def alarm_topic_access(logical_id, topic_logical_id):
    return topics.TopicPolicy(
        logical_id, Topics=[Ref(topic_logical_id)], PolicyDocument=alarm_topic_policy(Ref(topic_logical_id))
    )


# --- key and resource policies ------------------------------------------------------------------


def logs_key_policy(shared_namespace):
    """The tier's logs key: administered by the account, used by CloudWatch Logs for the tier's log groups only."""
    groups = [arn("logs", resource) for resource in naming.tier_log_groups_arn_resources(shared_namespace)]
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            administer_key("AdministerKeyInThisAccount", ALIASED_KEY_ADMIN_ACTIONS),
            Statement(
                Sid="LetCloudWatchLogsEncryptTheTiersLogGroups",
                Effect=Allow,
                Principal=Principal("Service", regional_endpoint("logs")),
                Action=LOG_KEY_ACTIONS,
                Resource=ANY_RESOURCE,
                Condition=Condition(StringLike(LOGS_ENCRYPTION_CONTEXT, groups)),
            ),
        ],
    )


def alarm_topic_key_policy():
    """The alarm topic's key: CloudWatch alarms of this account publish through it; principals use it through SNS."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            administer_key("AdministerKeyInThisAccount", ALIASED_KEY_ADMIN_ACTIONS),
            Statement(
                Sid="LetThisAccountsAlarmsPublish",
                Effect=Allow,
                Principal=Principal("Service", CLOUDWATCH_PRINCIPAL),
                Action=TOPIC_KEY_PUBLISH_ACTIONS,
                Resource=ANY_RESOURCE,
                Condition=Condition(this_account()),
            ),
            use_key_through("UseKeyThroughSnsInThisAccount", KEY_USE_ACTIONS, regional_endpoint("sns")),
        ],
    )


def alarm_topic_policy(topic):
    """`topic` (a Ref): this account's CloudWatch alarms may publish; nothing reaches it without TLS."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Sid="LetThisAccountsAlarmsPublish",
                Effect=Allow,
                Principal=Principal("Service", CLOUDWATCH_PRINCIPAL),
                Action=PUBLISH_ACTIONS,
                Resource=[topic],
                Condition=Condition([this_account(), ArnLike(SourceArn, arn("cloudwatch", ANY_ALARM))]),
            ),
            Statement(
                Sid="DenyInsecureTransport",
                Effect=Deny,
                Principal=Principal(Everybody),
                Action=PUBLISH_ACTIONS,
                Resource=[topic],
                Condition=Condition(Bool(SecureTransport, "false")),
            ),
        ],
    )


def log_bucket_policy(bucket, files_bucket, shared_namespace, legacy_elb_account=""):
    """The tier's log bucket (logical id `bucket`): TLS only, ALB and S3 access-log delivery (module docstring)."""
    alb_logs = Sub("${%s.Arn}/%sAWSLogs/${AWS::AccountId}/*" % (bucket, naming.access_log_prefix(shared_namespace, "alb")))
    files_logs = Sub("${%s.Arn}/%s*" % (bucket, naming.access_log_prefix(shared_namespace, "app-files")))
    statements = [
        deny_insecure_transport(bucket),
        Statement(
            Sid="LetElbDeliverAccessLogs",
            Effect=Allow,
            Principal=Principal("Service", ELB_LOG_DELIVERY_PRINCIPAL),
            Action=LOG_DELIVERY_ACTIONS,
            Resource=[alb_logs],
        ),
        Statement(
            Sid="LetS3DeliverFilesAccessLogs",
            Effect=Allow,
            Principal=Principal("Service", S3_LOGGING_PRINCIPAL),
            Action=LOG_DELIVERY_ACTIONS,
            Resource=[files_logs],
            Condition=Condition([ArnLike(SourceArn, GetAtt(files_bucket, "Arn")), this_account()]),
        ),
    ]
    if legacy_elb_account:
        statements.insert(2, Statement(
            Sid="LetTheRegionsElbAccountDeliverAccessLogs",
            Effect=Allow,
            Principal=AWSPrincipal(Sub("arn:${AWS::Partition}:iam::%s:%s" % (legacy_elb_account, ACCOUNT_ROOT))),
            Action=LOG_DELIVERY_ACTIONS,
            Resource=[alb_logs],
        ))
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)
