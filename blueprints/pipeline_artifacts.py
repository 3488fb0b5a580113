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
from awacs import kms, sns as sns_actions
from awacs.aws import Allow, Condition, PolicyDocument, Principal, StringLike
from troposphere import GetAtt, Ref, Sub, s3, sns

from blueprints import storage
from blueprints.iam import (
    ANY_RESOURCE, EVENTS_PRINCIPAL, GENERATE_DATA_KEY_ANY, KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS, LOG_KEY_ACTIONS,
    LOGS_ENCRYPTION_CONTEXT, POLICY_VERSION, Statement, administer_key, arn, regional_endpoint, this_account,
    use_key_through,
)
from blueprints.project_base import ProjectBlueprint
from hooks import naming

KEY, KEY_ALIAS = "ArtifactKey", "ArtifactKeyAlias"
BUCKET, BUCKET_POLICY = "ArtifactBucket", "ArtifactBucketPolicy"
TOPIC, TOPIC_POLICY = "NotificationTopic", "NotificationTopicPolicy"

# EventBridge publishes to the encrypted topic.
EVENTS_KEY_ACTIONS = [kms.Decrypt, GENERATE_DATA_KEY_ANY]
PUBLISH = sns_actions.Publish


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
        self.add_resource(
            storage.key(
                KEY,
                "Pipeline artifacts, build logs and notifications of project %s" % self.namespace,
                artifact_key_policy(self.namespace),
            )
        )
        self.add_resource(storage.key_alias(KEY_ALIAS, naming.artifact_key_alias(self.namespace), KEY))

    def bucket(self, retention_days):
        self.add_resource(
            storage.bucket(
                BUCKET,
                storage.kms_encryption(GetAtt(KEY, "Arn")),
                BucketName=Sub(naming.artifact_bucket_name(self.namespace, "${AWS::AccountId}", "${AWS::Region}")),
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
        self.add_resource(storage.tls_only_policy(BUCKET_POLICY, BUCKET))

    def topic(self):
        self.add_resource(
            sns.Topic(TOPIC, TopicName=naming.notification_topic_name(self.namespace), KmsMasterKeyId=Ref(KEY))
        )
        self.add_resource(sns.TopicPolicy(TOPIC_POLICY, Topics=[Ref(TOPIC)], PolicyDocument=topic_policy()))


def artifact_key_policy(project):
    """The account administers the key; its principals use it through S3 and SNS only; CloudWatch
    Logs encrypts the project's build logs with it; EventBridge publishes to the topic with it."""
    log_groups = arn("logs", naming.project_codebuild_log_groups_arn_resource(project))
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            administer_key("AdministerKey", KEY_ADMIN_ACTIONS),
            use_key_through(
                "UseThroughStorageAndNotifications",
                KEY_USE_ACTIONS,
                [regional_endpoint("s3"), regional_endpoint("sns")],
            ),
            Statement(
                Sid="EncryptBuildLogs",
                Effect=Allow,
                Principal=Principal("Service", regional_endpoint("logs")),
                Action=LOG_KEY_ACTIONS,
                Resource=ANY_RESOURCE,
                Condition=Condition(StringLike(LOGS_ENCRYPTION_CONTEXT, log_groups)),
            ),
            Statement(
                Sid="PublishPipelineEvents",
                Effect=Allow,
                Principal=Principal("Service", EVENTS_PRINCIPAL),
                Action=EVENTS_KEY_ACTIONS,
                Resource=ANY_RESOURCE,
                Condition=Condition(this_account()),
            ),
        ],
    )


def topic_policy():
    """EventBridge, acting for this account, may publish to the topic (the pipeline's failure rule)."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Sid="PublishPipelineEvents",
                Effect=Allow,
                Principal=Principal("Service", EVENTS_PRINCIPAL),
                Action=PUBLISH,
                Resource=Ref(TOPIC),
                Condition=Condition(this_account()),
            )
        ],
    )
