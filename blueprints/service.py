"""The ECS service of one tenant namespace: `<namespace>-service`.

nginx in front of php-fpm in one Fargate task, behind the shared tier's HTTPS listener
(a host-header rule). Each build and each database yields a new, immutable task
definition revision: images and the database's timestamp and endpoint are all in it.
A rollout replaces tasks with 100% kept healthy and rolls back on its own when the new
tasks do not become healthy (deployment circuit breaker); the pipeline's stable gate
waits for it before the SSM pointer moves.

The database password never appears here: the `DatabaseSecretArn` template parameter
is an SSM parameter type whose default is the namespace's secret-ARN parameter, so
CloudFormation resolves the ARN at deploy time and ECS injects the password into the
php container from Secrets Manager. IAM policies live in `blueprints.service_iam`.

The module runs to about 300 lines on purpose: the task definition, its two containers,
the load balancing and the service are one unit, read top to bottom.
"""
from troposphere import GetAtt, Parameter, Ref, Sub, ecs, elasticloadbalancingv2 as elb, iam, logs

from blueprints import service_iam
from blueprints.base import TenantstackBlueprint
from blueprints.iam import ECS_TASKS_PRINCIPAL, permissions_boundary_arn, trust_policy
from blueprints.network import HTTP_PORT
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
DATABASE_SECRET_ARN = "DatabaseSecretArn"
APP_FILES_BUCKET_NAME = "AppFilesBucketName"

LOG_RETENTION_DAYS = 90
HEALTH_CHECK_GRACE_SECONDS = 60
DEREGISTRATION_DELAY = "30"  # seconds; the default 300 slows every rollout
PHP, PHP_PORT = naming.PHP_CONTAINER, 9000
NGINX, NGINX_PORT = "nginx", HTTP_PORT
# Root filesystems are read-only; these paths get a task-local scratch volume each.
# php-fpm writes sessions and uploads to /tmp; the nginx image keeps its pid in /var/run
# and its proxy/fastcgi buffers in /var/cache/nginx.
SCRATCH_PATHS = {
    PHP: ("/tmp",),
    NGINX: ("/tmp", "/var/cache/nginx", "/var/run"),
}

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
    }

    def validate(self, variables):
        self.timestamp = self.parse("Timestamp", variables["Timestamp"], naming.parse_timestamp)

    def build(self, variables):
        self.secret_arn_parameter()
        self.log_group()
        self.roles()
        self.task_definition()
        self.target_group()
        self.listener_rule()
        self.service()

    def secret_arn_parameter(self):
        self.template.add_parameter(
            Parameter(
                DATABASE_SECRET_ARN,
                Type="AWS::SSM::Parameter::Value<String>",
                Default=naming.ssm_secret_arn_parameter(self.namespace),
                Description="SSM parameter holding the ARN of the namespace's database secret",
            )
        )

    def log_group(self):
        self.add_resource(
            logs.LogGroup(
                LOG_GROUP,
                LogGroupName=naming.log_group_name(self.namespace),
                RetentionInDays=LOG_RETENTION_DAYS,
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
                ContainerDefinitions=[self.php_container(), self.nginx_container()],
                Volumes=[ecs.Volume(Name=name) for name, _ in self.scratch_volumes()],
            )
        )
        self.output(TASK_DEFINITION, "Arn", Ref(TASK_DEFINITION))

    def php_container(self):
        environment = {
            "DB_HOST": Ref("DatabaseEndpointAddress"),
            "DB_PORT": Ref("DatabaseEndpointPort"),
            naming.DB_TIMESTAMP_VARIABLE: self.timestamp,
            "APP_NAMESPACE": self.namespace.name,
            "APP_FILES_BUCKET": Ref(APP_FILES_BUCKET_NAME),
            "APP_FILES_PREFIX": naming.s3_prefix(self.namespace),
        }
        return self.container(
            PHP,
            Image=Ref("PhpImage"),
            PortMappings=[ecs.PortMapping(ContainerPort=PHP_PORT, Protocol="tcp")],
            Environment=[ecs.Environment(Name=k, Value=v) for k, v in sorted(environment.items())],
            Secrets=[
                ecs.Secret(Name="DB_USERNAME", ValueFrom=Sub("${%s}:username::" % DATABASE_SECRET_ARN)),
                ecs.Secret(Name="DB_PASSWORD", ValueFrom=Sub("${%s}:password::" % DATABASE_SECRET_ARN)),
            ],
        )

    def nginx_container(self):
        return self.container(
            NGINX,
            Image=Ref("NginxImage"),
            PortMappings=[ecs.PortMapping(ContainerPort=NGINX_PORT, Protocol="tcp")],
            DependsOn=[ecs.ContainerDependency(ContainerName=PHP, Condition="START")],
        )

    def container(self, name, **properties):
        return ecs.ContainerDefinition(
            Name=name,
            Essential=True,
            ReadonlyRootFilesystem=True,
            MountPoints=[
                ecs.MountPoint(SourceVolume=volume, ContainerPath=path, ReadOnly=False)
                for volume, path in self.scratch_volumes(name)
            ],
            LogConfiguration=ecs.LogConfiguration(
                LogDriver="awslogs",
                Options={
                    "awslogs-group": Ref(LOG_GROUP),
                    "awslogs-region": Ref("AWS::Region"),
                    "awslogs-stream-prefix": name,
                },
            ),
            **properties
        )

    @staticmethod
    def scratch_volumes(container=None):
        """(volume name, container path) pairs, e.g. ("nginx-var-run", "/var/run")."""
        return [
            ("%s%s" % (owner, path.replace("/", "-")), path)
            for owner, paths in sorted(SCRATCH_PATHS.items())
            if container in (None, owner)
            for path in paths
        ]

    def target_group(self):
        self.add_resource(
            elb.TargetGroup(
                TARGET_GROUP,
                TargetType="ip",
                Protocol="HTTP",
                Port=NGINX_PORT,
                VpcId=Ref("VpcId"),
                HealthCheckProtocol="HTTP",
                HealthCheckPath="/",
                Matcher=elb.Matcher(HttpCode="200-399"),
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
