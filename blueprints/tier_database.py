"""The shared tier's pieces for its tenants' databases: the KMS key and the MySQL parameter group.

blueprints/tier.py adds them to the tier stack (its docstring says why they live there). The key
policy lets the account administer the key and its principals use it only through RDS in this
region; the parameter group requires TLS and writes the slow query log (queries over
LONG_QUERY_SECONDS) and the error log as files, which RDS exports to CloudWatch Logs.
"""
from awacs import kms
from awacs.aws import PolicyDocument
from troposphere import rds

from blueprints import storage
from blueprints.iam import (
    ALIASED_KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS, POLICY_VERSION, administer_key, regional_endpoint, sorted_actions,
    use_key_through,
)
from hooks import naming

# Every tenant database is MySQL 8.0 (hooks.steps.source_snapshot refuses other snapshots).
DATABASE_PARAMETER_FAMILY = "mysql8.0"
LONG_QUERY_SECONDS = 2
DATABASE_PARAMETERS = {
    "require_secure_transport": "1",
    "slow_query_log": "1",
    "long_query_time": str(LONG_QUERY_SECONDS),
    "log_output": "FILE",  # what RDS exports to CloudWatch Logs
}
# The tier key's alias lives in this stack too; using the key (encrypt, decrypt, grants) goes through RDS.
DATABASE_KEY_ADMIN_ACTIONS = ALIASED_KEY_ADMIN_ACTIONS
# RDS makes grants on the key for each instance and snapshot it encrypts.
DATABASE_KEY_USE_ACTIONS = sorted_actions(KEY_USE_ACTIONS, [kms.CreateGrant, kms.ListGrants])


def key(logical_id, alias_logical_id, shared_namespace):
    """The tier's database key and its alias (naming.db_kms_alias). Every database and snapshot of the
    tier is encrypted with it: never deleted (storage.key keeps it)."""
    return [
        storage.key(logical_id, "%s: encrypts the tier's tenant databases and their snapshots" % shared_namespace,
                    key_policy()),
        storage.key_alias(alias_logical_id, naming.db_kms_alias(shared_namespace), logical_id),
    ]


def parameter_group(logical_id, shared_namespace):
    return rds.DBParameterGroup(
        logical_id,
        Description="%s tenant databases (MySQL 8.0): TLS required, slow query log" % shared_namespace,
        Family=DATABASE_PARAMETER_FAMILY,
        Parameters=DATABASE_PARAMETERS,
    )


def key_policy():
    """The account administers the key; its principals use it only through RDS in this region."""
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            administer_key("AdministerKeyInThisAccount", DATABASE_KEY_ADMIN_ACTIONS),
            use_key_through("UseKeyThroughRdsInThisAccount", DATABASE_KEY_USE_ACTIONS, regional_endpoint("rds")),
        ],
    )
