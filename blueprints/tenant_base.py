"""The long-lived base of one tenant namespace: `<namespace>-base`.

It outlives every database and service stack of the namespace. It exists so that a
database stack, created before the service stack, can already admit the service: the
service's security group lives here, and both later stacks take its id as a parameter.

The group admits HTTP from the shared ALB only, and lets the tasks open only what they
need: MySQL into the VPC (the namespace's databases admit this group alone) and HTTPS
to the AWS APIs (ECR, Secrets Manager, SSM, CloudWatch Logs, S3), reached through NAT.
"""
from troposphere import Ref

from blueprints.base import TenantstackBlueprint
from blueprints.network import ANYWHERE, HTTP_PORT, HTTPS_PORT, MYSQL_PORT, security_group, tcp_rule
from hooks.engine.stacker_compat import CFNString, EC2SecurityGroupId, EC2VPCId

SERVICE_SECURITY_GROUP = "ServiceSecurityGroup"


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
            security_group(
                SERVICE_SECURITY_GROUP,
                "%s service tasks: HTTP from the shared ALB only" % self.namespace,
                Ref("VpcId"),
                ingress=[
                    tcp_rule(HTTP_PORT, "HTTP from the shared ALB", source_group=Ref("LoadBalancerSecurityGroupId")),
                ],
                egress=[
                    tcp_rule(MYSQL_PORT, "MySQL to the namespace's databases in the VPC", cidr=Ref("VpcCidrBlock")),
                    tcp_rule(
                        HTTPS_PORT,
                        "HTTPS to the AWS APIs (ECR, Secrets Manager, SSM, Logs, S3) through NAT",
                        cidr=ANYWHERE,
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
