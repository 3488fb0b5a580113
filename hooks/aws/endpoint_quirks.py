"""The one switch for the local endpoint's gaps.

The rendered templates, cfn-lint and checkov see what AWS gets, and the hooks judge
AWS's answers as AWS gives them. When (and only when) stacker runs against the local
endpoint (the moto server), `TENANTSTACK_LOCAL_ENDPOINT=moto` is set in its environment
by scripts/local_endpoint.client_env. Then:

- QUIRKS: each entry rewrites a template just enough for the endpoint to accept it;
- BEHAVIOURS: each entry names an AWS behaviour the endpoint lacks, which the code
  that depends on it asks about with `tolerates(name)`.

Every entry names the gap it works around. The renderer refuses to run with the switch on.
"""
import hashlib
import json
import os
import re

SWITCH = "TENANTSTACK_LOCAL_ENDPOINT"
SWITCH_VALUE = "moto"


def _ssm_parameter_tags_as_list(template, parameters=None):
    for resource in template.get("Resources", {}).values():
        tags = resource.get("Properties", {}).get("Tags")
        if resource.get("Type") == "AWS::SSM::Parameter" and isinstance(tags, dict):
            resource["Properties"]["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]


def _rename_logical_id(template, old, new):
    """Rename a resource and every Ref, GetAtt and DependsOn that names it."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("Ref") == old:
                return {"Ref": new}
            if isinstance(node.get("Fn::GetAtt"), list) and node["Fn::GetAtt"][0] == old:
                return {"Fn::GetAtt": [new] + node["Fn::GetAtt"][1:]}
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    resources = template["Resources"]
    resources[new] = resources.pop(old)
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if depends == old:
            resource["DependsOn"] = new
        elif isinstance(depends, list):
            resource["DependsOn"] = [new if item == old else item for item in depends]
    for section in ("Resources", "Outputs"):
        if section in template:
            template[section] = walk(template[section])


def _referenced_parameters(node, names):
    """The names among `names` that `node` refers to: {"Ref": name}, or ${name} in an Fn::Sub string."""
    found = set()
    if isinstance(node, dict):
        if node.get("Ref") in names:
            found.add(node["Ref"])
        for key, value in node.items():
            if key == "Fn::Sub":
                text = value[0] if isinstance(value, list) and value else value
                if isinstance(text, str):
                    found |= {name for name in re.findall(r"\$\{([^}.!]+)[^}]*\}", text) if name in names}
            found |= _referenced_parameters(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _referenced_parameters(item, names)
    return found


def _task_definitions_created_not_updated(template, parameters=None):
    """A digest of each task definition, and of the parameter values it refers to (CPU, memory,
    images, the database endpoint: what a change of only the env file brings), in its logical id."""
    parameters = parameters or {}
    for logical_id, resource in list(template.get("Resources", {}).items()):
        if resource.get("Type") == "AWS::ECS::TaskDefinition":
            values = {name: parameters.get(name) for name in _referenced_parameters(resource, set(parameters))}
            content = json.dumps([resource, values], sort_keys=True, default=str)
            digest = hashlib.sha256(content.encode()).hexdigest()[:12]
            _rename_logical_id(template, logical_id, "%s%s" % (logical_id, digest))


def _kms_key_tags_in_api_shape(template, parameters=None):
    for resource in template.get("Resources", {}).values():
        tags = resource.get("Properties", {}).get("Tags")
        if resource.get("Type") == "AWS::KMS::Key" and isinstance(tags, list):
            resource["Properties"]["Tags"] = [dict(t, TagKey=t["Key"], TagValue=t["Value"]) for t in tags]


def _db_instances_keep_the_default_parameter_group(template, parameters=None):
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::RDS::DBInstance":
            resource.get("Properties", {}).pop("DBParameterGroupName", None)


QUIRKS = {
    "ssm-parameter-tags-as-list": (
        "moto 5.2's CloudFormation reads AWS::SSM::Parameter Tags as a Key/Value list and fails "
        "with a server error on the map the AWS schema defines",
        _ssm_parameter_tags_as_list,
    ),
    "ecs-task-definition-created-not-updated": (
        "moto 5.2's CloudFormation update of an AWS::ECS::TaskDefinition registers a revision "
        "without its containers (the update path skips the PascalCase to camelCase mapping the "
        "create path does) and leaves the service on the old one; locally each task definition's "
        "logical id carries a digest of its properties and of the values of the parameters they "
        "refer to, so every change to either (a new database, a new image, task CPU or memory) is "
        "a create and the service's reference changes with it",
        _task_definitions_created_not_updated,
    ),
    "kms-key-tags-in-api-shape": (
        "moto 5.2's CloudFormation hands an AWS::KMS::Key's Tags (Key/Value, the template schema) to its "
        "KMS backend, which expects the API's TagKey/TagValue and fails with a server error; locally each "
        "tag carries both shapes",
        _kms_key_tags_in_api_shape,
    ),
    "rds-instance-default-parameter-group": (
        "moto 5.2's CloudFormation ignores the DBParameterGroupName of an AWS::RDS::DBParameterGroup "
        "(it makes up a name) and a Ref to the group yields the object's repr, so a DBInstance naming the "
        "tier's group fails with DBParameterGroupNotFound; locally the instance keeps the engine's default "
        "group (the endpoint enforces no parameter, TLS included), AWS gets the tier's group",
        _db_instances_keep_the_default_parameter_group,
    ),
}


BEHAVIOURS = {
    "cfn-failed-create-stays-in-progress": (
        "moto 5.2 leaves a stack whose creation failed in CREATE_IN_PROGRESS for good (AWS rolls it "
        "back and ends in ROLLBACK_COMPLETE); the leftover check treats such a stack as failed "
        "instead of waiting for CloudFormation to finish it"
    ),
    "cfn-service-follows-task-definition": (
        "moto 5.2's CloudFormation does not update an ECS service whose only change is a new "
        "task definition (AWS rolls the service onto it); the stable gate first points the "
        "service at the stack's task definition, as CloudFormation does on AWS"
    ),
    "ecs-deployment-per-task-definition": (
        "moto 5.2 keeps a service's first deployment when CloudFormation gives the service a new "
        "task definition (AWS starts a new PRIMARY deployment on it); the stable gate then accepts "
        "the service's own taskDefinition in place of the PRIMARY deployment's, and the inventory "
        "counts only the service's own task definition as live"
    ),
    "elbv2-cloudformation-tags-dropped": (
        "moto 5.2's CloudFormation creates listener rules and target groups without their Tags (AWS keeps "
        "the template's Namespace tag and adds aws:cloudformation:stack-name); the routing check then names "
        "the tenant holding a rule from its target group's name, <stack>-<suffix>, which the endpoint "
        "derives from the stack name"
    ),
    "cloudwatch-query-protocol-only": (
        "moto 5.2 answers CloudWatch only in the query protocol, while botocore 1.37 and later speak "
        "CloudWatch's JSON protocol (the stacker venv's botocore does); against the local endpoint the "
        "clients of hooks/aws/clients.py load CloudWatch's model with the query protocol (AWS serves both)"
    ),
    "ecs-services-run-no-tasks": (
        "moto 5.2's ECS services start no tasks (MOTO_ECS_SERVICE_RUNNING only fakes their count) and "
        "register nothing in their target groups, so no target's health can be read; when a service has "
        "no task at all, the stable gate judges by the service alone and says so (its target-health rule "
        "is tested with Stubber, and end to end with canned task and target answers)"
    ),
    "cfn-cloudwatch-alarms-not-created": (
        "moto 5.2's CloudFormation does not implement AWS::CloudWatch::Alarm (it skips the resource with a "
        "warning), so a stack's alarms never exist; the stable gate's hook then creates the service and "
        "database stacks' alarms the deployed templates define, with PutMetricAlarm, when they are missing "
        "(put_stack_alarms: a state a test set is kept), and the retirement deletes a database's alarms with "
        "its stack, as CloudFormation would (delete_alarms)"
    ),
}


def query_protocol_only(loader):
    """Make the CloudWatch clients of a botocore data `loader` speak the query protocol (behaviour
    "cloudwatch-query-protocol-only"; called only when the switch is on). Clients read their model
    from the loader's cache, not through any event, so the cached model itself is changed."""
    metadata = loader.load_service_model("cloudwatch", "service-2")["metadata"]
    if "query" in metadata.get("protocols", ()) or metadata.get("protocol") == "query":
        metadata["protocols"] = ["query"]
        metadata["protocol"] = "query"


def tolerates(behaviour, environ=None):
    """True when the endpoint is known to lack `behaviour` (a BEHAVIOURS key) and the switch is on."""
    if behaviour not in BEHAVIOURS:
        raise KeyError("unknown endpoint behaviour %r (known: %s)" % (behaviour, ", ".join(sorted(BEHAVIOURS))))
    return enabled(environ)


def enabled(environ=None):
    return (environ if environ is not None else os.environ).get(SWITCH) == SWITCH_VALUE


def adapt(rendered, environ=None, parameters=None):
    """The rendered template (JSON text) as the local endpoint needs it; unchanged when off.

    `parameters`: {name: value} the stack is deployed with (the blueprint's CFNType variables)."""
    if not enabled(environ):
        return rendered
    template = json.loads(rendered)
    for _, rewrite in QUIRKS.values():
        rewrite(template, parameters or {})
    return json.dumps(template, sort_keys=True, indent=2)


# --- cfn-cloudwatch-alarms-not-created ----------------------------------------------------------

ALARM_API_FIELDS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm",
    "Threshold", "ComparisonOperator", "TreatMissingData", "Metrics", "Tags",
)


def put_stack_alarms(cfn, cloudwatch, stack):
    """Create the alarms of a deployed stack's template that do not exist yet; the names created.

    `stack`: its DescribeStacks entry (hooks.aws.resources.describe_stack), None when it is not built
    (a test's partial tenant: nothing to create). Resolves what the templates' alarms use: Ref to a
    parameter or a resource, and GetAtt TargetGroupFullName (the part of a target group's ARN after
    'loadbalancer:' ... ':'), nothing else (a ValueError names it)."""
    if stack is None:
        return []
    stack_name = stack["StackName"]
    template = cfn.get_template(StackName=stack_name)["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    values = {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue")) for p in stack.get("Parameters", [])}
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    values.update({r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources if "LogicalResourceId" in r})
    wanted = [resolve_local(resource["Properties"], values) for resource in template.get("Resources", {}).values()
              if resource.get("Type") == "AWS::CloudWatch::Alarm"]
    if not wanted:
        return []
    existing = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms(
        AlarmNames=[alarm["AlarmName"] for alarm in wanted])["MetricAlarms"]}
    created = []
    for alarm in wanted:
        if alarm["AlarmName"] not in existing:
            cloudwatch.put_metric_alarm(**{key: value for key, value in alarm.items() if key in ALARM_API_FIELDS})
            created.append(alarm["AlarmName"])
    return created


def delete_alarms(cloudwatch, name_prefix):
    """Delete every alarm whose name starts with `name_prefix` (a retired database's: <instance id>-);
    the names deleted."""
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=name_prefix)
    names = sorted(alarm["AlarmName"] for page in pages for alarm in page.get("MetricAlarms", []))
    if names:
        cloudwatch.delete_alarms(AlarmNames=names)
    return names


def resolve_local(node, values):
    """A template fragment with Ref and GetAtt TargetGroupFullName replaced from `values` (logical id or
    parameter name to its value)."""
    if isinstance(node, list):
        return [resolve_local(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return values[node["Ref"]]
    if set(node) == {"Fn::GetAtt"}:
        logical_id, attribute = node["Fn::GetAtt"]
        if attribute != "TargetGroupFullName":
            raise ValueError("put_stack_alarms resolves GetAtt TargetGroupFullName only, not %s.%s" % (
                logical_id, attribute))
        return values[logical_id].split(":", 5)[5]
    if any(key.startswith("Fn::") for key in node):
        raise ValueError("put_stack_alarms cannot resolve %s" % sorted(node))
    return {key: resolve_local(value, values) for key, value in node.items()}
