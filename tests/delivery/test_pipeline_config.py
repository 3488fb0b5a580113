"""The delivery additions to the naming rules, the pipeline env file schema, the pipeline env
files themselves, and how the renderer finds them."""

import pytest

from blueprints.base import minified
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
        "stacks": [naming.artifacts_stack_name(PROJECT), naming.images_stack_name(PROJECT),
                   naming.deploy_stack_name(qa), naming.pipeline_stack_name(PROJECT)],
        "builds": [naming.check_project_name(PROJECT), naming.images_project_name(PROJECT),
                   naming.deploy_project_name(qa)],
        "repositories": [naming.image_repository_name(PROJECT, c) for c in naming.IMAGE_CONTAINERS],
        "image variables": [naming.image_variable(c) for c in naming.IMAGE_CONTAINERS],
        "log group": naming.codebuild_log_group_name(naming.deploy_project_name(qa)),
        "bucket": naming.artifact_bucket_name(PROJECT, "123456789012", "eu-west-1"),
        "alias": naming.artifact_key_alias(PROJECT),
        "status": [naming.status_artifact_name("xy-0146-%s" % env) for env in naming.PIPELINE_ENVIRONMENTS],
        "prefix": naming.pipeline_artifact_prefix("abcdef-0146", "StageStatus"),
        "env files": [naming.env_file_path(qa), naming.pipeline_env_file_path(PROJECT)],
        "source snapshots": naming.source_snapshot_pattern("xy-0146-dev"),
    } == {
        "pipeline": "xy-0146",
        "stacks": ["xy-0146-artifacts", "xy-0146-images", "xy-0146-qa-deploy", "xy-0146-pipeline"],
        "builds": ["xy-0146-check", "xy-0146-images", "xy-0146-qa-deploy"],
        "repositories": ["xy-0146/nginx", "xy-0146/php"],
        "image variables": ["NGINX_IMAGE", "PHP_IMAGE"],
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


CA_BUNDLE_SHA256 = "0123456789abcdef" * 4
BASE = {"namespace": PROJECT, "repository": "example-org/tenantstack", "connection_arn": CONNECTION,
        "rds_ca_bundle_sha256": CA_BUNDLE_SHA256}


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
            "build_image, build_log_retention, build_timeout, connection_arn, data_source, image_builds_kept, image_context, "
            "images, namespace, rds_ca_bundle_sha256, repository, source)"],
            id="tenant-key"),
        pytest.param({"rds_ca_bundle_sha256": None}, [
            "env key rds_ca_bundle_sha256 is missing: images build needs the SHA-256 of the RDS CA bundle the php "
            "image trusts (docs/application.md, \"TLS to the database\")"], id="images-build-without-ca-sha256"),
        pytest.param({"images": "env-files", "image_builds_kept": "0"}, [
            "env key image_builds_kept '0' is invalid: expected a whole number from 1 to 1000"], id="builds-kept"),
        pytest.param({"image_context": "../elsewhere"}, [
            "env key image_context '../elsewhere' is invalid: expected a directory of the repository, relative to "
            "its root, without '..', such as app"], id="context-outside-the-repository"),
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
                                         "artifact_retention_days", "images", "image_context",
                                         "image_builds_kept")} == {
        "source": "codestar-connection", "branch": "main", "build_image": "aws/codebuild/standard:7.0",
        "build_timeout": 120, "build_log_retention": 90, "artifact_retention_days": 30,
        "images": "build", "image_context": "app", "image_builds_kept": 30,
    }
    pinned = settings.load_settings({key: value for key, value in dict(BASE, images="env-files").items()
                                     if key != "rds_ca_bundle_sha256"})
    assert (pinned["images"], pinned["rds_ca_bundle_sha256"]) == ("env-files", "")


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


@pytest.mark.parametrize("path", PIPELINE_ENV_FILES, ids=[p.name for p in PIPELINE_ENV_FILES])
def test_a_pipeline_that_builds_images_has_both_dockerfiles_in_its_build_context(path):
    values = settings.load_settings(envfile.load(path), str(path))
    if values["images"] != "build":
        pytest.skip("%s: the tenant env files pin the images" % path.name)
    context = REPO_ROOT / values["image_context"]
    assert [str((context / c / "Dockerfile").relative_to(REPO_ROOT)) for c in naming.IMAGE_CONTAINERS
            if not (context / c / "Dockerfile").is_file()] == []


def test_pipeline_templates_render_under_the_project_and_not_with_the_tenants():
    pipelines = render.render_pipelines(REPO_ROOT)
    assert sorted(pipelines) == ["xy-0146/%s.json" % name for name in (
        "artifacts", "dev-deploy", "fleet", "images", "pipeline", "prod-deploy", "qa-deploy")]
    assert not set(pipelines) & set(render.render_all(REPO_ROOT))


def test_pipeline_templates_fit_the_inline_limit_with_room_to_grow():
    # The engine sends each template inline and minified (blueprints.base.minified); keep a fifth free.
    for path, text in render.render_pipelines(REPO_ROOT).items():
        size = len(minified(text).encode())
        assert size < 0.8 * 51200, "%s is %d bytes minified" % (path, size)
