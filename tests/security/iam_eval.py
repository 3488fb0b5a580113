"""A small evaluator of IAM policy documents: is one request allowed?

Why not a library: the maintained Python packages parse policies (policyuniverse) or
lint them (parliament, policy_sentry), but none evaluates a request. principalmapper's
local simulator does, but it is unmaintained since 2022 (AGPL), matches resource ARNs
case-insensitively and treats StringNotLike on a missing key as false; either would
make the isolation proof say less than it claims.

What it implements (IAM's documented evaluation logic, one account, no SCPs, no
permission boundaries, no session policies):

- an explicit Deny in any applicable statement wins; else an Allow allows; else the
  request is implicitly denied;
- Action / NotAction (case-insensitive, `*` and `?` wildcards), Resource / NotResource
  (case-sensitive wildcards), Principal / NotPrincipal for resource-based policies;
- the condition operators String(Not)Equals[IgnoreCase], String(Not)Like,
  Arn(Not)Equals, Arn(Not)Like, Bool, Null, each with an ...IfExists form and the
  ForAnyValue: / ForAllValues: set qualifiers. Any other operator raises
  UnsupportedCondition, so a policy never passes a proof on an operator it ignores.

Unknown condition keys: a request names the context keys it fixes. A key a condition
needs but the request leaves out is, by default, treated as IAM does (absent). For
proofs, `unknown=ASSUME_ALLOW` assumes the caller can make every such Allow condition
true and every such Deny condition false (the worst case for a "denied" claim), and
`unknown=ASSUME_DENY` the opposite (the worst case for an "allowed" claim).
"""
import functools
import re
from dataclasses import dataclass, field

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitly denied", "implicitly denied"
ABSENT, ASSUME_ALLOW, ASSUME_DENY = "absent", "assume-allow", "assume-deny"

STRING_OPERATORS = {
    "StringEquals": lambda policy, value: policy == value,
    "StringNotEquals": lambda policy, value: policy == value,
    "StringEqualsIgnoreCase": lambda policy, value: policy.lower() == value.lower(),
    "StringNotEqualsIgnoreCase": lambda policy, value: policy.lower() == value.lower(),
    "StringLike": lambda policy, value: wildcard_match(policy, value),
    "StringNotLike": lambda policy, value: wildcard_match(policy, value),
    "ArnEquals": lambda policy, value: policy == value,
    "ArnNotEquals": lambda policy, value: policy == value,
    "ArnLike": lambda policy, value: arn_like(policy, value),
    "ArnNotLike": lambda policy, value: arn_like(policy, value),
    "Bool": lambda policy, value: str(policy).lower() == str(value).lower(),
}
NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


class UnsupportedCondition(ValueError):
    """A policy uses a condition operator this evaluator does not implement."""


@dataclass(frozen=True)
class Request:
    """One API call: action, resource ARN, the principal's ARN and the context keys it fixes."""

    action: str
    resource: str
    principal: str = ""
    context: dict = field(default_factory=dict)


def as_list(value):
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern, case_sensitive):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def wildcard_match(pattern, value, case_sensitive=True):
    """IAM's `*` (any run, including none) and `?` (one character); nothing else is special."""
    return _wildcard_regex(pattern, case_sensitive).fullmatch(value) is not None


def arn_like(pattern, value):
    """ArnLike: each of the six colon-separated parts matches on its own (the last takes the rest)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return wildcard_match(pattern, value)
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts))


def action_matches(patterns, action):
    return any(wildcard_match(pattern, action, case_sensitive=False) for pattern in as_list(patterns))


def resource_matches(patterns, resource):
    return any(pattern == "*" or arn_like(pattern, resource) for pattern in as_list(patterns))


def account_of(arn):
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else None


def principal_matches(principal_block, principal, effect):
    """A resource policy's Principal: "*", or {"AWS": ARN(s)} naming this very principal.

    An account's root ARN names every principal of the account for a Deny; for an Allow
    it only delegates to the account's IAM policies (it grants nothing by itself).
    """
    if principal_block == "*":
        return True
    if not isinstance(principal_block, dict):
        return False
    for candidate in as_list(principal_block.get("AWS", [])):
        if candidate in ("*", principal):
            return True
        if effect == "Deny" and candidate.endswith(":root") and account_of(candidate) == account_of(principal):
            return True
    return False


def _operator_parts(operator):
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    return qualifier, name[: -len("IfExists")] if if_exists else name, if_exists


def condition_holds(operator, key, policy_values, context):
    """True / False, or None when the key is absent and the outcome depends on the caller."""
    qualifier, name, if_exists = _operator_parts(operator)
    if name == "Null":
        present = key in context
        return any((str(v).lower() == "true") != present for v in as_list(policy_values))
    if name not in STRING_OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedCondition("condition operator %s is not implemented" % operator)
    if key not in context:
        if if_exists or name in NEGATED or qualifier == "ForAllValues":
            return True
        return None
    compare = STRING_OPERATORS[name]
    values = as_list(context[key])
    matches = [any(compare(str(p), str(v)) for p in as_list(policy_values)) for v in values]
    if qualifier == "ForAllValues":
        hit = all(matches)
    else:  # a single-valued key, or ForAnyValue
        hit = any(matches)
    return not hit if name in NEGATED else hit


def conditions_hold(condition, context):
    """All operators and keys of a Condition block hold: True, False or None (depends on absent keys)."""
    outcome = True
    for operator, keys in (condition or {}).items():
        for key, values in keys.items():
            result = condition_holds(operator, key, values, context)
            if result is False:
                return False
            if result is None:
                outcome = None
    return outcome


def statement_applies(statement, request, resource_policy, unknown):
    if "NotAction" in statement and action_matches(statement["NotAction"], request.action):
        return False
    if "Action" in statement and not action_matches(statement["Action"], request.action):
        return False
    if "NotResource" in statement and resource_matches(statement["NotResource"], request.resource):
        return False
    if "Resource" in statement and not resource_matches(statement["Resource"], request.resource):
        return False
    if resource_policy:
        effect = statement["Effect"]
        if "NotPrincipal" in statement and principal_matches(statement["NotPrincipal"], request.principal, effect):
            return False
        if "Principal" in statement and not principal_matches(statement["Principal"], request.principal, effect):
            return False
    holds = conditions_hold(statement.get("Condition"), request.context)
    if holds is None:
        allow = statement["Effect"] == "Allow"
        if unknown == ASSUME_ALLOW:
            return allow
        if unknown == ASSUME_DENY:
            return not allow
        return False
    return holds


def statements(document):
    return as_list(document.get("Statement", []))


def evaluate(request, identity_policies=(), resource_policies=(), unknown=ABSENT):
    """ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY for the request (same-account evaluation)."""
    applicable = [
        (statement, False) for document in identity_policies for statement in statements(document)
    ] + [(statement, True) for document in resource_policies for statement in statements(document)]
    matched = [s for s, is_resource in applicable if statement_applies(s, request, is_resource, unknown)]
    if any(s["Effect"] == "Deny" for s in matched):
        return EXPLICIT_DENY
    if any(s["Effect"] == "Allow" for s in matched):
        return ALLOWED
    return IMPLICIT_DENY


def matching_allows(request, identity_policies, unknown=ASSUME_ALLOW):
    """The Sids (or indexes) of the identity statements that allow the request: names a leak."""
    found = []
    for document in identity_policies:
        for index, statement in enumerate(statements(document)):
            if statement["Effect"] == "Allow" and statement_applies(statement, request, False, unknown):
                found.append(statement.get("Sid", "#%d" % index))
    return found

