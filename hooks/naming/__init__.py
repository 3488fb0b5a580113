"""The one home for tenantstack names.

Every namespace, stack, database, snapshot, SSM path, secret, log group, S3
prefix and tag set is built and validated here, and nowhere else. The module
is pure: no AWS, no stacker, no clock (callers pass the time in).

Contracts (docs/architecture.md, "Names"):

    namespace        <customer>-<project>-<environment>    xy-0146-qa
    shared namespace common-nonprod | common-prod
    timestamp        YYYYMMDDtHHMMSSz, UTC, lower case      20260115t103000z
    snapshot id      <source-namespace>-<timestamp>
    DB stack / id    <namespace>-db-<timestamp>
    service stack    <namespace>-service
    SSM              /<namespace>/db/active, /<namespace>/db/...

Split by subject, re-exported here, so callers keep writing `naming.<name>`:
hooks/naming/namespaces.py (namespaces, timestamps, identifier rules),
hooks/naming/resources.py (snapshots, databases, stacks, SSM, secrets, logs, tags),
hooks/naming/monitoring.py (alarms, the alarm topic, exported and access logs, their keys),
hooks/naming/delivery.py (a customer project's pipeline),
hooks/naming/images.py (a project's container images: repositories, references, tags),
hooks/naming/fleet.py (a project's CodeBuild fleet: batch project, roles, build identifiers),
hooks/naming/iam.py (IAM names, the ARN patterns policies name resources by, tag condition keys).
"""
from hooks.naming.namespaces import *  # noqa: F401,F403
from hooks.naming.resources import *  # noqa: F401,F403
from hooks.naming.monitoring import *  # noqa: F401,F403
from hooks.naming.delivery import *  # noqa: F401,F403
from hooks.naming.images import *  # noqa: F401,F403
from hooks.naming.fleet import *  # noqa: F401,F403
from hooks.naming.iam import *  # noqa: F401,F403
