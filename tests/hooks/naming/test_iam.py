"""hooks/naming/iam.py: IAM names, the ARN patterns policies name a namespace's resources by, tag keys.

Each pattern is checked twice: the string it builds, and (IAM's '*' and '?' wildcards, as
fnmatch has them) which real names it matches and which neighbours it must not.
"""
import fnmatch

import pytest

from hooks import naming
from hooks.naming import iam

NS, TS, LATER = "xy-0146-qa", "20260115t103000z", "20260201t000000z"


@pytest.mark.parametrize(
    "built, expected",
    [
        pytest.param(lambda: naming.ssm_parameters_arn_resource(NS), "parameter/xy-0146-qa/*", id="parameters"),
        pytest.param(lambda: naming.db_secret_arn_resource(NS), "secret:xy-0146-qa/db/master-??????", id="db-secret"),
        pytest.param(lambda: naming.secrets_arn_resource(NS), "secret:xy-0146-qa/*", id="secrets"),
        pytest.param(lambda: naming.log_group_arn_resource(NS), "log-group:/xy-0146-qa/service:*", id="log-group"),
        pytest.param(lambda: naming.log_groups_arn_resource(NS), "log-group:/xy-0146-qa/*", id="log-groups"),
        pytest.param(lambda: naming.s3_keys_pattern("codebuild-cache/x/"), "codebuild-cache/x/*", id="s3-keys"),
        pytest.param(lambda: naming.s3_prefix_pattern(NS), "xy-0146-qa/*", id="s3-prefix"),
        pytest.param(lambda: naming.files_pattern(NS), "xy-0146-qa/files/*", id="files"),
        pytest.param(lambda: naming.stack_arn_resource(NS), "stack/xy-0146-qa-*/*", id="stacks"),
        pytest.param(lambda: naming.stack_arn_resource("common-prod"), "stack/common-prod-*/*", id="tier-stacks"),
        pytest.param(lambda: naming.deploy_stack_arn_resource(NS), "stack/xy-0146-qa-deploy/*", id="deploy-stack"),
        pytest.param(lambda: naming.db_identifier_prefix(NS), "xy-0146-qa-db-", id="db-prefix"),
        pytest.param(lambda: naming.databases_arn_resource(NS, "db"), "db:xy-0146-qa-db-*", id="databases"),
        pytest.param(lambda: naming.databases_arn_resource(NS, "subgrp"), "subgrp:xy-0146-qa-db-*", id="subnet-groups"),
        pytest.param(lambda: naming.source_snapshot_pattern("xy-0146-dev"), "xy-0146-dev-????????t??????z",
                     id="source-snapshot-pattern"),
        pytest.param(lambda: naming.source_snapshots_arn_resource("xy-0146-dev"),
                     "snapshot:xy-0146-dev-????????t??????z", id="source-snapshots"),
        pytest.param(lambda: naming.restore_snapshots_arn_resource(NS), "snapshot:xy-0146-qa-????????t??????z",
                     id="restore-snapshots"),
        pytest.param(lambda: naming.tier_parameter_groups_arn_resource("common-nonprod"), "pg:common-nonprod-tier-*",
                     id="tier-parameter-groups"),
        pytest.param(naming.default_option_group_arn_resource, "og:default:mysql-8-0", id="default-option-group"),
        pytest.param(lambda: naming.task_definitions_arn_resource(NS), "task-definition/xy-0146-qa:*",
                     id="task-definitions"),
        pytest.param(lambda: naming.ecs_service_arn_resource("xy-0146-prod"), "service/common-prod/xy-0146-prod",
                     id="ecs-service"),
        pytest.param(lambda: naming.service_role_name_prefix(NS), "xy-0146-qa-service-", id="service-role-prefix"),
        pytest.param(lambda: naming.service_roles_arn_resource(NS), "role/xy-0146-qa-service-*", id="service-roles"),
        pytest.param(lambda: naming.permissions_boundary_name(NS), "xy-0146-qa-boundary", id="boundary"),
        pytest.param(lambda: naming.permissions_boundary_arn_resource(NS), "policy/xy-0146-qa-boundary",
                     id="boundary-arn"),
        pytest.param(lambda: naming.codebuild_project_arn_resource("xy-0146-qa-deploy"), "project/xy-0146-qa-deploy",
                     id="build-project"),
        pytest.param(lambda: naming.codebuild_log_group_arn_resource("xy-0146-check"),
                     "log-group:/aws/codebuild/xy-0146-check:*", id="build-log-group"),
        pytest.param(lambda: naming.project_codebuild_log_groups_arn_resource("xy-0146"),
                     "log-group:/aws/codebuild/xy-0146-*", id="project-build-log-groups"),
        pytest.param(lambda: naming.image_repositories_arn_resource("xy-0146"), "repository/xy-0146/*",
                     id="image-repositories"),
        pytest.param(lambda: naming.image_repository_arn_resource("xy-0146", "php"), "repository/xy-0146/php",
                     id="image-repository"),
        pytest.param(naming.request_tag_key, "aws:RequestTag/Namespace", id="request-tag"),
        pytest.param(naming.resource_tag_key, "aws:ResourceTag/Namespace", id="resource-tag"),
        pytest.param(lambda: naming.resource_tag_key(naming.COPIED_FROM_TAG), "aws:ResourceTag/CopiedFrom",
                     id="copied-from-tag"),
    ],
)
def test_builders(built, expected):
    assert built() == expected


@pytest.mark.parametrize(
    "pattern, name, matches",
    [
        pytest.param(naming.db_secret_arn_resource(NS), "secret:xy-0146-qa/db/master-AbC123", True, id="secret"),
        pytest.param(naming.db_secret_arn_resource(NS), "secret:xy-0146-qa/db/master-AbC12", False,
                     id="secret-suffix-is-six"),
        pytest.param(naming.secrets_arn_resource(NS), "secret:xy-0146-qa/db/master-AbC123", True, id="secrets"),
        pytest.param(naming.secrets_arn_resource(NS), "secret:xy-0146-qaa/db/master-AbC123", False,
                     id="secrets-not-a-longer-namespace"),
        pytest.param(naming.log_groups_arn_resource(NS), "log-group:/xy-0146-qa/service", True, id="log-groups"),
        pytest.param(naming.log_groups_arn_resource(NS), "log-group:/xy-0146-qaa/service", False,
                     id="log-groups-not-a-longer-namespace"),
        pytest.param(naming.deploy_stack_arn_resource(NS), "stack/xy-0146-qa-deploy/0c6b2f4e", True,
                     id="deploy-stack"),
        pytest.param(naming.deploy_stack_arn_resource(NS), "stack/xy-0146-qa-service/0c6b2f4e", False,
                     id="deploy-stack-only"),
        pytest.param(naming.stack_arn_resource(NS), "stack/xy-0146-qa-deploy/0c6b2f4e", True,
                     id="namespace-stacks-include-deploy"),
        pytest.param(naming.databases_arn_resource(NS, "db"), "db:%s" % naming.db_instance_id(NS, TS), True,
                     id="database"),
        pytest.param(naming.databases_arn_resource(NS, "snapshot"), "snapshot:%s"
                     % naming.final_snapshot_id(NS, TS, LATER), True, id="final-snapshot"),
        pytest.param(naming.restore_snapshots_arn_resource(NS), "snapshot:%s" % naming.restore_snapshot_id(NS, TS),
                     True, id="restore-snapshot"),
        pytest.param(naming.restore_snapshots_arn_resource(NS), "snapshot:%s"
                     % naming.final_snapshot_id(NS, TS, LATER), False, id="restore-not-final"),
        pytest.param(naming.source_snapshots_arn_resource("xy-0146-dev"), "snapshot:%s"
                     % naming.snapshot_id("xy-0146-dev", TS), True, id="source-snapshot"),
        pytest.param(naming.source_snapshots_arn_resource("xy-0146-dev"), "snapshot:%s"
                     % naming.final_snapshot_id("xy-0146-dev", TS, LATER), False, id="source-not-final"),
        pytest.param(naming.tier_parameter_groups_arn_resource("common-nonprod"),
                     "pg:common-nonprod-tier-databaseparametergroup-1a2b3c", True, id="tier-parameter-group"),
        pytest.param(naming.tier_parameter_groups_arn_resource("common-nonprod"),
                     "pg:common-prod-tier-databaseparametergroup-1a2b3c", False, id="other-tier-parameter-group"),
        pytest.param(naming.service_roles_arn_resource(NS), "role/xy-0146-qa-service-TaskRole-1A2B", True,
                     id="service-role"),
        pytest.param(naming.service_roles_arn_resource(NS), "role/%s" % naming.deploy_project_name(NS), False,
                     id="not-the-deploy-role"),
        pytest.param(naming.task_definitions_arn_resource(NS), "task-definition/xy-0146-qa:12", True,
                     id="task-definition"),
        pytest.param(naming.task_definitions_arn_resource(NS), "task-definition/xy-0146-qaa:12", False,
                     id="not-a-longer-family"),
        pytest.param(naming.project_codebuild_log_groups_arn_resource("xy-0146"),
                     "log-group:%s" % naming.codebuild_log_group_name(naming.deploy_project_name("xy-0146-prod")),
                     True, id="project-build-log-group"),
        pytest.param(naming.project_codebuild_log_groups_arn_resource("xy-0146"),
                     "log-group:%s" % naming.codebuild_log_group_name(naming.images_project_name("xy-0146")),
                     True, id="images-build-log-group"),
        pytest.param(naming.image_repositories_arn_resource("xy-0146"), "repository/xy-0146/nginx", True,
                     id="project-repository"),
        pytest.param(naming.image_repositories_arn_resource("xy-0146"), "repository/xy-01466/nginx", False,
                     id="not-a-longer-project"),
        pytest.param(naming.image_repositories_arn_resource("xy-0146"), "repository/ab-0212/nginx", False,
                     id="not-another-project"),
        pytest.param(naming.s3_keys_pattern(naming.pipeline_folder("xy-0146")),
                     naming.pipeline_artifact_prefix("xy-0146", naming.SOURCE_ARTIFACT) + "AbCdEf1.zip", True,
                     id="pipeline-folder"),
    ],
)
def test_patterns_match_what_they_name_and_nothing_next_to_it(pattern, name, matches):
    assert fnmatch.fnmatchcase(name, pattern) is matches


@pytest.mark.parametrize(
    "built, message",
    [
        pytest.param(lambda: naming.databases_arn_resource(NS, "cluster"),
                     "RDS resource kind 'cluster' is invalid: expected one of db, snapshot, subgrp", id="rds-kind"),
        pytest.param(lambda: naming.request_tag_key("Owner"), "condition tag 'Owner' is invalid: expected one of "
                     "Customer, Project, Environment, Namespace, CopiedFrom", id="tag"),
        pytest.param(lambda: naming.deploy_stack_arn_resource("XY-0146-qa"), "namespace 'XY-0146-qa' is invalid",
                     id="namespace"),
        pytest.param(lambda: naming.tier_parameter_groups_arn_resource(NS), "namespace 'xy-0146-qa' is invalid",
                     id="tier-of-a-tenant"),
        pytest.param(lambda: naming.project_codebuild_log_groups_arn_resource(NS), "namespace 'xy-0146-qa' is invalid",
                     id="project-of-a-tenant"),
    ],
)
def test_builders_refuse_naming_the_value_and_the_rule(built, message):
    with pytest.raises(naming.NamingError) as raised:
        built()
    assert str(raised.value).startswith(message)


def test_every_function_is_reexported_by_hooks_naming():
    public = [name for name, value in vars(iam).items() if callable(value) and not name.startswith("_")
              and getattr(value, "__module__", None) == iam.__name__]
    assert public and [name for name in public if getattr(naming, name, None) is not getattr(iam, name)] == []


@pytest.mark.parametrize("function, args, expected", [
    ("alarms_arn_resource", ("xy-0146-qa",), "alarm:xy-0146-qa-*"),
    ("rds_log_groups_arn_resource", ("xy-0146-qa",), "log-group:/aws/rds/instance/xy-0146-qa-db-*"),
    ("tier_log_groups_arn_resources", ("common-prod",), [
        "log-group:/common-prod/vpc/flow-logs", "log-group:/*-prod/service", "log-group:/aws/rds/instance/*-prod-db-*"]),
])
def test_observability_arn_resources(function, args, expected):
    assert getattr(naming, function)(*args) == expected
