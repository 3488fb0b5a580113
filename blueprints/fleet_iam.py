"""The IAM policies of a project's fleet project (`<project>-fleet`, blueprints/pipeline_fleet.py).

Two roles, as CodeBuild's batch builds ask ("Run builds in batches", "Security role"):

- The builds' role `<project>-fleet` deploys the project's namespaces and no other: the union
  of what each namespace's own deploy role may do (blueprints/deploy_iam.py, the same statement
  builders, so the two can never drift apart), without the deploy build's own needs (its
  project, its status artifact) and with the fleet build's (its logs, cache, key, the
  repository it checks out). Statements that differ only in their resources are merged into
  one (an exact union: same effect, actions and conditions); the rest, which differ in a
  condition naming the namespace (a tag, a permissions boundary), stay one per namespace
  with the namespace in their Sid, so no namespace's condition ever applies to another's
  resources. The union is packed into managed policies of at most PACK_CHARACTERS each
  (IAM allows 6,144 per managed policy and 10 managed policies per role by default).
- The batch service role `<project>-fleet-batch`, which CodeBuild uses to start the batch's
  builds: StartBuild, StopBuild and RetryBuild of this project only. The builds' role has
  none of them, so a build cannot start builds around the batch's restrictions.
"""
import json

from awacs import codebuild, codecommit, codeconnections, codestar_connections
from awacs.aws import Allow, PolicyDocument
from troposphere import encode_to_dict

from blueprints import deploy_iam
from blueprints.deploy_files import file_statements
from blueprints.iam import POLICY_VERSION, Statement, arn
from blueprints.pipeline_iam import (
    BUILD_BUCKET_ACTIONS, locate_artifact_bucket, use_artifact_key, use_build_cache, write_build_logs,
)
from hooks import naming

PACK_CHARACTERS = int(0.8 * 6144)  # room to grow, as the deploy roles' policies keep
BATCH_ACTIONS = [codebuild.StartBuild, codebuild.StopBuild, codebuild.RetryBuild]
CONNECTION_ACTIONS = {
    "codestar-connections": [codestar_connections.UseConnection, codestar_connections.GetConnectionToken],
    "codeconnections": [codeconnections.UseConnection, codeconnections.GetConnectionToken],
}


def namespace_statements(ns, source, parameters):
    """What the deploy role of `ns` may do, without the deploy build's own statements."""
    return (deploy_iam.stack_statements(ns) + deploy_iam.service_statements(ns) + deploy_iam.network_statements(ns)
            + deploy_iam.data_statements(ns, source, parameters) + deploy_iam.image_statements(ns)
            + deploy_iam.gate_statements(ns) + deploy_iam.monitoring_statements(ns)
            + file_statements(ns, source, parameters))


def union(statements_by_namespace):
    """[(namespace, statement)] -> statements: equal but for Resource merged, the others' Sids made unique."""
    merged, order = {}, []
    for ns, statement in statements_by_namespace:
        shape = encode_to_dict(statement)
        resources = shape.pop("Resource")
        key = json.dumps(shape, sort_keys=True)
        if key not in merged:
            merged[key] = (shape, [], [])
            order.append(key)
        found = merged[key]
        found[2].append(ns)
        for resource in resources if isinstance(resources, list) else [resources]:
            if resource not in found[1]:
                found[1].append(resource)
    sids = {}
    for key in order:
        sids.setdefault(merged[key][0]["Sid"], []).append(key)
    result = []
    for key in order:
        shape, resources, namespaces = merged[key]
        if len(sids[shape["Sid"]]) > 1:  # differs by namespace: its Sid names the namespaces it covers
            shape = dict(shape, Sid=shape["Sid"] + "".join(
                part.capitalize() for ns in namespaces for part in ns.split("-")))
        result.append(dict(shape, Resource=resources))
    return result


def pack(statements, limit=PACK_CHARACTERS):
    """Statements in order, in as few documents of at most `limit` characters as that order allows."""
    documents, current = [], []
    for statement in statements:
        if current and size(current + [statement]) > limit:
            documents.append(current)
            current = []
        current.append(statement)
    return [{"Version": POLICY_VERSION, "Statement": chunk} for chunk in documents + [current]]


def size(statements):
    return len(json.dumps({"Version": POLICY_VERSION, "Statement": statements}, separators=(",", ":")))


def source_statement(source, source_resource):
    """Check out the project's repository: a CodeCommit repository, or through the CodeStar connection."""
    if source == "codecommit":
        return Statement(Sid="CheckOutRepository", Effect=Allow, Action=[codecommit.GitPull],
                         Resource=[arn("codecommit", source_resource)])
    service = source_resource.split(":")[2]
    return Statement(Sid="CheckOutThroughConnection", Effect=Allow, Action=CONNECTION_ACTIONS[service],
                     Resource=[source_resource])


def build_statements(project, source, source_resource, bucket_parameter, key_parameter):
    """The fleet build's own needs: its logs, its cache, the bucket and key, its source."""
    name = naming.fleet_project_name(project)
    return [
        write_build_logs(name),
        use_build_cache(name, bucket_parameter),
        locate_artifact_bucket(bucket_parameter, BUILD_BUCKET_ACTIONS),
        use_artifact_key(key_parameter),
        source_statement(source, source_resource),
    ]


def fleet_policies(project, namespaces, parameters_of, source, source_resource, bucket_parameter, key_parameter):
    """The builds' role's managed policy documents. parameters_of(ns): deploy_iam's parameters for `ns`."""
    pairs = []
    for ns in namespaces:
        source_ns = naming.parse_namespace(ns.default_source_namespace)
        pairs += [(ns.name, statement) for statement in namespace_statements(ns, source_ns, parameters_of(ns))]
    own = [encode_to_dict(statement) for statement in
           build_statements(project, source, source_resource, bucket_parameter, key_parameter)]
    return pack(union(pairs) + own)


def batch_policy(project):
    """The batch service role: start, stop and retry the builds of this project only."""
    return PolicyDocument(Version=POLICY_VERSION, Statement=[Statement(
        Sid="RunTheBatchsBuilds", Effect=Allow, Action=BATCH_ACTIONS,
        Resource=[arn("codebuild", naming.codebuild_project_arn_resource(naming.fleet_project_name(project)))],
    )])
