"""The promotion steps a deploy would take around its stacks, from the hooks' own planning functions.

Read-only: no lock is taken and nothing is written. Each step is planned by the function
its hook plans with, from live state, as the hook would see it:

    checks   hooks.steps.source_snapshot.describe_restore_source (the source snapshot is fit, or its
             database exists) and hooks.steps.routing.refuse_collisions (hostname and
             listener_priority free on the tier's listener): a refusal is the deploy's refusal,
             BadInput with the hook's own message
    restore  hooks.steps.tier_copy.restore_plan -> plan_copy: the database <ns>-db-<ts> restored
             from the tenant's copy <ns>-<ts> of <source>-<ts> (copied now, reused, or nothing to
             restore because the database exists)
    flip     /<ns>/db/active from the active timestamp to db_timestamp (or it stays)
    retire   hooks.steps.retire_plan.plan_retirement as the retirement after the flip plans: the
             planned timestamp active and in flight, the service on it; every database it
             retires gets its final snapshot <ns>-db-<ts>-final-<now> (naming.final_snapshot_id)

Layers: `restore_step`, `flip_step`, `retirement_steps` (pure); `plan_steps` (AWS, takes clients).
"""
from hooks import naming
from hooks.ops.preview import Step
from hooks.steps import retire_plan, routing, source_snapshot, tier_copy
from hooks.tenant import inventory

CHANGING_COPY = (tier_copy.COPY, tier_copy.WAIT)


def restore_step(namespace, timestamp, plan):
    """The restore step of a tier_copy.CopyPlan."""
    instance = naming.db_instance_id(namespace, timestamp)
    if plan.action == tier_copy.SKIP:
        text = "database %s exists: nothing is restored" % instance
    else:
        text = "new database %s restored from %s (%s: %s)" % (instance, plan.snapshot, plan.action, plan.reason)
    return Step("restore", text, plan.action != tier_copy.SKIP,
                {"database": instance, "snapshot": plan.snapshot, "action": plan.action, "reason": plan.reason})


def flip_step(namespace, active, timestamp):
    pointer = naming.ssm_active_parameter(namespace)
    if active == timestamp:
        return Step("flip", "pointer %s stays at %s" % (pointer, timestamp), False,
                    {"parameter": pointer, "from": active, "to": timestamp})
    return Step("flip", "pointer %s: %s -> %s" % (pointer, active or "nothing (first deploy)", timestamp), True,
                {"parameter": pointer, "from": active, "to": timestamp})


def retirement_steps(namespace, timestamps, history, timestamp, retain_previous, now):
    """One step per database the retirement after the flip to `timestamp` would keep or retire."""
    databases = [inventory.Database(ts, naming.db_instance_id(namespace, ts), naming.db_stack_name(namespace, ts),
                                    True, None, None) for ts in sorted(set(timestamps) | {timestamp})]
    recently_active = inventory.previously_active(list(history), timestamp)
    decisions = retire_plan.plan_retirement(databases, timestamp, {timestamp}, recently_active, retain_previous,
                                            {timestamp})
    steps = []
    for decision in decisions:
        instance = naming.db_instance_id(namespace, decision.timestamp)
        if decision.action == retire_plan.RETIRE:
            final = naming.final_snapshot_id(namespace, decision.timestamp, naming.format_timestamp(now))
            steps.append(Step("retire", "retire %s (%s): final snapshot %s, then the instance, its stack and its "
                                        "restore copy" % (instance, decision.reason, final), True,
                              {"timestamp": decision.timestamp, "database": instance, "reason": decision.reason,
                               "final_snapshot": final}))
        elif decision.timestamp != timestamp:
            steps.append(Step("keep", "keep %s (%s)" % (instance, decision.reason), False,
                              {"timestamp": decision.timestamp, "database": instance, "reason": decision.reason}))
    return steps


def plan_steps(clients, settings, now):
    """The steps of a deploy of `settings` (the env file's, overrides applied) against live state.

    clients: callable service name -> client (hooks.aws.Clients). BadInput: the deploy would refuse."""
    namespace, shared, timestamp = settings["namespace"], settings["shared_namespace"], settings["db_timestamp"]
    ssm, rds, cfn = clients("ssm"), clients("rds"), clients("cloudformation")
    source_snapshot.describe_restore_source(rds, ssm, namespace, settings["source_namespace"], timestamp)
    routing.refuse_collisions(cfn, clients("elbv2"), namespace, shared, settings["hostname"],
                              settings["listener_priority"])
    plan, _ = tier_copy.restore_plan(rds, cfn, ssm, namespace, settings["source_namespace"], shared, timestamp,
                                     settings["snapshot_copy"])
    databases = inventory.discover(ssm, clients("resourcegroupstaggingapi"), rds, cfn, namespace)
    active = inventory.active_timestamp(ssm, namespace)
    history = inventory.pointer_history(ssm, namespace)
    return [restore_step(namespace, timestamp, plan), flip_step(namespace, active, timestamp)] + retirement_steps(
        namespace, [database.timestamp for database in databases], history, timestamp, settings["retain_previous"],
        now)
