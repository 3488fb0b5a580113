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
import os

SWITCH = "TENANTSTACK_LOCAL_ENDPOINT"
SWITCH_VALUE = "moto"


def _ssm_parameter_tags_as_list(template):
    for resource in template.resources.values():
        if resource.resource_type == "AWS::SSM::Parameter" and isinstance(resource.properties.get("Tags"), dict):
            tags = resource.properties["Tags"]
            # Bypass troposphere's type check (a map, per the AWS schema) on purpose.
            resource.properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]


QUIRKS = {
    "ssm-parameter-tags-as-list": (
        "moto 5.2's CloudFormation reads AWS::SSM::Parameter Tags as a Key/Value list and fails "
        "with a server error on the map the AWS schema defines",
        _ssm_parameter_tags_as_list,
    ),
}


BEHAVIOURS = {
    "ecs-deployment-per-task-definition": (
        "moto 5.2 keeps a service's first deployment when CloudFormation gives the service a new "
        "task definition (AWS starts a new PRIMARY deployment on it); the stable gate then accepts "
        "the service's own taskDefinition in place of the PRIMARY deployment's"
    ),
}


def tolerates(behaviour, environ=None):
    """True when the endpoint is known to lack `behaviour` (a BEHAVIOURS key) and the switch is on."""
    if behaviour not in BEHAVIOURS:
        raise KeyError("unknown endpoint behaviour %r (known: %s)" % (behaviour, ", ".join(sorted(BEHAVIOURS))))
    return enabled(environ)


def enabled(environ=None):
    return (environ if environ is not None else os.environ).get(SWITCH) == SWITCH_VALUE


def apply(template, environ=None):
    """Apply every quirk when the switch is on; return the names applied."""
    if not enabled(environ):
        return []
    for _, rewrite in QUIRKS.values():
        rewrite(template)
    return sorted(QUIRKS)
