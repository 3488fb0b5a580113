"""The containers of a tenant's task: migrate, php and nginx, and the application contract they keep.

One Fargate task, one network namespace (docs/application.md):

    migrate  the php image running `php /app/bin/migrate` once per task start, before php: applies
             the image's migrations to the task's database and creates or re-keys the
             application user. Not essential; php starts only when it exited 0
             (`DependsOn ... SUCCESS`). It alone gets the master credentials.
    php      php-fpm on 127.0.0.1:9000, logged in as the least-privilege application user;
             healthy when php-fpm answers its ping (`bin/fpm-ping`), database or not.
    nginx    the load balancer's target on port 80; starts once php is HEALTHY; healthy when
             nginx answers /nginx-health itself. The target group checks /healthz, which goes
             nginx -> php-fpm -> the database: only a task that can use its database is healthy.

Why the migration is a container and not a hook: stacker runs hooks only before and after the
whole build, and the database is created and the service moved within it. The only moment
between "the new database exists" and "the service serves from it" is inside the new task
itself. A migration that fails or hangs keeps php from starting, the task never becomes
healthy, the deployment circuit breaker rolls the service back, and the stable gate fails the
deploy with the old service and database untouched. Migrations run against the new database
only: the task definition names it. `bin/migrate` serialises concurrent tasks and applies
nothing twice.

Root filesystems are read-only; SCRATCH_PATHS get a task-local volume each.
"""
from troposphere import Ref, Sub, ecs

from blueprints.network import HTTP_PORT
from hooks import naming

PHP, PHP_PORT = naming.PHP_CONTAINER, 9000
NGINX, NGINX_PORT = "nginx", HTTP_PORT
MIGRATE = naming.MIGRATE_CONTAINER
MIGRATE_COMMAND = ["php", "/app/bin/migrate"]
# php-fpm writes sessions and uploads to /tmp; the nginx image keeps its pid in /var/run and
# its proxy/fastcgi buffers in /var/cache/nginx.
SCRATCH_PATHS = {
    MIGRATE: ("/tmp",),
    PHP: ("/tmp",),
    NGINX: ("/tmp", "/var/cache/nginx", "/var/run"),
}
# The images' own liveness checks (app/*/Dockerfile HEALTHCHECK): neither touches the database,
# so a database outage does not make ECS replace every task; the target group's /healthz does.
HEALTH_CHECKS = {
    PHP: ("php /app/bin/fpm-ping || exit 1", 10),
    NGINX: ("wget -q -O /dev/null -T 2 http://127.0.0.1/nginx-health || exit 1", 5),
}
HEALTH_CHECK_INTERVAL, HEALTH_CHECK_TIMEOUT, HEALTH_CHECK_RETRIES = 10, 5, 3
# The secret-ARN template parameters (SSM parameter types, resolved at deploy time).
MASTER_SECRET_ARN, APP_SECRET_ARN = "DatabaseSecretArn", "DatabaseAppSecretArn"


def secret_pair(parameter, prefix=""):
    """DB_<prefix>USERNAME and DB_<prefix>PASSWORD from the secret whose ARN `parameter` holds."""
    return [
        ecs.Secret(Name="DB_%sUSERNAME" % prefix, ValueFrom=Sub("${%s}:username::" % parameter)),
        ecs.Secret(Name="DB_%sPASSWORD" % prefix, ValueFrom=Sub("${%s}:password::" % parameter)),
    ]


def database_environment(timestamp):
    """Where the task's database is: the same for migrate and php."""
    return {
        "DB_HOST": Ref("DatabaseEndpointAddress"),
        "DB_PORT": Ref("DatabaseEndpointPort"),
        naming.DB_TIMESTAMP_VARIABLE: timestamp,
    }


def environment(values):
    return [ecs.Environment(Name=key, Value=value) for key, value in sorted(values.items())]


def health_check(container):
    command, start_period = HEALTH_CHECKS[container]
    return ecs.HealthCheck(
        Command=["CMD-SHELL", command],
        Interval=HEALTH_CHECK_INTERVAL,
        Timeout=HEALTH_CHECK_TIMEOUT,
        Retries=HEALTH_CHECK_RETRIES,
        StartPeriod=start_period,
    )


def migrate_container(namespace, timestamp, log_group):
    return container(
        MIGRATE,
        log_group,
        Essential=False,
        Image=Ref("PhpImage"),
        Command=MIGRATE_COMMAND,
        Environment=environment(database_environment(timestamp)),
        Secrets=secret_pair(MASTER_SECRET_ARN, "MASTER_") + secret_pair(APP_SECRET_ARN),
    )


def php_container(namespace, timestamp, log_group, files_bucket_parameter):
    values = dict(
        database_environment(timestamp),
        APP_NAMESPACE=namespace.name,
        APP_FILES_BUCKET=Ref(files_bucket_parameter),
        APP_FILES_PREFIX=naming.files_prefix(namespace, timestamp),  # the files of the data set of timestamp
    )
    return container(
        PHP,
        log_group,
        Image=Ref("PhpImage"),
        PortMappings=[ecs.PortMapping(ContainerPort=PHP_PORT, Protocol="tcp")],
        Environment=environment(values),
        Secrets=secret_pair(APP_SECRET_ARN),
        HealthCheck=health_check(PHP),
        DependsOn=[ecs.ContainerDependency(ContainerName=MIGRATE, Condition="SUCCESS")],
    )


def nginx_container(log_group):
    return container(
        NGINX,
        log_group,
        Image=Ref("NginxImage"),
        PortMappings=[ecs.PortMapping(ContainerPort=NGINX_PORT, Protocol="tcp")],
        HealthCheck=health_check(NGINX),
        DependsOn=[ecs.ContainerDependency(ContainerName=PHP, Condition="HEALTHY")],
    )


def container(name, log_group, Essential=True, **properties):
    return ecs.ContainerDefinition(
        Name=name,
        Essential=Essential,
        ReadonlyRootFilesystem=True,
        MountPoints=[
            ecs.MountPoint(SourceVolume=volume, ContainerPath=path, ReadOnly=False)
            for volume, path in scratch_volumes(name)
        ],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": name,
            },
        ),
        **properties
    )


def scratch_volumes(container_name=None):
    """(volume name, container path) pairs, e.g. ("nginx-var-run", "/var/run")."""
    return [
        ("%s%s" % (owner, path.replace("/", "-")), path)
        for owner, paths in sorted(SCRATCH_PATHS.items())
        if container_name in (None, owner)
        for path in paths
    ]
