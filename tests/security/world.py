"""The rendered templates as if deployed: every intrinsic function resolved to a concrete value.

The gates judge templates/<namespace>/<stack>.json. Policies there are full of Fn::Sub,
Ref and Fn::GetAtt; to evaluate them, the world below "deploys" every template in one
account, region and partition: each resource gets the physical id CloudFormation would
give it (its name property, or a generated `<stack>-<LogicalId>-<hash>`), each
CloudFormation parameter the value its stacker config feeds it (`${xref ...}` and
`${output ...}` read the named stack's resolved output, `${setting ...}` the env file),
and every policy document is resolved to plain strings.

`policies()` lists every IAM policy document in every template, with where it lives
(`<namespace>/<stack>.json#<LogicalId>[/<PolicyName>]`), what kind it is and, for identity
policies, the roles it is attached to. New templates (the pipeline's, say) join without
changes here, as long as their policies use the intrinsic functions handled below.
"""
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from hooks.config import envfile
from hooks.engine import render
from hooks.config import settings
from hooks.engine.stacker_compat import load_config

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SSM::Parameter": "Name",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::KMS::Alias": "AliasName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
}
ARN_FORMATS = {
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{id}",
    "AWS::IAM::ManagedPolicy": "arn:{p}:iam::{a}:policy/{id}",
    "AWS::S3::Bucket": "arn:{p}:s3:::{id}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{id}:*",
    "AWS::KMS::Key": "arn:{p}:kms:{r}:{a}:key/{id}",
    "AWS::CodeBuild::Project": "arn:{p}:codebuild:{r}:{a}:project/{id}",
    "AWS::ECS::Cluster": "arn:{p}:ecs:{r}:{a}:cluster/{id}",
    "AWS::ECR::Repository": "arn:{p}:ecr:{r}:{a}:repository/{id}",
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{id}",
    "AWS::CloudWatch::Alarm": "arn:{p}:cloudwatch:{r}:{a}:alarm:{id}",
}
# Resources whose Ref is their ARN, not their name.
REF_IS_ARN = ("AWS::SNS::Topic",)
LOOKUP = re.compile(r"^\$\{(xref|output|setting) ([^}]+)\}$")
IDENTITY, RESOURCE = "identity", "resource"


class UnresolvableTemplate(ValueError):
    """A template uses an intrinsic function or lookup this world cannot resolve."""


@dataclass
class Stack:
    namespace: str  # the env file's namespace: the templates/ directory
    name: str  # the config's stack name, which names the rendered file
    fqn: str  # the CloudFormation stack name
    template: dict
    variables: dict = field(default_factory=dict)  # the config's raw variable values
    settings: dict = field(default_factory=dict)

    @property
    def path(self):
        return "%s/%s.json" % (self.namespace, self.name)

    @property
    def owner(self):
        """The namespace the stack belongs to: its blueprint's Namespace (a pipeline's
        per-tenant deploy stack names its tenant), else its env file's."""
        return str(self.variables.get("Namespace") or self.namespace)


@dataclass
class Policy:
    where: str  # <namespace>/<stack>.json#<LogicalId>[/<PolicyName>]
    kind: str  # IDENTITY or RESOURCE
    namespace: str
    resource_type: str
    document: dict
    roles: tuple = ()  # identity policies: the ARNs of the roles it is attached to
    logical_id: str = ""


def short_hash(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


class World:
    def __init__(self, templates_dir=TEMPLATES, root=REPO):
        self.stacks = {}
        pipeline_env_files = getattr(render, "pipeline_env_files", lambda _root: [])
        for env_path in [*render.env_files(root), *pipeline_env_files(root)]:
            raw = envfile.parse(env_path.read_text(), str(env_path))
            config = load_config(render.config_for(env_path, root).read_text(), raw)
            for stack in config.stacks:
                path = Path(templates_dir) / raw["namespace"] / ("%s.json" % stack.name)
                if not path.exists():
                    continue
                fqn = "%s-%s" % (raw["namespace"], stack.stack_name or stack.name)
                self.stacks[fqn] = Stack(
                    raw["namespace"], stack.name, fqn, json.loads(path.read_text()), dict(stack.variables or {}),
                    settings.load_settings(raw, str(env_path)),
                )
        self._parameters = {}

    def stack_at(self, relative_path):
        return next(stack for stack in self.stacks.values() if stack.path == relative_path)

    # --- values -------------------------------------------------------------------

    def parameter(self, stack, name):
        key = (stack.fqn, name)
        if key not in self._parameters:
            self._parameters[key] = self._parameter_value(stack, name)
        return self._parameters[key]

    def _parameter_value(self, stack, name):
        raw = stack.variables.get(name)
        match = LOOKUP.match(str(raw)) if raw is not None else None
        if match:
            kind, argument = match.groups()
            if kind == "setting":
                return str(stack.settings[argument.strip()])
            target, output = argument.strip().split("::")
            fqn = target if kind == "xref" else "%s-%s" % (stack.namespace, target)
            source = self.stacks[fqn] if fqn in self.stacks else self._by_config_name(stack.namespace, target)
            return self.resolve(source, source.template["Outputs"][output]["Value"])
        if raw is not None:
            return str(raw)
        declared = stack.template.get("Parameters", {}).get(name, {})
        if "Default" in declared and not declared.get("Type", "").startswith("AWS::SSM::Parameter::Value"):
            return str(declared["Default"])
        return "%s-of-%s" % (name, stack.fqn)  # an SSM-typed or unfed parameter: a stand-in naming it

    def _by_config_name(self, namespace, name):
        for stack in self.stacks.values():
            if stack.namespace == namespace and stack.name == name:
                return stack
        raise UnresolvableTemplate("no stack %s in namespace %s" % (name, namespace))

    def physical_id(self, stack, logical_id):
        resource = stack.template["Resources"][logical_id]
        name_property = NAME_PROPERTY.get(resource["Type"])
        if name_property and name_property in resource.get("Properties", {}):
            return self.resolve(stack, resource["Properties"][name_property])
        if resource["Type"] == "AWS::KMS::Key":
            return str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s" % (stack.fqn, logical_id)))
        generated = "%s-%s-%s" % (stack.fqn, logical_id, short_hash(stack.fqn, logical_id))
        return generated.lower() if resource["Type"] == "AWS::S3::Bucket" else generated

    def attribute(self, stack, logical_id, attribute):
        resource_type = stack.template["Resources"][logical_id]["Type"]
        physical = self.physical_id(stack, logical_id)
        if attribute == "Arn" and resource_type in ARN_FORMATS:
            return ARN_FORMATS[resource_type].format(p=PARTITION, r=REGION, a=ACCOUNT, id=physical)
        return "%s.%s" % (physical, attribute)

    def reference(self, stack, name):
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::StackName":
            return stack.fqn
        if name in stack.template.get("Parameters", {}):
            return self.parameter(stack, name)
        if name in stack.template.get("Resources", {}):
            if stack.template["Resources"][name]["Type"] in REF_IS_ARN:
                return self.attribute(stack, name, "Arn")
            return self.physical_id(stack, name)
        raise UnresolvableTemplate("%s: Ref to unknown %s" % (stack.path, name))

    def resolve(self, stack, node):
        """A template fragment with every intrinsic function replaced by its value."""
        if isinstance(node, list):
            return [self.resolve(stack, item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (function, argument), = node.items()
            if function == "Ref":
                return self.reference(stack, argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.attribute(stack, logical_id, attribute)
            if function == "Fn::Sub":
                return self._sub(stack, argument)
            if function == "Fn::Join":
                delimiter, items = argument
                return delimiter.join(str(i) for i in self.resolve(stack, items))
            if function == "Fn::Select":
                index, items = self.resolve(stack, argument)
                return items[int(index)]
            if function.startswith("Fn::"):
                raise UnresolvableTemplate("%s: %s is not handled by tests/security/world.py" % (stack.path, function))
        return {key: self.resolve(stack, value) for key, value in node.items()}

    def _sub(self, stack, argument):
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {name: self.resolve(stack, value) for name, value in variables.items()}

        def replace(match):
            name = match.group(1)
            if name.startswith("!"):
                return "${%s}" % name[1:]
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in stack.template.get("Resources", {}):
                return str(self.attribute(stack, *name.split(".", 1)))
            return str(self.reference(stack, name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # --- policies -------------------------------------------------------------------

    def policies(self):
        """Every IAM policy document of every template, resolved (see the module docstring)."""
        found = []
        for stack in sorted(self.stacks.values(), key=lambda s: s.path):
            for logical_id, resource in sorted(stack.template.get("Resources", {}).items()):
                found.extend(self._policies_of(stack, logical_id, resource))
        return found

    def _policies_of(self, stack, logical_id, resource):
        kind, properties = resource["Type"], resource.get("Properties", {})
        where = "%s#%s" % (stack.path, logical_id)

        def make(document, policy_kind, roles=(), suffix=""):
            return Policy(where + suffix, policy_kind, stack.owner, kind, self.resolve(stack, document),
                          tuple(roles), logical_id)

        if kind == "AWS::IAM::Role":
            role = self.attribute(stack, logical_id, "Arn")
            return [make(p["PolicyDocument"], IDENTITY, [role], "/" + p["PolicyName"]) for p in properties.get("Policies", [])]
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [self.attribute(stack, ref["Ref"], "Arn") if isinstance(ref, dict) else "arn:%s:iam::%s:role/%s"
                     % (PARTITION, ACCOUNT, ref) for ref in properties.get("Roles", [])]
            return [make(properties["PolicyDocument"], IDENTITY, roles)]
        if kind == "AWS::KMS::Key":
            policy = make(properties["KeyPolicy"], RESOURCE)
            key_arn = self.attribute(stack, logical_id, "Arn")
            for statement in policy.document["Statement"]:  # in a key policy, "*" is this key
                if statement.get("Resource") == "*":
                    statement["Resource"] = key_arn
            return [policy]
        if kind in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
            return [make(properties["PolicyDocument"], RESOURCE)]
        return []

    def role_locations(self):
        """{role ARN: (owner namespace, "<namespace>/<stack>.json#<LogicalId>")} for every role."""
        return {
            self.attribute(stack, logical_id, "Arn"): (stack.owner, "%s#%s" % (stack.path, logical_id))
            for stack in self.stacks.values()
            for logical_id, resource in stack.template.get("Resources", {}).items()
            if resource["Type"] == "AWS::IAM::Role"
        }

    def resource_arns(self, resource_type):
        """{ARN: owner namespace} of every resource of `resource_type` (one of ARN_FORMATS) in the templates."""
        return {
            self.attribute(stack, logical_id, "Arn"): stack.owner
            for stack in self.stacks.values()
            for logical_id, resource in stack.template.get("Resources", {}).items()
            if resource["Type"] == resource_type
        }

    def managed_policy_arns(self):
        """(where, ARN) of every managed policy a role attaches by ARN (not evaluable here)."""
        return [
            ("%s#%s" % (stack.path, logical_id), arn)
            for stack in self.stacks.values()
            for logical_id, resource in stack.template.get("Resources", {}).items()
            if resource["Type"] == "AWS::IAM::Role"
            for arn in self.resolve(stack, resource.get("Properties", {}).get("ManagedPolicyArns", []))
        ]
