"""The pipeline's snapshot of its dev namespace (pipeline env key `data_source: snapshot`).

With `data_source: snapshot`, the pipeline promotes what dev has right after its deploy:
the Dev stage's Snapshot action runs the CodeBuild project `<dev namespace>-snapshot`
(buildspecs/snapshot.yml: `tenantstack snapshot <dev namespace> --json`), which exports the
snapshot's timestamp as #{Snapshot.DB_TIMESTAMP}; the qa and prod deploy actions receive it
as DB_TIMESTAMP and deploy exactly that timestamp (blueprints/pipeline.py). The project, its
role and its log group live in the dev namespace's own `<namespace>-deploy` stack
(blueprints/pipeline_deploy.py), so they carry its tags and the isolation proof judges the
role as the dev namespace's.

The role may take that snapshot and nothing else: read `/<dev>/db/active`, CreateDBSnapshot
of the namespace's databases `<dev>-db-*` into snapshots `<dev>-<timestamp>` that the request
tags Namespace=<dev> (tagging a snapshot on create needs AddTagsToResource too), and describe
those snapshots while it waits; and capture the database's files with it (hooks/ops/capture_files.py):
read the tier stack for the files bucket, copy `<dev>/files/<active>/` to `<dev>/files/<ts>/`,
and delete a failed capture's files. It cannot delete, copy, restore or share a snapshot.
"""
from awacs import rds, ssm
from awacs.aws import Allow, Condition, PolicyDocument, StringEquals
from troposphere import Ref, iam

from blueprints import codebuild
from blueprints import deploy_actions as actions
from blueprints.deploy_files import file_statements
from blueprints.iam import CODEBUILD_PRINCIPAL, POLICY_VERSION, Statement, arn, trust_policy
from blueprints.pipeline_iam import project_build_statements
from hooks import naming

PROJECT, ROLE, LOG_GROUP = "SnapshotProject", "SnapshotRole", "SnapshotLogGroup"
POINTER_READ_ACTIONS = [ssm.GetParameter]
SNAPSHOT_CREATE_ACTIONS = [rds.AddTagsToResource, rds.CreateDBSnapshot]
SNAPSHOT_READ_ACTIONS = [rds.DescribeDBSnapshots]


def takes_snapshots(namespace, data_source):
    """Whether `namespace`'s deploy stack holds the pipeline's snapshot build: the project's dev
    namespace (the first stage, whose snapshots qa and prod restore) with data_source snapshot."""
    if data_source not in naming.DATA_SOURCES:
        raise ValueError("data_source %r is invalid: expected one of %s" % (data_source, ", ".join(naming.DATA_SOURCES)))
    return data_source == "snapshot" and namespace.environment == naming.PIPELINE_ENVIRONMENTS[0]


def snapshot_policy(namespace, bucket_parameter, key_parameter, files_parameter):
    """The snapshot build's role: the build's own needs, one snapshot of the active database, and its files
    (the tier stack read for the files bucket, `<dev>/files/*` read, copied and, on a failed capture, deleted:
    what a dev namespace's deploy role may do with its files, blueprints/deploy_files.py)."""
    ns = naming.parse_namespace(str(namespace))
    build_project = naming.snapshot_project_name(ns)
    project = naming.parse_project(ns.project_key)
    snapshots = arn("rds", naming.source_snapshots_arn_resource(ns))
    statements = project_build_statements(build_project, project, bucket_parameter, key_parameter) + [
        Statement(
            Sid="ReadActivePointer", Effect=Allow, Action=POINTER_READ_ACTIONS,
            Resource=[arn("ssm", "parameter%s" % naming.ssm_active_parameter(ns))],
        ),
        Statement(
            Sid="SnapshotActiveDatabase", Effect=Allow, Action=SNAPSHOT_CREATE_ACTIONS,
            Resource=[arn("rds", naming.databases_arn_resource(ns, "db")), snapshots],
            Condition=Condition(StringEquals(naming.request_tag_key(), ns.name)),
        ),
        Statement(Sid="FollowSnapshots", Effect=Allow, Action=SNAPSHOT_READ_ACTIONS, Resource=[snapshots]),
        Statement(
            Sid="ReadTierStack", Effect=Allow, Action=actions.STACK_READ_ACTIONS,
            Resource=[arn("cloudformation", naming.stack_arn_resource(ns.shared_namespace))],
        ),
    ] + file_statements(ns, ns, {"files_bucket": files_parameter, "source_files_bucket": files_parameter})
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)


def add_snapshot_build(blueprint, namespace, variables, bucket_parameter, key_parameter, files_parameter):
    """Add the snapshot build's log group, role and project to `blueprint` (a TenantDeployProject)."""
    name = naming.snapshot_project_name(namespace)
    blueprint.add_resource(codebuild.log_group(LOG_GROUP, name, variables["LogRetentionDays"], key_parameter))
    blueprint.add_resource(
        iam.Role(
            ROLE,
            RoleName=name,
            Description="Snapshots the active database of %s for the %s pipeline" % (
                namespace, naming.pipeline_name(namespace.project_key)),
            AssumeRolePolicyDocument=trust_policy(CODEBUILD_PRINCIPAL),
            Policies=[iam.Policy(PolicyName="snapshot",
                                 PolicyDocument=snapshot_policy(namespace, bucket_parameter, key_parameter,
                                                                files_parameter))],
        )
    )
    blueprint.add_resource(
        codebuild.project(
            PROJECT, name,
            "Snapshots %s's active database for qa and prod: tenantstack snapshot %s" % (namespace, namespace),
            naming.SNAPSHOT_BUILDSPEC, ROLE, LOG_GROUP,
            {"image": variables["BuildImage"], "timeout": variables["TimeoutMinutes"],
             "bucket_parameter": bucket_parameter, "key_parameter": key_parameter},
            environment=[("SNAPSHOT_NAMESPACE", str(namespace))],
        )
    )
    blueprint.output(PROJECT, "Name", Ref(PROJECT), "The CodeBuild project the pipeline's Snapshot action runs")
