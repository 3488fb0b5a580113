"""The delivery additions to the naming rules, the pipeline env file schema, the pipeline env
files themselves, and how the renderer finds them."""
import json

import pytest

from hooks import naming
from hooks.config import envfile, settings
from hooks.engine import render
from tests.conftest import REPO_ROOT

PROJECT = "xy-0146"
CONNECTION = "arn:aws:codestar-connections:us-east-1:123456789012:connection/0c6b2f4e-6a51-4c7e-9d1a-000000000003"


@pytest.mark.parametrize(
    "value, ok",
    [
        pytest.param("xy-0146", True, id="project"),
        pytest.param("abcdef-0001", True, id="longest-customer"),
        pytest.param("xy-0146-qa", False, id="tenant-namespace"),
        pytest.param("common-nonprod", False, id="shared-namespace"),
        pytest.param("XY-0146", False, id="upper-case"),
        pytest.param("xy-146", False, id="three-digit-project"),
    ],
)
def test_a_project_is_customer_and_project_number(value, ok):
    assert naming.is_project(value) is ok
    if not ok:
        with pytest.raises(naming.NamingError) as error:
            naming.parse_project(value)
        assert str(error.value) == "namespace %r is invalid: expected a project %s, e.g. xy-0146 (pattern %s)" % (
            value, naming.PROJECT_SHAPE, naming.PROJECT_PATTERN)


def test_delivery_names():
    qa = naming.parse_project(PROJECT).namespace("qa")
    assert {
        "pipeline": naming.pipeline_name(PROJECT),
        "stacks": [naming.artifacts_stack_name(PROJECT), naming.deploy_stack_name(qa), naming.pipeline_stack_name(PROJECT)],
        "builds": [naming.check_project_name(PROJECT), naming.deploy_project_name(qa)],
        "log group": naming.codebuild_log_group_name(naming.deploy_project_name(qa)),
        "bucket": naming.artifact_bucket_name(PROJECT, "123456789012", "eu-west-1"),
        "alias": naming.artifact_key_alias(PROJECT),
        "status": [naming.status_artifact_name("xy-0146-%s" % env) for env in naming.PIPELINE_ENVIRONMENTS],
        "prefix": naming.pipeline_artifact_prefix("abcdef-0146", "StageStatus"),
        "env files": [naming.env_file_path(qa), naming.pipeline_env_file_path(PROJECT)],
        "source snapshots": naming.source_snapshot_pattern("xy-0146-dev"),
    } == {
        "pipeline": "xy-0146",
        "stacks": ["xy-0146-artifacts", "xy-0146-qa-deploy", "xy-0146-pipeline"],
        "builds": ["xy-0146-check", "xy-0146-qa-deploy"],
        "log group": "/aws/codebuild/xy-0146-qa-deploy",
        "bucket": "xy-0146-pipeline-123456789012-eu-west-1",
        "alias": "alias/xy-0146/pipeline",
        "status": ["DevStatus", "QaStatus", "ProdStatus"],
        "prefix": "abcdef-0146/StageStatu/",  # CodePipeline keeps 10 characters of an artifact name
        "env files": ["environments/xy-0146-qa.env", "environments/pipelines/xy-0146.env"],
        "source snapshots": "xy-0146-dev-????????t??????z",
    }


def test_status_artifacts_stay_distinct_in_their_bucket_folders():
    prefixes = {naming.pipeline_artifact_prefix(PROJECT, naming.status_artifact_name("xy-0146-%s" % env))
                for env in naming.ENVIRONMENTS}
    assert len(prefixes) == len(naming.ENVIRONMENTS)
    assert naming.pipeline_artifact_prefix(PROJECT, naming.SOURCE_ARTIFACT) not in prefixes


BASE = {"namespace": PROJECT, "repository": "example-org/tenantstack", "connection_arn": CONNECTION}


@pytest.mark.parametrize(
    "change, problems",
    [
        pytest.param({"source": "svn"}, ["env key source 'svn' is invalid: expected one of codestar-connection, "
                                         "codecommit"], id="source"),
        pytest.param({"connection_arn": None}, ["env key connection_arn is missing: source codestar-connection "
                                                "needs the connection's ARN"], id="connection-missing"),
        pytest.param({"connection_arn": "arn:aws:iam::123456789012:role/x"}, [
            "env key connection_arn 'arn:aws:iam::123456789012:role/x' is invalid: expected a CodeStar connection "
            "ARN (arn:aws:codestar-connections:<region>:<account>:connection/<id>)"], id="connection-shape"),
        pytest.param({"source": "codecommit", "repository": "tenantstack"}, [
            "env key connection_arn is invalid: source codecommit uses no connection; remove it"],
            id="codecommit-with-connection"),
        pytest.param({"build_timeout": "600"}, ["env key build_timeout '600' is invalid: expected a whole number "
                                                "from 5 to 480"], id="timeout"),
        pytest.param({"hostname": "x.example.com"}, [
            "env key hostname is not known for pipeline namespaces (known keys: artifact_retention_days, branch, "
            "build_image, build_log_retention, build_timeout, connection_arn, namespace, repository, source)"],
            id="tenant-key"),
    ],
)
def test_a_bad_pipeline_env_file_lists_every_problem(change, problems):
    raw = {key: value for key, value in dict(BASE, **change).items() if value is not None}
    with pytest.raises(settings.SettingsError) as error:
        settings.load_settings(raw)
    assert error.value.problems == problems


def test_pipeline_defaults():
    values = settings.load_settings(BASE)
    assert {key: values[key] for key in ("source", "branch", "build_image", "build_timeout", "build_log_retention",
                                         "artifact_retention_days")} == {
        "source": "codestar-connection", "branch": "main", "build_image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "build_timeout": 120, "build_log_retention": 90, "artifact_retention_days": 30,
    }


PIPELINE_ENV_FILES = render.pipeline_env_files(REPO_ROOT)


def test_the_repository_has_a_pipeline():
    assert [path.name for path in PIPELINE_ENV_FILES] == ["xy-0146.env"]


@pytest.mark.parametrize("path", PIPELINE_ENV_FILES, ids=[p.name for p in PIPELINE_ENV_FILES])
def test_a_pipeline_env_file_names_its_project_and_every_stage_has_a_tenant_env_file(path):
    values = envfile.load(path)
    assert path.name == "%s.env" % values["namespace"]
    assert render.config_for(path, REPO_ROOT).name == "pipeline.yaml"
    project = naming.parse_project(values["namespace"])
    for environment in naming.PIPELINE_ENVIRONMENTS:
        namespace = project.namespace(environment)
        tenant = envfile.load(REPO_ROOT / naming.env_file_path(namespace))
        # The deploy role reads the project's dev snapshots only (blueprints/deploy_iam.py).
        assert tenant["source_namespace"] == namespace.default_source_namespace


def test_pipeline_templates_render_under_the_project_and_not_with_the_tenants():
    pipelines = render.render_pipelines(REPO_ROOT)
    assert sorted(pipelines) == ["xy-0146/%s.json" % name for name in (
        "artifacts", "dev-deploy", "pipeline", "prod-deploy", "qa-deploy")]
    assert not set(pipelines) & set(render.render_all(REPO_ROOT))


def test_pipeline_templates_fit_the_inline_limit():
    # stacker sends each template inline, as rendered with its default indent of 4 (stacker_bucket: "").
    for path, text in render.render_pipelines(REPO_ROOT).items():
        size = len(json.dumps(json.loads(text), indent=4).encode())
        assert size < 51200, "%s is %d bytes" % (path, size)
