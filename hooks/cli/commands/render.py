"""`tenantstack render [--out DIR] [--check]`: the renderer behind `make templates`."""
from pathlib import Path

from hooks.cli import options
from hooks.config import project
from hooks.engine import render
from hooks.errors import BadInput

EPILOG = """\
Renders every stack of every env file of the project (<project>/environments) to
DIR/<namespace>/<stack>.json: sorted keys, no timestamps, offline (no AWS call).
Files no env file produces any more are removed. --check writes nothing and exits 1
when a file is stale, missing or extra (what `make test` checks).

The project is the directory holding stacker/tenant.yaml: --project-root, else
$TENANTSTACK_PROJECT_ROOT, else the nearest one from the current directory upward.

examples:
  tenantstack render
  tenantstack render --out /tmp/templates && diff -r templates /tmp/templates
  tenantstack render --check
"""


def register(commands):
    parser = options.add_command(
        commands,
        "render",
        help="render every env file's CloudFormation templates for review (make templates)",
        description="Render the CloudFormation templates of every env file, offline.",
        epilog=EPILOG,
    )
    parser.add_argument("--out", metavar="DIR", help="directory to write into (default: <project>/templates)")
    parser.add_argument("--check", action="store_true", help="only list stale files; exit 1 if there are any")
    options.add_project_root(parser)
    parser.set_defaults(run=run)


def run(args):
    root = project.find_root(given=args.project_root)
    out = Path(args.out) if args.out else project.templates_dir(root)
    try:
        if args.check:
            return _check(out, root)
        written = render.write_all(out, root)
    except BadInput as error:
        raise BadInput("%s\nNothing was written." % error) from None
    print("rendered %d templates into %s" % (len(written), out))
    return 0


def _check(out, root):
    stale = render.stale_files(out, root)
    if not stale:
        print("%s is up to date" % out)
        return 0
    print("stale rendered templates (run `tenantstack render --out %s`):" % out)
    for path in stale:
        print("  %s" % (out / path))
    return 1
