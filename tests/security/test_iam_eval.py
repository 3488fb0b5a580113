"""The policy evaluator the isolation proof rests on: table-driven, with cases that must deny."""
import pytest

from tests.security.iam_eval import (
    ALLOWED,
    ASSUME_ALLOW,
    ASSUME_DENY,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Request,
    UnsupportedCondition,
    arn_like,
    evaluate,
    matching_allows,
    wildcard_match,
)

ROLE = "arn:aws:iam::123456789012:role/xy-0146-qa-TaskRole"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/intruder"
PARAMETERS = "arn:aws:ssm:us-east-1:123456789012:parameter/xy-0146-qa/*"
BOUNDARY = "arn:aws:iam::123456789012:policy/xy-0146-qa-boundary"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def allow(action, resource, condition=None, sid="S", **extra):
    statement = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def deny(action, resource, condition=None, **extra):
    document = allow(action, resource, condition, **extra)
    document["Statement"][0]["Effect"] = "Deny"
    return document


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("parameter/xy-0146-qa/*", "parameter/xy-0146-qa/db/active", True),
        ("parameter/xy-0146-qa/*", "parameter/xy-0146-qaa/db/active", False),
        ("secret:xy/db/master-??????", "secret:xy/db/master-AbC123", True),
        ("secret:xy/db/master-??????", "secret:xy/db/master-AbC1234", False),
        ("a.b", "aXb", False),  # a dot is no regex wildcard
        ("a+b", "a+b", True),
        ("Case", "case", False),
    ],
    ids=["prefix", "prefix-is-not-a-prefix-of-a-longer-name", "six-chars", "seven-chars", "dot", "plus", "case"],
)
def test_wildcards(pattern, value, expected):
    assert wildcard_match(pattern, value) is expected


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("arn:aws:logs:*:*:log-group:/a/service:*", "arn:aws:logs:eu-west-1:1:log-group:/a/service:log-stream:x", True),
        ("arn:aws:logs:*:*:log-group:/a/service:*", "arn:aws:logs:eu-west-1:1:log-group:/b/service:log-stream:x", False),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b", False),
        ("arn:aws:*:*:*:*", "arn:aws:iam::1:role/r", True),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::1:user/u", False),
    ],
    ids=["stream-of-group", "stream-of-other-group", "bucket-is-not-object", "any", "role-not-user"],
)
def test_arn_like(pattern, value, expected):
    assert arn_like(pattern, value) is expected


EVALUATION_CASES = [
    # (id, identity policies, request, expected)
    ("allow-own-parameter", [allow("ssm:GetParameter", PARAMETERS)],
     Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/xy-0146-qa/db/active"), ALLOWED),
    ("deny-other-namespaces-parameter", [allow("ssm:GetParameter", PARAMETERS)],
     Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/ab-0212-qa/db/active"), IMPLICIT_DENY),
    ("deny-other-account", [allow("ssm:GetParameter", PARAMETERS)],
     Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:210987654321:parameter/xy-0146-qa/db/active"), IMPLICIT_DENY),
    ("deny-other-action", [allow("ssm:GetParameter", PARAMETERS)],
     Request("ssm:PutParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/xy-0146-qa/db/active"), IMPLICIT_DENY),
    ("action-is-case-insensitive", [allow("SSM:getparameter", PARAMETERS)],
     Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/xy-0146-qa/x"), ALLOWED),
    ("action-wildcard", [allow("ssm:Get*", PARAMETERS)],
     Request("ssm:GetParametersByPath", "arn:aws:ssm:us-east-1:123456789012:parameter/xy-0146-qa/x"), ALLOWED),
    ("resource-is-case-sensitive", [allow("ssm:GetParameter", PARAMETERS)],
     Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/XY-0146-QA/x"), IMPLICIT_DENY),
    ("explicit-deny-wins", [allow("s3:*", "*"), deny("s3:GetObject", "arn:aws:s3:::b/secret/*")],
     Request("s3:GetObject", "arn:aws:s3:::b/secret/x"), EXPLICIT_DENY),
    ("not-action", [{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}],
     Request("iam:CreateUser", "arn:aws:iam::123456789012:user/u"), IMPLICIT_DENY),
    ("not-resource", [{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/x/*"}]}],
     Request("s3:GetObject", "arn:aws:s3:::b/x/1"), IMPLICIT_DENY),
    ("string-like-prefix-matches", [allow("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["xy/*"]}})],
     Request("s3:ListBucket", "arn:aws:s3:::b", context={"s3:prefix": "xy/docs/"}), ALLOWED),
    ("string-like-other-prefix", [allow("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["xy/*"]}})],
     Request("s3:ListBucket", "arn:aws:s3:::b", context={"s3:prefix": "ab/"}), IMPLICIT_DENY),
    ("string-like-absent-key", [allow("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["xy/*"]}})],
     Request("s3:ListBucket", "arn:aws:s3:::b"), IMPLICIT_DENY),
    ("string-equals", [allow("kms:Decrypt", "*", {"StringEquals": {"kms:ViaService": "rds.eu-west-1.amazonaws.com"}})],
     Request("kms:Decrypt", "k", context={"kms:ViaService": "s3.eu-west-1.amazonaws.com"}), IMPLICIT_DENY),
    ("string-not-equals-absent-key-holds", [deny("s3:*", "*", {"StringNotEquals": {"aws:PrincipalAccount": "1"}})],
     Request("s3:GetObject", "arn:aws:s3:::b/x"), EXPLICIT_DENY),
    ("bool-deny-insecure", [allow("s3:*", "*"), deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}})],
     Request("s3:GetObject", "arn:aws:s3:::b/x", context={"aws:SecureTransport": "false"}), EXPLICIT_DENY),
    ("bool-secure-passes", [allow("s3:*", "*"), deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}})],
     Request("s3:GetObject", "arn:aws:s3:::b/x", context={"aws:SecureTransport": "true"}), ALLOWED),
    ("if-exists-absent-holds", [allow("s3:GetObject", "*", {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}})],
     Request("s3:GetObject", "arn:aws:s3:::b/x"), ALLOWED),
    ("null-true", [allow("s3:GetObject", "*", {"Null": {"aws:SourceVpc": "true"}})],
     Request("s3:GetObject", "arn:aws:s3:::b/x", context={"aws:SourceVpc": "vpc-1"}), IMPLICIT_DENY),
    ("arn-like-condition", [allow("sts:AssumeRole", "*", {"ArnLike": {"aws:SourceArn": "arn:aws:ec2:*:1:vpc-flow-log/*"}})],
     Request("sts:AssumeRole", "r", context={"aws:SourceArn": "arn:aws:ec2:eu-west-1:2:vpc-flow-log/fl-1"}), IMPLICIT_DENY),
    ("for-all-values", [allow("dynamodb:GetItem", "*", {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["a", "b"]}})],
     Request("dynamodb:GetItem", "t", context={"dynamodb:Attributes": ["a", "c"]}), IMPLICIT_DENY),
    ("for-any-value", [allow("dynamodb:GetItem", "*", {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["a"]}})],
     Request("dynamodb:GetItem", "t", context={"dynamodb:Attributes": ["c", "a"]}), ALLOWED),
    ("no-policy", [], Request("s3:GetObject", "arn:aws:s3:::b/x"), IMPLICIT_DENY),
    ("arn-equals-boundary", [allow("iam:CreateRole", "*", {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY}})],
     Request("iam:CreateRole", "r", context={"iam:PermissionsBoundary": BOUNDARY}), ALLOWED),
    ("arn-equals-other-boundary", [allow("iam:CreateRole", "*", {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY}})],
     Request("iam:CreateRole", "r", context={"iam:PermissionsBoundary": BOUNDARY + "x"}), IMPLICIT_DENY),
    ("arn-equals-absent-key", [allow("iam:CreateRole", "*", {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY}})],
     Request("iam:CreateRole", "r"), IMPLICIT_DENY),
    ("arn-not-equals-denies-another", [allow("iam:*", "*"), deny("iam:PutRolePermissionsBoundary", "*", {
        "ArnNotEquals": {"iam:PermissionsBoundary": BOUNDARY}})],
     Request("iam:PutRolePermissionsBoundary", "r", context={"iam:PermissionsBoundary": ADMIN}), EXPLICIT_DENY),
    ("arn-not-equals-passes-the-same", [allow("iam:*", "*"), deny("iam:PutRolePermissionsBoundary", "*", {
        "ArnNotEquals": {"iam:PermissionsBoundary": BOUNDARY}})],
     Request("iam:PutRolePermissionsBoundary", "r", context={"iam:PermissionsBoundary": BOUNDARY}), ALLOWED),
]


@pytest.mark.parametrize("policies, request_, expected", [c[1:] for c in EVALUATION_CASES], ids=[c[0] for c in EVALUATION_CASES])
def test_identity_policy_evaluation(policies, request_, expected):
    assert evaluate(request_, policies) == expected


def test_unknown_keys_are_assumed_worst_case_for_the_claim_being_proved():
    policy = [allow("s3:ListBucket", "arn:aws:s3:::b", {"StringLike": {"s3:prefix": ["xy/*"]}})]
    request = Request("s3:ListBucket", "arn:aws:s3:::b")
    assert evaluate(request, policy, unknown=ASSUME_ALLOW) == ALLOWED  # a "denied" claim must survive this
    assert evaluate(request, policy, unknown=ASSUME_DENY) == IMPLICIT_DENY
    guarded = policy + [deny("s3:*", "*", {"StringEquals": {"aws:PrincipalTag/team": "x"}})]
    assert evaluate(request, guarded, unknown=ASSUME_DENY) == EXPLICIT_DENY  # an "allowed" claim must survive this


BUCKET_POLICY = {
    "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/shared/*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::b/*"},
    ]
}


@pytest.mark.parametrize(
    "request_, expected",
    [
        (Request("s3:GetObject", "arn:aws:s3:::b/shared/x", ROLE, {"aws:SecureTransport": "true"}), ALLOWED),
        (Request("s3:GetObject", "arn:aws:s3:::b/shared/x", OTHER_ACCOUNT_ROLE, {"aws:SecureTransport": "true"}),
         IMPLICIT_DENY),
        (Request("s3:GetObject", "arn:aws:s3:::b/shared/x", ROLE, {"aws:SecureTransport": "false"}), EXPLICIT_DENY),
        (Request("s3:PutObject", "arn:aws:s3:::b/x", ROLE, {"aws:SecureTransport": "true"}), IMPLICIT_DENY),
    ],
    ids=["named-principal", "other-principal", "deny-to-everyone", "account-root-grants-nothing-alone"],
)
def test_resource_policy_evaluation(request_, expected):
    assert evaluate(request_, [], [BUCKET_POLICY]) == expected


def test_an_account_root_deny_covers_the_accounts_roles():
    policy = {"Statement": [{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                             "Action": "s3:*", "Resource": "*"}]}
    request = Request("s3:GetObject", "arn:aws:s3:::b/x", ROLE)
    assert evaluate(request, [allow("s3:*", "*")], [policy]) == EXPLICIT_DENY


def test_an_operator_it_does_not_implement_is_an_error_not_a_pass():
    """More of these, in every mode: tests/security/test_iam_conditions.py."""
    policy = [allow("s3:GetObject", "*", {"BinaryEquals": {"aws:SourceIp": "MTAuMC4wLjA="}})]
    with pytest.raises(UnsupportedCondition, match="condition operator BinaryEquals is not implemented"):
        evaluate(Request("s3:GetObject", "arn:aws:s3:::b/x", context={"aws:SourceIp": "10.1.1.1"}), policy)


# Issue 17: the set qualifiers with negated operators were evaluated backwards (the
# negation was applied to the whole set instead of to each request value). IAM
# ("Single-valued vs. multivalued context keys"): ForAnyValue holds if at least one
# request value satisfies the operator, ForAllValues if every one does (or there is
# none); for StringNotEquals a request value satisfies it when it equals NO policy value.
ISSUE_17 = [
    pytest.param("ForAnyValue:StringNotEquals", ["a", "x"], ["a"], ALLOWED, id="any-value-not-equals-x-is-outside"),
    pytest.param("ForAnyValue:StringNotEquals", ["a"], ["a"], IMPLICIT_DENY, id="any-value-not-equals-none-outside"),
    pytest.param("ForAllValues:StringNotEquals", ["a", "x"], ["a"], IMPLICIT_DENY,
                 id="all-values-not-equals-a-is-inside"),
    pytest.param("ForAllValues:StringNotEquals", ["x", "y"], ["a"], ALLOWED, id="all-values-not-equals-all-outside"),
    pytest.param("ForAnyValue:StringNotLike", ["key1:hr", "key2:audit"], ["key1*"], ALLOWED,
                 id="any-value-not-like-key2-is-outside"),
    pytest.param("ForAllValues:ArnNotEquals", ["arn:aws:sns:eu-west-1:1:a", "arn:aws:sns:eu-west-1:1:x"],
                 ["arn:aws:sns:eu-west-1:1:a"], IMPLICIT_DENY, id="all-values-arn-not-equals-a-is-inside"),
]


@pytest.mark.parametrize("operator, request_values, policy_values, expected", ISSUE_17)
def test_set_qualifiers_apply_a_negated_operator_to_each_request_value_issue_17(
        operator, request_values, policy_values, expected):
    policy = [allow("dynamodb:GetItem", "*", {operator: {"dynamodb:Attributes": policy_values}})]
    request = Request("dynamodb:GetItem", "t", context={"dynamodb:Attributes": request_values})
    assert evaluate(request, policy) == expected, "%s %s against request values %s" % (
        operator, policy_values, request_values)


def test_matching_allows_names_the_statements_that_leak():
    policies = [allow("s3:GetObject", "*", sid="TooWide"), allow("s3:GetObject", "arn:aws:s3:::b/xy/*", sid="Own")]
    assert matching_allows(Request("s3:GetObject", "arn:aws:s3:::b/ab/x"), policies) == ["TooWide"]
