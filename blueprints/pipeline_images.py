"""A customer project's container images: stack <project>-images.

One ECR repository per container of the tenants' task (hooks.naming.image_repository_name:
`<project>/nginx`, `<project>/php`), shared by the project's namespaces: dev, qa and prod
run the same images, promoted by digest. Each repository

- has immutable tags: a tag names one image for good (the Images stage tags by commit, a
  deploy adds `deployed-<environment>-<digest hex>`; adding a new tag to an image is allowed);
- scans every push (basic scanning);
- is encrypted with AES256 (ECR's S3-managed keys), not with the project's pipeline key: the
  images are what every task of the project pulls at start, so a key that a pipeline
  teardown disables or schedules for deletion would stop every tenant's new tasks; and ECR
  decrypts pulls through its own grant on a customer key, so the key policy would narrow
  nobody's access: IAM (the roles that name `repository/<project>/*`) decides who pulls;
- is kept when the stack goes (DeletionPolicy Retain): live task definitions pull from it;
- carries the project's tags and the lifecycle policy `lifecycle_policy`.

ECR lifecycle rules cannot see task definitions, so the policy works with tags and rule
priorities: "an image that matches the tagging requirements of a rule cannot be expired by a
rule with a lower priority". Rule 1 selects every image a deploy tagged `deployed-*` and
expires only beyond DEPLOYED_IMAGES_KEPT of them (never, in practice); rule 2 expires
untagged images a day after their push; rule 3 keeps the `ImageBuildsKept` most recent
pushes of the rest (builds no deploy ran) and expires older ones. docs/delivery.md, "Images",
says what that guarantees and where it stops.
"""
import json

from troposphere import GetAtt, Ref, ecr

from blueprints.project_base import ProjectBlueprint
from hooks import naming

NGINX_REPOSITORY, PHP_REPOSITORY = "NginxRepository", "PhpRepository"
REPOSITORIES = {naming.NGINX_CONTAINER: NGINX_REPOSITORY, naming.PHP_CONTAINER: PHP_REPOSITORY}
# Rule 1's count: an image tagged deployed-* expires only once this many newer ones carry the
# tag in the same repository. ECR's default quota of images per repository is 10,000.
DEPLOYED_IMAGES_KEPT = 10000
UNTAGGED_IMAGE_DAYS = 1
BUILDS_KEPT_RANGE = (1, 1000)


class ProjectImages(ProjectBlueprint):
    DESCRIPTION = "tenantstack: the container image repositories of a customer project"
    VARIABLES = {
        "ImageBuildsKept": {
            "type": int,
            "default": 30,
            "description": "Images per repository kept that no deploy ran (the most recent pushes)",
        },
    }

    def validate(self, variables):
        low, high = BUILDS_KEPT_RANGE
        if not low <= variables["ImageBuildsKept"] <= high:
            self.fail("ImageBuildsKept", variables["ImageBuildsKept"], "expected %d to %d images" % (low, high))

    def build(self, variables):
        policy = lifecycle_policy(variables["ImageBuildsKept"])
        for container, logical_id in REPOSITORIES.items():
            self.repository(logical_id, container, policy)
            self.output(logical_id, "Name", Ref(logical_id), "The %s image repository" % container)
            self.output(logical_id, "Arn", GetAtt(logical_id, "Arn"))
            self.output(logical_id, "Uri", GetAtt(logical_id, "RepositoryUri"))

    def repository(self, logical_id, container, policy):
        self.add_resource(
            ecr.Repository(
                logical_id,
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
                RepositoryName=naming.image_repository_name(self.namespace, container),
                ImageTagMutability="IMMUTABLE",
                ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
                EncryptionConfiguration=ecr.EncryptionConfiguration(EncryptionType="AES256"),
                LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=json.dumps(policy, separators=(",", ":"))),
            )
        )


def lifecycle_policy(builds_kept):
    """The repositories' lifecycle policy (the module docstring): deployed images stay, untagged
    ones go after a day, the `builds_kept` most recent other pushes stay."""
    return {
        "rules": [
            rule(1, "Keep every image a deploy ran (tag %s<environment>-<digest>)" % naming.DEPLOYED_TAG_PREFIX,
                 {"tagStatus": "tagged", "tagPrefixList": [naming.DEPLOYED_TAG_PREFIX],
                  "countType": "imageCountMoreThan", "countNumber": DEPLOYED_IMAGES_KEPT}),
            rule(2, "Expire untagged images a day after their push",
                 {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                  "countNumber": UNTAGGED_IMAGE_DAYS}),
            rule(3, "Keep the %d most recent builds no deploy ran" % builds_kept,
                 {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": builds_kept}),
        ]
    }


def rule(priority, description, selection):
    return {"rulePriority": priority, "description": description, "selection": selection,
            "action": {"type": "expire"}}
