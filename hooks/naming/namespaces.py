"""Namespaces, shared namespaces, timestamps and the RDS identifier rules."""
import datetime
import re
from dataclasses import dataclass

from hooks.errors import NamingError  # noqa: F401  (re-exported: naming.NamingError)

ENVIRONMENTS = ("dev", "qa", "uat", "stage", "prod")
NAMESPACE_PATTERN = r"^[a-z][a-z0-9]{1,5}-[0-9]{4}-(dev|qa|uat|stage|prod)$"
NAMESPACE_SHAPE = "<customer: a letter then 1-5 letters/digits>-<4-digit project>-<dev|qa|uat|stage|prod>"
SHARED_NAMESPACES = ("common-nonprod", "common-prod")
PROD_TIER, NONPROD_TIER = "common-prod", "common-nonprod"

TIMESTAMP_FORMAT = "%Y%m%dt%H%M%Sz"
TIMESTAMP_PATTERN = r"^[0-9]{8}t[0-9]{6}z$"
TIMESTAMP_SHAPE = "YYYYMMDDtHHMMSSz in UTC, lower case, e.g. 20260115t103000z"

RDS_IDENTIFIER_MAX = 63
RDS_IDENTIFIER_RULES = (
    "at most 63 characters of lower-case letters, digits and hyphens, starting "
    "with a letter, without '--' and not ending with '-'"
)

TAG_KEYS = ("Customer", "Project", "Environment", "Namespace")
NAMESPACE_TAG = "Namespace"  # the tag the pipeline finds a namespace's resources by




@dataclass(frozen=True)
class Namespace:
    """A tenant namespace such as xy-0146-qa."""

    customer: str
    project: str
    environment: str

    @property
    def name(self):
        return "%s-%s-%s" % (self.customer, self.project, self.environment)

    @property
    def is_prod(self):
        return self.environment == "prod"

    @property
    def shared_namespace(self):
        """The shared tier this tenant runs on."""
        return PROD_TIER if self.is_prod else NONPROD_TIER

    @property
    def default_source_namespace(self):
        """Every environment of a project restores from the project's dev snapshots."""
        return "%s-%s-dev" % (self.customer, self.project)

    @property
    def project_key(self):
        """<customer>-<project>, the part shared by all of a project's environments."""
        return "%s-%s" % (self.customer, self.project)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class SharedNamespace:
    """A shared namespace (common-nonprod or common-prod) holding VPC, cluster and ALB."""

    name: str

    @property
    def environment(self):
        return self.name.split("-", 1)[1]

    def __str__(self):
        return self.name


def parse_namespace(value, field="namespace"):
    """Parse a tenant namespace; raise NamingError naming the rule when it is not one."""
    if not isinstance(value, str) or not re.match(NAMESPACE_PATTERN, value):
        if isinstance(value, str) and value in SHARED_NAMESPACES:
            rule = "it is a shared namespace; a tenant namespace is expected (%s, e.g. xy-0146-dev)" % (
                NAMESPACE_SHAPE,
            )
        else:
            rule = "expected %s, e.g. xy-0146-dev (pattern %s)" % (NAMESPACE_SHAPE, NAMESPACE_PATTERN)
        raise NamingError(field, value, rule)
    customer, project, environment = value.split("-")
    return Namespace(customer, project, environment)


def parse_shared_namespace(value, field="namespace"):
    """Parse common-nonprod / common-prod."""
    if value not in SHARED_NAMESPACES:
        raise NamingError(field, value, "expected one of %s" % ", ".join(SHARED_NAMESPACES))
    return SharedNamespace(value)


def parse_any_namespace(value, field="namespace"):
    """A tenant or a shared namespace."""
    if value in SHARED_NAMESPACES:
        return SharedNamespace(value)
    return parse_namespace(value, field)


# db_timestamp's one word: the newest available snapshot of the source namespace, resolved by
# `tenantstack deploy` / `diff` before the engine starts (hooks/run/latest.py); never in a name.
LATEST_TIMESTAMP = "latest"


def parse_timestamp(value, field="db_timestamp"):
    """Validate a snapshot timestamp and return it unchanged."""
    if not isinstance(value, str) or not re.match(TIMESTAMP_PATTERN, value):
        raise NamingError(field, value, "expected %s" % TIMESTAMP_SHAPE)
    try:
        datetime.datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError:
        raise NamingError(field, value, "not a real date and time (%s)" % TIMESTAMP_SHAPE) from None
    return value


def format_timestamp(moment):
    """The timestamp for an aware datetime (converted to UTC)."""
    if moment.tzinfo is None:
        raise ValueError("format_timestamp needs a timezone-aware datetime, got %r" % (moment,))
    return moment.astimezone(datetime.timezone.utc).strftime(TIMESTAMP_FORMAT)


def timestamp_datetime(timestamp):
    """The aware UTC datetime a timestamp stands for."""
    parsed = datetime.datetime.strptime(parse_timestamp(timestamp, "timestamp"), TIMESTAMP_FORMAT)
    return parsed.replace(tzinfo=datetime.timezone.utc)


def check_rds_identifier(value, field="RDS identifier"):
    """Enforce the RDS rules for DB instance and snapshot identifiers."""
    ok = (
        isinstance(value, str)
        and 0 < len(value) <= RDS_IDENTIFIER_MAX
        and re.match(r"^[a-z][a-z0-9-]*$", value)
        and "--" not in value
        and not value.endswith("-")
    )
    if not ok:
        raise NamingError(field, value, RDS_IDENTIFIER_RULES)
    return value


def _namespace_name(namespace):
    return parse_namespace(namespace if isinstance(namespace, str) else namespace.name).name
