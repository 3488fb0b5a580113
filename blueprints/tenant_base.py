"""The long-lived base of one tenant namespace: `<namespace>-base`.

It outlives every database and service stack of the namespace. It exists so that a
database stack, created before the service stack, can already admit the service: the
service's security group lives here, and both later stacks take its id as a parameter.

The group admits HTTP from the shared ALB only, and lets the tasks open only what they
need: MySQL into the VPC (the namespace's databases admit this group alone) and HTTPS
to the AWS APIs (ECR, Secrets Manager, SSM, CloudWatch Logs, S3), reached through NAT.
"""
from troposphere import Ref, ec2

from blueprints.base import TenantstackBlueprint
from hooks.engine.stacker_compat import CFNString, EC2SecurityGroupId, EC2VPCId

SERVICE_SECURITY_GROUP = "ServiceSecurityGroup"
HTTP_PORT = 80
HTTPS_PORT = 443
MYSQL_PORT = 3306
ANYWHERE = "0.0.0.0/0"


class TenantBase(TenantstackBlueprint):
    """A tenant's service security group, admitting HTTP from the shared ALB only."""

    DESCRIPTION = "tenantstack tenant base: the service security group"
    NAMESPACE_KIND = "tenant"
    VARIABLES = {
        "VpcId": {"type": EC2VPCId, "description": "The shared tier's VPC"},
        "LoadBalancerSecurityGroupId": {
            "type": EC2SecurityGroupId,
            "description": "The shared ALB's security group; the only source the service admits",
        },
        "VpcCidrBlock": {
            "type": CFNString,
            "description": "The shared VPC's IPv4 block; the tasks reach their databases there",
        },
    }

    def build(self, variables):
        self.service_security_group()

    def service_security_group(self):
        group = self.add_resource(
            ec2.SecurityGroup(
                SERVICE_SECURITY_GROUP,
                GroupDescription="%s service tasks: HTTP from the shared ALB only" % self.namespace,
                VpcId=Ref("VpcId"),
                SecurityGroupIngress=[
                    ec2.SecurityGroupRule(
                        Description="HTTP from the shared ALB",
                        IpProtocol="tcp",
                        FromPort=HTTP_PORT,
                        ToPort=HTTP_PORT,
                        SourceSecurityGroupId=Ref("LoadBalancerSecurityGroupId"),
                    )
                ],
                SecurityGroupEgress=[
                    ec2.SecurityGroupRule(
                        Description="MySQL to the namespace's databases in the VPC",
                        IpProtocol="tcp",
                        FromPort=MYSQL_PORT,
                        ToPort=MYSQL_PORT,
                        CidrIp=Ref("VpcCidrBlock"),
                    ),
                    ec2.SecurityGroupRule(
                        Description="HTTPS to the AWS APIs (ECR, Secrets Manager, SSM, Logs, S3) through NAT",
                        IpProtocol="tcp",
                        FromPort=HTTPS_PORT,
                        ToPort=HTTPS_PORT,
                        CidrIp=ANYWHERE,
                    ),
                ],
            )
        )
        self.output(
            SERVICE_SECURITY_GROUP,
            "Id",
            group.GetAtt("GroupId"),
            "Security group of the namespace's service tasks; database stacks admit it",
        )
