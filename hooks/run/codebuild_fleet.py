"""Run a fleet as one CodeBuild batch build and follow it (`tenantstack deploy --fleet --on codebuild`).

    summary = run_codebuild_fleet(prepared, parallel=8, log_dir=Path(...), progress=..., codebuild=client,
                                  max_api_rate=40.0)

1. The fleet was checked (fleet.check_fleet) and its batch planned (hooks/run/batch_plan.py)
   before any call: bad input starts nothing.
2. StartBuildBatch on the project's fleet project (<project>-fleet) with the generated batch
   buildspec as its buildspec override; the same text goes to <log_dir>/batch-buildspec.yml,
   which scripts/local_codebuild.py --batch runs as CodeBuild would.
3. BatchGetBuildBatches every poll (hooks/aws/wait.poll, bounded by FOLLOW_BUDGET_SECONDS): a
   build that is running is `started`, a finished one is read with BatchGetBuilds and
   `finished` with the DeployResult batch_plan.tenant_result maps it to; each tenant's
   <log_dir>/<namespace>.log names its build and where CodeBuild keeps its output.
4. Ctrl-C: StopBuildBatch, then the batch is followed until it ends (its builds stop; each
   deploy stops at its next stack boundary and is cleaned up as on a local Ctrl-C); a second
   Ctrl-C stops following. Either way the fleet exits 130.

The summary is fleet.FleetSummary: the same table, JSON and exit codes as a local fleet.
"""
import datetime
import logging
import time
from pathlib import Path

from botocore.exceptions import ClientError

from hooks import errors, naming
from hooks.aws import clients
from hooks.aws.wait import Look, Wait, poll
from hooks.run import batch_plan, deploy, fleet

logger = logging.getLogger(__name__)

BUILDSPEC_FILE = "batch-buildspec.yml"
POLL_SECONDS = 15
# A batch waits at most the queue timeout (8 h) and runs at most its own timeout (blueprints/pipeline_fleet.py).
FOLLOW_BUDGET_SECONDS = 17 * 3600
BATCH_GET_BUILDS_LIMIT = 100


def start_batch(codebuild, project, buildspec):
    """StartBuildBatch; the batch's id. BadInput when the fleet project does not exist (nothing started)."""
    try:
        return codebuild.start_build_batch(projectName=project, buildspecOverride=buildspec)["buildBatch"]["id"]
    except ClientError as error:
        if clients.error_code(error) != "ResourceNotFoundException":
            raise
        raise errors.BadInput(
            "CodeBuild project %s does not exist in this account and region: build the project's pipeline "
            "(stacker/pipeline.yaml, stack %s) first; nothing was started" % (project, project)
        ) from None


def stop_batch(codebuild, batch_id):
    """StopBuildBatch; the AWS error code when it refuses (a batch that has just ended), else None."""
    try:
        codebuild.stop_build_batch(id=batch_id)
    except ClientError as error:
        return clients.error_code(error) or "error"
    return None


def describe_batch(codebuild, batch_id):
    (batch,) = codebuild.batch_get_build_batches(ids=[batch_id])["buildBatches"]
    return batch


def describe_builds(codebuild, build_ids):
    builds = []
    for index in range(0, len(build_ids), BATCH_GET_BUILDS_LIMIT):
        builds += codebuild.batch_get_builds(ids=build_ids[index:index + BATCH_GET_BUILDS_LIMIT])["builds"]
    return {build["id"]: build for build in builds}


class Follower:
    """What has been told of each tenant's build; one look at the batch at a time."""

    def __init__(self, codebuild, batch_id, prepared, log_dir, progress):
        self.codebuild, self.batch_id, self.progress, self.log_dir = codebuild, batch_id, progress, log_dir
        self.items = {deploy_identifier(item): item for item in prepared}
        self.started, self.results, self.interrupted = set(), {}, False

    def look(self):
        batch = describe_batch(self.codebuild, self.batch_id)
        finished = []
        for group in batch.get("buildGroups") or []:
            item = self.items.get(group.get("identifier"))
            summary = group.get("currentBuildSummary") or {}
            if item is None or item.namespace in self.results or not summary.get("arn"):
                continue
            status = summary.get("buildStatus")
            if status in batch_plan.FINAL_STATUSES:
                finished.append((item, summary["arn"]))
            elif status == "IN_PROGRESS":
                self.start(item, summary["arn"])
        if finished:
            builds = describe_builds(self.codebuild, [build_id(arn) for _, arn in finished])
            for item, arn in finished:
                self.finish(item, builds.get(build_id(arn), {"id": build_id(arn), "buildStatus": "FAULT"}))
        status = batch.get("buildBatchStatus")
        done = status != "IN_PROGRESS"
        return Look(done, "batch %s: %s, %d of %d builds finished" % (self.batch_id, status, len(self.results),
                                                                       len(self.items)))

    def start(self, item, arn):
        if item.namespace not in self.started:
            self.started.add(item.namespace)
            path = fleet.log_file(self.log_dir, item)
            path.write_text("build %s: started\n" % build_id(arn))
            self.progress.started(item, path)

    def finish(self, item, build):
        result = batch_plan.tenant_result(item, build, self.interrupted)
        self.results[item.namespace] = result
        with open(fleet.log_file(self.log_dir, item), "a") as log:
            log.write("".join(line + "\n" for line in batch_plan.log_lines(build)))
        if result is None:
            self.progress.skipped(item)
            return
        if item.namespace not in self.started:
            self.started.add(item.namespace)
            self.progress.started(item, fleet.log_file(self.log_dir, item))
        self.progress.finished(item, result)


def deploy_identifier(item):
    return naming.batch_build_identifier(item.namespace)


def build_id(arn):
    """A build's id (project:uuid) from its ARN (arn:aws:codebuild:<region>:<account>:build/project:uuid)."""
    return arn.split(":build/", 1)[-1]


def follow(follower, wait, sleep, progress_note):
    """Poll the batch until it ends; Ctrl-C stops it once (StopBuildBatch), a second Ctrl-C stops following.

    True when the fleet was interrupted."""
    interrupted = False
    while True:
        try:
            poll(follower.look, "batch %s" % follower.batch_id, wait, progress=lambda line: None, sleep=sleep)
            return interrupted
        except KeyboardInterrupt:
            if interrupted:
                progress_note("not following the batch any further; it is stopping (CodeBuild console: %s)"
                              % follower.batch_id)
                return True
            interrupted = follower.interrupted = True
            refused = stop_batch(follower.codebuild, follower.batch_id)
            progress_note("stopping the batch: its builds stop at their next stack boundary and are cleaned up "
                          "(Ctrl-C again to stop following it)" if refused is None else
                          "CodeBuild did not stop the batch (%s); following it to its end" % refused)
        except errors.WaitTimedOut:
            progress_note("batch %s still running after %d s; follow it in the CodeBuild console"
                          % (follower.batch_id, wait.budget_seconds))
            return interrupted


def run_codebuild_fleet(prepared, parallel, log_dir, progress, codebuild, max_api_rate=None, wait=None,
                        sleep=time.sleep):
    """Start the fleet's batch, follow it to its end; a fleet.FleetSummary (the fleet's exit code)."""
    project = batch_plan.fleet_project(prepared)
    buildspec = batch_plan.batch_buildspec(batch_plan.batch_spec(prepared, parallel, max_api_rate))
    log_dir = fleet.prepare_log_dir(log_dir)
    (Path(log_dir) / BUILDSPEC_FILE).write_text(buildspec)
    started_at, began = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    batch_id = start_batch(codebuild, project, buildspec)
    progress.note("batch %s of project %s: %d builds, %d at a time (buildspec %s)"
                  % (batch_id, project, len(prepared), parallel, Path(log_dir) / BUILDSPEC_FILE))
    follower = Follower(codebuild, batch_id, prepared, Path(log_dir), progress)
    interrupted = follow(follower, wait or Wait(POLL_SECONDS, FOLLOW_BUDGET_SECONDS), sleep, progress.note)
    outcomes = []
    for item in prepared:
        result = follower.results.get(item.namespace)
        if result is None and item.namespace not in follower.results and not interrupted:
            result = deploy.DeployResult(item.env_file, item.namespace, deploy.DEPLOY_FAILED,
                                         "no final status of its build in batch %s" % batch_id, 0.0, item.db_timestamp)
        outcomes.append(fleet.Outcome(item, fleet.log_file(log_dir, item), result))
    summary = fleet.FleetSummary(tuple(outcomes), parallel, Path(log_dir), started_at, time.monotonic() - began,
                                 interrupted, max_api_rate or None)
    progress.close(summary)
    return summary
