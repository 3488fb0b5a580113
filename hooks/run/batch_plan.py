"""A fleet as one CodeBuild batch build: the batch buildspec to start, and what its builds report (pure).

    text = batch_buildspec(batch_spec(prepared, parallel=4, max_api_rate=40.0))
    result = tenant_result(item, build)   # a BatchGetBuilds build -> deploy.DeployResult

Why a generated batch buildspec: the tenants, their order and the concurrency cap are the
fleet's, known only when it starts, so `tenantstack deploy --fleet --on codebuild` writes the
`batch:` section and passes it to StartBuildBatch as the buildspec override; each build of the
batch runs the committed buildspecs/fleet.yml (naming.FLEET_BUILDSPEC), the phases a reviewer
reads. The local runner (scripts/local_codebuild.py --batch) runs the same generated text.

- One build per tenant, identifier naming.batch_build_identifier(namespace), with the variables
  ENV_FILE (the env file, relative to the project root: the build's source) and
  TENANTSTACK_MAX_API_RATE (the budget split over the builds that run at once: CodeBuild builds
  run on separate machines and cannot draw from one local bucket, fleet.child_rate).
- fast-fail false: one tenant's failure stops no other build; `ignore-failure: true` on each
  build: a failed tenant neither fails the batch nor holds back the tenants after it.
- Concurrency: CodeBuild's batch restrictions bound the number of builds and compute types,
  not how many run at once, so `parallel` is a build graph of `parallel` lanes: tenant i
  depends on tenant i - parallel. With parallel >= the fleet, a plain build list.
- Exit codes: a build reports its deploy's exit code as the exported variable
  DEPLOY_EXIT_CODE and, when it failed, in its phase context ("... exit status 4"): the
  variable first, then the context, else a failure (4).
"""
import datetime
import re
from pathlib import Path

import yaml

from hooks import errors, naming
from hooks.run import deploy, fleet

ENV_FILE_VARIABLE, RATE_VARIABLE, EXIT_VARIABLE = "ENV_FILE", "TENANTSTACK_MAX_API_RATE", "DEPLOY_EXIT_CODE"
BUILD_LIST, BUILD_GRAPH = "build-list", "build-graph"
# CodeBuild quota "Maximum number of builds in a batch" (the project's MaximumBuildsAllowed, at most 100).
MAX_BUILDS_PER_BATCH = 100
FINAL_STATUSES = ("SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED")
EXIT_STATUS = re.compile(r"exit status (\d+)")
DEPLOY_CODES = (deploy.BAD_INPUT, deploy.LOCK_HELD, deploy.DEPLOY_FAILED)
HEADER = (
    "# The batch of one `tenantstack deploy --fleet --on codebuild` run (hooks/run/batch_plan.py): one build\n"
    "# per tenant running %s; started as StartBuildBatch's buildspec override.\n" % naming.FLEET_BUILDSPEC
)


def fleet_project(prepared):
    """The project whose fleet project (<project>-fleet) runs the batch; BadInput when the tenants span several."""
    projects = sorted({naming.parse_namespace(item.namespace).project_key for item in prepared})
    if len(projects) != 1:
        raise errors.BadInput(
            "--on codebuild runs one project's tenants in its batch project <project>-fleet, whose role reaches "
            "that project only; these env files belong to %s: run one fleet per project" % ", ".join(projects)
        )
    return naming.fleet_project_name(projects[0])


def source_path(item):
    """The env file relative to the project root (the build's source); BadInput for a file outside it."""
    path, root = Path(item.env_file).resolve(), Path(item.project_root).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise errors.BadInput(
            "env file %s is outside the project %s: a CodeBuild build sees only the project's source; "
            "commit the env file under environments/" % (item.env_file, root)
        ) from None


def check_batch_size(prepared):
    if len(prepared) > MAX_BUILDS_PER_BATCH:
        raise errors.BadInput(
            "a CodeBuild batch holds at most %d builds (the project's MaximumBuildsAllowed); this fleet has %d "
            "tenants: run it as several fleets" % (MAX_BUILDS_PER_BATCH, len(prepared))
        )


def rate_text(rate):
    return "0" if not rate else ("%.6g" % rate)


def batch_spec(prepared, parallel, max_api_rate):
    """The batch buildspec (a dict) of the fleet `prepared`, `parallel` builds at a time."""
    fleet.check_parallel(parallel)
    check_batch_size(prepared)
    rate = rate_text(fleet.child_rate(max_api_rate, parallel, len(prepared)))
    capped = parallel < len(prepared)
    builds = []
    for index, item in enumerate(prepared):
        build = {
            "identifier": naming.batch_build_identifier(item.namespace),
            "buildspec": naming.FLEET_BUILDSPEC,
            "env": {"variables": {ENV_FILE_VARIABLE: source_path(item), RATE_VARIABLE: rate}},
            "ignore-failure": True,
        }
        if capped and index >= parallel:
            build["depend-on"] = [naming.batch_build_identifier(prepared[index - parallel].namespace)]
        builds.append(build)
    return {"version": 0.2, "batch": {"fast-fail": False, BUILD_GRAPH if capped else BUILD_LIST: builds}}


def batch_buildspec(spec):
    return HEADER + yaml.safe_dump(spec, sort_keys=False, default_flow_style=False)


# --- what the builds report ----------------------------------------------------------------------


def exported(build):
    return {item.get("name"): item.get("value") for item in build.get("exportedEnvironmentVariables") or []}


def failed_phase(build):
    """(phase type, context message) of the build's first failed phase; (None, "") when none failed."""
    for phase in build.get("phases") or []:
        if phase.get("phaseStatus") in ("FAILED", "FAULT", "TIMED_OUT"):
            contexts = phase.get("contexts") or [{}]
            return phase.get("phaseType"), " ".join(str(c.get("message", "")) for c in contexts).strip()
    return None, ""


def exit_code_of(build):
    """The deploy's exit code a finished build reports: 0 ok, else 2, 3 or 4 (4 when it names none of them)."""
    if build.get("buildStatus") == "SUCCEEDED":
        return deploy.OK
    value = exported(build).get(EXIT_VARIABLE)
    if not (value and value.isdigit()):
        phase, message = failed_phase(build)
        found = EXIT_STATUS.search(message) if phase in ("PRE_BUILD", "BUILD") else None
        value = found.group(1) if found else None
    code = int(value) if value else None
    return code if code in DEPLOY_CODES else deploy.DEPLOY_FAILED


def ran(build):
    """Whether a STOPPED build had begun its deploy (else the tenant counts as skipped)."""
    return any(phase.get("phaseType") in ("PRE_BUILD", "BUILD") for phase in build.get("phases") or [])


def build_seconds(build):
    start, end = build.get("startTime"), build.get("endTime")
    if start is None or end is None:
        return 0.0
    if isinstance(start, datetime.datetime):
        return (end - start).total_seconds()
    return float(end) - float(start)


def tenant_result(item, build, interrupted=False):
    """The DeployResult of a finished build; None for a build stopped before its deploy began."""
    status = build.get("buildStatus")
    if status == "STOPPED" and not ran(build):
        return None
    code = exit_code_of(build)
    if code == deploy.OK:
        message = "build %s succeeded" % build.get("id")
    else:
        phase, context = failed_phase(build)
        message = "build %s %s%s%s" % (build.get("id"), status, " in %s" % phase if phase else "",
                                       ": %s" % context if context else "")
    return deploy.DeployResult(item.env_file, item.namespace, code, deploy.one_line(message), build_seconds(build),
                               item.db_timestamp, interrupted=interrupted or status == "STOPPED")


def log_lines(build):
    """What the tenant's log file says of its build: id, status, where CodeBuild keeps the output."""
    logs = build.get("logs") or {}
    return ["build %s: %s" % (build.get("id"), build.get("buildStatus")),
            "logs: %s" % (logs.get("deepLink") or logs.get("groupName") or "-")]
