"""Names of a project's CodeBuild fleet (`tenantstack deploy --fleet --on codebuild`, docs/delivery.md).

One batch-enabled CodeBuild project per customer project, `<project>-fleet` (stack
`<project>-fleet`, stacker/pipeline.yaml), runs one build per tenant of a fleet. Its
builds' role is `<project>-fleet`; the batch service role, which starts and stops the
batch's builds, is `<project>-fleet-batch`. A build of the batch is named in the
batch buildspec by its identifier: the namespace with `_` for `-` (CodeBuild allows
letters, digits and underscores), so every namespace maps to one identifier and back.
"""
import re

from hooks.naming.delivery import _project_name
from hooks.naming.namespaces import NamingError, _namespace_name, parse_namespace

FLEET_STACK = "fleet"
FLEET_BUILDSPEC = "buildspecs/fleet.yml"
BATCH_IDENTIFIER_PATTERN = r"^[A-Za-z0-9_]+$"


def fleet_project_name(project):
    """The batch-enabled CodeBuild project (and its builds' role) that deploys a project's fleets."""
    return "%s-%s" % (_project_name(project), FLEET_STACK)


def fleet_stack_name(project):
    return fleet_project_name(project)


def fleet_batch_role_name(project):
    """The batch service role: CodeBuild uses it to start and stop the builds of a batch."""
    return "%s-batch" % fleet_project_name(project)


def batch_build_identifier(namespace):
    """xy-0146-qa -> xy_0146_qa: the build's identifier in a batch buildspec."""
    return _namespace_name(namespace).replace("-", "_")


def namespace_of_batch_identifier(identifier):
    """xy_0146_qa -> xy-0146-qa; NamingError for an identifier no namespace maps to."""
    if not isinstance(identifier, str) or not re.match(BATCH_IDENTIFIER_PATTERN, identifier):
        raise NamingError("identifier", identifier, "expected letters, digits and underscores")
    return parse_namespace(identifier.replace("_", "-")).name
