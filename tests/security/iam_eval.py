"""A small evaluator of IAM policy documents: is one request allowed?

Why not a library: the maintained Python packages parse policies (policyuniverse) or
lint them (parliament, policy_sentry), but none evaluates a request. principalmapper's
local simulator does, but it is unmaintained since 2022 (AGPL), matches resource ARNs
case-insensitively and treats StringNotLike on a missing key as false; either would
make the isolation proof say less than it claims. A second, independent evaluator (the
npm package @cloud-copilot/iam-simulate, test-only) checks this one over the proof's
requests: tests/security/crosscheck.py.

What it implements (IAM's documented evaluation logic, one account, no SCPs, no
permission boundaries, no session policies; "IAM JSON policy elements: Condition
operators" and "Single-valued vs. multivalued context keys" in the IAM User Guide):

- an explicit Deny in any applicable statement wins; else an Allow allows; else the
  request is implicitly denied;
- Action / NotAction (case-insensitive, `*` and `?` wildcards), Resource / NotResource
  (case-sensitive wildcards), Principal / NotPrincipal for resource-based policies;
- the condition operators String(Not)Equals[IgnoreCase], String(Not)Like,
  Arn(Not)Equals, Arn(Not)Like, Numeric(Not)Equals, NumericLessThan[Equals],
  NumericGreaterThan[Equals], the same six Date operators, Bool, IpAddress,
  NotIpAddress and Null; each but Null with an ...IfExists form and the ForAnyValue: /
  ForAllValues: set qualifiers. Several operators, or several keys of one operator, must
  all hold (AND); several policy values of one key are ORed, and NORed for a negated
  operator (Not...). Condition key names are case-insensitive.

What it refuses, raising Unsupported / UnsupportedCondition instead of allowing or denying
silently, so a policy never passes a proof on something the evaluator ignores: any other
operator or qualifier (BinaryEquals, NullIfExists, ForAnyValue:Null ...), ForAnyValue with
IfExists (IAM's documentation gives an absent key two outcomes: IfExists says true,
ForAnyValue false), a multivalued request value under an operator without a set qualifier
(IAM documents no outcome for it), policy variables (`${...}`), and a value its operator
cannot read (a Numeric value that is no number, a Date that is no date, ...).

Unknown condition keys: a request names the context keys it fixes. A key a condition
needs but the request leaves out is, by default (ABSENT), absent, exactly as IAM treats
a missing key. For proofs, `unknown=ASSUME_ALLOW` assumes the caller can make every
condition on such a key come out as it likes: every such Allow condition true and every
such Deny condition false, whatever the operator (a negated or ...IfExists operator,
which holds on an absent key, may still fail on a present one); this is the worst case
for a "denied" claim. `unknown=ASSUME_DENY` is the opposite (the worst case for an
"allowed" claim).
"""
import datetime
import decimal
import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitly denied", "implicitly denied"
ABSENT, ASSUME_ALLOW, ASSUME_DENY = "absent", "assume-allow", "assume-deny"
UNKNOWN_MODES = (ABSENT, ASSUME_ALLOW, ASSUME_DENY)
SET_QUALIFIERS = ("ForAnyValue", "ForAllValues")
POLICY_VARIABLE = "${"


class Unsupported(ValueError):
    """A policy uses something this evaluator does not implement (it must not guess)."""


class UnsupportedCondition(Unsupported):
    """A policy uses a condition operator (or operator and value) this evaluator does not implement."""


class InvalidConditionValue(UnsupportedCondition):
    """A policy or request value its condition operator cannot read (a Numeric value that is no number ...)."""


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


def refuse_policy_variables(pattern):
    if POLICY_VARIABLE in pattern:
        raise Unsupported("policy variables are not implemented: %r" % pattern)
    return pattern


def arn_like(pattern, value):
    """ArnLike: each of the six colon-separated parts matches on its own (the last takes the rest)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return wildcard_match(pattern, value)
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts))


def action_matches(patterns, action):
    return any(wildcard_match(refuse_policy_variables(p), action, case_sensitive=False) for p in as_list(patterns))


def resource_matches(patterns, resource):
    return any(p == "*" or arn_like(refuse_policy_variables(p), resource) for p in as_list(patterns))


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


# --- condition values ---------------------------------------------------------------


def as_text(value):
    """A policy or request value as IAM reads it: JSON true/false as "true"/"false", numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def refuse(value, kind, operator):
    raise InvalidConditionValue("%s: %r is not %s" % (operator, value, kind))


def parse_text(value, operator):
    return refuse_policy_variables(as_text(value))


def parse_arn(value, operator):
    """An ARN or ARN pattern: six colon-separated parts (the last may hold more colons)."""
    text = parse_text(value, operator)
    return text if len(text.split(":", 5)) == 6 else refuse(value, "an ARN (six colon-separated parts)", operator)


def parse_bool(value, operator):
    text = as_text(value).lower()
    return text if text in ("true", "false") else refuse(value, "true or false", operator)


def parse_number(value, operator):
    """Integer or decimal, exactly (Decimal: 0.1 + 0.2 compares as written)."""
    if isinstance(value, bool):
        refuse(value, "a number", operator)
    try:
        number = decimal.Decimal(as_text(value).strip())
    except decimal.InvalidOperation:
        return refuse(value, "a number", operator)
    return number if number.is_finite() else refuse(value, "a finite number", operator)


EPOCH_SECONDS = re.compile(r"-?\d+(\.\d+)?")


def parse_date(value, operator):
    """Epoch seconds ("1700000000") or an ISO 8601 date ("2026-12-01", "2026-12-01T09:00:00Z",
    with fractional seconds or an offset); a date without an offset is UTC. As epoch seconds."""
    text = as_text(value).strip()
    if EPOCH_SECONDS.fullmatch(text):
        return decimal.Decimal(text)
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        return refuse(value, "an ISO 8601 date or epoch seconds", operator)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return decimal.Decimal(str(moment.timestamp()))


def parse_network(value, operator):
    """A CIDR block ("203.0.113.0/24", "2001:db8::/32"); a bare address is a /32 (/128)."""
    try:
        return ipaddress.ip_network(as_text(value).strip(), strict=False)
    except ValueError:
        return refuse(value, "an IP address or CIDR block", operator)


def parse_address(value, operator):
    try:
        return ipaddress.ip_address(as_text(value).strip())
    except ValueError:
        return refuse(value, "an IP address", operator)


def in_network(network, address):
    return address.version == network.version and address in network


@dataclass(frozen=True)
class Operator:
    """One condition operator family member: how one policy value and one request value compare.

    A negated operator (StringNotEquals, NotIpAddress ...) holds for a request value that
    matches NONE of the policy values (IAM: "evaluated using a logical NOR")."""

    compare: Callable  # (parsed policy value, parsed request value) -> bool, the positive comparison
    parse_policy: Callable = parse_text
    parse_request: Callable = parse_text
    negated: bool = False


def equal(policy, value):
    return policy == value


def equal_ignoring_case(policy, value):
    return policy.lower() == value.lower()


def arn_matches(policy, value):
    """ArnEquals / ArnLike (IAM: the same matching): a value that is no ARN matches nothing."""
    return len(value.split(":", 5)) == 6 and arn_like(policy, value)


def less_than(policy, value):
    return value < policy


def less_than_or_equal(policy, value):
    return value <= policy


def greater_than(policy, value):
    return value > policy


def greater_than_or_equal(policy, value):
    return value >= policy


def _operators():
    text = dict(parse_policy=parse_text, parse_request=parse_text)
    arn = dict(parse_policy=parse_arn, parse_request=parse_text)
    number = dict(parse_policy=parse_number, parse_request=parse_number)
    date = dict(parse_policy=parse_date, parse_request=parse_date)
    ip = dict(parse_policy=parse_network, parse_request=parse_address)
    operators = {
        "StringEquals": Operator(equal, **text),
        "StringNotEquals": Operator(equal, negated=True, **text),
        "StringEqualsIgnoreCase": Operator(equal_ignoring_case, **text),
        "StringNotEqualsIgnoreCase": Operator(equal_ignoring_case, negated=True, **text),
        "StringLike": Operator(wildcard_match, **text),
        "StringNotLike": Operator(wildcard_match, negated=True, **text),
        "ArnEquals": Operator(arn_matches, **arn),
        "ArnLike": Operator(arn_matches, **arn),
        "ArnNotEquals": Operator(arn_matches, negated=True, **arn),
        "ArnNotLike": Operator(arn_matches, negated=True, **arn),
        "Bool": Operator(equal, parse_policy=parse_bool, parse_request=parse_bool),
        "IpAddress": Operator(in_network, **ip),
        "NotIpAddress": Operator(in_network, negated=True, **ip),
    }
    ordered = {"Equals": equal, "LessThan": less_than, "LessThanEquals": less_than_or_equal,
               "GreaterThan": greater_than, "GreaterThanEquals": greater_than_or_equal}
    for family, values in (("Numeric", number), ("Date", date)):
        for suffix, compare in ordered.items():
            operators[family + suffix] = Operator(compare, **values)
        operators[family + "NotEquals"] = Operator(equal, negated=True, **values)
    return operators


OPERATORS = _operators()


@dataclass(frozen=True)
class ParsedOperator:
    qualifier: str  # "", "ForAnyValue" or "ForAllValues"
    name: str  # without IfExists
    if_exists: bool


@functools.lru_cache(maxsize=256)
def parse_operator(operator):
    """`[ForAnyValue:|ForAllValues:]<Name>[IfExists]`, or UnsupportedCondition naming what is not implemented."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name
    if qualifier not in ("",) + SET_QUALIFIERS:
        raise UnsupportedCondition("condition operator %s: set qualifier %r is not implemented" % (operator, qualifier))
    if base == "Null":
        if qualifier or if_exists:
            raise UnsupportedCondition("condition operator %s is not implemented (Null takes no qualifier and no "
                                       "IfExists)" % operator)
    elif base not in OPERATORS:
        raise UnsupportedCondition("condition operator %s is not implemented" % operator)
    if qualifier == "ForAnyValue" and if_exists:
        raise UnsupportedCondition(
            "condition operator %s is not implemented: IAM's documentation gives an absent key two outcomes "
            "(IfExists: true; ForAnyValue: false)" % operator)
    return ParsedOperator(qualifier, base, if_exists)


def lookup(context, key):
    """(present, value) of a context key; condition key names are case-insensitive."""
    if key in context:
        return True, context[key]
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            return True, value
    return False, None


def null_holds(policy_values, present, operator):
    """Null: "true" holds when the key is absent, "false" when it is present; several values are ORed."""
    return any((parse_bool(v, operator) == "true") != present for v in as_list(policy_values))


def value_holds(spec, policy_values, request_value, operator):
    """One request value against all policy values: OR, or NOR for a negated operator."""
    value = spec.parse_request(request_value, operator)
    matched = any(spec.compare(spec.parse_policy(p, operator), value) for p in as_list(policy_values))
    return not matched if spec.negated else matched


def empty_dataset(value):
    """IAM: a key whose value "resolves to an empty data set (for example, an empty string)"."""
    return value in ("", []) or value is None


def condition_holds(operator, key, policy_values, context, unknown=ABSENT):
    """Does one operator hold for one key: True / False, or None when the key is absent and the
    caller decides (unknown=ASSUME_ALLOW / ASSUME_DENY)."""
    parsed = parse_operator(operator)
    present, value = lookup(context, key)
    if not present and unknown != ABSENT:
        return None
    if parsed.name == "Null":
        return null_holds(policy_values, present, operator)
    spec = OPERATORS[parsed.name]
    if parsed.qualifier == "ForAllValues":  # every request value holds; true for none at all
        values = [] if not present or empty_dataset(value) else as_list(value)
        return all(value_holds(spec, policy_values, v, operator) for v in values)
    if parsed.qualifier == "ForAnyValue":  # some request value holds; false for none at all
        values = [] if not present or empty_dataset(value) else as_list(value)
        return any(value_holds(spec, policy_values, v, operator) for v in values)
    if not present:  # a missing key fails a condition, unless the operator is negated or ...IfExists
        return parsed.if_exists or spec.negated
    if isinstance(value, list):
        raise UnsupportedCondition(
            "condition operator %s on key %s: the request has several values %r; a multivalued key needs "
            "ForAnyValue: or ForAllValues: (IAM documents no outcome without one)" % (operator, key, value))
    return value_holds(spec, policy_values, value, operator)


def conditions_hold(condition, context, unknown=ABSENT):
    """All operators and keys of a Condition block hold (AND): True, False or None (depends on absent keys)."""
    outcome = True
    for operator, keys in (condition or {}).items():
        for key, values in keys.items():
            result = condition_holds(operator, key, values, context, unknown)
            if result is False:
                return False
            if result is None:
                outcome = None
    return outcome


def parse_policy_value(operator, value):
    """A policy value as its operator reads it (InvalidConditionValue when it cannot)."""
    parsed = parse_operator(operator)
    if parsed.name == "Null":
        return parse_bool(value, operator)
    return OPERATORS[parsed.name].parse_policy(value, operator)


def check_statement(statement):
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise Unsupported("Effect %r is neither Allow nor Deny" % statement.get("Effect"))
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        for pattern in as_list(statement.get(element, [])):
            refuse_policy_variables(pattern)
    for operator, keys in (statement.get("Condition") or {}).items():
        for values in keys.values():
            for value in as_list(values):
                parse_policy_value(operator, value)


def check_supported(documents, where):
    """Raise Unsupported (naming `where` and the statement) for anything in `documents` this
    evaluator does not implement, whether or not a request reaches it: a proof must not
    pass over a statement it never read."""
    for document in documents:
        for index, statement in enumerate(statements(document)):
            try:
                check_statement(statement)
            except Unsupported as error:
                sid = statement.get("Sid", "#%d" % index)
                raise type(error)("%s statement %s: %s" % (where, sid, error)) from error


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
    holds = conditions_hold(statement.get("Condition"), request.context, unknown)
    if holds is None:  # only under ASSUME_*: the caller picks the open keys' values
        return (statement["Effect"] == "Allow") == (unknown == ASSUME_ALLOW)
    return holds


def statements(document):
    return as_list(document.get("Statement", []))


def applicable_statements(request, identity_policies=(), resource_policies=(), unknown=ABSENT):
    """The statements (identity ones first) that apply to the request: action, resource,
    principal and conditions all match."""
    candidates = [(s, False) for document in identity_policies for s in statements(document)]
    candidates += [(s, True) for document in resource_policies for s in statements(document)]
    return [s for s, is_resource in candidates if statement_applies(s, request, is_resource, unknown)]


def decide(matched):
    """IAM's order: an explicit Deny wins, then an Allow, else an implicit deny."""
    if any(s["Effect"] == "Deny" for s in matched):
        return EXPLICIT_DENY
    if any(s["Effect"] == "Allow" for s in matched):
        return ALLOWED
    return IMPLICIT_DENY


def evaluate(request, identity_policies=(), resource_policies=(), unknown=ABSENT):
    """ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY for the request (same-account evaluation)."""
    if unknown not in UNKNOWN_MODES:
        raise ValueError("unknown=%r; expected one of %s" % (unknown, ", ".join(UNKNOWN_MODES)))
    return decide(applicable_statements(request, identity_policies, resource_policies, unknown))


def matching_allows(request, identity_policies, unknown=ASSUME_ALLOW):
    """The Sids (or indexes) of the identity statements that allow the request: names a leak."""
    found = []
    for document in identity_policies:
        for index, statement in enumerate(statements(document)):
            if statement["Effect"] == "Allow" and statement_applies(statement, request, False, unknown):
                found.append(statement.get("Sid", "#%d" % index))
    return found
