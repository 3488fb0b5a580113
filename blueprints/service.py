"""The ECS service of one tenant namespace: `<namespace>-service`.

nginx in front of php-fpm in one Fargate task (blueprints.containers: migrate, php, nginx),
behind the shared tier's HTTPS listener (a host-header rule). Each build and each database
yields a new, immutable task definition revision: images (pinned by digest) and the
database's timestamp and endpoint are all in it. A rollout replaces tasks with 100% kept
healthy and rolls back on its own when the new tasks do not become healthy (deployment
circuit breaker); the pipeline's stable gate waits for the new tasks to be healthy in the
target group before the SSM pointer moves. The target group checks /healthz, which answers
200 only when the application can use its database (docs/application.md).

No password appears here: the `DatabaseSecretArn` and `DatabaseAppSecretArn` template
parameters are SSM parameter types whose defaults are the namespace's secret-ARN
parameters, so CloudFormation resolves the ARNs at deploy time and ECS injects the
credentials from Secrets Manager. IAM policies live in `blueprints.service_iam`.

The service's log group keeps LogRetentionDays (env key log_retention) and is encrypted with
the tier's logs key (output LogsKeyArn of `<tier>-vpc`). The service's alarms (5xx rate and
unhealthy hosts of its target group, tasks below desired) are blueprints/alarms.py's.
"""
from troposphere import GetAtt, Parameter, Ref, ecs, elasticloadbalancingv2 as elb, iam, logs

from blueprints import alarms, containers, service_iam
from blueprints.base import TenantstackBlueprint
from blueprints.iam import ECS_TASKS_PRINCIPAL, permissions_boundary_arn, trust_policy
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNNumber, CFNString, EC2SecurityGroupId, EC2SubnetIdList, EC2VPCId

LOG_GROUP = "LogGroup"
EXECUTION_ROLE = "ExecutionRole"
TASK_ROLE = "TaskRole"
TASK_DEFINITION = "TaskDefinition"
TARGET_GROUP = "TargetGroup"
LISTENER_RULE = "ListenerRule"
SERVICE = "Service"
DATABASE_SECRET_ARN, DATABASE_APP_SECRET_ARN = containers.MASTER_SECRET_ARN, containers.APP_SECRET_ARN
APP_FILES_BUCKET_NAME = "AppFilesBucketName"
PHP, NGINX, NGINX_PORT = containers.PHP, containers.NGINX, containers.NGINX_PORT

# Alarm thresholds: plain variables (the rendered template shows them), each the env key's value.
SERVICE_THRESHOLDS = {"Alarm5xxPercent": "alarm_5xx_percent", "AlarmUnhealthyHosts": "alarm_unhealthy_hosts"}
DEREGISTRATION_DELAY = "30"  # seconds; the default 300 slows every rollout
# The load balancer's verdict (docs/application.md, "How a broken database is caught"): /healthz
# answers within 4.5 s, so a 5 s timeout; two failures 10 s apart make a target unhealthy, two
# successes healthy. The grace period covers a task's start: migrate (a few seconds when there is
# nothing to apply), php-fpm's first health check, nginx.
HEALTH_CHECK_PATH, HEALTH_CHECK_MATCHER = "/healthz", "200"
HEALTH_CHECK_INTERVAL, HEALTH_CHECK_TIMEOUT = 10, 5
HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD = 2, 2
HEALTH_CHECK_GRACE_SECONDS = 120

# The env-file rule of hooks.config.settings.image, as a CloudFormation constraint (the env-file
# check alone also refuses ":latest"); a test keeps the two in step.
IMAGE_PATTERN, IMAGE_CONSTRAINT = settings.IMAGE_PATTERN, settings.IMAGE_RULE


def image_variable(container):
    return {
        "type": CFNString,
        "description": "The %s container image, pinned to a tag or digest" % container,
        "allowed_pattern": IMAGE_PATTERN,
        "constraint_description": IMAGE_CONSTRAINT,
    }


class TenantService(TenantstackBlueprint):
    """Log group, roles, task definition, target group, listener rule and ECS service."""

    DESCRIPTION = "tenantstack tenant service: nginx + php-fpm on Fargate"
    NAMESPACE_KIND = "tenant"
    VARIABLES = {
        "Timestamp": {"type": str, "description": "Timestamp of the database the tasks use"},
        "NginxImage": image_variable(NGINX),
        "PhpImage": image_variable(PHP),
        "Hostname": {
            "type": CFNString,
            "description": "Host name the shared ALB routes to this tenant",
            "allowed_pattern": r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
            "constraint_description": "a lower-case DNS host name such as xy-0146-qa.apps.example.com",
        },
        "DesiredCount": {"type": CFNNumber, "description": "ECS tasks to run", "min_value": 1, "max_value": 50},
        "ListenerPriority": {
            "type": CFNNumber,
            "description": "ALB listener-rule priority, unique within the tier",
            "min_value": 1,
            "max_value": 50000,
        },
        "TaskCpu": {
            "type": CFNString,
            "description": "Fargate task CPU units",
            "allowed_values": ["256", "512", "1024", "2048", "4096"],
        },
        "TaskMemory": {
            "type": CFNNumber,
            "description": "Fargate task memory (MiB)",
            "min_value": 512,
            "max_value": 30720,
        },
        "ClusterName": {"type": CFNString, "description": "The shared tier's ECS cluster"},
        "HttpsListenerArn": {"type": CFNString, "description": "The shared ALB's HTTPS listener"},
        APP_FILES_BUCKET_NAME: {
            "type": CFNString,
            "description": "The tier's application-files bucket; the tenant uses its own prefix",
        },
        "VpcId": {"type": EC2VPCId, "description": "The shared tier's VPC"},
        "PrivateSubnetIds": {"type": EC2SubnetIdList, "description": "Subnets the tasks run in"},
        "ServiceSecurityGroupId": {
            "type": EC2SecurityGroupId,
            "description": "The namespace's service security group (base stack)",
        },
        "DatabaseEndpointAddress": {"type": CFNString, "description": "Host name of the database"},
        "DatabaseEndpointPort": {
            "type": CFNString,
            "description": "Port of the database",
            "allowed_pattern": r"^[0-9]{1,5}$",
            "constraint_description": "a TCP port number",
        },
        "LoadBalancerFullName": {"type": CFNString, "description": "The shared ALB's full name (alarm dimension)"},
        **alarms.monitoring_variables("the service's log group is", SERVICE_THRESHOLDS),
    }

    def validate(self, variables):
        self.timestamp = self.parse("Timestamp", variables["Timestamp"], naming.parse_timestamp)
        self.thresholds = alarms.parse_thresholds(self, variables, SERVICE_THRESHOLDS)

    def build(self, variables):
        self.secret_arn_parameters()
        self.log_group()
        self.roles()
        self.task_definition()
        self.target_group()
        self.listener_rule()
        self.service()
        for alarm in alarms.service_alarms(self.namespace, Ref("AlarmTopicArn"), TARGET_GROUP, self.thresholds):
            self.add_resource(alarm)

    def secret_arn_parameters(self):
        for name, default, what in (
            (DATABASE_SECRET_ARN, naming.ssm_secret_arn_parameter(self.namespace), "master secret (migrations)"),
            (DATABASE_APP_SECRET_ARN, naming.ssm_app_secret_arn_parameter(self.namespace),
             "application-user secret (php)"),
        ):
            self.template.add_parameter(
                Parameter(
                    name,
                    Type="AWS::SSM::Parameter::Value<String>",
                    Default=default,
                    Description="SSM parameter holding the ARN of the namespace's database %s" % what,
                )
            )

    def log_group(self):
        self.add_resource(
            logs.LogGroup(
                LOG_GROUP,
                LogGroupName=naming.log_group_name(self.namespace),
                RetentionInDays=Ref("LogRetentionDays"),
                KmsKeyId=Ref("LogsKeyArn"),
                # Explicit: the group goes with the stack (a tenant's decommissioning). A
                # retained group keeps its fixed name and would block re-creating the stack.
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
            )
        )
        self.output(LOG_GROUP, "Name", Ref(LOG_GROUP))

    def roles(self):
        self.role(EXECUTION_ROLE, "execution", service_iam.execution_policy(self.namespace))
        self.role(TASK_ROLE, "task", service_iam.task_policy(self.namespace, APP_FILES_BUCKET_NAME))

    def role(self, logical_id, policy_name, policy):
        self.add_resource(
            iam.Role(
                logical_id,
                Description="%s service %s role" % (self.namespace, policy_name),
                AssumeRolePolicyDocument=trust_policy(ECS_TASKS_PRINCIPAL),
                PermissionsBoundary=permissions_boundary_arn(self.namespace),
                Policies=[iam.Policy(PolicyName=policy_name, PolicyDocument=policy)],
            )
        )

    def task_definition(self):
        self.add_resource(
            ecs.TaskDefinition(
                TASK_DEFINITION,
                # Each build's task definition is immutable and replaced, never updated. Keep
                # replaced revisions ACTIVE (the deploy history): a failed stable gate points
                # the service back at the previous one.
                UpdateReplacePolicy="Retain",
                DeletionPolicy="Retain",
                Family=naming.task_family(self.namespace),
                RequiresCompatibilities=["FARGATE"],
                NetworkMode="awsvpc",
                Cpu=Ref("TaskCpu"),
                Memory=Ref("TaskMemory"),
                ExecutionRoleArn=GetAtt(EXECUTION_ROLE, "Arn"),
                TaskRoleArn=GetAtt(TASK_ROLE, "Arn"),
                ContainerDefinitions=[
                    containers.migrate_container(self.namespace, self.timestamp, LOG_GROUP),
                    containers.php_container(self.namespace, self.timestamp, LOG_GROUP, APP_FILES_BUCKET_NAME),
                    containers.nginx_container(LOG_GROUP),
                ],
                Volumes=[ecs.Volume(Name=name) for name, _ in containers.scratch_volumes()],
            )
        )
        self.output(TASK_DEFINITION, "Arn", Ref(TASK_DEFINITION))

    def target_group(self):
        self.add_resource(
            elb.TargetGroup(
                TARGET_GROUP,
                TargetType="ip",
                Protocol="HTTP",
                Port=NGINX_PORT,
                VpcId=Ref("VpcId"),
                HealthCheckProtocol="HTTP",
                HealthCheckPath=HEALTH_CHECK_PATH,
                Matcher=elb.Matcher(HttpCode=HEALTH_CHECK_MATCHER),
                HealthCheckIntervalSeconds=HEALTH_CHECK_INTERVAL,
                HealthCheckTimeoutSeconds=HEALTH_CHECK_TIMEOUT,
                HealthyThresholdCount=HEALTHY_THRESHOLD,
                UnhealthyThresholdCount=UNHEALTHY_THRESHOLD,
                TargetGroupAttributes=[
                    elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value=DEREGISTRATION_DELAY)
                ],
            )
        )
        self.output(TARGET_GROUP, "Arn", Ref(TARGET_GROUP))

    def listener_rule(self):
        self.add_resource(
            elb.ListenerRule(
                LISTENER_RULE,
                ListenerArn=Ref("HttpsListenerArn"),
                Priority=Ref("ListenerPriority"),
                Conditions=[
                    elb.Condition(Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(Values=[Ref("Hostname")]))
                ],
                Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(TARGET_GROUP))],
            )
        )

    def service(self):
        self.add_resource(
            ecs.Service(
                SERVICE,
                DependsOn=[LISTENER_RULE],
                ServiceName=naming.service_name(self.namespace),
                Cluster=Ref("ClusterName"),
                LaunchType="FARGATE",
                DesiredCount=Ref("DesiredCount"),
                TaskDefinition=Ref(TASK_DEFINITION),
                NetworkConfiguration=ecs.NetworkConfiguration(
                    AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                        AssignPublicIp="DISABLED",
                        Subnets=Ref("PrivateSubnetIds"),
                        SecurityGroups=[Ref("ServiceSecurityGroupId")],
                    )
                ),
                LoadBalancers=[
                    ecs.LoadBalancer(ContainerName=NGINX, ContainerPort=NGINX_PORT, TargetGroupArn=Ref(TARGET_GROUP))
                ],
                HealthCheckGracePeriodSeconds=HEALTH_CHECK_GRACE_SECONDS,
                DeploymentConfiguration=ecs.DeploymentConfiguration(
                    MinimumHealthyPercent=100,
                    MaximumPercent=200,
                    DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                ),
                PropagateTags="SERVICE",
                EnableECSManagedTags=True,
            )
        )
        self.output(SERVICE, "Name", GetAtt(SERVICE, "Name"))
        # Ref is the service ARN on AWS and on the local endpoint (moto 5 has no GetAtt ServiceArn).
        self.output(SERVICE, "Arn", Ref(SERVICE))
