"""What a deploy would do to a tenant, judged before the deploy: the preview's model, pure.

`tenantstack diff` (docs/operations.md, "Previewing a deploy") builds a TenantPreview from
CloudFormation change sets (hooks/ops/change_sets.py) and the promotion's own planning
functions (hooks/ops/preview_steps.py); this module holds what it is made of and the rules
that judge it:

- each resource change as CloudFormation reports it: add / modify / remove, and whether the
  resource is replaced (`Replacement` True or Conditional) and by which property;
- the safety rule: a replacement, or a removal, of a resource class that serves traffic or
  holds data (GUARDED) is flagged; `diff --fail-on-replace` exits 5 when a flagged change is
  not allowed by an `--allow-replace NAMESPACE/STACK/LOGICAL_ID`;
- each stack's and tenant's result: new, unchanged, changes, replacements (or error).

Layers: everything here is pure; hooks/ops/preview_run.py gathers, hooks/cli/commands/diff.py prints.
"""
from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

from hooks import naming
from hooks.errors import BadInput

ADD, MODIFY, REMOVE = "add", "modify", "remove"
REPLACING = ("True", "Conditional")  # CloudFormation's Replacement values that replace the resource
RECREATING = ("Always", "Conditionally")  # a Details entry's RequiresRecreation that does
NEW, UNCHANGED, CHANGES, REPLACEMENTS, ERROR = "new", "unchanged", "changes", "replacements", "error"
RESULTS = (UNCHANGED, CHANGES, REPLACEMENTS, NEW, ERROR)
# A stack in one of these holds nothing a deploy updates: the engine creates it afresh (a failed first
# create; a stack an earlier CREATE change set left empty).
RECREATED = ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS")

# Resource classes whose replacement (a new physical resource, the old one deleted) or removal is
# an outage or a loss: they route or serve the tenant's traffic, admit it, hold its permissions,
# or hold data. A replaced task definition is the normal rollout and is not among them.
GUARDED = {
    "AWS::ElasticLoadBalancingV2::ListenerRule": "routes the tenant's traffic",
    "AWS::ElasticLoadBalancingV2::Listener": "receives the tier's traffic",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "receives the tier's traffic",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "serves the tenant's traffic",
    "AWS::ECS::Service": "serves the tenant's traffic",
    "AWS::ECS::Cluster": "runs the tier's services",
    "AWS::EC2::SecurityGroup": "admits traffic and database connections",
    "AWS::EC2::SecurityGroupIngress": "admits traffic and database connections",
    "AWS::EC2::SecurityGroupEgress": "lets traffic out",
    "AWS::IAM::Role": "holds the tasks' or the pipeline's permissions",
    "AWS::IAM::Policy": "holds permissions",
    "AWS::IAM::ManagedPolicy": "holds permissions",
    "AWS::RDS::DBInstance": "holds the tenant's data",
    "AWS::RDS::DBSubnetGroup": "places the database",
    "AWS::RDS::DBParameterGroup": "configures the databases",
    "AWS::KMS::Key": "encrypts the data and its snapshots",
    "AWS::KMS::Alias": "names the data key",
    "AWS::S3::Bucket": "holds the application files",
    "AWS::Logs::LogGroup": "holds the logs",
    "AWS::SecretsManager::Secret": "holds the database credentials",
    "AWS::ECR::Repository": "holds the images",
}


@dataclass(frozen=True)
class Cause:
    """Why CloudFormation replaces a resource: one Details entry that requires recreation."""

    target: str  # the property (Properties.<Name>), or the attribute (Tags, Metadata, ...)
    recreation: str  # Always or Conditionally
    source: Optional[str] = None  # ChangeSource: DirectModification, ParameterReference, ...
    entity: Optional[str] = None  # CausingEntity: the parameter or resource behind it


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    resource_type: str
    action: str  # add, modify, remove (or CloudFormation's other actions, lower case)
    replacement: Optional[str] = None  # True, Conditional, False; None: not reported (a new stack, the endpoint)
    causes: Tuple[Cause, ...] = ()
    physical_id: Optional[str] = None
    allowed: bool = False  # an --allow-replace names it

    @property
    def replaces(self):
        return self.replacement in REPLACING

    @property
    def guard(self):
        """Why this resource class is guarded, or None."""
        return GUARDED.get(self.resource_type)

    @property
    def flagged(self):
        """A guarded resource is replaced or removed."""
        return self.guard is not None and (self.replaces or self.action == REMOVE)


def resource_change(change):
    """A ResourceChange from one entry of DescribeChangeSet's Changes (its ResourceChange)."""
    resource = change.get("ResourceChange") or {}
    causes = []
    for detail in resource.get("Details") or ():
        target = detail.get("Target") or {}
        if target.get("RequiresRecreation") in RECREATING:
            name = target.get("Name")
            where = "%s.%s" % (target.get("Attribute"), name) if name else target.get("Attribute") or "?"
            causes.append(Cause(where, target["RequiresRecreation"], detail.get("ChangeSource"),
                                detail.get("CausingEntity")))
    return ResourceChange(resource.get("LogicalResourceId", "?"), resource.get("ResourceType", "?"),
                          str(resource.get("Action", "?")).lower(), resource.get("Replacement"), tuple(causes),
                          resource.get("PhysicalResourceId"))


def additions(resources):
    """Every resource of a template as an addition (a stack that does not exist yet)."""
    return tuple(ResourceChange(logical_id, body.get("Type", "?"), ADD) for logical_id, body in sorted(resources.items()))


@dataclass(frozen=True)
class Unknown:
    """A parameter value that cannot be known before the deploy, and what the preview used instead."""

    parameter: str
    reference: str  # e.g. "xy-0146-qa-db-20261115t120000z::DatabaseEndpointAddress"
    reason: str
    previewed_with: str


@dataclass(frozen=True)
class StackPreview:
    name: str  # the config's stack name: base, db, service
    stack_name: str  # CloudFormation's
    live_status: Optional[str]  # StackStatus; None: the stack does not exist (RECREATED: as good as)
    changes: Tuple[ResourceChange, ...] = ()
    drift: Optional[str] = None  # DescribeStacks' DriftInformation.StackDriftStatus (no detection is run)
    unknowns: Tuple[Unknown, ...] = ()
    note: Optional[str] = None

    @property
    def result(self):
        if self.live_status is None or self.live_status in RECREATED:
            return NEW
        if any(change.flagged for change in self.changes):
            return REPLACEMENTS
        return CHANGES if self.changes or self.note else UNCHANGED

    @property
    def drifted(self):
        return self.drift == "DRIFTED"


@dataclass(frozen=True)
class Step:
    """One promotion step the hooks would take after (or before) the stacks."""

    step: str  # restore, flip, retire, keep
    text: str
    changes: bool  # the deploy would change something with it
    data: dict = field(default_factory=dict)  # its JSON fields


@dataclass(frozen=True)
class TenantPreview:
    namespace: Optional[str]
    env_file: str
    db_timestamp: Optional[str] = None
    stacks: Tuple[StackPreview, ...] = ()
    steps: Tuple[Step, ...] = ()
    error: Optional[str] = None  # why there is no preview (one line)
    error_class: Optional[str] = None  # e.g. hooks.errors.BadInput
    exit_code: int = 0  # of the preview itself: 0, 1 (failed), 2 (bad input), 130 (interrupted)
    seconds: float = 0.0

    @property
    def new_tenant(self):
        return bool(self.stacks) and all(stack.result == NEW for stack in self.stacks)

    @property
    def result(self):
        if self.error is not None:
            return ERROR
        if self.new_tenant:
            return NEW
        results = {stack.result for stack in self.stacks}
        if REPLACEMENTS in results:
            return REPLACEMENTS
        if results - {UNCHANGED} or any(step.changes for step in self.steps):
            return CHANGES
        return UNCHANGED

    @property
    def flagged(self):
        """(stack, change) of every flagged change."""
        return [(stack, change) for stack in self.stacks for change in stack.changes if change.flagged]

    @property
    def refused(self):
        """Flagged changes no --allow-replace names: what --fail-on-replace fails on."""
        return [(stack, change) for stack, change in self.flagged if not change.allowed]


# --- allowances ----------------------------------------------------------------------------


def parse_allowance(value):
    """`NAMESPACE/STACK/LOGICAL_ID` (STACK: the config's name, base, db or service) as a tuple; BadInput otherwise."""
    parts = str(value).strip().split("/")
    if len(parts) != 3 or not all(parts):
        raise BadInput("--allow-replace %r is invalid: expected NAMESPACE/STACK/LOGICAL_ID, e.g. "
                       "xy-0146-qa/service/ListenerRule" % (value,))
    naming.parse_namespace(parts[0], "--allow-replace namespace")
    return tuple(parts)


def allow(preview, allowances):
    """The preview with each flagged change an allowance names marked allowed."""
    allowed = {tuple(allowance) for allowance in allowances}
    stacks = tuple(
        replace(stack, changes=tuple(
            replace(change, allowed=(preview.namespace, stack.name, change.logical_id) in allowed)
            if change.flagged else change for change in stack.changes))
        for stack in preview.stacks
    )
    return replace(preview, stacks=stacks)


def unused_allowances(previews, allowances):
    """The allowances that name no flagged change of these previews (stale or mistyped)."""
    used = {(preview.namespace, stack.name, change.logical_id) for preview in previews
            for stack, change in preview.flagged}
    return [allowance for allowance in allowances if tuple(allowance) not in used]
