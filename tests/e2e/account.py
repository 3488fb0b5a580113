"""Everything a preview must leave alone, read from the local endpoint: a value two reads compare equal.

`account_state(aws)` before and after a `tenantstack diff` must be equal: every stack (status,
creation and last-update times, parameters, tags, outputs), every SSM parameter (value and
version), every database (status), every snapshot (status), every ECS service (task
definition, desired count), every listener rule (priority, conditions, actions), and no
change set anywhere.
"""
def change_sets(cfn):
    """Every change set the endpoint holds (it lists the account's, whatever StackName is given)."""
    names = []
    for stack in cfn.describe_stacks()["Stacks"]:
        for summary in cfn.list_change_sets(StackName=stack["StackName"])["Summaries"]:
            names.append((summary["StackName"], summary["ChangeSetName"], summary.get("Status")))
    return sorted(set(names))


def _stacks(cfn):
    return {stack["StackName"]: (stack["StackStatus"], stack.get("CreationTime"), stack.get("LastUpdatedTime"),
                                 sorted((p["ParameterKey"], p.get("ParameterValue")) for p in stack.get("Parameters", [])),
                                 sorted((t["Key"], t["Value"]) for t in stack.get("Tags", [])),
                                 sorted((o["OutputKey"], o["OutputValue"]) for o in stack.get("Outputs", [])))
            for stack in cfn.describe_stacks()["Stacks"]}


def _parameters(ssm):
    pages = ssm.get_paginator("describe_parameters").paginate()
    names = sorted(p["Name"] for page in pages for p in page["Parameters"])
    values = {}
    for name in names:
        parameter = ssm.get_parameter(Name=name)["Parameter"]
        values[name] = (parameter["Value"], parameter["Version"])
    return values


def _services(ecs):
    found = {}
    for cluster in ecs.list_clusters()["clusterArns"]:
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        for service in ecs.describe_services(cluster=cluster, services=arns)["services"] if arns else []:
            found[service["serviceName"]] = (service["status"], service["taskDefinition"], service["desiredCount"])
    return found


def _rules(elbv2):
    rules = {}
    for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
        for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
            for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                rules[rule["RuleArn"]] = (rule["Priority"], repr(rule.get("Conditions")), repr(rule.get("Actions")))
    return rules


def account_state(aws):
    cfn, ssm, rds = aws.client("cloudformation"), aws.client("ssm"), aws.client("rds")
    return {
        "stacks": _stacks(cfn),
        "change_sets": change_sets(cfn),
        "parameters": _parameters(ssm),
        "databases": {db["DBInstanceIdentifier"]: db["DBInstanceStatus"]
                      for db in rds.describe_db_instances()["DBInstances"]},
        "snapshots": {s["DBSnapshotIdentifier"]: s["Status"] for s in rds.describe_db_snapshots()["DBSnapshots"]},
        "services": _services(aws.client("ecs")),
        "rules": _rules(aws.client("elbv2")),
    }
