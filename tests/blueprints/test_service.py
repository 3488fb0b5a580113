import json
import re

import pytest
from troposphere import encode_to_dict

from blueprints import service_iam
from blueprints.base import BlueprintError
from blueprints.iam import POLICY_VERSION
from blueprints.service import IMAGE_PATTERN, TenantService
from hooks import naming
from hooks.config import settings
from hooks.engine.render import render_blueprint
from hooks.engine.stacker_compat import make_context
from tests.blueprints.golden import assert_matches_golden
from tests.blueprints.template_checks import (
    config_variables,
    consumed_outputs,
    properties,
    resources_of_type,
    tag_problems,
)

TIMESTAMP = "20260115t103000z"
GOLDEN_CASES = {
    "service-xy-0146-qa": {"Namespace": "xy-0146-qa", "Timestamp": TIMESTAMP},
    "service-xy-0146-prod": {"Namespace": "xy-0146-prod", "Timestamp": "20260201t090000z"},
}
# Any namespace inside a string, e.g. "parameter/xy-0146-qa/*".
ANY_NAMESPACE = re.compile(r"[a-z][a-z0-9]{1,5}-[0-9]{4}-(?:dev|qa|uat|stage|prod)")
ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def render(namespace="xy-0146-qa", timestamp=TIMESTAMP):
    return render_blueprint(TenantService, {"Namespace": namespace, "Timestamp": timestamp})


def statements(template):
    """(role logical id, statement) for every statement of every inline policy."""
    return [
        (logical_id, statement)
        for logical_id, role in sorted(resources_of_type(template, "AWS::IAM::Role").items())
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def resource_strings(statement):
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    return [r["Fn::Sub"] if isinstance(r, dict) else r for r in resources]


def container(template, name):
    (found,) = [c for c in properties(template, "TaskDefinition")["ContainerDefinitions"] if c["Name"] == name]
    return found


@pytest.mark.parametrize("case_id", sorted(GOLDEN_CASES))
def test_golden(case_id):
    assert_matches_golden(case_id, TenantService, GOLDEN_CASES[case_id])


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "xy-0146-prod"])
def test_every_resource_carries_the_namespace_tags(namespace):
    problems, untagged = tag_problems(render(namespace), naming.tags(namespace))
    assert problems == []
    assert untagged == set()


# --- IAM: one tenant never reaches another's parameters, secret, logs or files ---------


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "xy-0146-prod", "ab-0001-dev"])
def test_every_policy_statement_is_scoped_to_the_namespace_or_is_the_ecr_exception(namespace):
    found = statements(render(namespace))
    assert {role for role, _ in found} == {"ExecutionRole", "TaskRole"}
    for role, statement in found:
        assert statement["Effect"] == "Allow"
        resources = resource_strings(statement)
        if statement["Sid"] == "AuthorizeRegistry":
            assert (statement["Action"], resources) == (["ecr:GetAuthorizationToken"], ["*"])
        elif statement["Sid"] == "PullImages":
            assert statement["Action"] == ECR_PULL_ACTIONS
            # the project's repositories (its namespaces run the same images), never another project's
            project = naming.parse_namespace(namespace).project_key
            assert resources == ["arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/%s/*" % project]
        elif statement["Action"] == ["s3:ListBucket"]:
            assert resources == ["arn:${AWS::Partition}:s3:::${AppFilesBucketName}"]
            assert statement["Condition"] == {"StringLike": {"s3:prefix": ["%s/*" % namespace]}}
        else:
            for resource in resources:
                assert "/%s/" % namespace in resource or ":%s/" % namespace in resource, (role, resource)
        assert all("*" not in action for action in statement["Action"]), (role, statement["Action"])
    assert {statement["Sid"] for _, statement in found} >= set(service_iam.ECR_EXCEPTION_SIDS)


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "xy-0146-prod", "ab-0001-dev"])
def test_no_policy_mentions_another_namespace(namespace):
    template = render(namespace)
    text = json.dumps([role["Properties"] for role in resources_of_type(template, "AWS::IAM::Role").values()])
    assert set(ANY_NAMESPACE.findall(text)) == {namespace}


def test_the_policies_name_exactly_the_namespaces_resources():
    resources = {statement["Sid"]: resource_strings(statement) for _, statement in statements(render())}
    prefix = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
    assert resources["WriteServiceLogs"] == [prefix % ("logs", "log-group:/xy-0146-qa/service:*")]
    assert resources["ReadDatabaseSecrets"] == [prefix % ("secretsmanager", "secret:xy-0146-qa/db/app-??????"),
                                                prefix % ("secretsmanager", "secret:xy-0146-qa/db/master-??????")]
    assert resources["ReadNamespaceParameters"] == [prefix % ("ssm", "parameter/xy-0146-qa/*")]
    assert resources["ManageNamespaceFiles"] == ["arn:${AWS::Partition}:s3:::${AppFilesBucketName}/xy-0146-qa/*"]


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "ab-0001-dev"])
def test_both_roles_carry_the_namespaces_permissions_boundary(namespace):
    roles = resources_of_type(render(namespace), "AWS::IAM::Role")
    assert {logical_id: role["Properties"]["PermissionsBoundary"] for logical_id, role in roles.items()} == {
        logical_id: {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/%s-boundary" % namespace}
        for logical_id in ("ExecutionRole", "TaskRole")
    }


@pytest.mark.parametrize("namespace", ["xy-0146-qa", "ab-0001-dev"])
def test_the_boundary_has_the_role_policies_statements_with_any_bucket_of_the_account(namespace):
    """The boundary's stack does not know the tier's bucket; otherwise it is the two role policies."""
    roles = [statement for _, statement in statements(render(namespace))]
    boundary = encode_to_dict(service_iam.permissions_boundary(namespace))
    assert boundary["Version"] == POLICY_VERSION
    bounded = boundary["Statement"]
    this_account = {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}
    expected = []
    for statement in roles:
        statement = json.loads(json.dumps(statement).replace("${AppFilesBucketName}", "*"))
        if statement["Action"][0].startswith("s3:"):
            statement["Condition"] = dict(statement.get("Condition", {}), StringEquals=this_account)
        expected.append(statement)
    assert bounded == expected
    assert set(ANY_NAMESPACE.findall(json.dumps(bounded))) == {namespace}


def test_only_ecs_tasks_of_this_account_assume_the_roles():
    for role in resources_of_type(render(), "AWS::IAM::Role").values():
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# --- task definition, load balancing, service --------------------------------------------


def test_secret_arns_are_resolved_from_ssm_and_php_logs_in_as_the_application_user_only():
    template = render()
    assert template["Parameters"]["DatabaseSecretArn"] == {
        "Default": "/xy-0146-qa/db/secret-arn",
        "Description": "SSM parameter holding the ARN of the namespace's database master secret (migrations)",
        "Type": "AWS::SSM::Parameter::Value<String>",
    }
    assert template["Parameters"]["DatabaseAppSecretArn"] == {
        "Default": "/xy-0146-qa/db/app-secret-arn",
        "Description": "SSM parameter holding the ARN of the namespace's database application-user secret (php)",
        "Type": "AWS::SSM::Parameter::Value<String>",
    }
    assert container(template, "php")["Secrets"] == [
        {"Name": "DB_USERNAME", "ValueFrom": {"Fn::Sub": "${DatabaseAppSecretArn}:username::"}},
        {"Name": "DB_PASSWORD", "ValueFrom": {"Fn::Sub": "${DatabaseAppSecretArn}:password::"}},
    ]
    assert "Secrets" not in container(template, "nginx")


def test_the_migrate_container_runs_first_with_the_master_credentials_on_the_new_database():
    template = render()
    migrate = container(template, "migrate")
    assert (migrate["Image"], migrate["Command"], migrate["Essential"]) == (
        {"Ref": "PhpImage"}, ["php", "/app/bin/migrate"], False)
    assert [secret["Name"] for secret in migrate["Secrets"]] == [
        "DB_MASTER_USERNAME", "DB_MASTER_PASSWORD", "DB_USERNAME", "DB_PASSWORD"]
    assert migrate["Secrets"][0]["ValueFrom"] == {"Fn::Sub": "${DatabaseSecretArn}:username::"}
    assert migrate["Secrets"][2]["ValueFrom"] == {"Fn::Sub": "${DatabaseAppSecretArn}:username::"}
    environment = {variable["Name"]: variable["Value"] for variable in migrate["Environment"]}
    assert environment == {"DB_HOST": {"Ref": "DatabaseEndpointAddress"}, "DB_PORT": {"Ref": "DatabaseEndpointPort"},
                           "DB_TIMESTAMP": "20260115t103000z"}
    assert container(template, "php")["DependsOn"] == [{"ContainerName": "migrate", "Condition": "SUCCESS"}]
    assert "HealthCheck" not in migrate and "PortMappings" not in migrate


@pytest.mark.parametrize("name, command", [
    ("php", "php /app/bin/fpm-ping || exit 1"),
    ("nginx", "wget -q -O /dev/null -T 2 http://127.0.0.1/nginx-health || exit 1"),
])
def test_php_and_nginx_have_health_checks_that_need_no_database(name, command):
    check = container(render(), name)["HealthCheck"]
    assert check["Command"] == ["CMD-SHELL", command]
    assert (check["Interval"], check["Timeout"], check["Retries"]) == (10, 5, 3)


def test_the_php_container_gets_the_database_and_the_namespace():
    php = container(render(), "php")
    assert php["Image"] == {"Ref": "PhpImage"}
    assert php["PortMappings"] == [{"ContainerPort": 9000, "Protocol": "tcp"}]
    assert {variable["Name"]: variable["Value"] for variable in php["Environment"]} == {
        "DB_HOST": {"Ref": "DatabaseEndpointAddress"},
        "DB_PORT": {"Ref": "DatabaseEndpointPort"},
        "DB_TIMESTAMP": TIMESTAMP,
        "APP_NAMESPACE": "xy-0146-qa",
        "APP_FILES_BUCKET": {"Ref": "AppFilesBucketName"},
        "APP_FILES_PREFIX": "xy-0146-qa/files/%s/" % TIMESTAMP,  # the files of the data set of TIMESTAMP
    }


def test_nginx_starts_after_php_and_takes_the_traffic():
    nginx = container(render(), "nginx")
    assert nginx["Image"] == {"Ref": "NginxImage"}
    assert nginx["PortMappings"] == [{"ContainerPort": 80, "Protocol": "tcp"}]
    assert nginx["DependsOn"] == [{"ContainerName": "php", "Condition": "HEALTHY"}]


def test_containers_log_to_the_namespaces_group_and_write_only_to_scratch_volumes():
    template = render()
    task = properties(template, "TaskDefinition")
    assert properties(template, "LogGroup")["LogGroupName"] == "/xy-0146-qa/service"
    volumes = {volume["Name"] for volume in task["Volumes"]}
    for definition in task["ContainerDefinitions"]:
        assert definition["Essential"] is (definition["Name"] != "migrate")  # it ends; the others must run
        assert definition["ReadonlyRootFilesystem"] is True
        assert definition["LogConfiguration"] == {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": {"Ref": "LogGroup"},
                "awslogs-region": {"Ref": "AWS::Region"},
                "awslogs-stream-prefix": definition["Name"],
            },
        }
        assert {mount["SourceVolume"] for mount in definition["MountPoints"]} <= volumes
    assert {(t["Name"], len(t["MountPoints"])) for t in task["ContainerDefinitions"]} == {
        ("migrate", 1), ("php", 1), ("nginx", 3)}


def test_the_task_definition_is_a_fargate_family_of_the_namespace():
    task = properties(render(), "TaskDefinition")
    assert task["Family"] == "xy-0146-qa"
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["NetworkMode"] == "awsvpc"
    assert (task["Cpu"], task["Memory"]) == ({"Ref": "TaskCpu"}, {"Ref": "TaskMemory"})
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}


def test_the_listener_rule_forwards_the_tenants_host_to_its_target_group():
    template = render()
    group = properties(template, "TargetGroup")
    assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "HTTP", 80)
    assert (group["HealthCheckPath"], group["Matcher"], group["VpcId"]) == (
        "/healthz", {"HttpCode": "200"}, {"Ref": "VpcId"})
    # A target fails in 2 checks 10 s apart, each waiting at most 5 s (/healthz answers within 4.5 s).
    assert (group["HealthCheckIntervalSeconds"], group["HealthCheckTimeoutSeconds"],
            group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (10, 5, 2, 2)
    rule = properties(template, "ListenerRule")
    assert rule["ListenerArn"] == {"Ref": "HttpsListenerArn"}
    assert rule["Priority"] == {"Ref": "ListenerPriority"}
    assert rule["Conditions"] == [{"Field": "host-header", "HostHeaderConfig": {"Values": [{"Ref": "Hostname"}]}}]
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}]


def test_the_service_rolls_out_with_full_capacity_and_rolls_back_on_failure():
    template = render()
    resource = template["Resources"]["Service"]
    assert resource["DependsOn"] == ["ListenerRule"]
    service = resource["Properties"]
    assert service["DeploymentConfiguration"] == {
        "MinimumHealthyPercent": 100,
        "MaximumPercent": 200,
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
    }
    assert service["ServiceName"] == "xy-0146-qa"
    assert service["Cluster"] == {"Ref": "ClusterName"}
    assert service["LaunchType"] == "FARGATE"
    assert service["DesiredCount"] == {"Ref": "DesiredCount"}
    assert service["TaskDefinition"] == {"Ref": "TaskDefinition"}
    assert service["NetworkConfiguration"] == {
        "AwsvpcConfiguration": {
            "AssignPublicIp": "DISABLED",
            "Subnets": {"Ref": "PrivateSubnetIds"},
            "SecurityGroups": [{"Ref": "ServiceSecurityGroupId"}],
        }
    }
    assert service["LoadBalancers"] == [
        {"ContainerName": "nginx", "ContainerPort": 80, "TargetGroupArn": {"Ref": "TargetGroup"}}
    ]
    assert service["HealthCheckGracePeriodSeconds"] > 0
    assert (service["PropagateTags"], service["EnableECSManagedTags"]) == ("SERVICE", True)


def test_outputs():
    assert render()["Outputs"] == {
        "ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}},
        "ServiceArn": {"Value": {"Ref": "Service"}},
        "TaskDefinitionArn": {"Value": {"Ref": "TaskDefinition"}},
        "TargetGroupArn": {"Value": {"Ref": "TargetGroup"}},
        "LogGroupName": {"Value": {"Ref": "LogGroup"}},
    }
    assert consumed_outputs("service") == set()


def test_variables_match_the_tenant_config():
    blueprint = TenantService(name="service", context=make_context(None, {}))
    defined = blueprint.variable_definitions()
    assert config_variables("blueprints.service.TenantService") == [set(defined)]
    assert [name for name, spec in defined.items() if "validator" in spec] == []
    assert "DatabaseSecretArn" not in defined  # a template parameter with a default, not a variable


@pytest.mark.parametrize("timestamp", ["2026-01-15", "20260115T103000Z", ""])
def test_a_bad_timestamp_is_refused_naming_the_value_and_the_rule(timestamp):
    with pytest.raises(BlueprintError) as error:
        render(timestamp=timestamp)
    assert str(error.value) == "blueprint TenantService, variable Timestamp: %r is invalid: expected %s" % (
        timestamp,
        naming.TIMESTAMP_SHAPE,
    )


@pytest.mark.parametrize(
    "image",
    [
        "public.ecr.aws/nginx/nginx:1.27.3",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app/php:2026.01.15-3",
        "nginx@sha256:" + "0" * 64,
        "nginx",
        "nginx:",
        "Nginx:1.27",
        "nginx@sha256:abc",
    ],
)
def test_the_image_constraint_is_the_env_file_rule(image):
    try:
        settings.image(image, "nginx_image")
        accepted = True
    except naming.NamingError:
        accepted = False
    assert (re.match(IMAGE_PATTERN, image) is not None) == accepted
