"""Answers the local endpoint cannot give, for a child process under test: tasks and their targets
(a stacker child), and what a change set replaces (`tenantstack diff`, at the end of this module).

The local endpoint's ECS services run no tasks and register no targets, so it cannot say what
AWS says when a new task's /healthz answers 503 (the application cannot use its new database).
A test puts this directory on the child's PYTHONPATH and names the answer in
TENANTSTACK_TEST_TARGET_STATE (e.g. "unhealthy:Target.ResponseCodeMismatch:Health checks failed
with these codes: [503]"). Every botocore client of the process then answers, through
`before-call` (as botocore's Stubber does):

- ecs ListTasks of a service (RUNNING): one task of the service stack's task definition;
- ecs DescribeTasks: that task, RUNNING, with its ENI's private IP;
- elbv2 DescribeTargetHealth: that IP in the given state.

Everything else goes to the endpoint. Without the variable this module does nothing.
"""
import os

STATE_VARIABLE = "TENANTSTACK_TEST_TARGET_STATE"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/common-nonprod/0a1b2c3d4e5f"
ADDRESS = "10.0.1.7"


class _Http:
    status_code = 200
    headers = {}
    text = ""
    content = b""


def _service_task_definition(client, cluster, service):
    """The task definition the service stack asks for (what the gate expects)."""
    cfn = client._tenantstack_session.create_client("cloudformation", region_name=client.meta.region_name,
                                                     endpoint_url=client.meta.endpoint_url)
    stack = cfn.describe_stacks(StackName="%s-service" % service)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}["TaskDefinitionArn"]


def _params(context):
    return (context or {}).get("tenantstack_params") or {}


def _stash(params=None, context=None, **kwargs):
    """before-parameter-build: keep the call's own parameters for its before-call answer."""
    if context is not None:
        context["tenantstack_params"] = dict(params or {})


def _answers(client, state):
    status, reason, description = (state.split(":", 2) + ["", ""])[:3]

    def list_tasks(context=None, **kwargs):
        params = _params(context)
        if params.get("desiredStatus", "RUNNING") != "RUNNING":
            return None
        _SERVICE_OF_CLUSTER[params["cluster"]] = params["serviceName"]
        return _Http(), {"taskArns": [TASK_ARN]}

    def describe_tasks(context=None, **kwargs):
        params = _params(context)
        definition = _service_task_definition(client, params["cluster"], _SERVICE_OF_CLUSTER[params["cluster"]])
        return _Http(), {"tasks": [{
            "taskArn": TASK_ARN, "taskDefinitionArn": definition, "lastStatus": "RUNNING",
            "attachments": [{"type": "ElasticNetworkInterface",
                             "details": [{"name": "privateIPv4Address", "value": ADDRESS}]}],
        }], "failures": []}

    def describe_target_health(context=None, **kwargs):
        health = {"State": status}
        if reason:
            health.update(Reason=reason, Description=description)
        return _Http(), {"TargetHealthDescriptions": [{"Target": {"Id": ADDRESS, "Port": 80},
                                                       "TargetHealth": health}]}

    return {"ecs": {"ListTasks": list_tasks, "DescribeTasks": describe_tasks},
            "elastic-load-balancing-v2": {"DescribeTargetHealth": describe_target_health}}


_SERVICE_OF_CLUSTER = {}


def _install(state):
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        client = original(self, service_name, *args, **kwargs)
        client._tenantstack_session = self
        service_id = client.meta.service_model.service_id.hyphenize()
        for operation, answer in _answers(client, state).get(service_id, {}).items():
            client.meta.events.register("before-parameter-build.%s.%s" % (service_id, operation), _stash)
            client.meta.events.register("before-call.%s.%s" % (service_id, operation), answer)
        return client

    botocore.session.Session.create_client = create_client


if os.environ.get(STATE_VARIABLE):
    try:
        _install(os.environ[STATE_VARIABLE])
    except ImportError:  # a process without botocore: nothing to answer
        pass


# --- change sets: what AWS reports and the endpoint does not (tenantstack diff) ---------------
#
# The endpoint's change sets never say that a resource is replaced, nor why, and a change of
# parameters alone shows no resource change at all. TENANTSTACK_TEST_CHANGE_SETS names, as JSON
# {"<stack name>": [<a Changes entry as AWS gives it>, ...]}, entries every DescribeChangeSet of
# that stack answers in addition (an entry of the same LogicalResourceId replaces the endpoint's).

CHANGE_SETS_VARIABLE = "TENANTSTACK_TEST_CHANGE_SETS"


def _install_change_sets(answers):
    import botocore.session

    original = botocore.session.Session.create_client

    def add_changes(parsed=None, **kwargs):
        extra = answers.get((parsed or {}).get("StackName"), [])
        if extra and (parsed or {}).get("Status") == "CREATE_COMPLETE":
            ids = {change["ResourceChange"]["LogicalResourceId"] for change in extra}
            kept = [c for c in parsed.get("Changes") or [] if c["ResourceChange"]["LogicalResourceId"] not in ids]
            parsed["Changes"] = kept + extra

    def create_client(self, service_name, *args, **kwargs):
        client = original(self, service_name, *args, **kwargs)
        if client.meta.service_model.service_id.hyphenize() == "cloudformation":
            client.meta.events.register("after-call.cloudformation.DescribeChangeSet", add_changes)
        return client

    botocore.session.Session.create_client = create_client


if os.environ.get(CHANGE_SETS_VARIABLE):
    try:
        import json

        _install_change_sets(json.loads(os.environ[CHANGE_SETS_VARIABLE]))
    except ImportError:  # a process without botocore: nothing to answer
        pass
