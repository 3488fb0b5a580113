"""The shared tier (common-nonprod or common-prod): stack <namespace>-tier.

What every tenant of the tier runs on: the ECS cluster, an internet-facing
application load balancer, and the bucket for application files. Nothing here is
per tenant: tenant stacks add their own listener rules, target groups and services.

- The HTTPS listener answers 404 unless a tenant's listener rule matches its host
  name; the HTTP listener only redirects to HTTPS.
- The load balancer's security group admits 443 and 80 from anywhere (80 only to be
  redirected). Its egress is narrowed to what the targets need: HTTP (80) into the
  VPC's block, where every tenant's tasks run.
- The application-files bucket is shared by the tier; each tenant namespace keeps its
  files under its own key prefix, hooks.naming.s3_prefix(namespace) ("<namespace>/"),
  and its task role is scoped to that prefix. CloudFormation names the bucket; it is
  versioned, encrypted, never public, reachable only over TLS, and kept when the stack
  is deleted or the bucket replaced.
- The tier's databases: a customer-managed KMS key (alias hooks.naming.db_kms_alias,
  rotated yearly, kept when the stack goes: losing it would lose every snapshot made
  with it) and one MySQL 8.0 parameter group that requires TLS
  (require_secure_transport=1). All tenants of a tier run the same engine family, and
  database stacks live one per snapshot timestamp, so both live here and enter each
  database stack as parameters. The key policy lets the account administer the key
  (IAM policies may then delegate) and lets principals of this account use it only
  through RDS in this region (kms:ViaService, kms:CallerAccount). The group writes the slow
  query log and the error log, which each database exports to CloudWatch Logs
  (blueprints/tier_database.py).
- What the operator sees (blueprints/monitoring.py): a log bucket that receives the ALB's
  access logs (prefix alb/, one per load balancer: every tenant's requests, told apart by
  their host) and the files bucket's server access logs (prefix app-files/); and the topic
  every tenant alarm of the tier notifies: the env key alarm_topic_arn when set (the
  operators' own paging), else a topic of this stack, encrypted with a key of its own.
  Outputs the ALB's full name, the dimension of the tenants' ALB alarms.
"""
from troposphere import GetAtt, Ref, ecs, s3
from troposphere import elasticloadbalancingv2 as elb

from blueprints import monitoring, storage, tier_database
from blueprints.base import TenantstackBlueprint
from blueprints.network import ANYWHERE, HTTP_PORT, HTTPS_PORT, security_group, tcp_rule
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNNumber, CFNString, EC2SubnetIdList, EC2VPCId

CLUSTER = "Cluster"
LOAD_BALANCER_SECURITY_GROUP = "LoadBalancerSecurityGroup"
LOAD_BALANCER = "LoadBalancer"
HTTPS_LISTENER = "HttpsListener"
HTTP_LISTENER = "HttpListener"
APP_FILES_BUCKET = "AppFilesBucket"
APP_FILES_BUCKET_POLICY = "AppFilesBucketPolicy"
DATABASE_KEY = "DatabaseKey"
DATABASE_KEY_ALIAS = "DatabaseKeyAlias"
DATABASE_PARAMETER_GROUP = "DatabaseParameterGroup"
LOG_BUCKET = "LogBucket"
LOG_BUCKET_POLICY = "LogBucketPolicy"
ALARM_TOPIC = "AlarmTopic"
ALARM_TOPIC_POLICY = "AlarmTopicPolicy"
ALARM_TOPIC_KEY = "AlarmTopicKey"
ALARM_TOPIC_KEY_ALIAS = "AlarmTopicKeyAlias"

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
LOAD_BALANCER_ATTRIBUTES = (
    ("deletion_protection.enabled", "true"),
    ("routing.http.drop_invalid_header_fields.enabled", "true"),
    ("access_logs.s3.enabled", "true"),
)
SHARED_DEFAULTS = {setting.key: setting.default for setting in settings.SHARED_SETTINGS}
# The same rule as hooks.config.settings.certificate_arn, enforced again by CloudFormation.
CERTIFICATE_ARN_PATTERN = settings.CERTIFICATE_ARN_PATTERN


class SharedTier(TenantstackBlueprint):
    DESCRIPTION = (
        "Shared tier: ECS cluster, internet-facing ALB, application-files bucket "
        "(each tenant namespace uses its own key prefix <namespace>/)"
    )
    NAMESPACE_KIND = "shared"
    VARIABLES = {
        "VpcId": {"type": EC2VPCId, "description": "The tier's VPC (output VpcId of the vpc stack)"},
        "PublicSubnetIds": {
            "type": EC2SubnetIdList,
            "description": "Subnets for the load balancer (output PublicSubnetIds of the vpc stack)",
        },
        "VpcCidrBlock": {
            "type": CFNString,
            "description": "The VPC's IPv4 block (output VpcCidrBlock of the vpc stack); the ALB sends only there",
        },
        "CertificateArn": {
            "type": CFNString,
            "description": "ACM certificate of the HTTPS listener",
            "allowed_pattern": CERTIFICATE_ARN_PATTERN,
            "constraint_description": settings.CERTIFICATE_ARN_RULE,
        },
        "AlarmTopicArn": {
            "type": str,
            "default": "",
            "description": "The SNS topic the tier's alarms notify (env key alarm_topic_arn); empty: a topic of this stack",
        },
        "AccessLogRetentionDays": {
            "type": CFNNumber,
            "default": str(SHARED_DEFAULTS["access_log_retention"]),
            "description": "Days the access logs in the log bucket are kept",
            "min_value": 1,
            "max_value": 3650,
        },
        "ElbLogDeliveryAccount": {
            "type": str,
            "default": "",
            "description": "Regions opened before August 2022: the region's ELB account, which delivers ALB access logs",
        },
    }

    def validate(self, variables):
        self.parse("AlarmTopicArn", variables["AlarmTopicArn"], settings.SHARED_RULES["alarm_topic_arn"])
        self.parse("ElbLogDeliveryAccount", variables["ElbLogDeliveryAccount"],
                   settings.SHARED_RULES["elb_log_delivery_account"])

    def build(self, variables):
        self.cluster()
        self.log_bucket(variables["AccessLogRetentionDays"].ref, variables["ElbLogDeliveryAccount"])
        self.load_balancer_security_group(variables["VpcId"].ref, variables["VpcCidrBlock"].ref)
        self.load_balancer(variables["PublicSubnetIds"].ref)
        self.https_listener(variables["CertificateArn"].ref)
        self.http_listener()
        self.app_files_bucket()
        self.app_files_bucket_policy()
        self.database_key()
        self.database_parameter_group()
        self.alarm_topic(variables["AlarmTopicArn"])
        self.declare_outputs()

    # --- resources ---------------------------------------------------------------

    def cluster(self):
        self.add_resource(
            ecs.Cluster(
                CLUSTER,
                ClusterName=naming.cluster_name(self.namespace),
                ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
            )
        )

    def load_balancer_security_group(self, vpc_id, vpc_cidr):
        self.add_resource(
            security_group(
                LOAD_BALANCER_SECURITY_GROUP,
                "Shared load balancer: HTTPS, and HTTP to redirect, from anywhere",
                vpc_id,
                ingress=[
                    tcp_rule(HTTPS_PORT, "HTTPS from anywhere", cidr=ANYWHERE),
                    tcp_rule(HTTP_PORT, "HTTP from anywhere, redirected to HTTPS", cidr=ANYWHERE),
                ],
                egress=[
                    tcp_rule(
                        HTTP_PORT, "HTTP to the tenants' tasks (targets and health checks) in the VPC", cidr=vpc_cidr
                    ),
                ],
            )
        )

    def load_balancer(self, subnet_ids):
        self.add_resource(
            elb.LoadBalancer(
                LOAD_BALANCER,
                Type="application",
                Scheme="internet-facing",
                IpAddressType="ipv4",
                Subnets=subnet_ids,
                SecurityGroups=[GetAtt(LOAD_BALANCER_SECURITY_GROUP, "GroupId")],
                # ELB writes a test object when access logging is turned on: the policy must be in place.
                DependsOn=[LOG_BUCKET_POLICY],
                LoadBalancerAttributes=[
                    elb.LoadBalancerAttributes(Key=key, Value=value) for key, value in LOAD_BALANCER_ATTRIBUTES
                ] + [
                    elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(LOG_BUCKET)),
                    elb.LoadBalancerAttributes(
                        Key="access_logs.s3.prefix", Value=naming.access_log_prefix(self.namespace, "alb").rstrip("/")
                    ),
                ],
            )
        )

    def https_listener(self, certificate_arn):
        self.add_resource(
            elb.Listener(
                HTTPS_LISTENER,
                LoadBalancerArn=Ref(LOAD_BALANCER),
                Port=HTTPS_PORT,
                Protocol="HTTPS",
                SslPolicy=TLS_POLICY,
                Certificates=[elb.Certificate(CertificateArn=certificate_arn)],
                DefaultActions=[
                    elb.Action(
                        Type="fixed-response",
                        FixedResponseConfig=elb.FixedResponseConfig(
                            StatusCode="404", ContentType="text/plain", MessageBody="Not Found"
                        ),
                    )
                ],
            )
        )

    def http_listener(self):
        self.add_resource(
            elb.Listener(
                HTTP_LISTENER,
                LoadBalancerArn=Ref(LOAD_BALANCER),
                Port=HTTP_PORT,
                Protocol="HTTP",
                DefaultActions=[
                    elb.Action(
                        Type="redirect",
                        RedirectConfig=elb.RedirectConfig(
                            Protocol="HTTPS", Port=str(HTTPS_PORT), StatusCode="HTTP_301"
                        ),
                    )
                ],
            )
        )

    def app_files_bucket(self):
        # A copy of a data set's files killed mid-way (hooks/aws/file_copy.py: multipart above 1 GiB) leaves
        # its parts behind, billed and invisible; a re-run starts the object afresh, so they go after 7 days.
        # No object expires: every data set's files are kept as long as its database or final snapshot.
        self.add_resource(storage.bucket(
            APP_FILES_BUCKET, storage.s3_managed_encryption(),
            LoggingConfiguration=monitoring.access_logging(LOG_BUCKET, self.namespace, "app-files"),
            LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[s3.LifecycleRule(
                Id="abort-incomplete-copies", Status="Enabled",
                AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
            )]),
        ))

    def log_bucket(self, retention_days, legacy_elb_account):
        self.add_resource(monitoring.log_bucket(LOG_BUCKET, retention_days))
        policy = monitoring.log_bucket_policy(LOG_BUCKET, APP_FILES_BUCKET, self.namespace, legacy_elb_account)
        self.add_resource(s3.BucketPolicy(LOG_BUCKET_POLICY, Bucket=Ref(LOG_BUCKET), PolicyDocument=policy))

    def alarm_topic(self, given_arn):
        """The operators' topic when the env file names one; else this stack's own, under a key of its own."""
        self.alarm_topic_arn = given_arn
        if given_arn:
            return
        self.add_resource(storage.key(
            ALARM_TOPIC_KEY, "%s: encrypts the tier's alarm topic" % self.namespace, monitoring.alarm_topic_key_policy()
        ))
        self.add_resource(storage.key_alias(ALARM_TOPIC_KEY_ALIAS, naming.alarms_kms_alias(self.namespace), ALARM_TOPIC_KEY))
        self.add_resource(monitoring.alarm_topic(ALARM_TOPIC, self.namespace, ALARM_TOPIC_KEY))
        self.add_resource(monitoring.alarm_topic_access(ALARM_TOPIC_POLICY, ALARM_TOPIC))
        self.alarm_topic_arn = Ref(ALARM_TOPIC)

    def app_files_bucket_policy(self):
        self.add_resource(storage.tls_only_policy(APP_FILES_BUCKET_POLICY, APP_FILES_BUCKET))

    def database_key(self):
        for resource in tier_database.key(DATABASE_KEY, DATABASE_KEY_ALIAS, self.namespace):
            self.add_resource(resource)

    def database_parameter_group(self):
        self.add_resource(tier_database.parameter_group(DATABASE_PARAMETER_GROUP, self.namespace))

    def declare_outputs(self):
        self.output(CLUSTER, "Name", Ref(CLUSTER), "The tier's ECS cluster")
        self.output(CLUSTER, "Arn", GetAtt(CLUSTER, "Arn"))
        self.output(LOAD_BALANCER, "Arn", Ref(LOAD_BALANCER), "The shared application load balancer")
        self.output(LOAD_BALANCER, "DNSName", GetAtt(LOAD_BALANCER, "DNSName"), "Target of tenant host names")
        self.output(LOAD_BALANCER, "FullName", GetAtt(LOAD_BALANCER, "LoadBalancerFullName"),
                    "The LoadBalancer dimension of the tenants' ALB alarms")
        self.output(LOG_BUCKET, "Name", Ref(LOG_BUCKET), "Access logs: alb/ (the ALB), app-files/ (the files bucket)")
        self.output(ALARM_TOPIC, "Arn", self.alarm_topic_arn, "The topic every alarm of the tier notifies")
        self.output(
            LOAD_BALANCER_SECURITY_GROUP,
            "Id",
            GetAtt(LOAD_BALANCER_SECURITY_GROUP, "GroupId"),
            "Tenant services admit traffic from this security group",
        )
        self.output(HTTPS_LISTENER, "Arn", Ref(HTTPS_LISTENER), "Tenant listener rules attach here")
        self.output(
            APP_FILES_BUCKET,
            "Name",
            Ref(APP_FILES_BUCKET),
            "Application files; each tenant namespace uses its own key prefix <namespace>/",
        )
        self.output(APP_FILES_BUCKET, "Arn", GetAtt(APP_FILES_BUCKET, "Arn"))
        self.output(DATABASE_KEY, "Arn", GetAtt(DATABASE_KEY, "Arn"), "KMS key of the tier's tenant databases")
        self.output(
            DATABASE_PARAMETER_GROUP,
            "Name",
            Ref(DATABASE_PARAMETER_GROUP),
            "Parameter group of the tier's tenant databases (TLS required)",
        )

