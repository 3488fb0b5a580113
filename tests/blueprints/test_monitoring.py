"""The tier's logs key, log bucket and alarm topic (blueprints/monitoring.py), as the vpc and tier templates carry them."""
import pytest

from blueprints.tier import SharedTier
from blueprints.vpc import SharedVpc
from hooks import naming
from hooks.engine.render import render_blueprint
from tests.blueprints.template_checks import properties


def tier(**variables):
    return render_blueprint(SharedTier, dict({"Namespace": "common-nonprod"}, **variables))


def vpc(namespace="common-nonprod"):
    return render_blueprint(SharedVpc, {"Namespace": namespace, "VpcCidr": "10.10.0.0/16"})


def statements(document):
    return {statement["Sid"]: statement for statement in document["Statement"]}


@pytest.mark.parametrize("namespace, groups", [
    ("common-nonprod", ["/common-nonprod/vpc/flow-logs", "/*-dev/service", "/aws/rds/instance/*-dev-db-*",
                        "/*-qa/service", "/aws/rds/instance/*-qa-db-*", "/*-uat/service",
                        "/aws/rds/instance/*-uat-db-*", "/*-stage/service", "/aws/rds/instance/*-stage-db-*"]),
    ("common-prod", ["/common-prod/vpc/flow-logs", "/*-prod/service", "/aws/rds/instance/*-prod-db-*"]),
])
def test_the_logs_key_serves_cloudwatch_logs_for_the_tiers_groups_only(namespace, groups):
    template = vpc(namespace)
    key = properties(template, "LogsKey")
    assert key["EnableKeyRotation"] is True and template["Resources"]["LogsKey"]["DeletionPolicy"] == "Retain"
    logs = statements(key["KeyPolicy"])["LetCloudWatchLogsEncryptTheTiersLogGroups"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    condition = logs["Condition"]["StringLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition == [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:%s" % group}
                         for group in groups]
    assert set(statements(key["KeyPolicy"])) == {"AdministerKeyInThisAccount", "LetCloudWatchLogsEncryptTheTiersLogGroups"}
    assert properties(template, "FlowLogGroup")["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    assert properties(template, "LogsKeyAlias")["AliasName"] == naming.logs_kms_alias(namespace)


def test_the_log_bucket_is_sse_s3_expires_its_logs_and_admits_only_the_log_deliveries():
    template = tier()
    bucket = properties(template, "LogBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}  # ALB access logs support SSE-S3 only
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "AccessLogRetentionDays"}
    policy = statements(properties(template, "LogBucketPolicy")["PolicyDocument"])
    assert set(policy) == {"DenyInsecureTransport", "LetElbDeliverAccessLogs", "LetS3DeliverFilesAccessLogs"}
    assert policy["LetElbDeliverAccessLogs"]["Principal"] == {
        "Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert policy["LetElbDeliverAccessLogs"]["Resource"] == [
        {"Fn::Sub": "${LogBucket.Arn}/alb/AWSLogs/${AWS::AccountId}/*"}]
    files = policy["LetS3DeliverFilesAccessLogs"]
    assert files["Resource"] == [{"Fn::Sub": "${LogBucket.Arn}/app-files/*"}]
    assert files["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::GetAtt": ["AppFilesBucket", "Arn"]}}
    assert properties(template, "AppFilesBucket")["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "LogBucket"}, "LogFilePrefix": "app-files/"}
    assert template["Resources"]["LoadBalancer"]["DependsOn"] == ["LogBucketPolicy"]


def test_a_region_older_than_august_2022_gets_its_elb_account_as_a_second_writer():
    policy = statements(properties(tier(ElbLogDeliveryAccount="156460612806"), "LogBucketPolicy")["PolicyDocument"])
    legacy = policy["LetTheRegionsElbAccountDeliverAccessLogs"]
    assert legacy["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::156460612806:root"}}
    assert legacy["Resource"] == policy["LetElbDeliverAccessLogs"]["Resource"]


def test_without_an_operator_topic_the_tier_makes_its_own_encrypted_topic_for_this_accounts_alarms():
    template = tier()
    topic = properties(template, "AlarmTopic")
    assert topic["TopicName"] == naming.alarm_topic_name("common-nonprod") == "common-nonprod-alarms"
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlarmTopicKey", "Arn"]}
    publish = statements(properties(template, "AlarmTopicPolicy")["PolicyDocument"])["LetThisAccountsAlarmsPublish"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and publish["Action"] == ["sns:Publish"]
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    key = statements(properties(template, "AlarmTopicKey")["KeyPolicy"])
    assert key["LetThisAccountsAlarmsPublish"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert template["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}


def test_with_an_operator_topic_the_tier_makes_none_and_hands_that_one_on():
    template = tier(AlarmTopicArn="arn:aws:sns:eu-west-1:123456789012:paging")
    assert not {"AlarmTopic", "AlarmTopicPolicy", "AlarmTopicKey", "AlarmTopicKeyAlias"} & set(template["Resources"])
    assert template["Outputs"]["AlarmTopicArn"]["Value"] == "arn:aws:sns:eu-west-1:123456789012:paging"


@pytest.mark.parametrize("variable, value", [
    ("AlarmTopicArn", "arn:aws:sqs:eu-west-1:123456789012:paging"),
    ("ElbLogDeliveryAccount", "1564606128"),
])
def test_a_bad_tier_value_is_refused_naming_it(variable, value):
    from blueprints.base import BlueprintError
    with pytest.raises(BlueprintError, match="variable %s: %r is invalid" % (variable, value)):
        tier(**{variable: value})


def test_the_alb_exports_its_full_name_for_the_tenants_alarms():
    assert tier()["Outputs"]["LoadBalancerFullName"]["Value"] == {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}
