"""How `tenantstack diff` and `status --drift` show a preview and drift: text and JSON (docs/operations.md).

Text for people (a table per stack, the promotion steps, a verdict); JSON with the keys
documented in docs/operations.md, "JSON output" (only ever added; schema_version changes
when one is removed or changes meaning).
"""
from hooks.cli import output
from hooks.ops import preview_fleet
from hooks.ops.preview import NEW

CHANGE_HEADERS = ("ACTION", "TYPE", "LOGICAL ID", "REPLACEMENT", "CAUSE", "")
FLEET_HEADERS = ("NAMESPACE", "RESULT", "EXIT", "SECONDS", "SUMMARY")
SUMMARY_WIDTH = 140


def address(preview, stack, change):
    """NAMESPACE/STACK/LOGICAL_ID: how --allow-replace and Allow-Replace name a change."""
    return "%s/%s/%s" % (preview.namespace, stack.name, change.logical_id)


# --- JSON ------------------------------------------------------------------------------------


def change_json(change):
    return {
        "logical_id": change.logical_id,
        "resource_type": change.resource_type,
        "action": change.action,
        "replacement": change.replacement,
        "causes": [{"target": c.target, "recreation": c.recreation, "source": c.source, "entity": c.entity}
                   for c in change.causes],
        "physical_id": change.physical_id,
        "guarded": change.guard,
        "flagged": change.flagged,
        "allowed": change.allowed,
    }


def stack_json(stack):
    return {
        "name": stack.name,
        "stack_name": stack.stack_name,
        "live_status": stack.live_status,
        "result": stack.result,
        "drift": stack.drift,
        "note": stack.note,
        "unknowns": [{"parameter": u.parameter, "reference": u.reference, "reason": u.reason,
                      "previewed_with": u.previewed_with} for u in stack.unknowns],
        "changes": [change_json(change) for change in stack.changes],
    }


def tenant_json(preview, fail_on_replace=False):
    return {
        "namespace": preview.namespace,
        "env_file": preview.env_file,
        "db_timestamp": preview.db_timestamp,
        "result": preview.result,
        "exit_code": preview_fleet.tenant_exit_code(preview, fail_on_replace),
        "new_tenant": preview.new_tenant,
        "error": preview.error,
        "error_class": preview.error_class,
        "seconds": round(preview.seconds, 1),
        "stacks": [stack_json(stack) for stack in preview.stacks],
        "steps": [dict(step.data, step=step.step, text=step.text, changes=step.changes) for step in preview.steps],
        "flagged": [address(preview, stack, change) for stack, change in preview.flagged],
        "refused": [address(preview, stack, change) for stack, change in preview.refused],
    }


def skipped_json(prepared):
    return {"namespace": prepared.namespace, "env_file": prepared.env_file, "db_timestamp": prepared.db_timestamp,
            "result": preview_fleet.SKIPPED, "exit_code": None, "new_tenant": False,
            "error": "not started: the fleet was interrupted", "error_class": None, "seconds": 0.0, "stacks": [],
            "steps": [], "flagged": [], "refused": []}


def fleet_json(summary, fail_on_replace, allowances, unused):
    tenants = [tenant_json(preview, fail_on_replace) if preview else skipped_json(prepared)
               for prepared, preview in zip(summary.prepared, summary.previews)]
    codes = [tenant["exit_code"] for tenant in tenants if tenant["exit_code"] is not None]
    return {
        "command": "diff --fleet",
        "exit_code": preview_fleet.fleet_exit_code(codes, summary.interrupted),
        "interrupted": summary.interrupted,
        "parallel": summary.parallel,
        "max_api_rate": summary.max_api_rate,
        "fail_on_replace": fail_on_replace,
        "allow_replace": ["/".join(allowance) for allowance in allowances],
        "unused_allowances": ["/".join(allowance) for allowance in unused],
        "started_at": output.iso_time(summary.started_at),
        "seconds": round(summary.seconds, 1),
        "counts": summary.counts(),
        "tenants": tenants,
    }


# --- text ------------------------------------------------------------------------------------


def change_row(preview, stack, change):
    replacement = change.replacement or ("-" if stack.result == NEW else "not reported")
    cause = ", ".join("%s (%s)" % (c.target, c.recreation) for c in change.causes)
    flag = ""
    if change.flagged:
        flag = "ALLOWED" if change.allowed else "FLAGGED: %s" % change.guard
    return (change.action, change.resource_type, change.logical_id, replacement, cause or None, flag)


def stack_lines(preview, stack):
    headline = "  %-8s %s: %s" % (stack.name, stack.stack_name, stack.result)
    if stack.result == NEW:
        headline += " (%d resource(s) to add; no change set: the stack does not exist)" % len(stack.changes)
    if stack.drifted:
        headline += "; DRIFTED since its last deploy: the change set compares against the template, not the " \
                    "resources (tenantstack status --drift shows what drifted)"
    lines = [headline]
    if stack.note:
        lines.append("    %s" % stack.note)
    if stack.changes:
        rows = [change_row(preview, stack, change) for change in stack.changes]
        lines += ["    " + line for line in output.table(CHANGE_HEADERS, rows)]
    for unknown in stack.unknowns:
        lines.append("    %s is not known before the deploy (%s): previewed with %s"
                     % (unknown.parameter, unknown.reason, unknown.previewed_with))
    return lines


def verdict(preview):
    if preview.error:
        return "verdict: no preview: %s" % preview.error
    if preview.new_tenant:
        return "verdict: a new tenant: nothing of it is live; the deploy creates every stack"
    if not preview.flagged:
        return "verdict: no guarded resource is replaced or removed"
    names = ["%s%s" % (address(preview, stack, change), " (allowed)" if change.allowed else "")
             for stack, change in preview.flagged]
    return "verdict: %d guarded resource(s) replaced or removed: %s" % (len(names), ", ".join(names))


def tenant_lines(preview):
    lines = ["%s: %s (db_timestamp %s, from %s)" % (preview.namespace, preview.result, preview.db_timestamp,
                                                     preview.env_file)]
    for stack in preview.stacks:
        lines += stack_lines(preview, stack)
    if preview.steps:
        lines.append("  steps:")
        lines += ["    %-8s %s" % (step.step, step.text) for step in preview.steps]
    return lines + ["  " + verdict(preview)]


def gist(preview):
    """One line: what the deploy would do."""
    if preview.error:
        return preview.error
    parts = []
    for stack in preview.stacks:
        if stack.result == NEW:
            parts.append("%s: new" % stack.name)
        elif stack.changes:
            counted = {}
            for change in stack.changes:
                counted[change.action] = counted.get(change.action, 0) + 1
            parts.append("%s: %s" % (stack.name, ", ".join("%d %s" % (n, a) for a, n in sorted(counted.items()))))
    parts += [step.text for step in preview.steps if step.changes and step.step in ("flip",)]
    retired = sum(1 for step in preview.steps if step.step == "retire")
    if retired:
        parts.append("retire %d" % retired)
    if preview.flagged:
        parts.append("FLAGGED " + ", ".join(address(preview, s, c) + (" (allowed)" if c.allowed else "")
                                           for s, c in preview.flagged))
    return "; ".join(parts) or "nothing to do"


def fleet_lines(summary, fail_on_replace):
    rows = []
    for prepared, preview in zip(summary.prepared, summary.previews):
        if preview is None:
            rows.append((prepared.namespace, preview_fleet.SKIPPED, None, None, "not started"))
            continue
        rows.append((preview.namespace, preview.result, preview_fleet.tenant_exit_code(preview, fail_on_replace),
                     "%.1f" % preview.seconds, _shorten(gist(preview))))
    counts = ", ".join("%d %s" % (n, result) for result, n in summary.counts().items() if n)
    return output.table(FLEET_HEADERS, rows) + ["", "%d tenant(s): %s" % (len(summary.prepared), counts or "none")]


def _shorten(text, width=SUMMARY_WIDTH):
    return text if len(text) <= width else text[:width - 3] + "..."


# --- drift (status --drift) -----------------------------------------------------------------


def drift_json(drifts):
    if drifts is None:
        return None
    return [{"stack_name": d.stack_name, "status": d.status, "detection": d.detection, "reason": d.reason,
             "error": d.error, "resources": [{"logical_id": r.logical_id, "resource_type": r.resource_type,
                                              "status": r.status, "differences": [dict(x) for x in r.differences]}
                                             for r in d.resources]} for d in drifts]


def drift_lines(drifts):
    if drifts is None:
        return []
    if not drifts:
        return ["drift: no stack to check"]
    lines = ["drift (CloudFormation drift detection, just run):"]
    for drift in drifts:
        state = drift.error and "detection failed: %s" % drift.error or drift.status
        lines.append("  %s: %s%s" % (drift.stack_name, state, " (%s)" % drift.reason if drift.reason else ""))
        for resource in drift.resources:
            paths = ", ".join(d["path"] for d in resource.differences)
            lines.append("    %s %s (%s)%s" % (resource.status, resource.logical_id, resource.resource_type,
                                               ": " + paths if paths else ""))
    return lines
