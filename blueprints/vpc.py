"""The shared VPC of one tier (common-nonprod or common-prod): stack <namespace>-vpc.

One public and one private subnet in each of AzCount availability zones. The ALB
lives in the public subnets, tasks and databases in the private ones; private
subnets reach the internet through one NAT gateway ("single") or one per AZ
("per-az"). Public subnets do not hand out public IPs: nothing launched there needs
one (the ALB and the NAT gateways bring their own addresses).

Subnet layout: VpcCidr is cut into 8 equal /23 blocks (8 x /23 fill the smallest
allowed VPC, a /20). The blocks are computed here rather than with Fn::Cidr, so the
rendered template shows every subnet's real block to reviewers (and the local
endpoint, which lacks Fn::Cidr, deploys the same template AWS gets). AZ n always gets public block n and
private block 4 + n, so going from 2 to 3 AZs adds subnets without renumbering the
existing ones (a changed CIDR would replace a subnet and everything in it).

VPC flow logs (all traffic) go to a CloudWatch log group named by
hooks.naming.flow_log_group_name; the delivery role may write to that group only. The group is
encrypted with the tier's logs key (alias hooks.naming.logs_kms_alias), which lives here because
this is the tier's first stack: every log group of the tier (flow logs, each tenant's service,
its databases' exports) uses it, and its policy lets CloudWatch Logs use it for those groups
only (blueprints/monitoring.py).
"""
import ipaddress

from awacs import logs as log_actions
from awacs.aws import Allow, ArnLike, PolicyDocument, SourceArn
from troposphere import GetAtt, GetAZs, Join, Ref, Select, ec2, iam, logs

from blueprints import monitoring, storage
from blueprints.base import TenantstackBlueprint
from blueprints.iam import FLOW_LOGS_PRINCIPAL, POLICY_VERSION, Statement, arn, trust_policy
from blueprints.network import ANYWHERE
from hooks import naming
from hooks.config import settings
from hooks.engine.stacker_compat import CFNNumber

VPC = "Vpc"
INTERNET_GATEWAY = "InternetGateway"
INTERNET_GATEWAY_ATTACHMENT = "InternetGatewayAttachment"
PUBLIC_ROUTE_TABLE = "PublicRouteTable"
PUBLIC_DEFAULT_ROUTE = "PublicDefaultRoute"
# Per-AZ resources: the prefix plus the AZ's number (PublicSubnet1, NatGateway2 ...).
PUBLIC_SUBNET = "PublicSubnet"
PUBLIC_SUBNET_ROUTE_TABLE_ASSOCIATION = "PublicSubnetRouteTableAssociation"
PRIVATE_SUBNET = "PrivateSubnet"
PRIVATE_ROUTE_TABLE = "PrivateRouteTable"
PRIVATE_DEFAULT_ROUTE = "PrivateDefaultRoute"
PRIVATE_SUBNET_ROUTE_TABLE_ASSOCIATION = "PrivateSubnetRouteTableAssociation"
NAT_ADDRESS = "NatAddress"
NAT_GATEWAY = "NatGateway"
FLOW_LOG_GROUP = "FlowLogGroup"
FLOW_LOG_ROLE = "FlowLogRole"
FLOW_LOG = "FlowLog"
LOGS_KEY = "LogsKey"
LOGS_KEY_ALIAS = "LogsKeyAlias"

AZ_COUNTS = (2, 3)
NAT_MODES = ("single", "per-az")
SUBNET_BLOCKS = 8
SUBNET_PREFIX = 23  # /23 subnets: 507 usable addresses each
PRIVATE_BLOCK_OFFSET = 4
ANY_FLOW_LOG = "vpc-flow-log/*"  # the ARN resource of every flow log (AWS names them)
FLOW_LOG_DELIVERY_ACTIONS = [log_actions.CreateLogStream, log_actions.PutLogEvents, log_actions.DescribeLogStreams]

DEFAULTS = {setting.key: setting.default for setting in settings.SHARED_SETTINGS}


def subnet_block(vpc_cidr, index):
    """Block number `index` of the VPC's eight /23 blocks."""
    blocks = ipaddress.ip_network(vpc_cidr).subnets(new_prefix=SUBNET_PREFIX)
    return str(list(blocks)[:SUBNET_BLOCKS][index])


def per_az(prefix, index):
    """The logical id of a per-AZ resource: index 0 is AZ number 1."""
    return "%s%d" % (prefix, index + 1)


class SharedVpc(TenantstackBlueprint):
    DESCRIPTION = "Shared VPC: public and private subnets per AZ, NAT, flow logs"
    NAMESPACE_KIND = "shared"
    VARIABLES = {
        "AzCount": {
            "type": int,
            "default": DEFAULTS["az_count"],
            "description": "Availability zones to spread subnets over: 2 or 3",
        },
        "NatGateways": {
            "type": str,
            "default": DEFAULTS["nat_gateways"],
            "description": "NAT gateways: single (one, in the first public subnet) or per-az",
        },
        "VpcCidr": {
            "type": str,
            "description": "The VPC's private IPv4 block, /16 to /20 (cut into eight /23 subnets)",
        },
        "FlowLogRetentionDays": {
            "type": CFNNumber,
            "default": str(DEFAULTS["flow_log_retention"]),
            "description": "Days the VPC flow logs are kept",
            "allowed_values": [str(days) for days in settings.LOG_RETENTION_DAYS],
            "constraint_description": "a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)",
        },
    }

    def validate(self, variables):
        if variables["AzCount"] not in AZ_COUNTS or isinstance(variables["AzCount"], bool):
            self.fail("AzCount", variables["AzCount"], "expected 2 or 3")
        if variables["NatGateways"] not in NAT_MODES:
            self.fail("NatGateways", variables["NatGateways"], "expected single or per-az")
        self.parse("VpcCidr", variables["VpcCidr"], settings.cidr)

    def build(self, variables):
        zones = range(variables["AzCount"])
        nat_zones = zones if variables["NatGateways"] == "per-az" else range(1)
        cidr = variables["VpcCidr"]
        self.vpc(cidr)
        self.internet_gateway()
        self.public_route_table()
        for zone in zones:
            self.public_subnet(zone, cidr)
        for zone in nat_zones:
            self.nat_gateway(zone)
        for zone in zones:
            self.private_subnet(zone, cidr, nat_zone=zone if zone in nat_zones else 0)
        self.logs_key()
        self.flow_logs(variables["FlowLogRetentionDays"].ref)
        self.declare_outputs(zones)

    # --- resources ---------------------------------------------------------------

    def vpc(self, cidr):
        self.add_resource(ec2.VPC(VPC, CidrBlock=cidr, EnableDnsSupport=True, EnableDnsHostnames=True))

    def internet_gateway(self):
        self.add_resource(ec2.InternetGateway(INTERNET_GATEWAY))
        self.add_resource(
            ec2.VPCGatewayAttachment(
                INTERNET_GATEWAY_ATTACHMENT, VpcId=Ref(VPC), InternetGatewayId=Ref(INTERNET_GATEWAY)
            )
        )

    def public_route_table(self):
        self.add_resource(ec2.RouteTable(PUBLIC_ROUTE_TABLE, VpcId=Ref(VPC)))
        self.add_resource(
            ec2.Route(
                PUBLIC_DEFAULT_ROUTE,
                DependsOn=INTERNET_GATEWAY_ATTACHMENT,
                RouteTableId=Ref(PUBLIC_ROUTE_TABLE),
                DestinationCidrBlock=ANYWHERE,
                GatewayId=Ref(INTERNET_GATEWAY),
            )
        )

    def public_subnet(self, zone, cidr):
        self.subnet(PUBLIC_SUBNET, zone, subnet_block(cidr, zone))
        self.add_resource(
            ec2.SubnetRouteTableAssociation(
                per_az(PUBLIC_SUBNET_ROUTE_TABLE_ASSOCIATION, zone),
                SubnetId=Ref(per_az(PUBLIC_SUBNET, zone)),
                RouteTableId=Ref(PUBLIC_ROUTE_TABLE),
            )
        )

    def nat_gateway(self, zone):
        address = per_az(NAT_ADDRESS, zone)
        self.add_resource(ec2.EIP(address, Domain="vpc", DependsOn=INTERNET_GATEWAY_ATTACHMENT))
        self.add_resource(
            ec2.NatGateway(
                per_az(NAT_GATEWAY, zone),
                AllocationId=GetAtt(address, "AllocationId"),
                SubnetId=Ref(per_az(PUBLIC_SUBNET, zone)),
            )
        )

    def private_subnet(self, zone, cidr, nat_zone):
        """Each AZ has its own route table even with a single NAT, so per-az later only retargets routes."""
        table = per_az(PRIVATE_ROUTE_TABLE, zone)
        self.subnet(PRIVATE_SUBNET, zone, subnet_block(cidr, PRIVATE_BLOCK_OFFSET + zone))
        self.add_resource(ec2.RouteTable(table, VpcId=Ref(VPC)))
        self.add_resource(
            ec2.Route(
                per_az(PRIVATE_DEFAULT_ROUTE, zone),
                RouteTableId=Ref(table),
                DestinationCidrBlock=ANYWHERE,
                NatGatewayId=Ref(per_az(NAT_GATEWAY, nat_zone)),
            )
        )
        self.add_resource(
            ec2.SubnetRouteTableAssociation(
                per_az(PRIVATE_SUBNET_ROUTE_TABLE_ASSOCIATION, zone),
                SubnetId=Ref(per_az(PRIVATE_SUBNET, zone)),
                RouteTableId=Ref(table),
            )
        )

    def subnet(self, prefix, zone, block):
        """A subnet in AZ number `zone` on the given CIDR block."""
        self.add_resource(
            ec2.Subnet(
                per_az(prefix, zone),
                VpcId=Ref(VPC),
                AvailabilityZone=Select(zone, GetAZs("")),
                CidrBlock=block,
                MapPublicIpOnLaunch=False,
            )
        )

    def logs_key(self):
        self.add_resource(storage.key(
            LOGS_KEY, "%s: encrypts the tier's log groups" % self.namespace, monitoring.logs_key_policy(self.namespace)
        ))
        self.add_resource(storage.key_alias(LOGS_KEY_ALIAS, naming.logs_kms_alias(self.namespace), LOGS_KEY))

    def flow_logs(self, retention_days):
        self.add_resource(
            logs.LogGroup(
                FLOW_LOG_GROUP,
                DeletionPolicy="Retain",  # audit data outlives the stack; retention still expires it
                UpdateReplacePolicy="Retain",
                LogGroupName=naming.flow_log_group_name(self.namespace),
                RetentionInDays=retention_days,
                KmsKeyId=GetAtt(LOGS_KEY, "Arn"),
            )
        )
        self.add_resource(
            iam.Role(
                FLOW_LOG_ROLE,
                AssumeRolePolicyDocument=flow_log_trust_policy(),
                Policies=[iam.Policy(PolicyName="deliver-flow-logs", PolicyDocument=flow_log_delivery_policy())],
            )
        )
        self.add_resource(
            ec2.FlowLog(
                FLOW_LOG,
                ResourceId=Ref(VPC),
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="cloud-watch-logs",
                LogGroupName=Ref(FLOW_LOG_GROUP),
                DeliverLogsPermissionArn=GetAtt(FLOW_LOG_ROLE, "Arn"),
            )
        )

    def declare_outputs(self, zones):
        self.output(VPC, "Id", Ref(VPC), "The VPC")
        self.output(VPC, "CidrBlock", GetAtt(VPC, "CidrBlock"), "The VPC's IPv4 block")
        self.output(
            PUBLIC_SUBNET,
            "Ids",
            Join(",", [Ref(per_az(PUBLIC_SUBNET, zone)) for zone in zones]),
            "Public subnets (load balancers, NAT gateways), comma-separated, in AZ order",
        )
        self.output(
            PRIVATE_SUBNET,
            "Ids",
            Join(",", [Ref(per_az(PRIVATE_SUBNET, zone)) for zone in zones]),
            "Private subnets (tasks, databases), comma-separated, in AZ order",
        )
        self.output(LOGS_KEY, "Arn", GetAtt(LOGS_KEY, "Arn"), "KMS key of the tier's log groups")


def flow_log_trust_policy():
    """Only the flow-logs service, acting for this account's flow logs, may assume the role."""
    return trust_policy(FLOW_LOGS_PRINCIPAL, ArnLike(SourceArn, arn("ec2", ANY_FLOW_LOG)))


def flow_log_delivery_policy():
    """Write to the flow-log group only (its Arn attribute ends in ':*', covering its streams)."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Action=FLOW_LOG_DELIVERY_ACTIONS,
                Resource=GetAtt(FLOW_LOG_GROUP, "Arn"),
            )
        ],
    )
