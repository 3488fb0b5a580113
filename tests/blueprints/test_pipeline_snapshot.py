"""data_source: snapshot: the Dev stage snapshots dev, and qa and prod deploy exactly that timestamp."""
import json

import pytest
import yaml

from blueprints.base import BlueprintError
from blueprints.pipeline import DeliveryPipeline
from blueprints.pipeline_deploy import TenantDeployProject
from hooks import naming
from hooks.engine.render import render_blueprint
from tests.blueprints.template_checks import REPO_ROOT, properties
from tests.blueprints.test_pipeline import CODECOMMIT, GITHUB, IMAGE, PINNED_BY_ENV_FILES, layout_of

SNAPSHOT = dict(GITHUB, DataSource="snapshot")
TIMESTAMP_VARIABLE = {"name": "DB_TIMESTAMP", "type": "PLAINTEXT", "value": "#{Snapshot.DB_TIMESTAMP}"}


def deploy_variables(pipeline, stage):
    (action,) = [a for s in pipeline["Stages"] if s["Name"] == stage for a in s["Actions"] if a["Name"] == "Deploy"]
    return json.loads(action["Configuration"].get("EnvironmentVariables", "[]"))


def test_the_dev_stage_snapshots_after_its_deploy_and_exports_the_timestamp():
    pipeline = properties(render_blueprint(DeliveryPipeline, SNAPSHOT), "Pipeline")
    assert dict(layout_of(pipeline))["Dev"] == [
        ("Deploy", "CodeBuild", 1, "xy-0146-dev-deploy", ["DevStatus"], None),
        ("Snapshot", "CodeBuild", 2, "xy-0146-dev-snapshot", [], "Snapshot"),
    ]
    exported = yaml.safe_load((REPO_ROOT / naming.SNAPSHOT_BUILDSPEC).read_text())["env"]["exported-variables"]
    assert exported == ["DB_TIMESTAMP"]  # what qa and prod read is what snapshot.yml exports


@pytest.mark.parametrize("variables", [SNAPSHOT, dict(PINNED_BY_ENV_FILES, DataSource="snapshot")],
                         ids=["with-images", "images-from-env-files"])
def test_qa_and_prod_deploy_the_captured_timestamp_and_dev_its_own(variables):
    pipeline = properties(render_blueprint(DeliveryPipeline, variables), "Pipeline")
    assert TIMESTAMP_VARIABLE not in deploy_variables(pipeline, "Dev")
    assert TIMESTAMP_VARIABLE in deploy_variables(pipeline, "Qa")
    assert TIMESTAMP_VARIABLE in deploy_variables(pipeline, "Prod")
    (prod,) = [stage for stage in pipeline["Stages"] if stage["Name"] == "Prod"]
    assert [action["Name"] for action in prod["Actions"]] == ["Approve", "Deploy"]  # the approval stays first


@pytest.mark.parametrize("variables", [GITHUB, CODECOMMIT, PINNED_BY_ENV_FILES], ids=["github", "codecommit", "pinned"])
def test_with_env_file_nothing_changes(variables):
    assert render_blueprint(DeliveryPipeline, dict(variables, DataSource="env-file")) == render_blueprint(
        DeliveryPipeline, variables)
    assert "Snapshot" not in json.dumps(render_blueprint(DeliveryPipeline, variables))


@pytest.mark.parametrize("namespace", ["xy-0146-dev", "xy-0146-qa", "xy-0146-prod"])
def test_only_the_dev_deploy_stack_holds_the_snapshot_build(namespace):
    plain = render_blueprint(TenantDeployProject, {"Namespace": namespace, "BuildImage": IMAGE})
    assert plain == render_blueprint(TenantDeployProject, {"Namespace": namespace, "BuildImage": IMAGE,
                                                           "DataSource": "env-file"})
    snapshotting = render_blueprint(TenantDeployProject, {"Namespace": namespace, "BuildImage": IMAGE,
                                                          "DataSource": "snapshot"})
    added = set(snapshotting["Resources"]) - set(plain["Resources"])
    assert added == ({"SnapshotProject", "SnapshotRole", "SnapshotLogGroup"} if namespace.endswith("-dev") else set())
    if added:
        project = snapshotting["Resources"]["SnapshotProject"]["Properties"]
        assert (project["Name"], project["Source"]["BuildSpec"]) == ("xy-0146-dev-snapshot", "buildspecs/snapshot.yml")
        assert project["Environment"]["EnvironmentVariables"] == [
            {"Name": "SNAPSHOT_NAMESPACE", "Type": "PLAINTEXT", "Value": "xy-0146-dev"}]


def test_the_pipeline_may_start_the_snapshot_build_only_when_it_has_one():
    def builds(variables):
        role = properties(render_blueprint(DeliveryPipeline, variables), "PipelineRole")
        (run,) = [s for s in role["Policies"][0]["PolicyDocument"]["Statement"] if s["Sid"] == "RunProjectBuilds"]
        return json.dumps(run["Resource"])

    assert "project/xy-0146-dev-snapshot" in builds(SNAPSHOT)
    assert "project/xy-0146-dev-snapshot" not in builds(GITHUB)


def test_the_snapshot_role_snapshots_dev_s_databases_only_with_its_tags_and_deletes_no_snapshot():
    template = render_blueprint(TenantDeployProject, {"Namespace": "xy-0146-dev", "BuildImage": IMAGE,
                                                      "DataSource": "snapshot"})
    statements = {s["Sid"]: s for s in properties(template, "SnapshotRole")["Policies"][0]["PolicyDocument"]["Statement"]}
    snapshot = statements["SnapshotActiveDatabase"]
    assert snapshot["Action"] == ["rds:AddTagsToResource", "rds:CreateDBSnapshot"]
    assert [r["Fn::Sub"].rsplit(":", 2)[-2:] for r in snapshot["Resource"]] == [
        ["db", "xy-0146-dev-db-*"], ["snapshot", "xy-0146-dev-????????t??????z"]]
    assert snapshot["Condition"] == {"StringEquals": {"aws:RequestTag/Namespace": "xy-0146-dev"}}
    actions = {action for s in statements.values() for action in s["Action"]}
    assert not {a for a in actions if a.startswith("rds:") and a.split(":")[1].startswith(
        ("Delete", "Copy", "Restore", "Modify"))}
    # the files captured with the snapshot: dev's own files only (a failed capture's are deleted)
    files = [statements[sid] for sid in ("ManageOwnFiles", "ReadSourceFiles")]
    assert {r["Fn::Sub"].split("}/", 1)[1] for f in files for r in f["Resource"]} == {"xy-0146-dev/files/*"}


@pytest.mark.parametrize("blueprint, variables", [
    (DeliveryPipeline, dict(GITHUB, DataSource="dev")),
    (TenantDeployProject, {"Namespace": "xy-0146-dev", "BuildImage": IMAGE, "DataSource": "dev"}),
], ids=["pipeline", "deploy"])
def test_an_unknown_data_source_is_refused(blueprint, variables):
    with pytest.raises(BlueprintError, match="DataSource|data_source"):
        render_blueprint(blueprint, variables)
