"""Names of a customer project's container images (docs/delivery.md, "Images").

Every project has one ECR repository per container of the tenants' task,
`<project>/<container>` (xy-0146/nginx, xy-0146/php), in the stack `<project>-images`. The
pipeline's Images stage (CodeBuild project `<project>-images`, buildspecs/images.yml) builds
both from one commit, pushes them tagged by that commit and hands their digests to the deploy
stages as CodePipeline variables (#{Images.NGINX_IMAGE}, #{Images.PHP_IMAGE}); a deploy adds
the tag `deployed-<environment>-<digest hex>` to each image it deploys, which the
repositories' lifecycle policy never expires.

An image reference is `[<registry>/]<repository>[:<tag>][@sha256:<64 hex>]`;
`parse_image_reference` splits one the way Docker does (the first path component is a
registry when it holds a '.' or ':' or is 'localhost'; otherwise the image is Docker Hub's).
"""
import re
from dataclasses import dataclass

from hooks.naming.namespaces import *  # noqa: F401,F403
from hooks.naming.namespaces import _namespace_name
from hooks.naming.resources import NGINX_CONTAINER, PHP_CONTAINER
from hooks.naming.delivery import _project_name, stack_name

IMAGES_STACK = "images"
IMAGES_BUILDSPEC = "buildspecs/images.yml"
# The containers of every tenant's task; each has its own repository <project>/<container>.
IMAGE_CONTAINERS = (NGINX_CONTAINER, PHP_CONTAINER)
# The Images action's CodePipeline variable namespace: deploy actions read #{Images.<VARIABLE>}.
IMAGES_VARIABLE_NAMESPACE = "Images"
# The commit the images were built from (their tag), exported next to the images.
IMAGE_TAG_VARIABLE = "IMAGE_TAG"
# What a deploy tags the images it deploys with; the lifecycle policy never expires them.
DEPLOYED_TAG_PREFIX = "deployed-"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
ECR_REGISTRY_PATTERN = (
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(-[a-z]+)+-[0-9])\.amazonaws\.com(\.cn)?$"
)
DOCKER_HUB = "docker.io"


def images_stack_name(project):
    return stack_name(_project_name(project), IMAGES_STACK)


def images_project_name(project):
    """The CodeBuild project (and its service role) that builds and pushes the project's images."""
    return "%s-%s" % (_project_name(project), IMAGES_STACK)


def _container(container):
    if container not in IMAGE_CONTAINERS:
        raise NamingError("container", container, "expected one of %s" % ", ".join(IMAGE_CONTAINERS))
    return container


def image_repository_prefix(project):
    """What the name of every image repository of a project starts with: '<project>/'."""
    return "%s/" % _project_name(project)


def image_repository_name(project, container):
    """The ECR repository of one container of a project's tenants: <project>/<container>."""
    return image_repository_prefix(project) + _container(container)


def image_variable(container):
    """The CodePipeline (and build) variable holding a container's image: NGINX_IMAGE, PHP_IMAGE."""
    return "%s_IMAGE" % _container(container).upper()


def image_setting(container):
    """The tenant env key of a container's image: nginx_image, php_image."""
    return "%s_image" % _container(container)


def ecr_registry(account, region, url_suffix="amazonaws.com"):
    """The host of an account's private ECR registry in a region."""
    return "%s.dkr.ecr.%s.%s" % (account, region, url_suffix)


def image_uri(registry, repository, digest):
    """An image pinned by digest: <registry>/<repository>@sha256:<hex>."""
    if not re.match(DIGEST_PATTERN, digest or ""):
        raise NamingError("image digest", digest, "expected sha256:<64 lower-case hex digits>")
    return "%s/%s@%s" % (registry, repository, digest)


def deployed_tag(namespace, digest):
    """The tag a deploy of `namespace` adds to an image it deploys: deployed-<environment>-<digest hex>.
    One per environment and image, so adding it again changes nothing (tags are immutable)."""
    if not re.match(DIGEST_PATTERN, digest or ""):
        raise NamingError("image digest", digest, "expected sha256:<64 lower-case hex digits>")
    environment = parse_namespace(_namespace_name(namespace)).environment
    return "%s%s-%s" % (DEPLOYED_TAG_PREFIX, environment, digest.split(":", 1)[1])


@dataclass(frozen=True)
class ImageReference:
    """An image reference split into registry, repository, tag and digest (either may be empty)."""

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def ecr_account_region(self):
        """(account, region) when the registry is a private ECR registry, else None."""
        match = re.match(ECR_REGISTRY_PATTERN, self.registry)
        return (match.group("account"), match.group("region")) if match else None

    def __str__(self):
        return "%s/%s%s%s" % (self.registry, self.repository, ":" + self.tag if self.tag else "",
                              "@" + self.digest if self.digest else "")


def parse_image_reference(value, field="image"):
    """Split an image reference the way Docker does; NamingError when it is not one."""
    name, at, digest = str(value or "").partition("@")
    if at and not re.match(DIGEST_PATTERN, digest):
        raise NamingError(field, value, "expected a digest sha256:<64 lower-case hex digits> after '@'")
    tag = ""
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if not repository or not re.match(r"^[a-z0-9]+([._/-][a-z0-9]+)*$", repository):
        raise NamingError(field, value, "expected [<registry>/]<repository>[:<tag>][@sha256:<digest>]")
    return ImageReference(registry, repository, tag, digest)
