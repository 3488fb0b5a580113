"""Names of what an operator watches a tenant by: alarms, the tier's alarm topic, exported and access logs.

The keys that encrypt them are named here too (logs, alarms); the database key is in
hooks/naming/resources.py.
"""
from hooks.naming.namespaces import *  # noqa: F401,F403
from hooks.naming.namespaces import _namespace_name
from hooks.naming.resources import db_instance_id, flow_log_group_name


def rds_log_group_name(instance_id, log):
    """The log group RDS exports one log of one DB instance to (it creates it when absent):
    /aws/rds/instance/<instance id>/<log>."""
    if log not in RDS_EXPORTED_LOGS:
        raise NamingError("RDS log", log, "expected one of %s" % ", ".join(RDS_EXPORTED_LOGS))
    return "%s%s/%s" % (RDS_LOG_GROUP_PREFIX, instance_id, log)


# The MySQL logs a tenant database exports to CloudWatch Logs (EnableCloudwatchLogsExports).
RDS_EXPORTED_LOGS = ("error", "slowquery")
RDS_LOG_GROUP_PREFIX = "/aws/rds/instance/"


def tier_log_group_patterns(shared_namespace):
    """IAM wildcards for every log group of a tier: its flow logs, each tenant's service log group and
    the log groups its databases export to (what its logs key may encrypt)."""
    tier = parse_shared_namespace(str(shared_namespace))
    environments = [env for env in ENVIRONMENTS if (PROD_TIER if env == "prod" else NONPROD_TIER) == tier.name]
    return [flow_log_group_name(tier.name)] + [
        pattern
        for env in environments
        for pattern in ("/*-%s/service" % env, "%s*-%s-db-*" % (RDS_LOG_GROUP_PREFIX, env))
    ]


def logs_kms_alias(shared_namespace):
    """The alias of the tier's customer-managed KMS key for its log groups."""
    return "alias/%s/logs" % parse_shared_namespace(str(shared_namespace)).name


def alarms_kms_alias(shared_namespace):
    """The alias of the tier's customer-managed KMS key for its alarm topic."""
    return "alias/%s/alarms" % parse_shared_namespace(str(shared_namespace)).name


def alarm_topic_name(shared_namespace):
    """The SNS topic a tier's alarms notify when its env file names none (alarm_topic_arn)."""
    return "%s-alarms" % parse_shared_namespace(str(shared_namespace)).name


def access_log_prefix(shared_namespace, source):
    """The key prefix of one source's access logs in the tier's log bucket: <source>/ (alb, app-files).
    The ALB takes one prefix per load balancer, so its logs hold every tenant's requests."""
    if source not in ACCESS_LOG_SOURCES:
        raise NamingError("access log source", source, "expected one of %s" % ", ".join(ACCESS_LOG_SOURCES))
    parse_shared_namespace(str(shared_namespace))
    return "%s/" % source


ACCESS_LOG_SOURCES = ("alb", "app-files")


# --- alarms ----------------------------------------------------------------------------

# What each alarm of a tenant watches, by the suffix of its name. The service stack's alarms
# are the namespace's (<namespace>-<what>), each database stack's its instance's
# (<namespace>-db-<timestamp>-<what>): all start with alarm_name_prefix(namespace).
SERVICE_ALARMS = ("target-5xx-rate", "unhealthy-hosts", "tasks-below-desired")
DATABASE_ALARMS = ("cpu", "free-storage", "connections")
# The alarms the stable gate's bake time watches: the new tasks' answers and health.
BAKE_ALARMS = ("target-5xx-rate", "unhealthy-hosts")


def alarm_name_prefix(namespace):
    """What the name of every alarm of a namespace starts with: '<namespace>-'."""
    return "%s-" % _namespace_name(namespace)


def alarm_name(namespace, what):
    """A service alarm of the namespace: <namespace>-<what> (what: one of SERVICE_ALARMS)."""
    if what not in SERVICE_ALARMS:
        raise NamingError("service alarm", what, "expected one of %s" % ", ".join(SERVICE_ALARMS))
    return alarm_name_prefix(namespace) + what


def db_alarm_name_prefix(namespace, timestamp):
    """What the name of every alarm of one database starts with: '<namespace>-db-<timestamp>-'."""
    return "%s-" % db_instance_id(namespace, timestamp)


def db_alarm_name(namespace, timestamp, what):
    """An alarm of one database: <namespace>-db-<timestamp>-<what> (what: one of DATABASE_ALARMS)."""
    if what not in DATABASE_ALARMS:
        raise NamingError("database alarm", what, "expected one of %s" % ", ".join(DATABASE_ALARMS))
    return db_alarm_name_prefix(namespace, timestamp) + what


def alarm_namespace(alarm, namespaces):
    """The namespace among `namespaces` whose alarm_name_prefix `alarm` starts with; None if none."""
    return next((ns for ns in sorted(namespaces) if alarm.startswith(alarm_name_prefix(ns))), None)
