"""hooks/naming/images.py: a project's image repositories, image references, the deployed tag."""
import pytest

from hooks import naming

DIGEST = "sha256:" + "3f" * 32
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    "built, expected",
    [
        pytest.param(lambda: naming.images_stack_name("xy-0146"), "xy-0146-images", id="stack"),
        pytest.param(lambda: naming.images_project_name("xy-0146"), "xy-0146-images", id="build-project"),
        pytest.param(lambda: naming.image_repository_name("xy-0146", "nginx"), "xy-0146/nginx", id="nginx-repository"),
        pytest.param(lambda: naming.image_repository_name("abcdef-9999", "php"), "abcdef-9999/php",
                     id="php-repository"),
        pytest.param(lambda: naming.image_variable("php"), "PHP_IMAGE", id="variable"),
        pytest.param(lambda: naming.image_setting("nginx"), "nginx_image", id="env-key"),
        pytest.param(lambda: naming.ecr_registry("123456789012", "eu-west-1"), REGISTRY, id="registry"),
        pytest.param(lambda: naming.image_uri(REGISTRY, "xy-0146/php", DIGEST),
                     "%s/xy-0146/php@%s" % (REGISTRY, DIGEST), id="uri"),
        pytest.param(lambda: naming.deployed_tag("xy-0146-prod", DIGEST), "deployed-prod-" + "3f" * 32, id="deployed"),
    ],
)
def test_builders(built, expected):
    assert built() == expected


@pytest.mark.parametrize(
    "built, message",
    [
        pytest.param(lambda: naming.image_repository_name("xy-0146", "redis"),
                     "container 'redis' is invalid: expected one of nginx, php", id="unknown-container"),
        pytest.param(lambda: naming.image_repository_name("xy-0146-qa", "php"),
                     "namespace 'xy-0146-qa' is invalid: expected a project", id="tenant-is-no-project"),
        pytest.param(lambda: naming.deployed_tag("xy-0146-qa", "sha256:abc"),
                     "image digest 'sha256:abc' is invalid: expected sha256:<64 lower-case hex digits>", id="digest"),
        pytest.param(lambda: naming.deployed_tag("xy-0146", DIGEST), "namespace 'xy-0146' is invalid", id="project"),
    ],
)
def test_bad_input_names_the_value_and_the_rule(built, message):
    with pytest.raises(naming.NamingError) as error:
        built()
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "value, parts, ecr",
    [
        pytest.param("%s/xy-0146/php@%s" % (REGISTRY, DIGEST), (REGISTRY, "xy-0146/php", "", DIGEST),
                     ("123456789012", "eu-west-1"), id="ecr-by-digest"),
        pytest.param("%s/xy-0146/nginx:0a1b2c" % REGISTRY, (REGISTRY, "xy-0146/nginx", "0a1b2c", ""),
                     ("123456789012", "eu-west-1"), id="ecr-by-tag"),
        pytest.param("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/xy-0146/php@%s" % DIGEST,
                     ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "xy-0146/php", "", DIGEST),
                     ("123456789012", "cn-north-1"), id="ecr-china"),
        pytest.param("public.ecr.aws/nginx/nginx:1.27.3", ("public.ecr.aws", "nginx/nginx", "1.27.3", ""), None,
                     id="ecr-public"),
        pytest.param("nginx:1.28.0-alpine3.21", ("docker.io", "nginx", "1.28.0-alpine3.21", ""), None, id="docker-hub"),
        pytest.param("library/php:8.2@%s" % DIGEST, ("docker.io", "library/php", "8.2", DIGEST), None,
                     id="docker-hub-tag-and-digest"),
        pytest.param("localhost:5000/app:1.0", ("localhost:5000", "app", "1.0", ""), None, id="registry-port"),
        pytest.param("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example/xy-0146/php:1",
                     ("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", "xy-0146/php", "1", ""), None,
                     id="not-ecr-lookalike"),
    ],
)
def test_image_references_split_as_docker_reads_them(value, parts, ecr):
    reference = naming.parse_image_reference(value)
    assert (reference.registry, reference.repository, reference.tag, reference.digest) == parts
    assert reference.ecr_account_region == ecr


@pytest.mark.parametrize("value", ["", "%s/xy-0146/php@sha256:abc" % REGISTRY, "%s/" % REGISTRY, "Upper/Case:1"])
def test_what_is_no_image_reference_is_refused(value):
    with pytest.raises(naming.NamingError) as error:
        naming.parse_image_reference(value, "env key php_image")
    assert str(error.value).startswith("env key php_image %r is invalid: expected" % value)
