"""The shared tier (common-nonprod or common-prod): stack <namespace>-tier.

What every tenant of the tier runs on: the ECS cluster, an internet-facing
application load balancer, and the bucket for application files. Nothing here is
per tenant: tenant stacks add their own listener rules, target groups and services.

- The HTTPS listener answers 404 unless a tenant's listener rule matches its host
  name; the HTTP listener only redirects to HTTPS.
- The load balancer's security group admits 443 and 80 from anywhere. Its egress is
  left at the default (all outbound): this stack does not know the tenants' service
  security groups or the VPC's block, and traffic to targets must not break.
- The application-files bucket is shared by the tier; each tenant namespace keeps its
  files under its own key prefix, hooks.naming.s3_prefix(namespace) ("<namespace>/"),
  and its task role is scoped to that prefix. CloudFormation names the bucket; it is
  versioned, encrypted, never public, reachable only over TLS, and kept when the stack
  is deleted or the bucket replaced.
"""
from troposphere import GetAtt, Ref, Sub, ec2, ecs, s3
from troposphere import elasticloadbalancingv2 as elb

from blueprints.base import TenantstackBlueprint
from hooks import naming, settings
from hooks.stacker_compat import CFNString, EC2SubnetIdList, EC2VPCId

CLUSTER = "Cluster"
LOAD_BALANCER_SECURITY_GROUP = "LoadBalancerSecurityGroup"
LOAD_BALANCER = "LoadBalancer"
HTTPS_LISTENER = "HttpsListener"
HTTP_LISTENER = "HttpListener"
APP_FILES_BUCKET = "AppFilesBucket"
APP_FILES_BUCKET_POLICY = "AppFilesBucketPolicy"

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
LOAD_BALANCER_ATTRIBUTES = (
    ("deletion_protection.enabled", "true"),
    ("routing.http.drop_invalid_header_fields.enabled", "true"),
)
ANYWHERE = "0.0.0.0/0"
# The same rule as hooks.settings.certificate_arn, enforced again by CloudFormation.
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
        "CertificateArn": {
            "type": CFNString,
            "description": "ACM certificate of the HTTPS listener",
            "allowed_pattern": CERTIFICATE_ARN_PATTERN,
            "constraint_description": settings.CERTIFICATE_ARN_RULE,
        },
    }

    def build(self, variables):
        self.cluster()
        self.load_balancer_security_group(variables["VpcId"].ref)
        self.load_balancer(variables["PublicSubnetIds"].ref)
        self.https_listener(variables["CertificateArn"].ref)
        self.http_listener()
        self.app_files_bucket()
        self.app_files_bucket_policy()
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

    def load_balancer_security_group(self, vpc_id):
        self.add_resource(
            ec2.SecurityGroup(
                LOAD_BALANCER_SECURITY_GROUP,
                GroupDescription="Shared load balancer: HTTPS, and HTTP to redirect, from anywhere",
                VpcId=vpc_id,
                SecurityGroupIngress=[
                    ec2.SecurityGroupRule(
                        IpProtocol="tcp", FromPort=port, ToPort=port, CidrIp=ANYWHERE, Description=purpose
                    )
                    for port, purpose in ((443, "HTTPS from anywhere"), (80, "HTTP from anywhere, redirected to HTTPS"))
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
                Port=443,
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
                Port=80,
                Protocol="HTTP",
                DefaultActions=[
                    elb.Action(
                        Type="redirect",
                        RedirectConfig=elb.RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
                    )
                ],
            )
        )

    def app_files_bucket(self):
        self.add_resource(
            s3.Bucket(
                APP_FILES_BUCKET,
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
                BucketEncryption=s3.BucketEncryption(
                    ServerSideEncryptionConfiguration=[
                        s3.ServerSideEncryptionRule(
                            ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
                        )
                    ]
                ),
                VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
                PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                    BlockPublicAcls=True,
                    BlockPublicPolicy=True,
                    IgnorePublicAcls=True,
                    RestrictPublicBuckets=True,
                ),
                OwnershipControls=s3.OwnershipControls(
                    Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
                ),
            )
        )

    def app_files_bucket_policy(self):
        self.add_resource(
            s3.BucketPolicy(
                APP_FILES_BUCKET_POLICY,
                Bucket=Ref(APP_FILES_BUCKET),
                PolicyDocument={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [GetAtt(APP_FILES_BUCKET, "Arn"), Sub("${%s.Arn}/*" % APP_FILES_BUCKET)],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
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
