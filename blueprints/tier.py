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
  through RDS in this region (kms:ViaService, kms:CallerAccount).
"""
from awacs import kms
from awacs.aws import PolicyDocument
from troposphere import GetAtt, Ref, ecs, rds
from troposphere import elasticloadbalancingv2 as elb

from blueprints import storage
from blueprints.base import TenantstackBlueprint
from blueprints.iam import (
    KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS, POLICY_VERSION, administer_key, regional_endpoint, sorted_actions,
    use_key_through,
)
from blueprints.network import ANYWHERE, HTTP_PORT, HTTPS_PORT, security_group, tcp_rule
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNString, EC2SubnetIdList, EC2VPCId

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

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
LOAD_BALANCER_ATTRIBUTES = (
    ("deletion_protection.enabled", "true"),
    ("routing.http.drop_invalid_header_fields.enabled", "true"),
)
# Every tenant database is MySQL 8.0 (hooks.steps.source_snapshot refuses other snapshots).
DATABASE_PARAMETER_FAMILY = "mysql8.0"
DATABASE_PARAMETERS = {"require_secure_transport": "1"}
# The tier key's alias lives in this stack too; using the key (encrypt, decrypt, grants) goes through RDS.
DATABASE_KEY_ADMIN_ACTIONS = sorted_actions(KEY_ADMIN_ACTIONS, [kms.CreateAlias, kms.DeleteAlias, kms.UpdateAlias])
# RDS makes grants on the key for each instance and snapshot it encrypts.
DATABASE_KEY_USE_ACTIONS = sorted_actions(KEY_USE_ACTIONS, [kms.CreateGrant, kms.ListGrants])
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
    }

    def build(self, variables):
        self.cluster()
        self.load_balancer_security_group(variables["VpcId"].ref, variables["VpcCidrBlock"].ref)
        self.load_balancer(variables["PublicSubnetIds"].ref)
        self.https_listener(variables["CertificateArn"].ref)
        self.http_listener()
        self.app_files_bucket()
        self.app_files_bucket_policy()
        self.database_key()
        self.database_parameter_group()
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
                LoadBalancerAttributes=[
                    elb.LoadBalancerAttributes(Key=key, Value=value) for key, value in LOAD_BALANCER_ATTRIBUTES
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
        self.add_resource(storage.bucket(APP_FILES_BUCKET, storage.s3_managed_encryption()))

    def app_files_bucket_policy(self):
        self.add_resource(storage.tls_only_policy(APP_FILES_BUCKET_POLICY, APP_FILES_BUCKET))

    def database_key(self):
        # Every database and snapshot of the tier is encrypted with it: never delete it (storage.key keeps it).
        self.add_resource(
            storage.key(
                DATABASE_KEY,
                "%s: encrypts the tier's tenant databases and their snapshots" % self.namespace,
                database_key_policy(),
            )
        )
        self.add_resource(storage.key_alias(DATABASE_KEY_ALIAS, naming.db_kms_alias(self.namespace), DATABASE_KEY))

    def database_parameter_group(self):
        self.add_resource(
            rds.DBParameterGroup(
                DATABASE_PARAMETER_GROUP,
                Description="%s tenant databases (MySQL 8.0): TLS required" % self.namespace,
                Family=DATABASE_PARAMETER_FAMILY,
                Parameters=DATABASE_PARAMETERS,
            )
        )

    def declare_outputs(self):
        self.output(CLUSTER, "Name", Ref(CLUSTER), "The tier's ECS cluster")
        self.output(CLUSTER, "Arn", GetAtt(CLUSTER, "Arn"))
        self.output(LOAD_BALANCER, "Arn", Ref(LOAD_BALANCER), "The shared application load balancer")
        self.output(LOAD_BALANCER, "DNSName", GetAtt(LOAD_BALANCER, "DNSName"), "Target of tenant host names")
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


def database_key_policy():
    """The account administers the key; its principals use it only through RDS in this region."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            administer_key("AdministerKeyInThisAccount", DATABASE_KEY_ADMIN_ACTIONS),
            use_key_through("UseKeyThroughRdsInThisAccount", DATABASE_KEY_USE_ACTIONS, regional_endpoint("rds")),
        ],
    )
