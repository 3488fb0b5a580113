"""hooks/steps/images.py: which images a deploy may run, that they exist, and the deployed tag it adds.

The rule is pure (image_problems, table-driven); describing and tagging run against the local
endpoint (moto's ECR stores manifests and digests as ECR does), and so does the hook itself.
"""
import json
import types

import pytest

from hooks import naming
from hooks.config import envfile, settings
from hooks.errors import BadInput
from hooks.steps import images

ACCOUNT, REGION = "123456789012", "eu-west-1"
REGISTRY = naming.ecr_registry(ACCOUNT, REGION)
DIGEST = "sha256:" + "4e" * 32
NS = "xy-0146-qa"


def own(container, account=ACCOUNT, region=REGION, project="xy-0146", pin="@" + DIGEST):
    return "%s/%s/%s%s" % (naming.ecr_registry(account, region), project, container, pin)


def tenant_settings(**images_):
    """xy-0146-qa's settings with the given images (both public by default)."""
    raw = envfile.parse(open(naming.env_file_path(NS)).read())
    raw.update(nginx_image="public.ecr.aws/nginx/nginx:1.27.3",
               php_image="public.ecr.aws/docker/library/php:8.3.14-fpm")
    raw.update(images_)
    return settings.load_settings(raw)


EXPECTED = ("expected %s/xy-0146/%%s@sha256:<digest> (project xy-0146's %%s repository in this account and region) "
            "or an image of public.ecr.aws" % REGISTRY)


@pytest.mark.parametrize(
    "given, problem",
    [
        pytest.param({"nginx_image": "nginx:1.28.0-alpine3.21"}, "env key nginx_image 'nginx:1.28.0-alpine3.21' is "
                     "invalid: %s; registry docker.io is not allowed" % (EXPECTED % ("nginx", "nginx")),
                     id="docker-hub"),
        pytest.param({"php_image": "ghcr.io/example/php:8.2"}, "env key php_image 'ghcr.io/example/php:8.2' is "
                     "invalid: %s; registry ghcr.io is not allowed" % (EXPECTED % ("php", "php")), id="other-registry"),
        pytest.param({"php_image": own("php", project="ab-0212")}, "env key php_image %r is invalid: %s; repository "
                     "ab-0212/php is not it" % (own("php", project="ab-0212"), EXPECTED % ("php", "php")),
                     id="another-projects-repository"),
        pytest.param({"nginx_image": own("php")}, "env key nginx_image %r is invalid: %s; repository xy-0146/php is "
                     "not it" % (own("php"), EXPECTED % ("nginx", "nginx")), id="another-containers-repository"),
        pytest.param({"php_image": own("php", account="210987654321")}, "env key php_image %r is invalid: %s; this is "
                     "account 210987654321, region eu-west-1, which the task's execution role cannot pull from"
                     % (own("php", account="210987654321"), EXPECTED % ("php", "php")), id="another-account"),
        pytest.param({"php_image": own("php", region="us-east-1")}, "env key php_image %r is invalid: %s; this is "
                     "account 123456789012, region us-east-1, which the task's execution role cannot pull from"
                     % (own("php", region="us-east-1"), EXPECTED % ("php", "php")), id="another-region"),
        pytest.param({"php_image": own("php", pin=":0a1b2c3d")}, "env key php_image %r is invalid: %s; pin it by "
                     "digest, not by tag 0a1b2c3d" % (own("php", pin=":0a1b2c3d"), EXPECTED % ("php", "php")),
                     id="by-tag"),
    ],
)
def test_an_image_from_where_the_tasks_may_not_pull_is_refused_naming_the_value_and_the_rule(given, problem):
    found, problems = images.image_problems(tenant_settings(**given), ACCOUNT, REGION)
    assert problems == [problem]


def test_the_projects_images_by_digest_are_checked_and_public_ones_are_left_alone():
    found, problems = images.image_problems(tenant_settings(php_image=own("php")), ACCOUNT, REGION)
    assert (found, problems) == ([images.ProjectImage("php", "xy-0146/php", DIGEST, own("php"))], [])
    both = tenant_settings(nginx_image=own("nginx"), php_image=own("php"))
    assert [image.repository for image in images.image_problems(both, ACCOUNT, REGION)[0]] == [
        "xy-0146/nginx", "xy-0146/php"]
    assert images.image_problems(tenant_settings(), None, REGION) == ([], [])
    assert (images.uses_project_registry(both), images.uses_project_registry(tenant_settings())) == (True, False)


# --- against the local endpoint ------------------------------------------------------------------


def manifest(layer):
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 9, "digest": layer}],
    })


def pushed(ecr, container, layer="sha256:" + "d" * 64, tag="0a1b2c3d4e5f"):
    """The digest of an image pushed to xy-0146/<container> (its repository made if need be)."""
    repository = naming.image_repository_name("xy-0146", container)
    if repository not in [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]:
        ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    return ecr.put_image(repositoryName=repository, imageManifest=manifest(layer), imageTag=tag)["image"]["imageId"][
        "imageDigest"]


def tags_of(ecr, repository, digest):
    return sorted(ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])[
        "imageDetails"][0].get("imageTags", []))


def test_describe_finds_an_image_by_digest_and_nothing_where_there_is_none(aws):
    ecr = aws.client("ecr")
    digest = pushed(ecr, "php")
    assert images.describe_image(ecr, "xy-0146/php", digest)["imageDigest"] == digest
    assert images.describe_image(ecr, "xy-0146/php", DIGEST) is None
    assert images.describe_image(ecr, "xy-0146/nginx", digest) is None  # no such repository


def test_protecting_adds_the_deployed_tag_to_the_same_image_once(aws):
    ecr = aws.client("ecr")
    digest = pushed(ecr, "php")
    tag = naming.deployed_tag(NS, digest)
    assert images.protect_image(ecr, "xy-0146/php", digest, tag) == "tagged"
    assert tags_of(ecr, "xy-0146/php", digest) == ["0a1b2c3d4e5f", tag]
    assert images.protect_image(ecr, "xy-0146/php", digest, tag) == "already tagged"
    assert len(ecr.list_images(repositoryName="xy-0146/php")["imageIds"]) == 2  # one image, two tags: no new image


@pytest.fixture
def hook_env(aws, monkeypatch):
    """The hook's own clients reach the endpoint."""
    for key in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TENANTSTACK_FAIL_CALLS"):
        monkeypatch.delenv(key, raising=False)
    return aws


def hook_context(aws, **images_):
    raw = envfile.parse(open(naming.env_file_path(NS)).read())
    raw.update(images_)
    return types.SimpleNamespace(environment=raw, hook_data={})


def endpoint_image(aws, container, digest):
    """The image as the pipeline hands it over: this (local) account's registry in the endpoint's region."""
    registry = naming.ecr_registry(ACCOUNT, aws.region)
    return naming.image_uri(registry, naming.image_repository_name("xy-0146", container), digest)


def test_the_hook_tags_each_project_image_it_deploys_and_is_idempotent(hook_env):
    ecr = hook_env.client("ecr")
    nginx, php = pushed(ecr, "nginx", "sha256:" + "1" * 64), pushed(ecr, "php", "sha256:" + "2" * 64)
    context = hook_context(hook_env, nginx_image=endpoint_image(hook_env, "nginx", nginx),
                           php_image=endpoint_image(hook_env, "php", php))
    result = images.check_and_protect_images(context)
    assert result["protected"] == {"nginx": "tagged", "php": "tagged"}
    assert result["images"] == {"nginx": endpoint_image(hook_env, "nginx", nginx),
                                "php": endpoint_image(hook_env, "php", php)}
    assert naming.deployed_tag(NS, php) in tags_of(ecr, "xy-0146/php", php)
    assert images.check_and_protect_images(context)["protected"] == {"nginx": "already tagged", "php": "already tagged"}


def test_a_missing_image_is_bad_input_and_nothing_is_tagged(hook_env):
    ecr = hook_env.client("ecr")
    nginx = pushed(ecr, "nginx")
    pushed(ecr, "php")
    missing = endpoint_image(hook_env, "php", DIGEST)
    context = hook_context(hook_env, nginx_image=endpoint_image(hook_env, "nginx", nginx), php_image=missing)
    with pytest.raises(BadInput) as raised:
        images.check_and_protect_images(context)
    assert str(raised.value) == (
        "the images of xy-0146-qa cannot be deployed: image %s is not in repository xy-0146/php: push it first (the "
        "pipeline's Images stage does), or pin one that exists (aws ecr describe-images --repository-name "
        "xy-0146/php)" % missing)
    assert tags_of(ecr, "xy-0146/nginx", nginx) == ["0a1b2c3d4e5f"]  # the one that exists was not tagged either


def test_images_from_an_allowed_public_registry_need_no_ecr_at_all(hook_env):
    context = hook_context(hook_env, nginx_image="public.ecr.aws/nginx/nginx:1.27.3",
                           php_image="public.ecr.aws/docker/library/php:8.3.14-fpm")
    assert images.check_and_protect_images(context) == {"status": "valid", "images": {}, "protected": {}}
