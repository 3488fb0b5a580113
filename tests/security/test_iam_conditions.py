"""Every condition operator family iam_eval accepts, table-tested against IAM's documented rules.

Each case names the documentation page and the rule it checks (the assertion message
repeats it). The pages, all in the IAM User Guide:

  OPERATORS    "IAM JSON policy elements: Condition operators"
  MULTIVALUED  "Single-valued vs. multivalued context keys"
  EXAMPLES     "Multivalued context key examples" (the tables of the multivalued page's examples)
  MULTIPLE     "Conditions with multiple context keys or values"
  CONDITION    "IAM JSON policy elements: Condition"

`conditions_hold(condition, context)` is the Condition block of one statement against
one request context (IAM's evaluation of a missing key, not the proof's ASSUME_* modes).
"""
from collections import namedtuple

import pytest

from tests.security.iam_eval import (
    ABSENT,
    ALLOWED,
    ASSUME_ALLOW,
    ASSUME_DENY,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    InvalidConditionValue,
    Request,
    Unsupported,
    UnsupportedCondition,
    check_supported,
    conditions_hold,
    evaluate,
)

OPERATORS = "OPERATORS"
MULTIVALUED = "MULTIVALUED"
EXAMPLES = "EXAMPLES"
MULTIPLE = "MULTIPLE"
CONDITION = "CONDITION"

Case = namedtuple("Case", "id condition context expected page rule")

# Rules, paraphrased from the pages above.
MISSING_FAILS = "a key absent from the request context does not match: the condition is false"
MISSING_NEGATED_HOLDS = "a negated operator (Not...) on an absent key is true"
IF_EXISTS = "...IfExists: an absent key makes the condition true; a present one is compared as without IfExists"
VALUES_OR = "several values of one key under one operator are ORed"
VALUES_NOR = "several values of one key under a negated operator are NORed (true only if none matches)"
KEYS_AND = "several keys under one operator are ANDed"
OPERATORS_AND = "several operators in one Condition block are ANDed"
FOR_ALL = ("ForAllValues: true if every request value matches at least one policy value; also true when the "
           "key is absent or its value is an empty data set")
FOR_ANY = ("ForAnyValue: true if at least one request value matches at least one policy value; false when the "
           "key is absent or its value is an empty data set")
NEGATED_PER_VALUE = ("a set qualifier with a negated operator tests each request value against the negated "
                     "operator (that value matches none of the policy values)")

CASES = [
    # --- String -------------------------------------------------------------------------
    Case("string-equals-exact", {"StringEquals": {"aws:PrincipalTag/team": "qa"}}, {"aws:PrincipalTag/team": "qa"},
         True, OPERATORS, "StringEquals: exact matching, case sensitive"),
    Case("string-equals-is-case-sensitive", {"StringEquals": {"aws:PrincipalTag/team": "qa"}},
         {"aws:PrincipalTag/team": "QA"}, False, OPERATORS, "StringEquals: exact matching, case sensitive"),
    Case("string-equals-has-no-wildcards", {"StringEquals": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a"},
         False, OPERATORS, "only StringLike / StringNotLike read * and ? as wildcards"),
    Case("string-not-equals-another-value", {"StringNotEquals": {"aws:PrincipalTag/team": "qa"}},
         {"aws:PrincipalTag/team": "dev"}, True, OPERATORS, "StringNotEquals: negated matching"),
    Case("string-not-equals-the-value", {"StringNotEquals": {"aws:PrincipalTag/team": "qa"}},
         {"aws:PrincipalTag/team": "qa"}, False, OPERATORS, "StringNotEquals: negated matching"),
    Case("string-equals-ignore-case", {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "QA"}},
         {"aws:PrincipalTag/team": "qa"}, True, OPERATORS, "StringEqualsIgnoreCase: exact matching, ignoring case"),
    Case("string-not-equals-ignore-case", {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "QA"}},
         {"aws:PrincipalTag/team": "qa"}, False, OPERATORS, "StringNotEqualsIgnoreCase: negated, ignoring case"),
    Case("string-like-star", {"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a/b"}, True, OPERATORS,
         "StringLike: case-sensitive matching; * matches any run of characters"),
    Case("string-like-question-mark-is-one-character", {"StringLike": {"s3:prefix": "home/?"}},
         {"s3:prefix": "home/ab"}, False, OPERATORS, "StringLike: ? matches exactly one character"),
    Case("string-like-is-case-sensitive", {"StringLike": {"s3:prefix": "HOME/*"}}, {"s3:prefix": "home/a"}, False,
         OPERATORS, "StringLike: case-sensitive matching"),
    Case("string-not-like-another-prefix", {"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "tmp/a"},
         True, OPERATORS, "StringNotLike: negated case-sensitive matching"),
    Case("string-not-like-the-prefix", {"StringNotLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a"}, False,
         OPERATORS, "StringNotLike: negated case-sensitive matching"),
    Case("string-equals-missing-key", {"StringEquals": {"aws:PrincipalTag/team": "qa"}}, {}, False, OPERATORS,
         MISSING_FAILS),
    Case("string-not-equals-missing-key", {"StringNotEquals": {"aws:PrincipalTag/team": "qa"}}, {}, True, OPERATORS,
         MISSING_NEGATED_HOLDS),
    Case("string-not-like-missing-key", {"StringNotLike": {"s3:prefix": "home/*"}}, {}, True, OPERATORS,
         MISSING_NEGATED_HOLDS),
    Case("string-values-or", {"StringEquals": {"aws:PrincipalTag/team": ["dev", "qa"]}},
         {"aws:PrincipalTag/team": "qa"}, True, MULTIPLE, VALUES_OR),
    Case("string-negated-values-nor-one-matches", {"StringNotEquals": {"aws:PrincipalTag/team": ["prod", "qa"]}},
         {"aws:PrincipalTag/team": "qa"}, False, MULTIPLE, VALUES_NOR),
    Case("string-negated-values-nor-none-matches", {"StringNotEquals": {"aws:PrincipalTag/team": ["prod", "qa"]}},
         {"aws:PrincipalTag/team": "dev"}, True, MULTIPLE, VALUES_NOR),
    Case("key-names-are-case-insensitive", {"StringEquals": {"aws:sourcevpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-1"},
         True, CONDITION, "condition key names are not case-sensitive"),
    Case("json-true-reads-as-the-string-true", {"StringEquals": {"aws:ViaAWSService": True}},
         {"aws:ViaAWSService": "true"}, True, OPERATORS, "policy values are strings; JSON true is \"true\""),
    # --- several keys, values and operators in one Condition ----------------------------
    Case("keys-and-all-hold", {"StringEquals": {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit"}},
         {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit"}, True, MULTIPLE, KEYS_AND),
    Case("keys-and-one-fails", {"StringEquals": {"aws:PrincipalTag/department": "hr",
                                                 "aws:PrincipalTag/role": "audit"}},
         {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "dev"}, False, MULTIPLE, KEYS_AND),
    Case("keys-and-one-missing", {"StringEquals": {"aws:PrincipalTag/department": "hr",
                                                   "aws:PrincipalTag/role": "audit"}},
         {"aws:PrincipalTag/department": "hr"}, False, MULTIPLE, KEYS_AND + "; " + MISSING_FAILS),
    Case("operators-and-all-hold", {
        "StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"],
                         "aws:PrincipalTag/role": ["audit", "security"]},
        "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Ana", "arn:aws:iam::222222222222:user/Mary"]}},
        {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit",
         "aws:PrincipalArn": "arn:aws:iam::222222222222:user/Mary"}, True, MULTIPLE,
        OPERATORS_AND + "; " + KEYS_AND + "; " + VALUES_OR + " (the page's bucket-policy example)"),
    Case("operators-and-one-operator-fails", {
        "StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"],
                         "aws:PrincipalTag/role": ["audit", "security"]},
        "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Ana", "arn:aws:iam::222222222222:user/Mary"]}},
        {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit",
         "aws:PrincipalArn": "arn:aws:iam::222222222222:user/Bob"}, False, MULTIPLE, OPERATORS_AND),
    Case("negated-keys-and", {"StringNotEquals": {"aws:PrincipalTag/department": ["finance", "hr"],
                                                  "aws:PrincipalTag/role": "audit"}},
         {"aws:PrincipalTag/department": "legal", "aws:PrincipalTag/role": "audit"}, False, MULTIPLE,
         KEYS_AND + " (each key NORs its values, the keys are still ANDed)"),
    # --- ARN ----------------------------------------------------------------------------
    Case("arn-like-per-component-wildcards", {"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:role/dev-*"}},
         {"aws:SourceArn": "arn:aws:iam::123456789012:role/dev-app"}, True, OPERATORS,
         "ArnLike: each of the six colon-delimited components is checked separately, with * and ?"),
    Case("arn-like-star-stays-in-its-component", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}},
         {"aws:SourceArn": "arn:aws:iam::1:role/x"}, False, OPERATORS,
         "ArnLike: each component is checked separately (the service part s3 is not iam)"),
    Case("arn-equals-reads-wildcards-too", {"ArnEquals": {"aws:SourceArn": "arn:aws:iam::*:role/r"}},
         {"aws:SourceArn": "arn:aws:iam::123456789012:role/r"}, True, OPERATORS,
         "ArnEquals, ArnLike: the same case-sensitive, per-component matching with * and ?"),
    Case("arn-equals-is-case-sensitive", {"ArnEquals": {"aws:SourceArn": "arn:aws:iam::1:role/R"}},
         {"aws:SourceArn": "arn:aws:iam::1:role/r"}, False, OPERATORS, "ArnEquals: case-sensitive matching"),
    Case("arn-not-equals-another", {"ArnNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}},
         {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}, True, OPERATORS,
         "ArnNotEquals, ArnNotLike: negated matching"),
    Case("arn-not-like-matching", {"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:1:*"}},
         {"aws:SourceArn": "arn:aws:sns:eu-west-1:1:topic"}, False, OPERATORS, "ArnNotLike: negated matching"),
    Case("arn-like-missing-key", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:1:*"}}, {}, False, OPERATORS,
         MISSING_FAILS),
    Case("arn-not-equals-missing-key", {"ArnNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}}, {},
         True, OPERATORS, MISSING_NEGATED_HOLDS),
    Case("arn-like-request-value-not-an-arn", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:1:*"}},
         {"aws:SourceArn": "topic"}, False, OPERATORS, "ArnLike compares six components; a value without them "
         "matches nothing"),
    # --- Numeric ------------------------------------------------------------------------
    Case("numeric-less-than-equals-at-limit", {"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"},
         True, OPERATORS, "NumericLessThanEquals (the page's s3:max-keys <= 10 example)"),
    Case("numeric-less-than-equals-over-limit", {"NumericLessThanEquals": {"s3:max-keys": "10"}},
         {"s3:max-keys": "11"}, False, OPERATORS, "NumericLessThanEquals (the page's s3:max-keys <= 10 example)"),
    Case("numeric-equals-compares-numbers-not-text", {"NumericEquals": {"s3:max-keys": "10"}},
         {"s3:max-keys": "10.0"}, True, OPERATORS, "NumericEquals: matching (of numbers)"),
    Case("numeric-json-number", {"NumericEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "10"}, True, OPERATORS,
         "NumericEquals: matching; a policy value may be a JSON number"),
    Case("numeric-not-equals", {"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, True, OPERATORS,
         "NumericNotEquals: negated matching"),
    Case("numeric-less-than", {"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, True, OPERATORS,
         "NumericLessThan: \"less than\" matching"),
    Case("numeric-less-than-not-equal", {"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, False,
         OPERATORS, "NumericLessThan: \"less than\" matching"),
    Case("numeric-greater-than", {"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, True,
         OPERATORS, "NumericGreaterThan: \"greater than\" matching"),
    Case("numeric-greater-than-not-equal", {"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"},
         False, OPERATORS, "NumericGreaterThan: \"greater than\" matching"),
    Case("numeric-greater-than-equals", {"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"},
         True, OPERATORS, "NumericGreaterThanEquals: \"greater than or equals\" matching"),
    Case("numeric-values-or", {"NumericLessThan": {"s3:max-keys": ["5", "10"]}}, {"s3:max-keys": "7"}, True,
         MULTIPLE, VALUES_OR),
    Case("numeric-missing-key", {"NumericLessThan": {"s3:max-keys": "10"}}, {}, False, OPERATORS, MISSING_FAILS),
    Case("numeric-not-equals-missing-key", {"NumericNotEquals": {"s3:max-keys": "10"}}, {}, True, OPERATORS,
         MISSING_NEGATED_HOLDS),
    # --- Date ---------------------------------------------------------------------------
    Case("date-greater-than-iso", {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
         {"aws:TokenIssueTime": "2020-06-01T00:00:00Z"}, True, OPERATORS,
         "DateGreaterThan: \"after\" matching (the page's aws:TokenIssueTime example)"),
    Case("date-greater-than-before", {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
         {"aws:TokenIssueTime": "2019-12-31T23:59:59Z"}, False, OPERATORS, "DateGreaterThan: \"after\" matching"),
    Case("date-epoch-against-iso", {"DateGreaterThan": {"aws:CurrentTime": "1577836801"}},
         {"aws:CurrentTime": "2020-06-01T00:00:00Z"}, True, OPERATORS,
         "date values are ISO 8601 dates or epoch (UNIX) time; both name instants"),
    Case("date-equals-across-offsets", {"DateEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
         {"aws:CurrentTime": "2020-01-01T01:00:00+01:00"}, True, OPERATORS,
         "DateEquals: matching a specific date (instants, whatever the ISO 8601 offset)"),
    Case("date-only-is-midnight-utc", {"DateEquals": {"aws:CurrentTime": "2020-01-01"}},
         {"aws:CurrentTime": "2020-01-01T00:00:00Z"}, True, OPERATORS, "ISO 8601 date without a time"),
    Case("date-not-equals", {"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
         {"aws:CurrentTime": "2020-01-02T00:00:00Z"}, True, OPERATORS, "DateNotEquals: negated matching"),
    Case("date-less-than", {"DateLessThan": {"aws:CurrentTime": "2020-06-30T00:00:00Z"}},
         {"aws:CurrentTime": "2020-06-29T23:59:59Z"}, True, OPERATORS, "DateLessThan: \"before\" matching"),
    Case("date-less-than-equals-same-instant", {"DateLessThanEquals": {"aws:CurrentTime": "2020-06-30T00:00:00Z"}},
         {"aws:CurrentTime": "2020-06-30T00:00:00Z"}, True, OPERATORS, "DateLessThanEquals: \"at or before\""),
    Case("date-greater-than-equals-same-instant", {"DateGreaterThanEquals": {"aws:EpochTime": "1593475200"}},
         {"aws:EpochTime": "1593475200"}, True, OPERATORS, "DateGreaterThanEquals: \"at or after\" (epoch time)"),
    Case("date-missing-key", {"DateLessThan": {"aws:CurrentTime": "2020-06-30T00:00:00Z"}}, {}, False, OPERATORS,
         MISSING_FAILS),
    Case("date-not-equals-missing-key", {"DateNotEquals": {"aws:CurrentTime": "2020-06-30T00:00:00Z"}}, {}, True,
         OPERATORS, MISSING_NEGATED_HOLDS),
    # --- Bool ---------------------------------------------------------------------------
    Case("bool-true", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, True, OPERATORS,
         "Bool: boolean matching"),
    Case("bool-false-against-true", {"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False,
         OPERATORS, "Bool: boolean matching"),
    Case("bool-json-false", {"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "false"}, True,
         OPERATORS, "Bool: boolean matching; a policy value may be a JSON boolean"),
    Case("bool-missing-key", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {}, False, OPERATORS, MISSING_FAILS),
    Case("bool-if-exists-missing-key", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, {}, True, OPERATORS,
         IF_EXISTS + " (the page's aws:MultiFactorAuthPresent example)"),
    Case("bool-if-exists-present", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
         {"aws:MultiFactorAuthPresent": "true"}, False, OPERATORS, IF_EXISTS),
    # --- IP address ---------------------------------------------------------------------
    Case("ip-address-in-block", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.5"},
         True, OPERATORS, "IpAddress: the specified IP address or range (CIDR)"),
    Case("ip-address-outside-block", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
         {"aws:SourceIp": "198.51.100.1"}, False, OPERATORS, "IpAddress: the specified IP address or range"),
    Case("ip-address-single-address", {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}, {"aws:SourceIp": "203.0.113.5"},
         True, OPERATORS, "IpAddress: an address without a prefix length is that one address (/32)"),
    Case("ip-address-ipv6", {"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}},
         {"aws:SourceIp": "2001:db8:1234:5678::1"}, True, OPERATORS, "IpAddress: IPv6 ranges (the page's example)"),
    Case("ip-address-ipv4-not-in-ipv6-block", {"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}},
         {"aws:SourceIp": "203.0.113.5"}, False, OPERATORS, "IpAddress: an IPv4 address is in no IPv6 range"),
    Case("ip-address-values-or", {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}},
         {"aws:SourceIp": "203.0.113.7"}, True, MULTIPLE, VALUES_OR + " (the page's two-range example)"),
    Case("not-ip-address-outside", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
         {"aws:SourceIp": "198.51.100.1"}, True, OPERATORS, "NotIpAddress: all IP addresses except the range"),
    Case("not-ip-address-values-nor", {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}},
         {"aws:SourceIp": "203.0.113.7"}, False, MULTIPLE, VALUES_NOR),
    Case("ip-address-missing-key", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {}, False, OPERATORS,
         MISSING_FAILS),
    Case("not-ip-address-missing-key", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {}, True, OPERATORS,
         MISSING_NEGATED_HOLDS),
    # --- Null ---------------------------------------------------------------------------
    Case("null-true-absent", {"Null": {"aws:TokenIssueTime": "true"}}, {}, True, OPERATORS,
         "Null true: the key does not exist"),
    Case("null-true-present", {"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2020-01-01"}, False,
         OPERATORS, "Null true: the key does not exist"),
    Case("null-false-present", {"Null": {"aws:ResourceTag/CopiedFrom": "false"}}, {"aws:ResourceTag/CopiedFrom": "x"},
         True, OPERATORS, "Null false: the key exists and its value is not null"),
    Case("null-false-absent", {"Null": {"aws:ResourceTag/CopiedFrom": "false"}}, {}, False, OPERATORS,
         "Null false: the key exists and its value is not null"),
    # --- ...IfExists in every family ----------------------------------------------------
    Case("string-if-exists-missing", {"StringEqualsIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}}, {}, True,
         OPERATORS, IF_EXISTS + " (the page's ec2:InstanceType example)"),
    Case("string-like-if-exists-present-matching", {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}},
         {"ec2:InstanceType": "t2.micro"}, True, OPERATORS, IF_EXISTS),
    Case("string-like-if-exists-present-other", {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}},
         {"ec2:InstanceType": "m5.large"}, False, OPERATORS, IF_EXISTS),
    Case("string-not-equals-if-exists-present-equal", {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "qa"}},
         {"aws:PrincipalTag/team": "qa"}, False, OPERATORS, IF_EXISTS),
    Case("arn-like-if-exists-missing", {"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:sns:*:1:*"}}, {}, True,
         OPERATORS, IF_EXISTS),
    Case("numeric-if-exists-missing", {"NumericLessThanIfExists": {"s3:max-keys": "10"}}, {}, True, OPERATORS,
         IF_EXISTS),
    Case("numeric-if-exists-present", {"NumericLessThanIfExists": {"s3:max-keys": "10"}}, {"s3:max-keys": "20"},
         False, OPERATORS, IF_EXISTS),
    Case("date-if-exists-missing", {"DateLessThanIfExists": {"aws:CurrentTime": "2020-06-30T00:00:00Z"}}, {}, True,
         OPERATORS, IF_EXISTS),
    Case("ip-if-exists-missing", {"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}, {}, True, OPERATORS,
         IF_EXISTS),
    Case("not-ip-if-exists-present-inside", {"NotIpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}},
         {"aws:SourceIp": "203.0.113.9"}, False, OPERATORS, IF_EXISTS),
    # --- ForAllValues / ForAnyValue -----------------------------------------------------
    Case("for-all-values-subset", {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
         {"aws:TagKeys": ["environment"]}, True, MULTIVALUED, FOR_ALL),
    Case("for-all-values-one-outside", {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
         {"aws:TagKeys": ["environment", "owner"]}, False, MULTIVALUED, FOR_ALL),
    Case("for-all-values-missing-key", {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}, {}, True,
         MULTIVALUED, FOR_ALL),
    Case("for-all-values-empty-list", {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}},
         {"aws:TagKeys": []}, True, MULTIVALUED, FOR_ALL),
    Case("for-all-values-empty-string", {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}},
         {"aws:TagKeys": ""}, True, MULTIVALUED, FOR_ALL + " (an empty string is an empty data set)"),
    Case("for-all-values-single-valued-key-missing", {"ForAllValues:StringEquals": {"aws:PrincipalTag/team": "qa"}},
         {}, True, MULTIVALUED, FOR_ALL + "; hence the page's warning against set operators on single-valued keys"),
    Case("for-all-values-like-dynamodb-allowed", {"ForAllValues:StringLike": {
        "dynamodb:Attributes": ["PostDateTime", "Message", "Tags"]}},
        {"dynamodb:Attributes": ["PostDateTime", "Message"]}, True, MULTIVALUED,
        FOR_ALL + " (the DynamoDB requested-attributes example)"),
    Case("for-all-values-like-dynamodb-denied", {"ForAllValues:StringLike": {
        "dynamodb:Attributes": ["PostDateTime", "Message", "Tags"]}},
        {"dynamodb:Attributes": ["PostDateTime", "UserName"]}, False, MULTIVALUED,
        FOR_ALL + " (the DynamoDB requested-attributes example: UserName matches no policy value)"),
    Case("for-any-value-one-matches", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
         {"aws:TagKeys": ["environment", "dept"]}, True, MULTIVALUED, FOR_ANY),
    Case("for-any-value-none-matches", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
         {"aws:TagKeys": ["dept"]}, False, MULTIVALUED, FOR_ANY),
    Case("for-any-value-missing-key", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}, {}, False,
         MULTIVALUED, FOR_ANY),
    Case("for-any-value-empty-list", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}},
         {"aws:TagKeys": []}, False, MULTIVALUED, FOR_ANY),
    Case("for-any-value-single-value-is-a-set-of-one", {"ForAnyValue:StringEquals": {"aws:TagKeys": "environment"}},
         {"aws:TagKeys": "environment"}, True, MULTIVALUED, FOR_ANY + " (one request value is a set of one)"),
    Case("for-any-value-like-dynamodb-deny-matches", {"ForAnyValue:StringLike": {
        "dynamodb:Attributes": ["ID", "PostDateTime"]}},
        {"dynamodb:Attributes": ["UserName", "Message", "PostDateTime"]}, True, MULTIVALUED,
        FOR_ANY + " (the DynamoDB PutItem deny example)"),
    Case("for-any-value-like-dynamodb-deny-no-match", {"ForAnyValue:StringLike": {
        "dynamodb:Attributes": ["ID", "PostDateTime"]}},
        {"dynamodb:Attributes": ["UserName"]}, False, MULTIVALUED, FOR_ANY + " (the DynamoDB PutItem deny example)"),
    # issue 17: the negated operators under set qualifiers
    Case("for-any-value-string-not-equals-one-value-outside", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}},
         {"aws:TagKeys": ["a", "x"]}, True, MULTIVALUED,
         FOR_ANY + "; " + NEGATED_PER_VALUE + " (x equals no policy value)"),
    Case("for-any-value-string-not-equals-all-inside", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}},
         {"aws:TagKeys": ["a", "b"]}, False, MULTIVALUED, FOR_ANY + "; " + NEGATED_PER_VALUE),
    Case("for-any-value-string-not-equals-missing-key", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, {},
         False, MULTIVALUED, FOR_ANY + " (ForAnyValue decides for an absent key, negated operator or not)"),
    Case("for-all-values-string-not-equals-one-value-inside", {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a"]}},
         {"aws:TagKeys": ["a", "x"]}, False, MULTIVALUED,
         FOR_ALL + "; " + NEGATED_PER_VALUE + " (a equals a policy value)"),
    Case("for-all-values-string-not-equals-all-outside", {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a"]}},
         {"aws:TagKeys": ["x", "y"]}, True, MULTIVALUED, FOR_ALL + "; " + NEGATED_PER_VALUE),
    Case("for-all-values-not-like-key1-legal", {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
         {"aws:TagKeys": ["key1:legal"]}, False, EXAMPLES, "Deny with ForAllValues:StringNotLike key1*: key1:legal "
         "is no match"),
    Case("for-all-values-not-like-key1-two", {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
         {"aws:TagKeys": ["key1:hr", "key1:personnel"]}, False, EXAMPLES,
         "Deny with ForAllValues:StringNotLike key1*: key1:hr, key1:personnel is no match"),
    Case("for-all-values-not-like-key2", {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
         {"aws:TagKeys": ["key2:audit"]}, True, EXAMPLES, "Deny with ForAllValues:StringNotLike key1*: key2:audit "
         "is a match"),
    Case("for-all-values-not-like-missing", {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}, {}, True,
         EXAMPLES, "Deny with ForAllValues:StringNotLike key1*: no aws:TagKeys in the request is a match"),
    Case("for-all-values-not-like-two-values-mixed",
         {"ForAllValues:StringNotLike": {"aws:TagKeys": ["key1*", "key2*"]}},
         {"aws:TagKeys": ["key1:hr", "key2:audit"]}, False, EXAMPLES,
         "Deny with ForAllValues:StringNotLike [key1*, key2*]: key1:hr, key2:audit is no match"),
    Case("for-all-values-not-like-two-values-outside",
         {"ForAllValues:StringNotLike": {"aws:TagKeys": ["key1*", "key2*"]}},
         {"aws:TagKeys": ["key3:legal"]}, True, EXAMPLES,
         "Deny with ForAllValues:StringNotLike [key1*, key2*]: key3:legal is a match"),
    Case("for-any-value-not-like", {"ForAnyValue:StringNotLike": {"aws:TagKeys": "key1*"}},
         {"aws:TagKeys": ["key1:hr", "key2:audit"]}, True, MULTIVALUED, FOR_ANY + "; " + NEGATED_PER_VALUE),
    Case("for-all-values-if-exists-missing", {"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a"]}}, {}, True,
         MULTIVALUED, FOR_ALL + "; " + IF_EXISTS),
    Case("for-any-value-numeric", {"ForAnyValue:NumericLessThan": {"dynamodb:Limit": "10"}},
         {"dynamodb:Limit": ["20", "5"]}, True, MULTIVALUED, FOR_ANY + " (any operator family)"),
    Case("for-all-values-ip", {"ForAllValues:IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
         {"aws:SourceIp": ["10.1.1.1", "192.168.1.1"]}, False, MULTIVALUED, FOR_ALL + " (any operator family)"),
    Case("for-all-values-arn-not-like", {"ForAllValues:ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:1:*"}},
         {"aws:SourceArn": ["arn:aws:sqs:eu-west-1:1:q", "arn:aws:sns:eu-west-1:1:t"]}, False, MULTIVALUED,
         FOR_ALL + "; " + NEGATED_PER_VALUE),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_condition_operators_as_documented(case):
    assert conditions_hold(case.condition, case.context) is case.expected, (
        "%s says: %s; condition %s, request context %s" % (case.page, case.rule, case.condition, case.context))


def test_the_table_covers_every_operator_family_with_and_without_if_exists_and_qualifiers():
    """A family the evaluator accepts but the table forgets is a family nobody checked."""
    operators = {operator for case in CASES for operator in case.condition}
    bases = {o.rpartition(":")[2].replace("IfExists", "") for o in operators}
    assert bases >= {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
        "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "NumericEquals", "NumericNotEquals",
        "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
        "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool",
        "IpAddress", "NotIpAddress", "Null"}
    assert {o.rpartition(":")[0] for o in operators} == {"", "ForAnyValue", "ForAllValues"}
    families = ("String", "Arn", "Numeric", "Date", "Bool", "IpAddress", "NotIpAddress")
    assert all(any(o.startswith(f) and o.endswith("IfExists") for o in operators) for f in families)
    assert {True, False} == {case.expected for case in CASES}


def allow_with(condition):
    return [{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}]}]


UNSUPPORTED = [
    pytest.param({"BinaryEquals": {"key": "QmluYXJ5"}}, {"key": "QmluYXJ5"}, UnsupportedCondition,
                 "condition operator BinaryEquals is not implemented", id="binary-equals"),
    pytest.param({"StringEqualsAnyCase": {"key": "a"}}, {"key": "a"}, UnsupportedCondition,
                 "condition operator StringEqualsAnyCase is not implemented", id="unknown-operator"),
    pytest.param({"NullIfExists": {"key": "true"}}, {}, UnsupportedCondition,
                 "condition operator NullIfExists is not implemented", id="null-if-exists"),
    pytest.param({"ForAnyValue:Null": {"key": "true"}}, {}, UnsupportedCondition,
                 "condition operator ForAnyValue:Null is not implemented", id="null-with-qualifier"),
    pytest.param({"ForSomeValues:StringEquals": {"key": "a"}}, {"key": ["a"]}, UnsupportedCondition,
                 "set qualifier 'ForSomeValues' is not implemented", id="unknown-qualifier"),
    pytest.param({"ForAnyValue:StringEqualsIfExists": {"key": "a"}}, {"key": ["a"]}, UnsupportedCondition,
                 "IAM's documentation gives an absent key two outcomes", id="for-any-value-if-exists"),
    pytest.param({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["a", "b"]}, UnsupportedCondition,
                 "needs ForAnyValue: or ForAllValues:", id="multivalued-request-without-qualifier"),
    pytest.param({"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}, {"aws:PrincipalTag/team": "a"},
                 Unsupported, "policy variables are not implemented", id="policy-variable"),
    pytest.param({"NumericLessThan": {"s3:max-keys": "ten"}}, {"s3:max-keys": "1"}, InvalidConditionValue,
                 "NumericLessThan: 'ten' is not a number", id="numeric-policy-value-not-a-number"),
    pytest.param({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "lots"}, InvalidConditionValue,
                 "NumericLessThan: 'lots' is not a number", id="numeric-request-value-not-a-number"),
    pytest.param({"DateLessThan": {"aws:CurrentTime": "next tuesday"}}, {"aws:CurrentTime": "2020-01-01"},
                 InvalidConditionValue, "is not an ISO 8601 date or epoch seconds", id="date-not-a-date"),
    pytest.param({"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}, {"aws:SourceIp": "10.0.0.1"}, InvalidConditionValue,
                 "is not an IP address or CIDR block", id="ip-block-not-an-ip"),
    pytest.param({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "localhost"}, InvalidConditionValue,
                 "'localhost' is not an IP address", id="ip-request-not-an-ip"),
    pytest.param({"Bool": {"aws:SecureTransport": "yes"}}, {"aws:SecureTransport": "true"}, InvalidConditionValue,
                 "'yes' is not true or false", id="bool-not-a-bool"),
    pytest.param({"ArnLike": {"aws:SourceArn": "*"}}, {"aws:SourceArn": "arn:aws:sns:eu-west-1:1:t"},
                 InvalidConditionValue, "is not an ARN", id="arn-pattern-not-an-arn"),
]


@pytest.mark.parametrize("condition, context, error, message", UNSUPPORTED)
@pytest.mark.parametrize("unknown", [ABSENT, ASSUME_ALLOW, ASSUME_DENY])
def test_what_it_does_not_implement_raises_in_every_mode(condition, context, error, message, unknown):
    """Never a silent allow or deny: the proof (ASSUME_ALLOW) fails as loudly as a plain evaluation."""
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        evaluate(Request("s3:GetObject", "arn:aws:s3:::b/x", context=context), allow_with(condition), (), unknown)


def test_a_policy_variable_in_a_resource_raises_too():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}
    policy = [{"Statement": [statement]}]
    with pytest.raises(Unsupported, match="policy variables are not implemented"):
        evaluate(Request("s3:GetObject", "arn:aws:s3:::b/ana/x"), policy)


def test_an_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown='assume-nothing'"):
        evaluate(Request("s3:GetObject", "arn:aws:s3:::b/x"), [], (), "assume-nothing")


OPEN_KEY_CASES = [
    # (id, effect, condition, mode, expected): the condition's key is left open by the request
    ("deny-negated-open-key-worst-case-for-denied-claim", "Deny",
     {"ArnNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}}, ASSUME_ALLOW, ALLOWED),
    ("deny-if-exists-open-key-worst-case-for-denied-claim", "Deny",
     {"StringNotEqualsIfExists": {"aws:RequestTag/team": "qa"}}, ASSUME_ALLOW, ALLOWED),
    ("deny-null-open-key-worst-case-for-denied-claim", "Deny", {"Null": {"aws:RequestTag/team": "true"}},
     ASSUME_ALLOW, ALLOWED),
    ("deny-for-all-values-open-key-worst-case-for-denied-claim", "Deny",
     {"ForAllValues:StringNotLike": {"aws:TagKeys": "team*"}}, ASSUME_ALLOW, ALLOWED),
    ("deny-negated-open-key-worst-case-for-allowed-claim", "Deny",
     {"ArnNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}}, ASSUME_DENY, EXPLICIT_DENY),
    ("allow-if-exists-open-key-worst-case-for-allowed-claim", "Allow",
     {"StringEqualsIfExists": {"aws:RequestTag/team": "qa"}}, ASSUME_DENY, IMPLICIT_DENY),
    ("allow-for-all-values-open-key-worst-case-for-allowed-claim", "Allow",
     {"ForAllValues:StringEquals": {"aws:TagKeys": "team"}}, ASSUME_DENY, IMPLICIT_DENY),
    ("allow-open-key-worst-case-for-denied-claim", "Allow", {"StringEquals": {"aws:RequestTag/team": "qa"}},
     ASSUME_ALLOW, ALLOWED),
    ("absent-is-iams-reading-negated-deny-applies", "Deny",
     {"ArnNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}}, ABSENT, EXPLICIT_DENY),
]


@pytest.mark.parametrize("effect, condition, unknown, expected", [c[1:] for c in OPEN_KEY_CASES],
                         ids=[c[0] for c in OPEN_KEY_CASES])
def test_open_keys_are_the_callers_choice_whatever_the_operator(effect, condition, unknown, expected):
    """ASSUME_ALLOW: the caller may set an open key to any value or leave it out, so a Deny
    whose condition could come out false does not protect a "denied" claim, even when its
    operator (negated, IfExists, Null, ForAllValues) holds on a missing key."""
    policies = [{"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}] if effect == "Deny" else []
    policies.append({"Statement": [{"Effect": effect, "Action": "iam:PutRolePermissionsBoundary", "Resource": "*",
                                    "Condition": condition}]})
    request = Request("iam:PutRolePermissionsBoundary", "arn:aws:iam::1:role/r")
    assert evaluate(request, policies, (), unknown) == expected


def test_a_statement_no_request_reaches_is_checked_too():
    """check_supported reads every statement, so a proof cannot pass over one it never evaluated."""
    policy = [allow_with({"StringEquals": {"aws:PrincipalTag/team": "qa"}})[0],
              {"Statement": [{"Sid": "Elsewhere", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                              "Condition": {"DateLessThan": {"aws:CurrentTime": "soon"}}}]}]
    check_supported(policy[:1], "first")  # supported: no error
    with pytest.raises(InvalidConditionValue, match="role-x statement Elsewhere: DateLessThan: 'soon' is not"):
        check_supported(policy, "role-x")
