"""`tenantstack render [--out DIR] [--check]`: the renderer behind `make templates`."""
from pathlib import Path

from hooks import naming
from hooks.engine import render
from hooks.config import settings
from hooks.cli import options
from hooks.errors import BadInput

EPILOG = """\
Renders every stack of every env file of this checkout (%s/environments) to
DIR/<namespace>/<stack>.json: sorted keys, no timestamps, offline (no AWS call).
Files no env file produces any more are removed. --check writes nothing and exits 1
when a file is stale, missing or extra (what `make test` checks).

examples:
  tenantstack render
  tenantstack render --out /tmp/templates && diff -r templates /tmp/templates
  tenantstack render --check
""" % render.REPO_ROOT


def register(commands):
    parser = options.add_command(
        commands,
        "render",
        help="render every env file's CloudFormation templates for review (make templates)",
        description="Render the CloudFormation templates of every env file, offline.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--out", metavar="DIR", default=str(render.REPO_ROOT / "templates"),
        help="directory to write into (default: the checkout's templates/)",
    )
    parser.add_argument("--check", action="store_true", help="only list stale files; exit 1 if there are any")
    parser.set_defaults(run=run)


def run(args):
    out = Path(args.out)
    try:
        if args.check:
            return _check(out)
        written = render.write_all(out)
    except (settings.SettingsError, render.RenderError) as error:
        raise BadInput("%s\nNothing was written." % error) from None
    except naming.NamingError as error:
        raise BadInput("%s; nothing was written" % error) from None
    print("rendered %d templates into %s" % (len(written), out))
    return 0


def _check(out):
    stale = render.stale_files(out)
    if not stale:
        print("%s is up to date" % out)
        return 0
    print("stale rendered templates (run `tenantstack render --out %s`):" % out)
    for path in stale:
        print("  %s" % (out / path))
    return 1
