"""pre_build: the tenant's host name and listener priority are free on its tier's live listener.

A tier's tenants share one HTTPS listener (stack `<tier>-tier`, output HttpsListenerArn);
each tenant's `<ns>-service` stack adds one rule to it: host header `hostname`, priority
`listener_priority`. The env files of one checkout are checked against each other (the
test suite, `tenantstack deploy --fleet`); this hook checks against what is live, whoever
deployed it and from whichever repository:

- a priority another rule holds: AWS fails the service stack mid-deploy (PriorityInUse),
  after the lock, the secret and the new database;
- a host name another rule matches: AWS accepts it, and the rule with the lower priority
  number silently takes both tenants' traffic.

The tenant's own rule (ListenerRule of its own `<ns>-service` stack) is no collision: a
redeploy keeps it. Whoever else holds a rule is named from the Namespace tag the service
blueprint gives the rule and its target group; on the local endpoint, which drops those
tags, from the target group's name (endpoint behaviour "elbv2-cloudformation-tags-dropped").

Layers: `claims`, `collisions`, `free_priority`, `holder_of`, `problems` (pure);
`listener_arn`, `listener_rules`, `own_rule_arn`, `tags_of` (AWS, taking clients);
`refuse_collisions` (AWS, read-only: also `tenantstack diff`), `check_routing` (the stacker hook, run
before the deploy lock is taken).

Cost, flat in the number of tenants: DescribeStacks 1 (the tier), DescribeRules 1 per 400
rules (the API's largest page; an ALB holds 100 rules under the default quota), and only when
a rule has the tenant's host name or priority (every redeploy: its own rule)
DescribeStackResource 1; only when one of those is not the tenant's own, DescribeTags 1 per 20
ARNs (a rule and its target group each; with at most two such rules, 1 call).
"""
import logging
import re
from dataclasses import dataclass
from typing import Optional, Tuple

from hooks import aws, naming
from hooks.aws import endpoint_quirks, resources
from hooks.errors import BadInput
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

LISTENER_OUTPUT = "HttpsListenerArn"  # blueprints.tier: the shared ALB's HTTPS listener
OWN_RULE = "ListenerRule"  # blueprints.service.LISTENER_RULE: the tenant's rule in its service stack
STACK_NAME_TAG = "aws:cloudformation:stack-name"
RULES_PAGE_SIZE = 400  # DescribeRules' largest PageSize
TAGS_PER_CALL = 20  # DescribeTags' ResourceArns limit
LOWEST_PRIORITY, HIGHEST_PRIORITY = 1, 50000
TAGS_DROPPED_BEHAVIOUR = "elbv2-cloudformation-tags-dropped"
# How a target group CloudFormation named without a Name reads locally: <stack>-<random suffix>.
GENERATED_NAME = re.compile(r"^(?P<stack>.+)-[A-Z0-9]{8,}$")


@dataclass(frozen=True)
class Claim:
    """One live rule of the listener: what it routes and where to."""

    arn: str
    priority: int
    hosts: Tuple[str, ...]  # lower case
    target_groups: Tuple[str, ...]


# --- pure ----------------------------------------------------------------------------------


def claims(rules):
    """The Claims of DescribeRules' rules (the default rule, which has no priority, left out)."""
    found = []
    for rule in rules:
        if rule.get("IsDefault") or not str(rule.get("Priority", "")).isdigit():
            continue
        hosts = []
        for condition in rule.get("Conditions") or []:
            if condition.get("Field") == "host-header":
                hosts += (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
        groups = []
        for action in rule.get("Actions") or []:
            if action.get("TargetGroupArn"):
                groups.append(action["TargetGroupArn"])
            forwarded = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            groups += [group["TargetGroupArn"] for group in forwarded if group.get("TargetGroupArn")]
        found.append(Claim(rule["RuleArn"], int(rule["Priority"]), tuple(h.lower() for h in hosts),
                           tuple(dict.fromkeys(groups))))
    return found


def collisions(all_claims, hostname, priority, own_rule=None):
    """The claims other than `own_rule` that hold `priority` or route `hostname`."""
    return [claim for claim in all_claims
            if claim.arn != own_rule and (claim.priority == priority or hostname.lower() in claim.hosts)]


def free_priority(all_claims, wanted):
    """The first priority after `wanted` that no rule holds (wrapping to the lowest); None if all are taken."""
    taken = {claim.priority for claim in all_claims}
    for candidate in list(range(wanted + 1, HIGHEST_PRIORITY + 1)) + list(range(LOWEST_PRIORITY, wanted)):
        if candidate not in taken:
            return candidate
    return None


def holder_of(claim, tags, names_from_target_groups=False):
    """The namespace that holds a rule: the Namespace tag (or the stack-name tag of a `<ns>-service`
    stack) of the rule or its target groups; with `names_from_target_groups`, a target group named
    `<ns>-service-<suffix>`. None when nothing names one. `tags`: {arn: {key: value}}."""
    arns = (claim.arn,) + claim.target_groups
    for arn in arns:
        namespace = tags.get(arn, {}).get(naming.NAMESPACE_TAG)
        if namespace:
            return namespace
    for arn in arns:
        namespace = _service_stack_namespace(tags.get(arn, {}).get(STACK_NAME_TAG))
        if namespace:
            return namespace
    if names_from_target_groups:
        for arn in claim.target_groups:
            match = GENERATED_NAME.match(_target_group_name(arn) or "")
            namespace = _service_stack_namespace(match.group("stack")) if match else None
            if namespace:
                return namespace
    return None


def problems(colliding, holders, namespace, hostname, priority, tier, all_claims):
    """One line per collision, naming the value, who holds it, the rule and the fix."""
    lines = []
    for claim in colliding:
        holder = holders.get(claim.arn)
        who = holder or "a rule no tenant's tags name (target groups: %s)" % (
            ", ".join(_target_group_name(arn) or arn for arn in claim.target_groups) or "none")
        where = "rule %s, priority %d, host %s" % (claim.arn, claim.priority, ", ".join(claim.hosts) or "any")
        if claim.priority == priority:
            free = free_priority(all_claims, priority)
            lines.append(
                "listener_priority %d is taken on tier %s's HTTPS listener by %s (%s): a priority belongs to one rule "
                "of a listener, and AWS would fail the service stack mid-deploy; choose a free one%s"
                % (priority, tier, who, where, ", e.g. %d" % free if free else "")
            )
        if hostname.lower() in claim.hosts:
            lines.append(
                "hostname %s already routes to %s on tier %s's HTTPS listener (%s): one host name reaches one "
                "tenant, and the rule with the lower priority would silently take the other's traffic; give %s "
                "a host name of its own" % (hostname, who, tier, where, namespace)
            )
    return lines


def _service_stack_namespace(stack_name):
    """`xy-0146-qa` of a stack name `xy-0146-qa-service`; None for any other name."""
    suffix = "-service"
    if not stack_name or not stack_name.endswith(suffix):
        return None
    try:
        return naming.parse_namespace(stack_name[: -len(suffix)]).name
    except naming.NamingError:
        return None


def _target_group_name(arn):
    """The name in a target group ARN (...:targetgroup/<name>/<id>)."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "targetgroup" else None


# --- AWS -------------------------------------------------------------------------------------


def listener_arn(cfn, shared_namespace):
    """The tier's HTTPS listener: output HttpsListenerArn of `<tier>-tier`; BadInput when the tier is not built."""
    return resources.tier_output(cfn, shared_namespace, LISTENER_OUTPUT)


def listener_rules(elbv2, listener):
    """Every rule of the listener (DescribeRules, 400 a page)."""
    pages = elbv2.get_paginator("describe_rules").paginate(
        ListenerArn=listener, PaginationConfig={"PageSize": RULES_PAGE_SIZE})
    return [rule for page in pages for rule in page["Rules"]]


def own_rule_arn(cfn, namespace) -> Optional[str]:
    """The ARN of the tenant's own rule (ListenerRule of `<ns>-service`); None before its first deploy."""
    found = aws.or_none(cfn.describe_stack_resource, "ValidationError",
                        StackName=naming.service_stack_name(namespace), LogicalResourceId=OWN_RULE)
    return (found or {}).get("StackResourceDetail", {}).get("PhysicalResourceId") or None


def tags_of(elbv2, arns):
    """{arn: {key: value}} of rules and target groups (DescribeTags, 20 ARNs a call)."""
    arns, tags = list(dict.fromkeys(arns)), {}
    for start in range(0, len(arns), TAGS_PER_CALL):
        for description in elbv2.describe_tags(ResourceArns=arns[start:start + TAGS_PER_CALL])["TagDescriptions"]:
            tags[description["ResourceArn"]] = {tag["Key"]: tag.get("Value") for tag in description.get("Tags") or []}
    return tags


def routing_problems(cfn, elbv2, namespace, shared_namespace, hostname, priority, names_from_target_groups=False):
    """What collides with the live rules of the tier's listener, one line each; [] when nothing does."""
    all_claims = claims(listener_rules(elbv2, listener_arn(cfn, shared_namespace)))
    colliding = collisions(all_claims, hostname, priority)
    if not colliding:
        return []
    colliding = collisions(colliding, hostname, priority, own_rule_arn(cfn, namespace))
    if not colliding:
        return []
    tags = tags_of(elbv2, [arn for claim in colliding for arn in (claim.arn,) + claim.target_groups])
    holders = {claim.arn: holder_of(claim, tags, names_from_target_groups) for claim in colliding}
    return problems(colliding, holders, namespace, hostname, priority, shared_namespace, all_claims)


# --- the stacker hook ----------------------------------------------------------------------------


def refuse_collisions(cfn, elbv2, namespace, shared_namespace, hostname, priority):
    """BadInput naming every collision with the tier's live rules; nothing when there is none.
    Read-only: the hook below and `tenantstack diff` run it."""
    found = routing_problems(cfn, elbv2, namespace, shared_namespace, hostname, priority,
                             names_from_target_groups=endpoint_quirks.tolerates(TAGS_DROPPED_BEHAVIOUR))
    if found:
        raise BadInput(
            "%s cannot be routed as its env file asks; nothing was changed:\n%s\nFix the env file, then deploy again."
            % (namespace, "\n".join("  - %s" % line for line in found))
        )


@stacker_hook()
def check_routing(run):
    """Refuse a hostname or listener_priority another rule of the tier's listener holds (BadInput)."""
    hostname, priority = run.settings["hostname"], run.settings["listener_priority"]
    refuse_collisions(run.client("cloudformation"), run.client("elbv2"), run.namespace, run.shared_namespace,
                      hostname, priority)
    logger.info("%s: hostname %s and listener_priority %d are free on tier %s (or already %s's)",
                run.namespace, hostname, priority, run.shared_namespace, run.namespace)
    return {"status": "free", "hostname": hostname, "listener_priority": priority}
