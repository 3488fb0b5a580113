import re

import pytest

from blueprints.base import BlueprintError
from blueprints.tier import SharedTier
from hooks.engine.render import render_blueprint
from hooks.engine.stacker_compat import make_context
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import (
    config_variables,
    consumed_outputs,
    properties,
    resources_of_type,
    tag_problems,
)

GOLDEN_CASES = {
    "tier-nonprod": {"Namespace": "common-nonprod"},
    "tier-prod": {"Namespace": "common-prod"},
    # The operators' own paging topic and a region that still delivers ALB logs from its ELB account.
    "tier-prod-operator-topic": {"Namespace": "common-prod", "AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:paging",
                                 "ElbLogDeliveryAccount": "156460612806"},
}


def render(namespace="common-nonprod"):
    return render_blueprint(SharedTier, {"Namespace": namespace})


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    assert_matches_golden(case_id, SharedTier, GOLDEN_CASES[case_id])


@pytest.mark.parametrize(
    "namespace, environment", [("common-nonprod", "nonprod"), ("common-prod", "prod")], ids=["nonprod", "prod"]
)
def test_every_resource_carries_the_namespace_tags(namespace, environment):
    expected = {"Customer": "common", "Project": "shared", "Environment": environment, "Namespace": namespace}
    problems, untagged = tag_problems(render(namespace), expected)
    assert problems == []
    assert untagged == {"AWS::S3::BucketPolicy", "AWS::KMS::Alias", "AWS::SNS::TopicPolicy"}


def test_cluster_is_named_after_the_tier_and_has_container_insights():
    cluster = properties(render("common-prod"), "Cluster")
    assert cluster["ClusterName"] == "common-prod"
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]


def test_load_balancer_security_group_admits_https_and_http_from_anywhere_and_sends_http_into_the_vpc_only():
    group = properties(render(), "LoadBalancerSecurityGroup")
    assert group["VpcId"] == {"Ref": "VpcId"}
    rules = group["SecurityGroupIngress"]
    ingress = {(rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"]) for rule in rules}
    assert ingress == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0")}
    assert len(rules) == 2
    egress = [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"]) for r in group["SecurityGroupEgress"]]
    assert egress == [("tcp", 80, 80, {"Ref": "VpcCidrBlock"})]
    assert all(rule["Description"] for rule in rules + group["SecurityGroupEgress"])


def test_the_database_key_is_rotated_retained_and_usable_only_through_rds_in_this_account():
    template = render("common-prod")
    resource = template["Resources"]["DatabaseKey"]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    key = resource["Properties"]
    assert key["EnableKeyRotation"] is True
    administer, use = key["KeyPolicy"]["Statement"]
    root = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert (administer["Sid"], administer["Principal"], administer["Resource"]) == ("AdministerKeyInThisAccount", root, "*")
    assert "Condition" not in administer
    usage = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant"}
    assert not usage & set(administer["Action"]) and not any(a.endswith(":*") for a in administer["Action"])
    assert (use["Sid"], use["Principal"]) == ("UseKeyThroughRdsInThisAccount", root)
    assert usage <= set(use["Action"])
    assert use["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": {"Ref": "AWS::AccountId"},
            "kms:ViaService": {"Fn::Sub": "rds.${AWS::Region}.amazonaws.com"},
        }
    }
    alias = properties(template, "DatabaseKeyAlias")
    assert alias == {"AliasName": "alias/common-prod/rds", "TargetKeyId": {"Ref": "DatabaseKey"}}


def test_the_database_parameter_group_requires_tls_for_mysql_8():
    group = properties(render(), "DatabaseParameterGroup")
    assert group["Family"] == "mysql8.0"
    assert group["Parameters"] == {
        "require_secure_transport": "1", "slow_query_log": "1", "long_query_time": "2", "log_output": "FILE"}
    assert "DBParameterGroupName" not in group  # CloudFormation names it, so a change may replace it


def test_load_balancer_is_internet_facing_drops_invalid_headers_and_is_protected_from_deletion():
    balancer = properties(render(), "LoadBalancer")
    assert (balancer["Type"], balancer["Scheme"]) == ("application", "internet-facing")
    assert balancer["Subnets"] == {"Ref": "PublicSubnetIds"}
    assert balancer["SecurityGroups"] == [{"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]}]
    attributes = {item["Key"]: item["Value"] for item in balancer["LoadBalancerAttributes"]}
    assert attributes == {
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "deletion_protection.enabled": "true",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": {"Ref": "LogBucket"},
        "access_logs.s3.prefix": "alb",
    }


def test_https_listener_uses_the_certificate_and_tls13_policy_and_answers_404_by_default():
    listener = properties(render(), "HttpsListener")
    assert (listener["Port"], listener["Protocol"]) == (443, "HTTPS")
    assert listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listener["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    (action,) = listener["DefaultActions"]
    assert action["Type"] == "fixed-response"
    assert action["FixedResponseConfig"]["StatusCode"] == "404"


def test_http_listener_only_redirects_to_https():
    listener = properties(render(), "HttpListener")
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    assert listener["DefaultActions"] == [
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    ]


def test_both_listeners_belong_to_the_load_balancer():
    listeners = resources_of_type(render(), "AWS::ElasticLoadBalancingV2::Listener")
    assert sorted(listeners) == ["HttpListener", "HttpsListener"]
    for listener in listeners.values():
        assert listener["Properties"]["LoadBalancerArn"] == {"Ref": "LoadBalancer"}


def test_app_files_bucket_is_unnamed_encrypted_versioned_private_and_retained():
    resource = render()["Resources"]["AppFilesBucket"]
    bucket = resource["Properties"]
    assert "BucketName" not in bucket
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_app_files_bucket_aborts_incomplete_copies_and_expires_no_file():
    (rule,) = properties(render(), "AppFilesBucket")["LifecycleConfiguration"]["Rules"]
    assert rule == {"Id": "abort-incomplete-copies", "Status": "Enabled",
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}


def test_app_files_bucket_policy_denies_every_request_without_tls():
    policy = properties(render(), "AppFilesBucketPolicy")
    assert policy["Bucket"] == {"Ref": "AppFilesBucket"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["AppFilesBucket", "Arn"]},
        {"Fn::Sub": "${AppFilesBucket.Arn}/*"},
    ]


def test_certificate_parameter_admits_acm_certificate_arns_only():
    pattern = render()["Parameters"]["CertificateArn"]["AllowedPattern"]
    assert re.match(pattern, "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab")
    assert not re.match(pattern, "arn:aws:iam::123456789012:server-certificate/example")
    assert not re.match(pattern, "")


def test_cross_stack_values_enter_as_typed_parameters():
    parameters = render()["Parameters"]
    assert {name: p["Type"] for name, p in parameters.items()} == {
        "VpcId": "AWS::EC2::VPC::Id",
        "PublicSubnetIds": "List<AWS::EC2::Subnet::Id>",
        "VpcCidrBlock": "String",
        "CertificateArn": "String",
        "AccessLogRetentionDays": "Number",
    }


def test_outputs_include_everything_the_configs_read_from_the_tier_stack():
    outputs = render()["Outputs"]
    consumed = {
        "ClusterName",
        "HttpsListenerArn",
        "AppFilesBucketName",
        "LoadBalancerSecurityGroupId",
        "DatabaseKeyArn",
        "DatabaseParameterGroupName",
        "LoadBalancerFullName",
        "AlarmTopicArn",
    }
    assert consumed_outputs("tier") == consumed
    assert set(outputs) == {
        "ClusterName",
        "ClusterArn",
        "HttpsListenerArn",
        "AppFilesBucketName",
        "AppFilesBucketArn",
        "LoadBalancerSecurityGroupId",
        "LoadBalancerArn",
        "LoadBalancerDNSName",
        "DatabaseKeyArn",
        "DatabaseParameterGroupName",
        "LoadBalancerFullName",
        "LogBucketName",
        "AlarmTopicArn",
    }
    assert outputs["DatabaseKeyArn"]["Value"] == {"Fn::GetAtt": ["DatabaseKey", "Arn"]}
    assert outputs["DatabaseParameterGroupName"]["Value"] == {"Ref": "DatabaseParameterGroup"}
    assert outputs["HttpsListenerArn"]["Value"] == {"Ref": "HttpsListener"}
    assert outputs["LoadBalancerSecurityGroupId"]["Value"] == {"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]}


def test_configs_pass_exactly_the_variables_the_blueprint_defines():
    defined = SharedTier(name="tier", context=make_context(None, {})).variable_definitions()
    assert config_variables("blueprints.tier.SharedTier") == [set(defined)]
    for name, definition in defined.items():
        assert definition.get("type") and definition.get("description"), name


def test_a_tenant_namespace_is_refused_naming_the_rule():
    with pytest.raises(BlueprintError) as error:
        render("xy-0146-prod")
    assert str(error.value) == (
        "blueprint SharedTier, variable Namespace: 'xy-0146-prod' is invalid: "
        "expected one of common-nonprod, common-prod"
    )
