"""One tenant database, restored from one snapshot: `<namespace>-db-<timestamp>`.

Each stack is specific to its snapshot timestamp. The instance id, the snapshot it is
restored from and its SSM registration are baked into the template from `hooks.naming`,
so reviewers read in the rendered JSON exactly which data a deploy brings up, and old
and new databases of one namespace run side by side during a deploy.

The instance is MySQL restored from the snapshot `naming.restores_from` names: the source
snapshot `<source-namespace>-<timestamp>` itself when the source is in the same tier (already
under the tier's KMS key), else the tenant's own copy `<namespace>-<timestamp>`
(naming.restore_snapshot_id), which the pre_build hook `hooks.steps.tier_copy` makes from the
source under the tier's key (SnapshotCopy `always`: the copy in every case); engine version,
master user name, storage and encryption come from that snapshot. A restore would also inherit the
source database's password, so MasterUserPassword is a dynamic reference to the
namespace's own secret (`hooks.steps.credentials` creates it before the stacks): CloudFormation
resolves it at deploy time and sets it right after the restore, before the stack
completes and so before the service starts against it. The value never appears in
the template, its parameters or stacker's output.

Why CloudFormation never deletes the database (DeletionPolicy and UpdateReplacePolicy
Retain, plus DeletionProtection): removing a database is the pipeline's job, not the
stack's. A `Delete` policy would lose data with no snapshot; a `Snapshot` policy lets
CloudFormation name the final snapshot and fires on any stack delete or replacement,
including ones the pipeline did not plan (and the local endpoint ignores it). So the
pipeline retires only a database that is neither active, in flight nor referenced by
the running task definition: it lifts deletion protection, deletes the instance with a
final snapshot under the unique, timestamped name `naming.final_snapshot_id` gives, and
removes the stack, which leaves the retained instance alone. A replacement that
CloudFormation might attempt fails on the fixed instance identifier instead of
touching data.

Encryption and transport: the instance is encrypted with the tier's customer-managed
KMS key and uses the tier's parameter group, which requires TLS
(require_secure_transport=1; the group comes from the tier stack as a parameter). On a
restore AWS takes the key from the snapshot: RestoreDBInstanceFromDBSnapshot has no KMS
key argument, and CloudFormation documents KmsKeyId as not to be set together with
DBSnapshotIdentifier. So the template sets StorageEncrypted and no KmsKeyId, and restores
from a snapshot that `hooks.steps.tier_copy` guarantees is under the tier key before the
stack is built (docs/pipeline.md, "The tenant's snapshot copy"). The rule depends on names
only, never on a key, so the template still renders offline.

The stack registers its database in SSM at `/<namespace>/db/databases/<timestamp>`
as a compact JSON object (instance_id, stack, snapshot: what it restores from, source:
the source snapshot, endpoint, port; all strings),
so the pipeline lists a namespace's databases with one GetParametersByPath call.

Logs and alarms: the instance exports its MySQL error and slow query logs (the tier's parameter
group turns the slow query log on) to `/aws/rds/instance/<instance id>/<log>`. RDS would create
those groups itself, unencrypted and kept forever; this stack creates them first (the instance
depends on them), encrypted with the tier's logs key and kept LogRetentionDays, and deletes them
with the stack when the pipeline retires the database. Its alarms (CPU, free storage,
connections) are blueprints/alarms.py's.
"""
import json

from troposphere import GetAtt, Ref, Sub, logs, rds, ssm

from blueprints import alarms

from blueprints.base import TenantstackBlueprint
from blueprints.network import MYSQL_PORT, no_egress_rule, security_group, tcp_rule
from hooks import naming
from hooks.engine.stacker_compat import CFNNumber, CFNString, EC2SecurityGroupId, EC2SubnetIdList, EC2VPCId

DATABASE = "Database"
DATABASE_SECURITY_GROUP = "DatabaseSecurityGroup"
DATABASE_SUBNET_GROUP = "DatabaseSubnetGroup"
DATABASE_REGISTRATION = "DatabaseRegistration"

ENGINE = "mysql"
# One log group per exported log: ErrorLogGroup, SlowqueryLogGroup.
LOG_GROUPS = {log: "%sLogGroup" % log.capitalize() for log in naming.RDS_EXPORTED_LOGS}
DATABASE_THRESHOLDS = {
    "AlarmCpuPercent": "alarm_db_cpu_percent",
    "AlarmFreeStorageMiB": "alarm_db_free_storage_mib",
    "AlarmConnections": "alarm_db_connections",
}


def secret_reference(namespace, key):
    """A CloudFormation dynamic reference to one key of the namespace's database secret."""
    return "{{resolve:secretsmanager:%s:SecretString:%s}}" % (naming.db_secret_name(namespace), key)


class TenantDatabase(TenantstackBlueprint):
    """A MySQL instance restored from a source snapshot, registered in SSM."""

    DESCRIPTION = "tenantstack tenant database restored from a snapshot"
    NAMESPACE_KIND = "tenant"
    VARIABLES = {
        "Timestamp": {
            "type": str,
            "description": "Timestamp of the source snapshot; it names the database and its stack",
        },
        "SourceNamespace": {
            "type": str,
            "description": "Namespace whose snapshot holds the data (the same project's, usually dev)",
        },
        "SnapshotCopy": {
            "type": str,
            "description": "across-tiers: restore a source snapshot of the same tier as it is, copy one of the "
                           "other tier under this tier's key first; always: restore from the copy in every case",
            "default": naming.COPY_ACROSS_TIERS,
        },
        "InstanceClass": {
            "type": CFNString,
            "description": "RDS instance class",
            "allowed_pattern": r"^db\.[a-z0-9]+\.[a-z0-9]+$",
            "constraint_description": "an RDS instance class such as db.t4g.micro",
        },
        "MultiAZ": {
            "type": CFNString,
            "description": "Run the database Multi-AZ",
            "allowed_values": ["true", "false"],
        },
        "BackupRetentionDays": {
            "type": CFNNumber,
            "description": "Days of automated backups",
            "min_value": 1,
            "max_value": 35,
        },
        "VpcId": {"type": EC2VPCId, "description": "The shared tier's VPC"},
        "PrivateSubnetIds": {
            "type": EC2SubnetIdList,
            "description": "The shared tier's private subnets, for the DB subnet group",
        },
        "ServiceSecurityGroupId": {
            "type": EC2SecurityGroupId,
            "description": "The namespace's service security group (base stack); the only source admitted",
        },
        "ParameterGroupName": {
            "type": CFNString,
            "description": "The tier's MySQL parameter group requiring TLS (output DatabaseParameterGroupName)",
        },
        **alarms.monitoring_variables("the database's exported logs are", DATABASE_THRESHOLDS),
    }

    def validate(self, variables):
        self.timestamp = self.parse("Timestamp", variables["Timestamp"], naming.parse_timestamp)
        source = self.parse("SourceNamespace", variables["SourceNamespace"], naming.parse_namespace)
        if source.project_key != self.namespace.project_key:
            self.fail(
                "SourceNamespace",
                source.name,
                "%s restores only from its own project's snapshots (%s-*), never from another "
                "project's data" % (self.namespace, self.namespace.project_key),
            )
        self.source_namespace = source
        self.snapshot_copy = self.parse("SnapshotCopy", variables["SnapshotCopy"], self.copy_policy)
        self.thresholds = alarms.parse_thresholds(self, variables, DATABASE_THRESHOLDS)

    @staticmethod
    def copy_policy(value, field):
        if value not in naming.SNAPSHOT_COPY_POLICIES:
            raise naming.NamingError(field, value, "expected one of %s" % ", ".join(naming.SNAPSHOT_COPY_POLICIES))
        return value

    def build(self, variables):
        self.instance_id = naming.db_instance_id(self.namespace, self.timestamp)
        self.source_snapshot = naming.snapshot_id(self.source_namespace, self.timestamp)
        self.snapshot = naming.restores_from(self.namespace, self.source_namespace, self.timestamp, self.snapshot_copy)
        self.subnet_group()
        self.security_group()
        self.log_groups()
        self.database()
        self.registration()
        for alarm in alarms.database_alarms(self.namespace, self.timestamp, self.instance_id, Ref("AlarmTopicArn"),
                                            self.thresholds):
            self.add_resource(alarm)

    def log_groups(self):
        for log, logical_id in LOG_GROUPS.items():
            self.add_resource(
                logs.LogGroup(
                    logical_id,
                    LogGroupName=naming.rds_log_group_name(self.instance_id, log),
                    RetentionInDays=Ref("LogRetentionDays"),
                    KmsKeyId=Ref("LogsKeyArn"),
                    DeletionPolicy="Delete",  # goes with the stack, after the pipeline retired the database
                    UpdateReplacePolicy="Delete",
                )
            )

    def subnet_group(self):
        self.add_resource(
            rds.DBSubnetGroup(
                DATABASE_SUBNET_GROUP,
                DBSubnetGroupDescription="%s: private subnets" % self.instance_id,
                SubnetIds=Ref("PrivateSubnetIds"),
            )
        )

    def security_group(self):
        """MySQL from the namespace's service only; no egress: a database opens no connection of its own."""
        group = self.add_resource(
            security_group(
                DATABASE_SECURITY_GROUP,
                "%s: MySQL from the %s service only" % (self.instance_id, self.namespace),
                Ref("VpcId"),
                ingress=[
                    tcp_rule(
                        MYSQL_PORT, "MySQL from the %s service" % self.namespace,
                        source_group=Ref("ServiceSecurityGroupId"),
                    ),
                ],
                egress=[no_egress_rule("No outbound traffic: the database opens no connection")],
            )
        )
        self.output(DATABASE_SECURITY_GROUP, "Id", group.GetAtt("GroupId"))

    def database(self):
        self.add_resource(
            rds.DBInstance(
                DATABASE,
                DBInstanceIdentifier=self.instance_id,
                DBSnapshotIdentifier=self.snapshot,
                MasterUserPassword=secret_reference(self.namespace, "password"),
                Engine=ENGINE,
                DBInstanceClass=Ref("InstanceClass"),
                MultiAZ=Ref("MultiAZ"),
                DBSubnetGroupName=Ref(DATABASE_SUBNET_GROUP),
                VPCSecurityGroups=[GetAtt(DATABASE_SECURITY_GROUP, "GroupId")],
                DBParameterGroupName=Ref("ParameterGroupName"),
                PubliclyAccessible=False,
                StorageEncrypted=True,  # under the tier key: the snapshot's (hooks.steps.tier_copy)
                DeletionProtection=True,
                BackupRetentionPeriod=Ref("BackupRetentionDays"),
                CopyTagsToSnapshot=True,
                AutoMinorVersionUpgrade=True,
                EnableCloudwatchLogsExports=list(naming.RDS_EXPORTED_LOGS),
                DependsOn=sorted(LOG_GROUPS.values()),
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
            )
        )
        self.output(DATABASE, "EndpointAddress", GetAtt(DATABASE, "Endpoint.Address"))
        self.output(DATABASE, "EndpointPort", GetAtt(DATABASE, "Endpoint.Port"))
        self.output(DATABASE, "InstanceId", Ref(DATABASE))

    def registration(self):
        record = {
            "instance_id": self.instance_id,
            "stack": naming.db_stack_name(self.namespace, self.timestamp),
            "snapshot": self.snapshot,
            "source": self.source_snapshot,
            "endpoint": "${EndpointAddress}",
            "port": "${EndpointPort}",
        }
        # Named Sub variables rather than ${Database.Endpoint.Address}: same result on AWS,
        # and the local endpoint misparses dotted attributes inside Fn::Sub.
        value = Sub(
            json.dumps(record, separators=(",", ":")),
            EndpointAddress=GetAtt(DATABASE, "Endpoint.Address"),
            EndpointPort=GetAtt(DATABASE, "Endpoint.Port"),
        )
        self.add_resource(
            ssm.Parameter(
                DATABASE_REGISTRATION,
                Name=naming.ssm_database_parameter(self.namespace, self.timestamp),
                Type="String",
                Description=self.registration_description(),
                Value=value,
            )
        )

    def registration_description(self):
        if self.snapshot == self.source_snapshot:
            return "Registers database %s (from snapshot %s)" % (self.instance_id, self.snapshot)
        return "Registers database %s (from snapshot %s, a copy of %s)" % (
            self.instance_id, self.snapshot, self.source_snapshot)
