"""The isolation proof: no role reaches another tenant's resources; each role can do its job.

See tests/security/isolation.py for what is asked. Every pair (role's namespace A,
tenant B) with A != B is covered; shared-tier roles are checked against every tenant.
"""
import fnmatch
import json
import shutil

import pytest

from hooks import naming
from tests.security import iam_eval, isolation, widening
from tests.security.allowlist import judge, report
from tests.security.world import ACCOUNT, PARTITION, TEMPLATES, World

WORLD = World()
ROLES = isolation.roles(WORLD)
TENANTS = isolation.tenant_namespaces(WORLD)
RESOURCE_POLICIES = isolation.resource_policies(WORLD)
STREAM = "php/php/0123abcd"


def role_id(role):
    return role.where


# What each role must be able to do, from what the application and AWS do with it:
# (action, resource ARN, extra context). Keyed by "<stack>.json#<LogicalId>"; `ns` is the
# role's namespace. A role that appears in a template without an entry here fails.
def project_repository(project, container="php"):
    return isolation.arn("ecr", "repository/%s" % naming.image_repository_name(project, container))


def needs_of_execution_role(ns):
    log_group = naming.log_group_name(ns)
    repository = project_repository(naming.parse_namespace(ns).project_key)
    return [
        ("ecr:GetAuthorizationToken", "*", {}),
        ("ecr:BatchCheckLayerAvailability", repository, {}),
        ("ecr:BatchGetImage", repository, {}),
        ("ecr:GetDownloadUrlForLayer", repository, {}),
        ("logs:CreateLogStream", isolation.arn("logs", "log-group:%s:log-stream:%s" % (log_group, STREAM)), {}),
        ("logs:PutLogEvents", isolation.arn("logs", "log-group:%s:log-stream:%s" % (log_group, STREAM)), {}),
        ("secretsmanager:GetSecretValue", isolation.arn(
            "secretsmanager", "secret:%s-%s" % (naming.db_secret_name(ns), isolation.SECRET_SUFFIX)), {}),
        # php's credentials: the application user's secret.
        ("secretsmanager:GetSecretValue", isolation.arn(
            "secretsmanager", "secret:%s-%s" % (naming.db_app_secret_name(ns), isolation.SECRET_SUFFIX)), {}),
    ]


def needs_of_task_role(ns):
    bucket = isolation.tier_output(WORLD, ns, "AppFilesBucketName")
    file_arn = "arn:%s:s3:::%s/%suploads/report.pdf" % (PARTITION, bucket, naming.s3_prefix(ns))
    return [
        ("ssm:GetParameter", isolation.arn("ssm", "parameter" + naming.ssm_active_parameter(ns)), {}),
        ("ssm:GetParametersByPath", isolation.arn("ssm", "parameter" + naming.ssm_db_path(ns).rstrip("/")), {}),
        ("s3:GetObject", file_arn, {}),
        ("s3:PutObject", file_arn, {}),
        ("s3:DeleteObject", file_arn, {}),
        ("s3:ListBucket", "arn:%s:s3:::%s" % (PARTITION, bucket), {"s3:prefix": naming.s3_prefix(ns) + "uploads/"}),
    ]


def needs_of_flow_log_role(shared):
    group = naming.flow_log_group_name(shared)
    stream = isolation.arn("logs", "log-group:%s:log-stream:eni-0123-all" % group)
    return [("logs:CreateLogStream", stream, {}), ("logs:PutLogEvents", stream, {})]


def needs_of_deploy_role(ns):
    """A tenant's CodeBuild deploy role: one promotion (docs/pipeline.md), nothing more."""
    settings = WORLD.stacks[naming.service_stack_name(ns)].settings
    timestamp, tier = settings["db_timestamp"], settings["shared_namespace"]
    instance = isolation.arn("rds", "db:%s" % naming.db_instance_id(ns, timestamp))
    source = isolation.arn("rds", "snapshot:%s" % naming.snapshot_id(settings["source_namespace"], timestamp))
    final = isolation.arn("rds", "snapshot:%s" % naming.final_snapshot_id(ns, timestamp, timestamp))
    copy = isolation.arn("rds", "snapshot:%s" % naming.restore_snapshot_id(ns, timestamp))
    secret = isolation.arn("secretsmanager", "secret:%s-%s" % (naming.db_secret_name(ns), isolation.SECRET_SUFFIX))
    stack = isolation.arn("cloudformation", "stack/%s/0a1b2c3d" % naming.db_stack_name(ns, timestamp))
    repository = project_repository(naming.parse_namespace(ns).project_key, "nginx")
    return [
        # hooks.steps.images: the digest exists, then it is tagged deployed-<environment>-<digest>.
        ("ecr:DescribeImages", repository, {}),
        ("ecr:BatchGetImage", repository, {}),
        ("ecr:PutImage", repository, {}),
        ("ssm:PutParameter", isolation.arn("ssm", "parameter" + naming.ssm_active_parameter(ns)), {}),
        ("ssm:PutParameter", isolation.arn("ssm", "parameter" + naming.ssm_lock_parameter(ns)), {}),
        ("ssm:DeleteParameter", isolation.arn("ssm", "parameter" + naming.ssm_lock_parameter(ns)), {}),
        ("secretsmanager:CreateSecret", secret, {}),
        ("secretsmanager:GetSecretValue", secret, {}),
        ("rds:DescribeDBSnapshots", source, {}),
        # hooks.steps.tier_copy: the source copied under the tier key as <ns>-<ts>, which the database restores.
        ("rds:CopyDBSnapshot", source, {"aws:RequestTag/Namespace": ns}),
        ("rds:CopyDBSnapshot", copy, {"aws:RequestTag/Namespace": ns}),
        ("rds:AddTagsToResource", copy, {}),
        ("rds:DescribeDBSnapshots", copy, {}),
        ("rds:RestoreDBInstanceFromDBSnapshot", copy, {}),
        # within a tier the database restores the source snapshot as it is (naming.restores_from)
        ("rds:RestoreDBInstanceFromDBSnapshot", source, {}),
        ("rds:DeleteDBSnapshot", copy, {"aws:ResourceTag/%s" % naming.COPIED_FROM_TAG: "x"}),
        ("rds:CreateDBSnapshot", final, {}),
        # hooks.steps.retention: its own final snapshots, the pipeline's (tag RetiredFrom).
        ("rds:DeleteDBSnapshot", final, {"aws:ResourceTag/%s" % naming.RETIRED_FROM_TAG: naming.db_instance_id(ns, timestamp)}),
        ("rds:DeleteDBInstance", instance, {}),
        ("cloudformation:CreateStack", stack, {}),
        ("cloudformation:DeleteStack", stack, {}),
        ("ecs:UpdateService", isolation.arn("ecs", "service/%s/%s" % (naming.cluster_name(tier), naming.service_name(ns))), {}),
        # hooks.steps.credentials: the application user's secret too.
        ("secretsmanager:CreateSecret", isolation.arn(
            "secretsmanager", "secret:%s-%s" % (naming.db_app_secret_name(ns), isolation.SECRET_SUFFIX)), {}),
        ("ssm:PutParameter", isolation.arn("ssm", "parameter" + naming.ssm_app_secret_arn_parameter(ns)), {}),
        # hooks.steps.stable: the service's tasks, their targets' health, and why new tasks stopped.
        ("ecs:ListTasks", isolation.arn("ecs", "container-instance/%s/*" % naming.cluster_name(tier)),
         {"ecs:cluster": isolation.arn("ecs", "cluster/%s" % naming.cluster_name(tier))}),
        ("ecs:DescribeTasks", isolation.arn("ecs", "task/%s/0a1b2c3d4e5f" % naming.cluster_name(tier)),
         {"aws:ResourceTag/%s" % naming.NAMESPACE_TAG: ns}),
        ("elasticloadbalancing:DescribeTargetHealth", "*", {}),
        ("logs:GetLogEvents", isolation.arn("logs", "log-group:%s:log-stream:%s" % (
            naming.log_group_name(ns), naming.container_log_stream(naming.MIGRATE_CONTAINER, "0123abcd"))), {}),
        # The service and database stacks' alarms (CloudFormation), the stable gate's bake reading them.
        ("cloudwatch:PutMetricAlarm", alarm(naming.alarm_name(ns, "target-5xx-rate")), {}),
        ("cloudwatch:DescribeAlarms", alarm(naming.alarm_name(ns, "unhealthy-hosts")), {}),
        ("cloudwatch:TagResource", alarm(naming.db_alarm_name(ns, timestamp, "cpu")), {}),
        ("cloudwatch:DeleteAlarms", alarm(naming.db_alarm_name(ns, timestamp, "connections")), {}),
        # The database stack's log groups, created before RDS would create them unencrypted.
        ("logs:CreateLogGroup", isolation.arn("logs", "log-group:%s" % naming.rds_log_group_name(
            naming.db_instance_id(ns, timestamp), "slowquery")), {}),
        ("logs:PutRetentionPolicy", isolation.arn("logs", "log-group:%s" % naming.rds_log_group_name(
            naming.db_instance_id(ns, timestamp), "error")), {}),
    ] + needs_of_files(settings["source_namespace"], timestamp, ns, timestamp)


def needs_of_files(source, source_timestamp, ns, timestamp):
    """A data set's files copied (hooks.steps.files, hooks/ops/capture_files.py): `<source>/files/<ts>/` read and
    listed in its tier's bucket, `<ns>/files/<ts>/` written, listed and (retention, a failed capture) deleted."""
    def files(namespace, stamp):
        bucket = isolation.tier_output(WORLD, namespace, "AppFilesBucketName")
        prefix = naming.files_prefix(namespace, stamp)
        return "arn:%s:s3:::%s/%suploads/a.png" % (PARTITION, bucket, prefix), "arn:%s:s3:::%s" % (
            PARTITION, bucket), {"s3:prefix": prefix}

    read, read_bucket, read_prefix = files(source, source_timestamp)
    own, own_bucket, own_prefix = files(ns, timestamp)
    return [
        ("s3:GetObject", read, {}), ("s3:ListBucket", read_bucket, read_prefix),
        ("s3:PutObject", own, {}), ("s3:GetObject", own, {}), ("s3:DeleteObject", own, {}),
        ("s3:ListBucket", own_bucket, own_prefix),
    ]


def alarm(name):
    return isolation.arn("cloudwatch", "alarm:%s" % name)


def needs_of_pipeline_role(project):
    projects = [naming.deploy_project_name(t) for t in TENANTS if t.startswith(project + "-")]
    return [("codebuild:StartBuild", isolation.arn("codebuild", "project/%s" % name), {}) for name in projects]


def needs_of_check_role(project):
    group = naming.codebuild_log_group_name(naming.check_project_name(project))
    stream = isolation.arn("logs", "log-group:%s:log-stream:0123abcd" % group)
    return [("logs:CreateLogStream", stream, {}), ("logs:PutLogEvents", stream, {})]


def needs_of_images_role(project):
    """docker login and push of both images, the digest read back (buildspecs/images.yml), its logs."""
    group = naming.codebuild_log_group_name(naming.images_project_name(project))
    stream = isolation.arn("logs", "log-group:%s:log-stream:0123abcd" % group)
    push = ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:DescribeImages")
    return [("ecr:GetAuthorizationToken", "*", {})] + [
        (action, project_repository(project, container), {})
        for container in naming.IMAGE_CONTAINERS for action in push
    ] + [("logs:CreateLogStream", stream, {}), ("logs:PutLogEvents", stream, {})]


def needs_of_snapshot_role(ns):
    """The pipeline's snapshot of dev (data_source snapshot, buildspecs/snapshot.yml): `tenantstack snapshot`."""
    active = WORLD.stacks[naming.service_stack_name(ns)].settings["db_timestamp"]
    snapshot = isolation.arn("rds", "snapshot:%s" % naming.snapshot_id(ns, "20261201t101500z"))
    tagged = {naming.request_tag_key(): ns}
    group = naming.codebuild_log_group_name(naming.snapshot_project_name(ns))
    stream = isolation.arn("logs", "log-group:%s:log-stream:0123abcd" % group)
    return [
        ("ssm:GetParameter", isolation.arn("ssm", "parameter" + naming.ssm_active_parameter(ns)), {}),
        ("rds:CreateDBSnapshot", isolation.arn("rds", "db:%s" % naming.db_instance_id(ns, active)), tagged),
        ("rds:CreateDBSnapshot", snapshot, tagged),
        ("rds:AddTagsToResource", snapshot, tagged),
        ("rds:DescribeDBSnapshots", snapshot, {}),
        ("logs:CreateLogStream", stream, {}),
        ("logs:PutLogEvents", stream, {}),
        # its files captured with it (hooks/ops/capture_files.py): the bucket from the tier stack
        ("cloudformation:DescribeStacks", isolation.arn("cloudformation", "stack/%s/0a1b2c3d" % naming.tier_stack_name(
            naming.parse_namespace(ns).shared_namespace)), {}),
    ] + needs_of_files(ns, active, ns, "20261201t101500z")


def needs_of_fleet_builds_role(project):
    """A project's fleet builds: each of its pipeline namespaces' promotion, and the builds' logs."""
    group = naming.codebuild_log_group_name(naming.fleet_project_name(project))
    stream = isolation.arn("logs", "log-group:%s:log-stream:0123abcd" % group)
    namespaces = [naming.parse_project(project).namespace(e).name for e in naming.PIPELINE_ENVIRONMENTS]
    return [need for ns in namespaces for need in needs_of_deploy_role(ns)] + [
        ("logs:CreateLogStream", stream, {}), ("logs:PutLogEvents", stream, {})]


def needs_of_fleet_batch_role(project):
    project_arn = isolation.arn("codebuild", "project/%s" % naming.fleet_project_name(project))
    return [("codebuild:StartBuild", project_arn, {}), ("codebuild:StopBuild", project_arn, {})]


# "<stack>.json#<LogicalId>" glob: what that role must be able to do.
NEEDS = {
    "fleet.json#FleetBuildsRole": needs_of_fleet_builds_role,
    "fleet.json#FleetBatchRole": needs_of_fleet_batch_role,
    "service.json#ExecutionRole": needs_of_execution_role,
    "service.json#TaskRole": needs_of_task_role,
    "vpc.json#FlowLogRole": needs_of_flow_log_role,
    "*-deploy.json#DeployRole": needs_of_deploy_role,
    "dev-deploy.json#SnapshotRole": needs_of_snapshot_role,
    "pipeline.json#PipelineRole": needs_of_pipeline_role,
    "pipeline.json#CheckRole": needs_of_check_role,
    "pipeline.json#ImagesRole": needs_of_images_role,
}


def needs_of(role):
    matches = [needs for key, needs in NEEDS.items() if fnmatch.fnmatchcase(role.where.split("/", 1)[1], key)]
    return matches[0] if matches else None


@pytest.fixture(scope="module")
def isolation_findings():
    return [
        leak.finding()
        for role in ROLES.values()
        for other in isolation.others(role, TENANTS)
        for leak in isolation.leaks(role, other, WORLD, RESOURCE_POLICIES)
    ]


@pytest.mark.parametrize("role", sorted(ROLES.values(), key=role_id), ids=role_id)
def test_no_role_reaches_another_tenants_resources(role, isolation_findings, allowed):
    own = [f for f in isolation_findings if f.where == role.where]
    open_findings, _ = judge("isolation", own, allowed)
    assert not open_findings, report("isolation", open_findings, [])


def test_every_isolation_allowlist_entry_is_still_needed(isolation_findings, allowed):
    _, unused = judge("isolation", isolation_findings, allowed)
    assert not unused, report("isolation", [], unused)


def test_the_proof_covers_every_pair_of_distinct_tenants():
    assert len(TENANTS) >= 5 and set(TENANTS) == {
        path.stem for path in (TEMPLATES.parent / "environments").glob("*.env")
    } - set(naming.SHARED_NAMESPACES)
    pairs = {(role.namespace, other) for role in ROLES.values() for other in TENANTS if other != role.namespace}
    assert {(a, b) for a in TENANTS for b in TENANTS if a != b} <= pairs
    for tenant in TENANTS:  # every tenant brings roles of its own into the proof
        assert any(role.namespace == tenant for role in ROLES.values()), tenant


@pytest.mark.parametrize("role", sorted(ROLES.values(), key=role_id), ids=role_id)
def test_every_role_can_do_what_its_job_needs(role):
    assert needs_of(role), (
        "%s has no list of the accesses it needs in tests/security/test_isolation.py NEEDS; add what it must "
        "be able to do, so the proof shows its policies allow that and nothing of another tenant" % role.where
    )
    denied = []
    for action, resource, context in needs_of(role)(role.namespace):
        request = iam_eval.Request(action, resource, role.arn, dict(isolation.CONTEXT, **context))
        outcome = iam_eval.evaluate(request, role.documents, RESOURCE_POLICIES, iam_eval.ASSUME_DENY)
        if outcome != iam_eval.ALLOWED:
            denied.append("%s on %s: %s" % (action, resource, outcome))
    assert not denied, "%s cannot do its job:\n  %s" % (role.where, "\n  ".join(denied))


def test_every_tenant_resource_is_asked_for_with_every_action_iam_defines_on_it():
    asked = {(t.service, t.resource_type) for t in isolation.targets(WORLD, TENANTS[0])}
    asked |= {(t.service, t.resource_type) for t in isolation.project_targets(isolation.project_of(TENANTS[0]))}
    assert asked >= {("ssm", "parameter"), ("secretsmanager", "Secret"), ("logs", "log-group"), ("s3", "object"),
                     ("s3", "bucket"), ("rds", "db"), ("rds", "snapshot"), ("ecr", "repository")}
    assert {"ecr:BatchGetImage", "ecr:PutImage", "ecr:InitiateLayerUpload"} <= set(
        isolation.actions_on("ecr", "repository"))


def test_every_image_repository_in_the_templates_is_asked_for_by_every_other_projects_roles():
    repositories = WORLD.resource_arns("AWS::ECR::Repository")
    assert repositories, "no AWS::ECR::Repository in templates/: the proof would ask for nothing real"
    for repository, project in repositories.items():
        assert repository in [t.arn for t in isolation.project_targets(project)]
        others = [role for role in ROLES.values() if isolation.project_of(role.namespace) != project]
        assert others, "no role of another project asks for %s" % repository
        for role in others[:3]:
            tenant = next(t for t in TENANTS if isolation.project_of(t) == project)
            assert repository in {ask.request.resource for ask in isolation.asks(role, tenant, WORLD)}
    own = [role for role in ROLES.values() if isolation.project_of(role.namespace) == "xy-0146"]
    assert own and not [ask for role in own for other in TENANTS if other != role.namespace
                        for ask in isolation.asks(role, other, WORLD) if ask.target.service == "ecr"
                        and "repository/xy-0146/" in ask.request.resource]  # its own project's: not a leak
    assert "s3:GetObject" in isolation.actions_on("s3", "object")
    assert "secretsmanager:GetSecretValue" in isolation.actions_on("secretsmanager", "Secret")
    assert len(isolation.actions_on("ssm", "parameter")) >= 10


WIDENINGS = [
    pytest.param("ReadNamespaceParameters", "*", "ssm:GetParameter", "/ab-0212-qa/db/active", id="resource-star"),
    pytest.param("ManageNamespaceFiles", "arn:${AWS::Partition}:s3:::${AppFilesBucketName}/*", "s3:GetObject",
                 "/ab-0212-qa/uploads/report.pdf", id="whole-bucket"),
    pytest.param("ReadNamespaceParameters", "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*",
                 "ssm:GetParameter", "/ab-0212-qa/db/secret-arn", id="all-parameters"),
]


@pytest.mark.parametrize("sid, resource, action, leaked", WIDENINGS)
def test_a_widened_policy_is_a_leak_naming_the_role_and_the_statement(tmp_path, sid, resource, action, leaked):
    world = widening.widened_world(tmp_path, sid, resource)
    (role,) = [r for r in isolation.roles(world).values() if r.where == widening.TASK_ROLE]
    found = isolation.leaks(role, "ab-0212-qa", world, isolation.resource_policies(world))
    assert any(
        leak.action == action and leak.resource.endswith(leaked) and leak.statements == (sid,) for leak in found
    ), found
    assert str(found[0]).startswith("xy-0146-qa/service.json#TaskRole may ")


def test_an_execution_role_that_may_pull_every_repository_is_a_leak_of_another_projects_images(tmp_path):
    any_repository = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"
    world = widening.widened_world(tmp_path, "PullImages", any_repository, logical_id="ExecutionRole")
    (role,) = [r for r in isolation.roles(world).values() if r.where == "xy-0146-qa/service.json#ExecutionRole"]
    found = isolation.leaks(role, "ab-0212-qa", world, isolation.resource_policies(world))
    leaked = {(leak.action, leak.resource.rsplit(":", 1)[1]) for leak in found}
    assert leaked == {(action, "repository/ab-0212/%s" % container) for container in naming.IMAGE_CONTAINERS
                      for action in ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                     "ecr:GetDownloadUrlForLayer")}
    assert all(leak.statements == ("PullImages",) for leak in found)
    assert isolation.leaks(ROLES[role.arn], "ab-0212-qa", WORLD, RESOURCE_POLICIES) == []  # as rendered: none


def test_a_task_role_that_may_read_its_source_namespaces_data_set_files_is_a_leak(tmp_path):
    """The promotion's exemption (the source's files read and listed) is its deploy role's alone."""
    dev_files = "arn:${AWS::Partition}:s3:::${AppFilesBucketName}/%s" % naming.files_pattern("xy-0146-dev")
    world = widening.widened_world(tmp_path, "ManageNamespaceFiles", dev_files)
    (role,) = [r for r in isolation.roles(world).values() if r.where == widening.TASK_ROLE]
    found = isolation.leaks(role, "xy-0146-dev", world, isolation.resource_policies(world))
    assert {leak.action for leak in found} >= {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    assert all("/xy-0146-dev/files/" in leak.resource for leak in found)
    assert isolation.leaks(ROLES[role.arn], "xy-0146-dev", WORLD, RESOURCE_POLICIES) == []  # as rendered: none


def test_a_condition_the_evaluator_does_not_implement_fails_the_proof_loudly(tmp_path):
    """Not a silent pass (nor a silent leak): the proof stops and names the operator."""
    def give_binary_condition(statement):
        statement["Condition"] = {"BinaryEquals": {"aws:PrincipalTag/team": "cWE="}}

    world = widening.edited_world(tmp_path, "ReadNamespaceParameters", give_binary_condition)
    (role,) = [r for r in isolation.roles(world).values() if r.where == widening.TASK_ROLE]
    with pytest.raises(iam_eval.UnsupportedCondition, match="condition operator BinaryEquals is not implemented"):
        isolation.leaks(role, "ab-0212-qa", world, isolation.resource_policies(world))


def test_the_concrete_world_is_one_account():
    assert all(":%s:" % ACCOUNT in role.arn for role in ROLES.values())


def test_a_deploy_role_reading_tasks_without_the_namespace_tag_would_read_other_tenants_tasks(tmp_path):
    """Task ids are random, so only the Namespace tag keeps the stable gate's DescribeTasks to the
    tenant's own tasks in the shared cluster: dropping the condition must be a leak the proof names."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    path = copy / "xy-0146" / "qa-deploy.json"
    template = json.loads(path.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                if statement.get("Sid") == "ReadNamespaceTasks":
                    statement.pop("Condition")
    path.write_text(json.dumps(template))
    world = World(copy)
    (role,) = [r for r in isolation.roles(world).values() if r.where == "xy-0146/qa-deploy.json#DeployRole"]
    found = isolation.leaks(role, "ab-0212-qa", world, isolation.resource_policies(world))
    assert {(leak.action, leak.statements) for leak in found} == {("ecs:DescribeTasks", ("ReadNamespaceTasks",))}
    assert isolation.leaks(ROLES[role.arn], "ab-0212-qa", WORLD, RESOURCE_POLICIES) == []  # as rendered: none


def _deploy_role_with(tmp_path, sid, resource):
    """The world with one statement of xy-0146-qa's deploy role's managed policies given `resource`."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    path = copy / "xy-0146" / "qa-deploy.json"
    template = json.loads(path.read_text())
    widened = [statement for resource_ in template["Resources"].values()
               if resource_["Type"] == "AWS::IAM::ManagedPolicy"
               for statement in resource_["Properties"]["PolicyDocument"]["Statement"] if statement.get("Sid") == sid]
    assert len(widened) == 1, sid
    widened[0]["Resource"] = [{"Fn::Sub": resource}]
    path.write_text(json.dumps(template))
    world = World(copy)
    (role,) = [r for r in isolation.roles(world).values() if r.where == "xy-0146/qa-deploy.json#DeployRole"]
    return world, role


ANY_ALARM = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
ANY_RDS_LOG_GROUP = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/rds/instance/*"


@pytest.mark.parametrize("sid, resource, service, leaked", [
    pytest.param("ManageNamespaceAlarms", ANY_ALARM, "cloudwatch", ":alarm:ab-0212-qa-", id="every-alarm"),
    pytest.param("ManageNamespaceDatabaseLogGroups", ANY_RDS_LOG_GROUP, "logs", "/aws/rds/instance/ab-0212-qa-db-",
                 id="every-database-log-group"),
])
def test_a_deploy_role_widened_beyond_its_alarms_or_database_logs_is_a_leak(tmp_path, sid, resource, service, leaked):
    """The deploy role's alarms and database log groups are scoped by the namespace's name prefix: a
    policy that names every alarm or every RDS log group must be a leak the proof names."""
    world, role = _deploy_role_with(tmp_path, sid, resource)
    found = isolation.leaks(role, "ab-0212-qa", world, isolation.resource_policies(world))
    assert found and all(leak.statements == (sid,) for leak in found), found
    assert {leak.action.split(":")[0] for leak in found} == {service}
    assert all(leaked in leak.resource for leak in found)
    assert isolation.leaks(ROLES[role.arn], "ab-0212-qa", WORLD, RESOURCE_POLICIES) == []  # as rendered: none


def test_no_role_reads_another_tenants_logs_or_the_tiers_access_logs():
    """Every tenant's service and database log groups, and the tier's log bucket, are asked for: no role of
    another tenant reaches them (the proof above), and the targets are there to be asked for."""
    asked = {t.arn for t in isolation.targets(WORLD, "ab-0212-qa")}
    instance = naming.db_instance_id("ab-0212-qa", WORLD.stacks["ab-0212-qa-service"].settings["db_timestamp"])
    for log in naming.RDS_EXPORTED_LOGS:
        assert isolation.arn("logs", "log-group:%s" % naming.rds_log_group_name(instance, log)) in asked
    assert any(":s3:::common-nonprod-tier-logbucket-" in arn and "/alb/AWSLogs/" in arn for arn in asked)
    assert any(arn.endswith(":sns:%s:%s:common-nonprod-alarms" % (isolation.REGION, ACCOUNT)) for arn in asked)
    task_role = next(role for role in ROLES.values() if role.where == "xy-0146-qa/service.json#TaskRole")
    assert isolation.leaks(task_role, "ab-0212-qa", WORLD, RESOURCE_POLICIES) == []


def test_no_role_may_use_the_tiers_logs_key():
    """Only CloudWatch Logs uses the tier's logs key (for the tier's log groups): no role of any template may
    use or change it, whatever IAM policy of the account the key policy's administration statement delegates to."""
    actions = isolation.actions_on("kms", "key")
    for tier in ("common-nonprod", "common-prod"):
        vpc = WORLD.stacks[naming.vpc_stack_name(tier)]
        key = WORLD.resolve(vpc, vpc.template["Outputs"]["LogsKeyArn"]["Value"])
        allowed = [(role.where, action) for role in ROLES.values() for action in actions
                   if iam_eval.evaluate(iam_eval.Request(action, key, role.arn, dict(isolation.CONTEXT)), role.documents,
                                        RESOURCE_POLICIES, iam_eval.ASSUME_ALLOW) == iam_eval.ALLOWED]
        assert allowed == [], allowed


def test_a_fleet_builds_role_is_asked_about_every_tenant_but_its_projects_pipeline_namespaces():
    (role,) = [r for r in ROLES.values() if r.where == "xy-0146/fleet.json#FleetBuildsRole"]
    assert role.reaches == ("xy-0146-dev", "xy-0146-qa", "xy-0146-prod")
    assert isolation.others(role, TENANTS) == [t for t in TENANTS if not t.startswith("xy-0146-")] != []
    assert all(not r.reaches for r in ROLES.values() if r is not role)
