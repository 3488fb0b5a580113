"""3. Rendering for review: every template of N generated tenants x 3 environments.

- one process: `hooks.engine.render.render_all(root)` over a generated tree (root/environments
  holds bt-0001-dev.env ... bt-<N>-prod.env, root/stacker the project's configs), every
  template written to disk; timed from the interpreter's start to its exit;
- stacker: one `stacker build --dump DIR <env file> <config>` per env file.

stacker 1.7.2 cannot dump stacker/tenant.yaml as it is: `--dump` skips building stacks,
so `${output base::...}` finds no outputs (TypeError on None) and `${xref ...}` needs
the shared tier deployed. Every such lookup feeds a CloudFormation parameter (a CFNType
variable), whose value never appears in a template, so the stacker side uses a copy of
the config in which each `${xref ...}` / `${output ...}` is a fixed placeholder. Both
sides then run offline and render the same blueprints from the same variables; the
dumped templates are checked to equal hooks.engine.render's, JSON for JSON.

stacker costs the same for every file (a new interpreter, imports, config parsing), so
a sample of the files is timed and the mean per file is extrapolated to all of them.
Rounds alternate: one process, stacker sample, one process, stacker sample...
"""
import json
import os
import re
import shutil
import sys
from pathlib import Path

from bench import tenants
from bench.harness import STACKER, BenchError, Stats, interleave, run_child, timed
from bench.results import Row, Section
from hooks.aws import endpoint_quirks
from hooks.config import envfile

ENVIRONMENTS = ("dev", "qa", "prod")
CROSS_STACK_LOOKUP = re.compile(r"\$\{(?:xref|output) (?:[^{}]|\$\{[^{}]*\})*\}")
PLACEHOLDER = "bench-placeholder"
OFFLINE_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there: any AWS call would fail
RENDER_ALL = (
    "import pathlib, sys\n"
    "from hooks.engine.render import render_all\n"
    "out = pathlib.Path(sys.argv[2])\n"
    "for path, text in render_all(sys.argv[1]).items():\n"
    "    (out / path).parent.mkdir(parents=True, exist_ok=True)\n"
    "    (out / path).write_text(text)\n"
)


def offline_env():
    """A child environment with no way to AWS, and without the local endpoint's switch."""
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", endpoint_quirks.SWITCH):
        env.pop(name, None)
    env.update(AWS_ENDPOINT_URL=OFFLINE_ENDPOINT, AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="offline", AWS_SECRET_ACCESS_KEY="offline")
    return env


def dump_config_text(config_text):
    """The config with every cross-stack lookup replaced by a placeholder; refuses to change nothing."""
    replaced, count = CROSS_STACK_LOOKUP.subn(PLACEHOLDER, config_text)
    if count == 0:
        raise BenchError("no ${xref}/${output} lookup found in %s: the dump config would equal it"
                         % tenants.TENANT_CONFIG)
    return replaced


def generate_tree(root, projects):
    """root/environments with projects x 3 env files, root/stacker with the project's configs."""
    root = Path(root)
    (root / "stacker").mkdir(parents=True)
    for config in (tenants.TENANT_CONFIG, tenants.SHARED_CONFIG):
        shutil.copy(str(config), str(root / "stacker" / config.name))
    paths = tenants.write_env_files(root / "environments", projects, ENVIRONMENTS)
    dump_config = root / "tenant-dump.yaml"
    dump_config.write_text(dump_config_text(tenants.TENANT_CONFIG.read_text()))
    return paths, dump_config


def sample(paths, size):
    """`size` files spread evenly over all of them (every environment is represented)."""
    size = min(size, len(paths))
    return [paths[index * len(paths) // size] for index in range(size)]


def dumped_templates(dump_dir, namespace):
    """{config stack name: template} from stacker's dump (stack_templates/<ns>-<name>/<name>-<hash>.json)."""
    prefix = "%s-" % namespace
    return {path.parent.name[len(prefix):]: json.loads(path.read_text())
            for path in Path(dump_dir).glob("stack_templates/%s*/*.json" % prefix)}


def rendered_templates(out_dir, namespace):
    """{config stack name: template} from hooks.engine.render's output (<namespace>/<name>.json)."""
    return {path.stem: json.loads(path.read_text()) for path in (Path(out_dir) / namespace).glob("*.json")}


class Rendering:
    def __init__(self, workdir, projects, sample_size):
        self.workdir = Path(workdir)
        self.root = self.workdir / "render-root"
        self.paths, self.dump_config = generate_tree(self.root, projects)
        self.sampled = sample(self.paths, sample_size)
        self.env = offline_env()
        self.out_dir = None
        self.dump_dirs = {}

    def one_process(self, round_number):
        self.out_dir = self.workdir / ("rendered-%d" % round_number)
        self.out_dir.mkdir()
        seconds, _ = timed(run_child, [sys.executable, "-c", RENDER_ALL, str(self.root), str(self.out_dir)],
                           self.env, "hooks.engine.render over %d env files" % len(self.paths))
        return seconds

    def stacker_sample(self, round_number):
        total = 0.0
        for path in self.sampled:
            dump_dir = self.workdir / ("dump-%d" % round_number) / path.stem
            seconds, _ = timed(run_child, [STACKER, "build", "--dump", str(dump_dir), str(path),
                                           str(self.dump_config)], self.env, "stacker build --dump %s" % path.name)
            self.dump_dirs[path] = dump_dir
            total += seconds
        return total / len(self.sampled) * len(self.paths)  # extrapolated to every file

    def compare(self):
        """(stacks compared, [stack names whose templates differ])."""
        compared, differ = 0, []
        for path, dump_dir in self.dump_dirs.items():
            namespace = envfile.load(path)["namespace"]
            rendered = rendered_templates(self.out_dir, namespace)
            dumped = dumped_templates(dump_dir, namespace)
            if set(rendered) != set(dumped):
                raise BenchError("%s: hooks.engine.render made %s, stacker dumped %s"
                                 % (path.name, sorted(rendered), sorted(dumped)))
            compared += len(rendered)
            differ += ["%s/%s" % (namespace, name) for name in rendered if rendered[name] != dumped[name]]
        return compared, differ


def measure(workdir, projects, sample_size, runs):
    rendering = Rendering(workdir, projects, sample_size)
    times = interleave(runs, one_process=rendering.one_process, stacker=rendering.stacker_sample)
    templates = sum(1 for _ in rendering.out_dir.rglob("*.json"))
    one, per_file = Stats.of(times["one_process"]), Stats.of(times["stacker"])
    ratio = per_file.ratio(one)
    compared, differ = rendering.compare()
    files = len(rendering.paths)
    section = Section("rendering", "3. Rendering for review: one process vs. stacker --dump per env file")
    section.rows = [
        Row("rendering.one_process", "render %d env files (%d templates) in one process" % (files, templates),
            "%.1f s" % one.median, "median of %d; min %.1f, max %.1f" % (runs, one.min, one.max)),
        Row("rendering.stacker", "stacker build --dump, one per env file (%d files)" % files,
            "%.1f s" % per_file.median,
            "extrapolated from %d sampled files (%.2f s each); median of %d; min %.1f, max %.1f"
            % (len(rendering.sampled), per_file.median / files, runs, per_file.min, per_file.max)),
        Row("rendering.ratio", "stacker per file / one process", "%.1fx" % ratio.median,
            "per-round ratio; min %.1fx, max %.1fx" % (ratio.min, ratio.max)),
        Row("rendering.identical", "dumped templates equal hooks.engine.render's",
            "%d of %d" % (compared - len(differ), compared),
            "differ: %s" % ", ".join(differ) if differ else "JSON-equal, stack for stack", ok=not differ),
    ]
    section.notes = [
        "stacker side: `stacker build --dump` with a copy of stacker/tenant.yaml whose ${xref}/${output} "
        "lookups (all feeding CloudFormation parameters) are a placeholder: stacker 1.7.2 cannot resolve "
        "${output} under --dump, and ${xref} would need the shared tier deployed.",
        "Both sides run offline (AWS_ENDPOINT_URL points at a closed port) and without the local endpoint's "
        "switch, so they render what AWS would get.",
    ]
    return section
