"""pre_build: the images a deploy runs exist, come from where they may, and are kept while they may run.

Layers: `image_problems` (pure: judges the nginx_image and php_image a deploy got against
this account and region), `describe_image` and `protect_image` (AWS: one image of a project
repository), `check_and_protect_images` (the stacker hook).

Where an image may come from (docs/application.md, "Bring your own images"):

- the project's own repository of that container in this account and region,
  `<account>.dkr.ecr.<region>.amazonaws.com/<project>/<container>`, pinned by digest: what
  the pipeline's Images stage builds (buildspecs/images.yml), the only ECR repositories the
  task's execution role may pull (`repository/<project>/*`, blueprints/service_iam.py);
- a registry of EXTERNAL_REGISTRIES, pinned as the env file's image rule says: Amazon ECR
  Public, which Fargate pulls without credentials. Docker Hub is not one: its anonymous pull
  limit counts per source address, and every tenant of a tier pulls through the same NAT.

Anything else is bad input and refused before any change, naming the value and the rule:
another account's or region's registry, another project's or container's repository (the
execution role could not pull it: the tasks would never start), any other registry. A project
image must exist (DescribeImages by digest); a missing one is bad input too.

Only once every image has passed does the hook change anything: it tags each project image
`deployed-<environment>-<digest hex>` (hooks.naming.deployed_tag: PutImage of the same
manifest under a new tag; the repositories' tags are immutable, and adding one is allowed),
which the repositories' lifecycle policy never expires (blueprints/pipeline_images.py). The
tag goes on before any task definition names the image and stays when the deploy fails: an
image kept that did not run costs storage, nothing else.
"""
import logging
from dataclasses import dataclass

from botocore.exceptions import ClientError

from hooks import aws, naming
from hooks.errors import BadInput
from hooks.steps.wiring import stacker_hook

logger = logging.getLogger(__name__)

# Registries outside this account whose images a tenant may run (pinned, never :latest).
EXTERNAL_REGISTRIES = ("public.ecr.aws",)
# Every manifest type ECR stores: BatchGetImage returns the manifest as pushed, byte for byte.
MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]


@dataclass(frozen=True)
class ProjectImage:
    """An image of one of the project's repositories, pinned by digest."""

    container: str
    repository: str
    digest: str
    reference: str


def uses_project_registry(settings):
    """True when an image of the deploy is in a private ECR registry (then the account matters)."""
    references = [_reference(settings, container)[0] for container in naming.IMAGE_CONTAINERS]
    return any(reference is not None and reference.ecr_account_region is not None for reference in references)


def _reference(settings, container):
    """(ImageReference or None, problem or None) of a container's image setting."""
    key = naming.image_setting(container)
    try:
        return naming.parse_image_reference(settings[key], "env key %s" % key), None
    except naming.NamingError as error:
        return None, str(error)


def image_problems(settings, account, region):
    """(the project images to check and protect, every problem) of the deploy's images.

    account, region: where the deploy runs (account None: no image needs it)."""
    namespace = naming.parse_namespace(settings["namespace"])
    registry = naming.ecr_registry(account or "<account>", region)
    images, problems = [], []
    for container in naming.IMAGE_CONTAINERS:
        key = naming.image_setting(container)
        value = settings[key]
        reference, problem = _reference(settings, container)
        own = naming.image_repository_name(namespace.project_key, container)
        expected = "expected %s/%s@sha256:<digest> (project %s's %s repository in this account and region) or an " \
                   "image of %s" % (registry, own, namespace.project_key, container, " or ".join(EXTERNAL_REGISTRIES))
        located = reference.ecr_account_region if reference else None
        if problem:
            problems.append(problem)
        elif located is None and reference.registry not in EXTERNAL_REGISTRIES:
            problems.append(_rule(key, value, "%s; registry %s is not allowed" % (expected, reference.registry)))
        elif located is None:
            continue
        elif located != (account, region):
            problems.append(_rule(key, value, "%s; this is account %s, region %s, which the task's execution role "
                                              "cannot pull from" % (expected, located[0], located[1])))
        elif reference.repository != own:
            problems.append(_rule(key, value, "%s; repository %s is not it" % (expected, reference.repository)))
        elif not reference.digest:
            problems.append(_rule(key, value, "%s; pin it by digest, not by tag %s" % (expected, reference.tag)))
        else:
            images.append(ProjectImage(container, own, reference.digest, value))
    return images, problems


def _rule(key, value, rule):
    return str(naming.NamingError("env key %s" % key, value, rule))


def describe_image(ecr, repository, digest):
    """The repository's image of `digest` (DescribeImages' imageDetail), or None when it has none."""
    found = aws.or_none(ecr.describe_images, ("ImageNotFoundException", "RepositoryNotFoundException"),
                        repositoryName=repository, imageIds=[{"imageDigest": digest}])
    details = (found or {}).get("imageDetails") or []
    return details[0] if details else None


def protect_image(ecr, repository, digest, tag):
    """Add `tag` to the image of `digest`: its manifest, byte for byte, put again under the tag.
    "tagged", or "already tagged" when the image has the tag."""
    found = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}],
                                acceptedMediaTypes=MANIFEST_MEDIA_TYPES)
    if not found.get("images"):
        raise BadInput("image %s@%s cannot be tagged %s: the repository no longer has it (%s)"
                       % (repository, digest, tag, found.get("failures")))
    image = found["images"][0]
    put = {"repositoryName": repository, "imageManifest": image["imageManifest"], "imageTag": tag,
           "imageDigest": digest}
    if image.get("imageManifestMediaType"):
        put["imageManifestMediaType"] = image["imageManifestMediaType"]
    try:
        ecr.put_image(**put)
    except ClientError as error:
        if aws.error_code(error) == "ImageAlreadyExistsException":
            return "already tagged"
        raise
    return "tagged"


def missing_problem(image):
    return ("image %s is not in repository %s: push it first (the pipeline's Images stage does), or pin one that "
            "exists (aws ecr describe-images --repository-name %s)" % (image.reference, image.repository,
                                                                        image.repository))


@stacker_hook()
def check_and_protect_images(run):
    """pre_build hook: refuse images that may not run here or do not exist, then tag the project's as deployed."""
    account = run.client("sts").get_caller_identity()["Account"] if uses_project_registry(run.settings) else None
    ecr = run.client("ecr")
    images, problems = image_problems(run.settings, account, ecr.meta.region_name)
    details = {} if problems else {image: describe_image(ecr, image.repository, image.digest) for image in images}
    problems += [missing_problem(image) for image, detail in details.items() if detail is None]
    if problems:
        raise BadInput("the images of %s cannot be deployed: %s" % (run.namespace, "; ".join(problems)))
    protected = {}
    for image, detail in details.items():
        tag = naming.deployed_tag(run.namespace, image.digest)
        already = tag in (detail.get("imageTags") or [])
        protected[image.container] = "already tagged" if already else protect_image(
            ecr, image.repository, image.digest, tag)
        logger.info("image %s: %s %s, which the repository's lifecycle policy keeps", image.reference,
                    protected[image.container], tag)
    if not images:
        logger.info("images of %s: none in the project's repositories, nothing to check or tag", run.namespace)
    return {"status": "valid", "images": {image.container: image.reference for image in images},
            "protected": protected}
