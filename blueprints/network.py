"""Ports, address blocks and security groups the blueprints share.

Every security group of tenantstack is written in full (ingress and egress): a group
without egress rules gets allow-all, so each names the little it may open.
"""
from troposphere import ec2

HTTP_PORT, HTTPS_PORT, MYSQL_PORT = 80, 443, 3306
ANYWHERE = "0.0.0.0/0"
# A group that opens no connection: one rule to loopback leaves nothing open (with no rule
# at all, AWS would allow every egress).
NO_EGRESS = "127.0.0.1/32"
ALL_PROTOCOLS = "-1"


def security_group(logical_id, description, vpc_id, ingress, egress):
    return ec2.SecurityGroup(
        logical_id,
        GroupDescription=description,
        VpcId=vpc_id,
        SecurityGroupIngress=ingress,
        SecurityGroupEgress=egress,
    )


def tcp_rule(port, description, cidr=None, source_group=None):
    """One TCP port, to or from the block `cidr`, or (ingress only) from the group `source_group`."""
    if (cidr is None) == (source_group is None):
        raise ValueError(
            "security group rule %r: expected exactly one peer, cidr or source_group (got %r, %r)"
            % (description, cidr, source_group)
        )
    peer = {"CidrIp": cidr} if source_group is None else {"SourceSecurityGroupId": source_group}
    return ec2.SecurityGroupRule(IpProtocol="tcp", FromPort=port, ToPort=port, Description=description, **peer)


def no_egress_rule(description):
    """The egress rule of a group that opens no connection (see NO_EGRESS)."""
    return ec2.SecurityGroupRule(IpProtocol=ALL_PROTOCOLS, CidrIp=NO_EGRESS, Description=description)
