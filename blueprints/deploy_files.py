"""The deploy role's statements on a data set's files (a part of blueprints/deploy_iam.py's policies).

A promotion copies `<source>/files/<timestamp>/` from the source tier's files bucket to
`<namespace>/files/<timestamp>/` in its own tier's (hooks.steps.files), and retention deletes a
retired timestamp's files with its last final snapshot (hooks.steps.retention). So the role reads
`<source>/files/*` (objects and their tags: a copy reads both) and lists only that prefix there,
and writes, reads, deletes and lists `<namespace>/files/*` in its own tier's bucket: never
another prefix, so never another tenant's files (the isolation proof, tests/security). For a
dev namespace, its own source, both name the same bucket and prefix. The files buckets are
SSE-S3 (blueprints/tier.py): no KMS permission is involved.
"""
from awacs.aws import Allow, Condition, StringLike

from blueprints import deploy_actions as actions
from blueprints.iam import Statement, bucket_arn, objects_arn, parameter_text
from hooks import naming


def file_statements(ns, source, parameters):
    """The data set's files (hooks.steps.files, hooks.steps.retention): read `<source>/files/*` in the source
    tier's bucket, write `<namespace>/files/*` in the namespace's (the same bucket and prefix for a dev
    namespace, its own source)."""
    own_bucket = parameter_text(parameters["files_bucket"])
    source_bucket = parameter_text(parameters["source_files_bucket"])
    own, source_files = naming.files_pattern(ns), naming.files_pattern(source)
    return [
        Statement(
            Sid="ReadSourceFiles", Effect=Allow, Action=actions.SOURCE_FILE_ACTIONS,
            Resource=[objects_arn(source_bucket, source_files)],
        ),
        Statement(
            Sid="ListSourceFiles", Effect=Allow, Action=actions.FILE_LIST_ACTIONS, Resource=[bucket_arn(source_bucket)],
            Condition=Condition(StringLike("s3:prefix", [source_files])),
        ),
        Statement(
            Sid="ManageOwnFiles", Effect=Allow, Action=actions.OWN_FILE_ACTIONS,
            Resource=[objects_arn(own_bucket, own)],
        ),
        Statement(
            Sid="ListOwnFiles", Effect=Allow, Action=actions.FILE_LIST_ACTIONS, Resource=[bucket_arn(own_bucket)],
            Condition=Condition(StringLike("s3:prefix", [own])),
        ),
    ]
