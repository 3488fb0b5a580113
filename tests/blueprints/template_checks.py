"""Checks shared by the blueprint tests: rendered-template queries, tags, config contracts."""
import importlib
import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO_ROOT / "stacker").glob("*.yaml"))


def resources_of_type(template, resource_type):
    """{logical id: resource} of one CloudFormation type."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def properties(template, logical_id):
    return template["Resources"][logical_id]["Properties"]


def troposphere_class(resource_type):
    """The troposphere class of a type such as AWS::EC2::Subnet (module troposphere.ec2)."""
    _, service, _ = resource_type.split("::")
    module = importlib.import_module("troposphere.%s" % service.lower())
    for candidate in vars(module).values():
        if getattr(candidate, "resource_type", None) == resource_type:
            return candidate
    raise LookupError("no troposphere class for %s" % resource_type)


def tag_problems(template, expected_tags):
    """(problems, untagged types): taggable resources whose tags differ from expected_tags.

    A resource is taggable when its troposphere class has a Tags property; the types
    without one are returned so a test can pin them.
    """
    problems, untagged = [], set()
    for logical_id, resource in sorted(template["Resources"].items()):
        if "Tags" not in troposphere_class(resource["Type"]).props:
            untagged.add(resource["Type"])
            continue
        tags = resource.get("Properties", {}).get("Tags")
        if isinstance(tags, list):
            tags = {tag["Key"]: tag["Value"] for tag in tags}
        if tags != expected_tags:
            problems.append("%s (%s): tags %r" % (logical_id, resource["Type"], tags))
    return problems, untagged


def consumed_outputs(config_stack):
    """Output names the stacker configs read from a shared stack (`${output vpc::X}`, `${xref ...-vpc::X}`)."""
    pattern = re.compile(r"[\s-]%s::(\w+)" % re.escape(config_stack))
    return {name for config in CONFIGS for name in pattern.findall(config.read_text())}


def config_variables(class_path):
    """The variable names every config stack using class_path passes (a list of sets)."""
    found = []
    for config in CONFIGS:
        for stack in yaml.safe_load(config.read_text()).get("stacks", []):
            if stack.get("class_path") == class_path:
                found.append(set(stack.get("variables", {})))
    return found
