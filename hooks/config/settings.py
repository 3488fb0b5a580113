"""Env file settings: the keys each kind of namespace accepts, their rules and defaults.

An env file (environments/<namespace>.env) is a flat `key: value` file that stacker
substitutes into the configs; hooks/config/envfile.py reads it. This module is the schema
for those files: every key has a parser (hooks/config/rules.py), a default (or is
required) and a line of help. `load_settings` checks a whole mapping at once and reports
every bad key together, before anything touches AWS. It is called by every hook and
every `${setting KEY}` lookup of a run with the same environment, so the result is
cached per environment (`load_settings` returns a fresh copy each time).

Pure: no AWS, no stacker.
"""
import functools
import re
from dataclasses import dataclass
from typing import Callable, Optional

from hooks import naming
from hooks.config.rules import (  # noqa: F401  (the patterns are re-exported for the blueprints)
    CERTIFICATE_ARN_PATTERN,
    CERTIFICATE_ARN_RULE,
    CIDR_RULE,
    IMAGE_PATTERN,
    IMAGE_RULE,
    LOG_RETENTION_DAYS,
    certificate_arn,
    choice,
    cidr,
    hostname,
    image,
    integer,
    log_retention,
    namespace_of_kind,
    pattern,
    timestamp,
)
from hooks.errors import SettingsError

REQUIRED = object()


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[str, str], object]
    help: str
    default: object = REQUIRED
    # Derive the default from the other parsed settings (e.g. source_namespace).
    derive: Optional[Callable[[dict], object]] = None


TENANT_SETTINGS = (
    Setting("namespace", namespace_of_kind(naming.parse_namespace), "the tenant namespace, e.g. xy-0146-qa"),
    Setting("db_timestamp", timestamp, "timestamp of the source snapshot whose data this environment runs"),
    Setting(
        "source_namespace",
        namespace_of_kind(naming.parse_namespace),
        "namespace whose snapshots hold the data (default: the project's dev namespace)",
        derive=lambda s: naming.parse_namespace(s["namespace"]).default_source_namespace,
    ),
    Setting(
        "shared_namespace",
        namespace_of_kind(naming.parse_shared_namespace),
        "the shared tier: common-prod for prod, common-nonprod otherwise (checked)",
    ),
    Setting("hostname", hostname, "host name the shared ALB routes to this tenant"),
    Setting("listener_priority", integer(1, 50000), "ALB listener-rule priority, unique within the tier"),
    Setting("nginx_image", image, "nginx container image, pinned"),
    Setting("php_image", image, "php-fpm container image, pinned"),
    Setting("desired_count", integer(1, 50), "ECS tasks to run", default=2),
    Setting("task_cpu", choice("256", "512", "1024", "2048", "4096"), "Fargate task CPU units", default="512"),
    Setting("task_memory", integer(512, 30720), "Fargate task memory (MiB)", default=1024),
    Setting(
        "db_instance_class",
        pattern(r"^db\.[a-z0-9]+\.[a-z0-9]+$", "an RDS instance class such as db.t4g.micro"),
        "RDS instance class",
        default="db.t4g.micro",
    ),
    Setting("db_multi_az", choice("true", "false"), "run the database Multi-AZ", default="false"),
    Setting("db_backup_retention", integer(1, 35), "days of automated backups", default=7),
    Setting("retain_previous", integer(0, 5), "previous databases kept after a flip", default=0),
    Setting("stable_timeout", integer(1, 86400), "seconds the stable gate waits for the service", default=1800),
)

SHARED_SETTINGS = (
    Setting("namespace", namespace_of_kind(naming.parse_shared_namespace), "common-nonprod or common-prod"),
    Setting("vpc_cidr", cidr, "the VPC's private IPv4 block (/16 to /20)"),
    Setting("az_count", integer(2, 3), "availability zones to spread subnets over", default=2),
    Setting("nat_gateways", choice("single", "per-az"), "one NAT gateway, or one per AZ", default="single"),
    Setting("certificate_arn", certificate_arn, "ACM certificate for the shared ALB's HTTPS listener"),
    Setting("flow_log_retention", log_retention, "days VPC flow logs are kept", default=90),
)


CODEBUILD_IMAGE_PATTERN = r"^aws/codebuild/[a-z0-9._-]+:[0-9]+\.[0-9]+$"
CONNECTION_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$"
)
GITHUB_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
CODECOMMIT_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"
SOURCES = ("codestar-connection", "codecommit")

# A project's delivery pipeline (environments/pipelines/<project>.env, stacker/pipeline.yaml).
PIPELINE_SETTINGS = (
    Setting("namespace", namespace_of_kind(naming.parse_project), "the customer project, e.g. xy-0146"),
    Setting("source", choice(*SOURCES), "where the pipeline gets the repository", default="codestar-connection"),
    Setting(
        "repository",
        pattern(r"^[A-Za-z0-9_./-]{1,100}$", "owner/name (GitHub via a connection) or a CodeCommit repository name"),
        "the repository the pipeline builds",
    ),
    Setting("branch", pattern(r"^[A-Za-z0-9_./-]{1,255}$", "a branch name such as main"), "branch", default="main"),
    Setting(
        "connection_arn",
        pattern(
            CONNECTION_ARN_PATTERN,
            "a CodeStar connection ARN (arn:aws:codestar-connections:<region>:<account>:connection/<id>)",
        ),
        "the connection to GitHub (source codestar-connection only)",
        default="",
    ),
    Setting(
        "build_image",
        pattern(
            CODEBUILD_IMAGE_PATTERN,
            "a CodeBuild curated image with Python 3.9, e.g. aws/codebuild/amazonlinux-x86_64-standard:5.0",
        ),
        "CodeBuild image of every build project",
        default="aws/codebuild/amazonlinux-x86_64-standard:5.0",
    ),
    Setting("build_timeout", integer(5, 480), "minutes a build may run", default=120),
    Setting("build_log_retention", log_retention, "days build logs are kept", default=90),
    Setting("artifact_retention_days", integer(1, 3650), "days pipeline artifacts are kept", default=30),
)
SCHEMA_KINDS = (("shared", SHARED_SETTINGS), ("tenant", TENANT_SETTINGS), ("pipeline", PIPELINE_SETTINGS))


def schema_for(namespace):
    """The settings that apply to a namespace value (tenant, shared, or a project's pipeline)."""
    if naming.is_project(namespace):
        return PIPELINE_SETTINGS
    return SHARED_SETTINGS if namespace in naming.SHARED_NAMESPACES else TENANT_SETTINGS


def schema_kind(schema):
    return next(kind for kind, candidate in SCHEMA_KINDS if candidate is schema)


def load_settings(raw, source=None):
    """Validate a raw env mapping (all strings) and return a dict of parsed values.

    Every problem is collected and raised together as SettingsError; defaults and
    derived values are filled in. Cross-key rules are checked after each key parses.
    Cached per (mapping, source): a run's hooks and lookups check one environment once.
    """
    try:
        key = (frozenset(dict(raw).items()), source)
        hash(key)
    except TypeError:  # a value that is not a string (a caller's own mapping): no cache
        return _load_settings(dict(raw), source)
    return dict(_cached_settings(key))


@functools.lru_cache(maxsize=256)
def _cached_settings(key):
    mapping, source = key
    return _load_settings(dict(mapping), source)


def _load_settings(raw, source):
    if "namespace" not in raw:
        spaced = sorted(key for key in raw if key.strip() == "namespace")
        hint = "; %r has spaces around its name: write `namespace: value`" % spaced[0] if spaced else ""
        raise SettingsError(["env key namespace is missing: every env file names its namespace%s" % hint], source)
    schema = schema_for(raw["namespace"])
    known = {setting.key for setting in schema}
    problems = [
        "env key %r has spaces around its name (stacker reads it as %r, which no rule knows); write `%s: value`"
        % (key, key, key.strip())
        if key.strip() != key
        else "env key %s is not known for %s namespaces (known keys: %s)"
        % (key, schema_kind(schema), ", ".join(sorted(known)))
        for key in sorted(set(raw) - known)
    ]
    parsed = {}
    for setting in schema:
        if setting.key in raw:
            try:
                parsed[setting.key] = setting.parse(raw[setting.key], setting.key)
            except naming.NamingError as error:
                problems.append(str(error))
        elif setting.default is REQUIRED and setting.derive is None:
            problems.append("env key %s is missing: %s" % (setting.key, setting.help))
    if problems:
        raise SettingsError(problems, source)
    for setting in schema:
        if setting.key not in parsed:
            parsed[setting.key] = setting.derive(parsed) if setting.derive else setting.default
    problems = []
    if schema is TENANT_SETTINGS:
        problems = _cross_key_problems(parsed)
    elif schema is PIPELINE_SETTINGS:
        problems = _pipeline_problems(parsed)
    if problems:
        raise SettingsError(problems, source)
    return parsed


def _cross_key_problems(settings):
    namespace = naming.parse_namespace(settings["namespace"])
    problems = []
    if settings["shared_namespace"] != namespace.shared_namespace:
        problems.append(
            "env key shared_namespace %r is invalid: %s runs on %s (prod tenants on %s, all others on %s)"
            % (
                settings["shared_namespace"],
                namespace.name,
                namespace.shared_namespace,
                naming.PROD_TIER,
                naming.NONPROD_TIER,
            )
        )
    source = naming.parse_namespace(settings["source_namespace"])
    if source.project_key != namespace.project_key:
        problems.append(
            "env key source_namespace %r is invalid: a tenant restores only from its own project's "
            "snapshots (%s-*), never from another project's data" % (source.name, namespace.project_key)
        )
    return problems


def _pipeline_problems(settings):
    source, repository, connection = settings["source"], settings["repository"], settings["connection_arn"]
    problems = []
    if source == "codestar-connection":
        if not connection:
            problems.append("env key connection_arn is missing: source codestar-connection needs the connection's ARN")
        if not re.match(GITHUB_REPOSITORY_PATTERN, repository):
            problems.append("env key repository %r is invalid: source codestar-connection expects owner/name" % repository)
    else:
        if connection:
            problems.append("env key connection_arn is invalid: source codecommit uses no connection; remove it")
        if not re.match(CODECOMMIT_REPOSITORY_PATTERN, repository):
            problems.append("env key repository %r is invalid: source codecommit expects a repository name" % repository)
    return problems
