"""`tenantstack history NAMESPACE [--json]`: the active pointer's audit trail."""
from hooks import aws, naming
from hooks.cli import options, output
from hooks.tenant import audit_trail, inventory

EPILOG = """\
Each row is one version of SSM /<namespace>/db/active: when it was written, the
timestamp it moved from and to, and who wrote it (the deploy's CodeBuild build id or
user@host:pid). Oldest first. A deploy that asked for db_timestamp latest shows
"<timestamp> (latest)": the timestamp latest stood for, which a re-run can name.

examples:
  tenantstack history xy-0146-prod
  tenantstack history xy-0146-prod --json | jq '.flips[-1]'
"""


def register(commands):
    parser = options.add_command(
        commands,
        "history",
        help="show when the active database changed, from what to what, by which build",
        description="Print the audit trail of NAMESPACE's active-database pointer (read-only).",
        epilog=EPILOG,
    )
    options.add_namespace(parser)
    options.add_json(parser)
    parser.set_defaults(run=run)


def flip_json(flip):
    return {
        "version": flip.version,
        "at": output.iso_time(flip.at),
        "from": flip.from_timestamp,
        "to": flip.to_timestamp,
        "by": flip.by,
        "description": flip.description,
        "requested": flip.requested,
    }


def flip_rows(flips):
    return [
        (flip.version, output.iso_time(flip.at), flip.from_timestamp, to_cell(flip), flip.by) for flip in flips
    ]


def to_cell(flip):
    """The TO column: the timestamp, and what the deploy asked for when it was not that timestamp."""
    return "%s (%s)" % (flip.to_timestamp, flip.requested) if flip.requested else flip.to_timestamp


FLIP_HEADERS = ("VERSION", "WHEN (UTC)", "FROM", "TO", "BY")


def run(args):
    namespace = naming.parse_namespace(args.namespace).name
    flips = audit_trail.flips(inventory.pointer_history(aws.client("ssm"), namespace))
    if args.json:
        print(output.json_document({"namespace": namespace, "flips": [flip_json(flip) for flip in flips]}), end="")
    elif not flips:
        pointer = naming.ssm_active_parameter(namespace)
        print("%s: the pointer %s was never set (no deploy has finished)" % (namespace, pointer))
    else:
        print("\n".join(output.table(FLIP_HEADERS, flip_rows(flips))))
    return 0
