"""What a project's pipeline keeps: stack <project>-artifacts.

- A customer-managed KMS key (alias hooks.naming.artifact_key_alias, rotated yearly)
  for the artifacts, the builds' logs and the notification topic. Its policy lets the
  account administer it (IAM policies then delegate), lets principals of the account use
  it only through S3 and SNS, lets CloudWatch Logs use it for the project's build log
  groups only, and lets EventBridge use it to publish to the topic.
- The artifact bucket (hooks.naming.artifact_bucket_name): KMS-encrypted by default with
  the key, versioned, never public, reachable only over TLS, objects expire after
  `ArtifactRetentionDays` (old versions a day later), kept when the stack goes.
- The notification topic, encrypted with the key; EventBridge may publish to it (the
  pipeline's failure rule), and the pipeline's approval action notifies through it.
"""
from troposphere import GetAtt, Ref, Sub, kms, s3, sns

from blueprints.project_base import ProjectBlueprint
from blueprints.service_iam import document
from hooks import naming

KEY, KEY_ALIAS = "ArtifactKey", "ArtifactKeyAlias"
BUCKET, BUCKET_POLICY = "ArtifactBucket", "ArtifactBucketPolicy"
TOPIC, TOPIC_POLICY = "NotificationTopic", "NotificationTopicPolicy"

# Administering this key (the key policy's resource is always the key itself, so no wildcard
# that would also name account-level actions such as kms:CreateKey).
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey",
    "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
    "kms:UntagResource", "kms:UpdateKeyDescription",
)
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
LOG_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
ACCOUNT = {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")}
THIS_ACCOUNT = {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}}


class PipelineArtifacts(ProjectBlueprint):
    DESCRIPTION = "tenantstack: the artifact bucket, key and notification topic of a project's pipeline"
    VARIABLES = {
        "ArtifactRetentionDays": {"type": int, "default": 30, "description": "Days pipeline artifacts are kept"},
    }

    def validate(self, variables):
        if not 1 <= variables["ArtifactRetentionDays"] <= 3650:
            self.fail("ArtifactRetentionDays", variables["ArtifactRetentionDays"], "expected 1 to 3650 days")

    def build(self, variables):
        self.key()
        self.bucket(variables["ArtifactRetentionDays"])
        self.topic()
        self.output(BUCKET, "Name", Ref(BUCKET), "Where the pipeline keeps its artifacts")
        self.output(BUCKET, "Arn", GetAtt(BUCKET, "Arn"))
        self.output(KEY, "Arn", GetAtt(KEY, "Arn"), "Encrypts artifacts, build logs and notifications")
        self.output(TOPIC, "Arn", Ref(TOPIC), "Failures and approval requests of the pipeline")

    def key(self):
        log_groups = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:%s" % (
            naming.codebuild_log_group_name("%s-*" % self.namespace)
        )
        self.add_resource(
            kms.Key(
                KEY,
                Description="Pipeline artifacts, build logs and notifications of project %s" % self.namespace,
                EnableKeyRotation=True,
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
                KeyPolicy=document(
                    {"Sid": "AdministerKey", "Effect": "Allow", "Principal": ACCOUNT,
                     "Action": list(KEY_ADMIN_ACTIONS), "Resource": "*"},
                    {"Sid": "UseThroughStorageAndNotifications", "Effect": "Allow", "Principal": ACCOUNT,
                     "Action": list(KEY_USE_ACTIONS), "Resource": "*",
                     "Condition": {"StringEquals": {
                         "kms:CallerAccount": Ref("AWS::AccountId"),
                         "kms:ViaService": [Sub("s3.${AWS::Region}.amazonaws.com"), Sub("sns.${AWS::Region}.amazonaws.com")],
                     }}},
                    {"Sid": "EncryptBuildLogs", "Effect": "Allow",
                     "Principal": {"Service": Sub("logs.${AWS::Region}.amazonaws.com")},
                     "Action": list(LOG_KEY_ACTIONS), "Resource": "*",
                     "Condition": {"StringLike": {"kms:EncryptionContext:aws:logs:arn": Sub(log_groups)}}},
                    {"Sid": "PublishPipelineEvents", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*", "Condition": THIS_ACCOUNT},
                ),
            )
        )
        self.add_resource(
            kms.Alias(KEY_ALIAS, AliasName=naming.artifact_key_alias(self.namespace), TargetKeyId=Ref(KEY))
        )

    def bucket(self, retention_days):
        self.add_resource(
            s3.Bucket(
                BUCKET,
                BucketName=Sub(naming.artifact_bucket_name(self.namespace, "${AWS::AccountId}", "${AWS::Region}")),
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
                BucketEncryption=s3.BucketEncryption(
                    ServerSideEncryptionConfiguration=[
                        s3.ServerSideEncryptionRule(
                            ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                                SSEAlgorithm="aws:kms", KMSMasterKeyID=GetAtt(KEY, "Arn")
                            ),
                            BucketKeyEnabled=True,
                        )
                    ]
                ),
                VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
                PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                    BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
                ),
                OwnershipControls=s3.OwnershipControls(
                    Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
                ),
                LifecycleConfiguration=s3.LifecycleConfiguration(
                    Rules=[
                        s3.LifecycleRule(
                            Id="expire-artifacts",
                            Status="Enabled",
                            ExpirationInDays=retention_days,
                            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=1),
                            AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
                        )
                    ]
                ),
            )
        )
        self.add_resource(
            s3.BucketPolicy(
                BUCKET_POLICY,
                Bucket=Ref(BUCKET),
                PolicyDocument=document(
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [GetAtt(BUCKET, "Arn"), Sub("${%s.Arn}/*" % BUCKET)],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            )
        )

    def topic(self):
        self.add_resource(
            sns.Topic(TOPIC, TopicName=naming.notification_topic_name(self.namespace), KmsMasterKeyId=Ref(KEY))
        )
        self.add_resource(
            sns.TopicPolicy(
                TOPIC_POLICY,
                Topics=[Ref(TOPIC)],
                PolicyDocument=document(
                    {"Sid": "PublishPipelineEvents", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": Ref(TOPIC), "Condition": THIS_ACCOUNT},
                ),
            )
        )
