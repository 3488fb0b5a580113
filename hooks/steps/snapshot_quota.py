"""Warn before a promotion would hit the account's quota of manual DB snapshots.

RDS allows 100 manual snapshots per account and Region by default (quota "Manual DB
snapshots", L-9B510759 in Service Quotas; RDS reports it as the account quota
ManualSnapshots in DescribeAccountAttributes, with how many are used). A promotion adds up to
two: the restore copy across tiers (hooks.steps.tier_copy) and the final snapshot of the
database it retires. At the quota the copy fails before anything changed, but the retirement's
final snapshot fails after the flip, leaving the old database running until someone prunes.
So the pre_build step reads the quota first and warns, saying what to prune, when the
promotion would reach it (and, earlier, when 90% of it is in use).

It only warns: whether this promotion's snapshots are the ones that hit the quota depends
on every other deploy of the account. A quota that cannot be read (no permission, or an
endpoint that does not implement the call, like the local one) is logged and skipped.

Layers: `judge` (pure), `read_quota` / `check` (AWS, take clients).
"""
import logging

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

logger = logging.getLogger(__name__)

QUOTA_NAME = "ManualSnapshots"
NEAR_FRACTION = 0.9
SNAPSHOTS_PER_PROMOTION = 2  # the restore copy and the retired database's final snapshot


def judge(used, maximum, needed, namespace):
    """The warning for `needed` more snapshots with `used` of `maximum` in use; None when there is room."""
    if maximum <= 0:
        return None
    if used + needed > maximum:
        verdict = "this promotion would reach it: up to %d more are needed" % needed
    elif used + needed > NEAR_FRACTION * maximum:
        verdict = "%d%% of it is in use" % round(100.0 * used / maximum)
    else:
        return None
    return (
        "manual DB snapshot quota: %d of %d used in this account and Region; %s (a cross-tier copy and the "
        "final snapshot of the retired database). Prune before it stops retirements: `tenantstack reap <namespace>` "
        "lists what retention deletes (a tenant's old final snapshots; in a dev namespace, the snapshots no "
        "environment needs) and --apply deletes it; start with %s and its source. Or lower keep_final_snapshots, "
        "or raise the quota 'Manual DB snapshots' (Service Quotas, L-9B510759)"
        % (used, maximum, verdict, namespace)
    )


def read_quota(rds):
    """(used, max) of the account's manual snapshots; None when RDS does not say."""
    try:
        quotas = rds.describe_account_attributes().get("AccountQuotas", [])
    except (BotoCoreError, ClientError, ResponseParserError) as error:  # the local endpoint answers a 500 page
        logger.info("could not read the manual DB snapshot quota (%s); not checked", error)
        return None
    for quota in quotas:
        if quota.get("AccountQuotaName") == QUOTA_NAME:
            return int(quota.get("Used", 0)), int(quota.get("Max", 0))
    return None


def check(rds, namespace, needed=SNAPSHOTS_PER_PROMOTION):
    """Log (and return) the warning for a promotion of `namespace`; None when there is room or no answer."""
    quota = read_quota(rds)
    warning = judge(quota[0], quota[1], needed, namespace) if quota else None
    if warning:
        logger.warning("%s", warning)
    return warning
