"""Batch builds for scripts/local_codebuild.py (`--batch`): run a batch buildspec the way CodeBuild does.

    scripts/local_codebuild.py --batch .run/fleet/<time>/batch-buildspec.yml --logs-dir .run/batch \\
        --report .run/batch.json [--max-concurrent N]

Standard library and PyYAML only. What it emulates, from the CodeBuild user guide ("Run builds
in batches": build graph, build list; "Batch build buildspec reference"):

- A batch buildspec is version 0.2 with a `batch` mapping holding `fast-fail` and one of
  `build-list` (every build may run at once) or `build-graph` (a build starts once every build
  of its `depend-on` is complete). Each build: `identifier` (letters, digits, _; unique),
  `buildspec` (the file its phases come from, relative to the source; default: the batch
  buildspec itself, which then needs phases: refused here), `env.variables` (the build's
  variables: they win over the project's and the buildspec's, as start-build values do),
  `ignore-failure` (true: the build's failure does not fail the batch).
- fast-fail false (the default): every running build completes. fast-fail true stops the
  running builds when one fails: not emulated, refused. build-matrix and build-fanout,
  `env.image`, `compute-type`, `fleet`, `privileged-mode`, `debug-session`: refused.
- A build whose dependency failed without ignore-failure never starts (the batch fails).
  With ignore-failure, its dependants start as after a success: the guide says a build
  "will not run until these tasks are complete".
- How many run at once: the batch has no cap of its own; CodeBuild runs what the account's
  concurrent-build quota allows and queues the rest. `--max-concurrent` plays that quota
  (default: no limit).
- Each build is this runner's single-build mode in a process of its own, its output in
  <logs-dir>/<identifier>.log. The report has the batch (buildBatchStatus, buildGroups) and
  each build as BatchGetBuilds describes it (buildStatus, startTime/endTime in epoch seconds,
  phases with phaseType, phaseStatus and contexts, exportedEnvironmentVariables), so what reads
  CodeBuild's answers reads the runner's report the same way.

Exit status: 0 the batch SUCCEEDED, 1 FAILED, 2 the batch buildspec is refused (nothing ran).
"""
import concurrent.futures
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

import yaml

from codebuild_spec import BuildspecError

KINDS = ("build-list", "build-graph")
BUILD_KEYS = ("identifier", "buildspec", "env", "ignore-failure", "depend-on")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class BatchBuild:
    identifier: str
    buildspec: str
    variables: Tuple[Tuple[str, str], ...] = ()
    ignore_failure: bool = False
    depend_on: Tuple[str, ...] = ()


def parse_batch(text, source="batch buildspec"):
    """The builds of a batch buildspec, in order; BuildspecError naming the first problem."""
    def fail(problem):
        raise BuildspecError(source, problem)

    try:
        document = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        raise BuildspecError(source, "not valid YAML: %s" % error) from None
    if not isinstance(document, dict) or document.get("version") != "0.2" or not isinstance(document.get("batch"), dict):
        fail("expected version 0.2 and a `batch` mapping")
    batch = document["batch"]
    if BOOLEANS.get(batch.get("fast-fail", "false")) is not False:
        fail("batch.fast-fail %r: only false (every running build completes) is emulated" % batch.get("fast-fail"))
    kinds = [kind for kind in batch if kind != "fast-fail"]
    if len(kinds) != 1 or kinds[0] not in KINDS:
        fail("batch: expected exactly one of %s (got %s)" % (", ".join(KINDS), ", ".join(kinds) or "none"))
    builds, seen = [], set()
    for entry in batch[kinds[0]] if isinstance(batch[kinds[0]], list) else fail("batch.%s must be a list" % kinds[0]):
        unknown = sorted(set(entry) - set(BUILD_KEYS)) if isinstance(entry, dict) else ["(not a mapping)"]
        if unknown:
            fail("batch.%s: %s not supported by the local runner (supported: %s)"
                 % (kinds[0], ", ".join(unknown), ", ".join(BUILD_KEYS)))
        identifier = entry.get("identifier", "")
        if not IDENTIFIER.match(identifier) or identifier in seen:
            fail("build identifier %r must be unique, letters, digits and _" % identifier)
        env = entry.get("env", {})
        if not isinstance(env, dict) or set(env) - {"variables"}:
            fail("build %s: env supports variables only" % identifier)
        depend_on = tuple(entry.get("depend-on", ()))
        if depend_on and kinds[0] != "build-graph":
            fail("build %s: depend-on belongs to a build-graph" % identifier)
        if set(depend_on) - seen:
            fail("build %s depends on %s, not an earlier build" % (identifier, ", ".join(sorted(set(depend_on) - seen))))
        if "buildspec" not in entry:
            fail("build %s: name its buildspec (the batch buildspec has no phases)" % identifier)
        ignore = BOOLEANS.get(entry.get("ignore-failure", "false"))
        if ignore is None:
            fail("build %s: ignore-failure must be true or false" % identifier)
        seen.add(identifier)
        builds.append(BatchBuild(identifier, entry["buildspec"], tuple((env.get("variables") or {}).items()),
                                 ignore, depend_on))
    if not builds:
        fail("the batch has no builds")
    return builds


def build_record(identifier, project, report, started, ended):
    """One build as BatchGetBuilds describes it, from a single-build report of this runner."""
    phases = []
    for phase in report.get("phases", []):
        record = {"phaseType": phase["phase"].upper(), "phaseStatus": phase["status"], "contexts": []}
        if phase["status"] == "FAILED":
            record["contexts"] = [{"statusCode": "COMMAND_EXECUTION_ERROR",
                                   "message": "Error while executing command: %s. Reason: exit status %s"
                                   % (phase["failed_command"], phase["exit_code"])}]
        phases.append(record)
    return {
        "id": report.get("build_id") or "%s:%s" % (project, uuid.uuid4()), "buildStatus": report.get("status", "FAULT"),
        "startTime": started, "endTime": ended, "phases": phases, "identifier": identifier,
        "exportedEnvironmentVariables": [{"name": k, "value": v} for k, v in sorted(report.get("exported_variables", {}).items())],
    }


def run_batch(builds, run_one, max_concurrent=None):
    """Run `builds` as CodeBuild would; run_one(build) -> a build record. (batch status, records by identifier)."""
    records, guard = {}, threading.Lock()
    blocked = set()

    def runnable(build):
        return all(dep in records for dep in build.depend_on)

    def failed_hard(build):
        return any(records[dep]["buildStatus"] != "SUCCEEDED" and not by_id[dep].ignore_failure for dep in build.depend_on)

    by_id = {build.identifier: build for build in builds}
    pending = list(builds)
    workers = max_concurrent or len(builds)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        running = {}
        while pending or running:
            with guard:
                for build in [b for b in pending if runnable(b)]:
                    pending.remove(build)
                    if failed_hard(build):
                        blocked.add(build.identifier)
                        records[build.identifier] = {"identifier": build.identifier, "buildStatus": None}
                        continue
                    running[pool.submit(run_one, build)] = build
            if not running:
                continue
            finished, _ = concurrent.futures.wait(list(running), return_when=concurrent.futures.FIRST_COMPLETED)
            with guard:
                for future in finished:
                    build = running.pop(future)
                    records[build.identifier] = future.result()
    ran = {key: value for key, value in records.items() if key not in blocked}
    failed = blocked or any(r["buildStatus"] != "SUCCEEDED" and not by_id[k].ignore_failure for k, r in ran.items())
    return ("FAILED" if failed else "SUCCEEDED"), ran


def batch_report(batch_id, status, builds, records):
    groups = [{"identifier": b.identifier, "dependsOn": list(b.depend_on), "ignoreFailure": b.ignore_failure,
               "currentBuildSummary": {"arn": records[b.identifier]["id"],
                                       "buildStatus": records[b.identifier]["buildStatus"]}}
              for b in builds if b.identifier in records]
    return {"buildBatch": {"id": batch_id, "buildBatchStatus": status, "buildGroups": groups},
            "builds": [records[b.identifier] for b in builds if b.identifier in records]}


def main(args, runner, child_arguments):
    """`local_codebuild.py --batch`: args from its parser; runner: its path; child_arguments: what each build gets."""
    try:
        builds = parse_batch(Path(args.buildspec).read_text(), str(args.buildspec))
    except OSError as error:
        print("local_codebuild: %s cannot be read: %s" % (args.buildspec, error.strerror), file=sys.stderr)
        return 2
    except BuildspecError as error:
        print("local_codebuild: %s" % error, file=sys.stderr)
        return 2
    project = args.project or "batch"
    batch_id = "%s:%s" % (project, uuid.uuid4())
    logs_dir = Path(args.logs_dir or ".run/local-batch")
    logs_dir.mkdir(parents=True, exist_ok=True)

    def run_one(build):
        report = logs_dir / ("%s.json" % build.identifier)
        command = [sys.executable, str(runner), str(Path(args.source_dir) / build.buildspec), "--report", str(report),
                   "--project", project, *child_arguments]
        for name, value in build.variables:
            command += ["--env", "%s=%s" % (name, value)]
        started = time.time()
        print("[Batch] build %s started" % build.identifier, flush=True)
        with open(logs_dir / ("%s.log" % build.identifier), "w") as log:
            subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
        data = json.loads(report.read_text()) if report.exists() else {"status": "FAULT"}
        record = build_record(build.identifier, project, data, started, time.time())
        print("[Batch] build %s %s" % (build.identifier, record["buildStatus"]), flush=True)
        return record

    status, records = run_batch(builds, run_one, args.max_concurrent)
    report = batch_report(batch_id, status, builds, records)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print("[Batch] batch %s %s" % (batch_id, status), flush=True)
    return 0 if status == "SUCCEEDED" else 1
