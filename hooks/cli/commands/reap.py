"""`tenantstack reap NAMESPACE [--apply]`: retire a tenant's orphaned databases, prune what piles up."""
from dataclasses import replace
from pathlib import Path

from hooks import aws, errors
from hooks.aws import file_copy
from hooks.cli import options, output
from hooks.config import envfile, hookargs
from hooks.ops import reap as reaping
from hooks.steps import retention, retire, source_retention, task_definitions
from hooks.tenant import status as tenant_status

EPILOG = """\
Without --apply nothing changes: it lists every database, what reap would do with it
and why (the pipeline's own retirement plan). Retired are databases that are neither
active, in flight (the target of a deploy holding the lock), referenced by the service's
task definitions, nor among the retain_previous most recently active ones.

--apply takes the namespace's deploy lock (exit 3 while a deploy holds it), plans again,
and for each database: a final snapshot <namespace>-db-<timestamp>-final-<now>, waited
for until available, then the instance, then its stack. Pointer, service and lock are
re-checked right before each deletion. Progress goes to stderr.

Final snapshots are then pruned by the retention rule of the env file (keep_final_snapshots,
default 3 newest; keep_final_snapshot_days, default 30: younger ones stay; one a restore copy
was made from, or not available, or not the pipeline's, always stays). The files of a retired
timestamp, <namespace>/files/<timestamp>/, go with its last final snapshot, first (a failure to
delete them keeps that snapshot). The dry run lists each with its verdict. The namespace's own
snapshots <namespace>-<ts> (what `tenantstack snapshot` takes in dev) go by the same kind of rule
(keep_source_snapshots, default 5 newest; keep_source_snapshot_days, default 14), and never one
that an environment runs, retains or will deploy: every env file of the env file's directory and
the project's pointers, databases and deploy locks are read first. Replaced task definition
revisions beyond keep_task_definitions (default 5 newest) are deregistered; one the service runs
never is. The dry run lists them when some would go.

examples:
  tenantstack reap xy-0146-qa
  tenantstack reap xy-0146-qa --apply
"""

HEADERS = ("TIMESTAMP", "ROLE", "REAP", "WHY")
RETENTION_HEADERS = ("FINAL SNAPSHOT", "RETENTION", "WHY")
TASK_DEFINITION_HEADERS = ("TASK DEFINITION", "REAP", "WHY")
SOURCES = ("source snapshot", ("SOURCE SNAPSHOT", "RETENTION", "WHY"))


def register(commands):
    parser = options.add_command(
        commands,
        "reap",
        help="list (or with --apply retire) databases a tenant no longer needs",
        description="Show what would be retired from NAMESPACE and why; --apply retires it "
        "(final snapshot first, under the deploy lock).",
        epilog=EPILOG,
    )
    options.add_namespace(parser)
    parser.add_argument("--apply", action="store_true", help="retire them (default: dry run, nothing changes)")
    options.add_environments(parser, env_file=True)
    parser.set_defaults(run=run)


def run(args):
    path, values = envfile.load_tenant(args.namespace, args.env_file, args.environments)
    namespace = values["namespace"]
    wait = replace(retire.DEFAULT_WAIT, poll_seconds=hookargs.poll_seconds(retire.DEFAULT_WAIT.poll_seconds))
    clients = tenant_status.Clients.from_environment()
    databases = tenant_status.read_databases(clients, namespace, values["shared_namespace"], values["retain_previous"])
    doomed = [role for role in databases.roles if role.action == retire.RETIRE]
    rows = [(role.timestamp, role.role, role.action, role.reason) for role in databases.roles]
    if not args.apply:
        print("%s: %s (dry run: nothing was changed; --apply retires them)"
              % (namespace, _count(doomed, "would retire")))
        if rows:
            print("\n".join("  " + line for line in output.table(HEADERS, rows)))
        _print_retention(namespace, _prune(clients, values, apply=False), dry_run=True)
        _print_retention(namespace, _prune_sources(clients, values, path, apply=False), True, *SOURCES)
        _print_task_definitions(namespace, _deregister(clients, values, apply=False), dry_run=True)
        return 0
    if doomed:
        with output.progress_logging():
            result = reaping.reap(
                clients, namespace, values["shared_namespace"], values["retain_previous"], databases.active,
                values["stable_timeout"], wait,
            )
        print("%s: retired %d database(s)" % (namespace, len(result["retired"])))
        for done in result["retired"]:
            print("  %s: final snapshot %s; %s" % (done["timestamp"], done["final_snapshot"] or "none", _deleted(done)))
        for decision in result["kept"]:
            print("  %s: kept (%s)" % (decision.timestamp, decision.reason))
    with output.progress_logging():
        pruned = _prune(clients, values, apply=True)
        sources = _prune_sources(clients, values, path, apply=True)
        revisions = _deregister(clients, values, apply=True)
    results = (pruned, sources, revisions)
    if not doomed and not any(result[key] for result in results for key in ("deleted", "failed")):
        print("%s: nothing to retire; nothing was changed" % namespace)
        return 0
    _print_retention(namespace, pruned, dry_run=False)
    _print_retention(namespace, sources, False, *SOURCES)
    _print_task_definitions(namespace, revisions, dry_run=False)
    failures = ["%s %s (%s)" % ((what,) + failed) for what, result in zip(
        ("final snapshot", "source snapshot", "task definition"), results) for failed in result["failed"]]
    if failures:
        raise errors.DeployFailed("reap could not clean up %s: %s; run reap --apply again"
                                  % (namespace, "; ".join(failures)))
    return 0


def _prune(clients, values, apply):
    return retention.prune_namespace(
        clients.rds, clients.tagging, clients.cfn, clients.ssm, aws.client("s3"), values["namespace"],
        values["shared_namespace"], values["keep_final_snapshots"], values["keep_final_snapshot_days"], apply=apply)


def _deregister(clients, values, apply):
    result = task_definitions.deregister_replaced(clients.ecs, values["namespace"], values["shared_namespace"],
                                                  values["keep_task_definitions"], apply=apply)
    return dict(result, deleted=result["deregistered"])


def _print_task_definitions(namespace, revisions, dry_run):
    """The ACTIVE task definition revisions and their verdicts (the dry run), or what was deregistered."""
    if dry_run:
        doomed = [arn for arn, action, _ in revisions["verdicts"] if action == retention.DELETE]
        if doomed:
            print("%s: task definitions: %d active, reap would deregister %d"
                  % (namespace, len(revisions["verdicts"]), len(doomed)))
            rows = [(arn.rsplit("/", 1)[-1], action, reason) for arn, action, reason in revisions["verdicts"]]
            print("\n".join("  " + line for line in output.table(TASK_DEFINITION_HEADERS, rows)))
        return
    if revisions["deregistered"]:
        print("%s: deregistered %d replaced task definition(s)" % (namespace, len(revisions["deregistered"])))
        for arn in revisions["deregistered"]:
            print("  %s: deregistered" % arn.rsplit("/", 1)[-1])


def _prune_sources(clients, values, path, apply):
    try:  # as retention.prune_namespace: where the captured files are unknown, nothing is pruned
        files = (aws.client("s3"), file_copy.files_bucket(clients.cfn, values["shared_namespace"]))
    except errors.BadInput as error:
        return {"deleted": [], "kept": [], "failed": [("files", str(error))], "verdicts": [], "files": {}}
    return source_retention.prune(clients.rds, clients.tagging, clients.ssm, values["namespace"],
                                  values["keep_source_snapshots"], values["keep_source_snapshot_days"],
                                  Path(path).parent, apply=apply, files=files)


def _print_retention(namespace, pruned, dry_run, what="final snapshot", headers=RETENTION_HEADERS):
    """The snapshots and what retention does with each (the dry run), or what it deleted and kept."""
    if dry_run:
        if not pruned["verdicts"]:
            return
        doomed = [v for v in pruned["verdicts"] if v.action == retention.DELETE]
        print("%s: %ss: %d, retention would delete %d" % (namespace, what, len(pruned["verdicts"]), len(doomed)))
        rows = [(v.snapshot.snapshot_id, v.action, v.reason) for v in pruned["verdicts"]]
        print("\n".join("  " + line for line in output.table(headers, rows)))
        for timestamp, prefix in sorted(pruned.get("files", {}).items()):
            print("  files %s: would be deleted with the last final snapshot of %s" % (prefix, timestamp))
        return
    if pruned["deleted"]:
        print("%s: deleted %d %s(s) by retention" % (namespace, len(pruned["deleted"]), what))
        for snapshot_id in pruned["deleted"]:
            print("  %s: deleted" % snapshot_id)
        for verdict in pruned["kept"]:
            print("  %s: kept (%s)" % (verdict.snapshot.snapshot_id, verdict.reason))
    for timestamp, prefix in sorted(pruned.get("files", {}).items()):
        print("  files %s: deleted with the last final snapshot of %s" % (prefix, timestamp))


def _count(roles, verb):
    if not roles:
        return "nothing to retire"
    return "%s %d database(s): %s" % (verb, len(roles), ", ".join(role.timestamp for role in roles))


def _deleted(done):
    parts = [what for what, flag in (("instance", done["deleted_instance"]), ("stack", done["deleted_stack"])) if flag]
    if done.get("deleted_copy"):
        parts.append("restore copy %s" % done["deleted_copy"])
    return "deleted %s" % ", ".join(parts) if parts else "nothing left to delete"
