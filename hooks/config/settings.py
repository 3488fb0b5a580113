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
    FARGATE_MEMORY,
    IMAGE_PATTERN,
    IMAGE_RULE,
    LOG_RETENTION_DAYS,
    certificate_arn,
    choice,
    cidr,
    fargate_size_problem,
    hostname,
    image,
    integer,
    log_retention,
    namespace_of_kind,
    pattern,
    timestamp_or_latest,
)
from hooks.errors import SettingsError

REQUIRED = object()
DEFAULT_PROD_BAKE_SECONDS = 300
SNS_TOPIC_ARN_PATTERN = r"^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256})?$"
BOM = "\ufeff"  # a UTF-8 byte order mark: stacker keeps it, as part of the first key


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
    Setting("db_timestamp", timestamp_or_latest, "timestamp of the source snapshot whose data this environment runs; "
            "latest: the newest available one, resolved by tenantstack deploy (not for prod)"),
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
    Setting("task_cpu", choice(*FARGATE_MEMORY), "Fargate task CPU units", default="512"),
    Setting("task_memory", integer(512, 30720), "Fargate task memory (MiB)", default=1024),
    Setting(
        "db_instance_class",
        pattern(r"^db\.[a-z0-9]+\.[a-z0-9]+$", "an RDS instance class such as db.t4g.micro"),
        "RDS instance class",
        default="db.t4g.micro",
    ),
    Setting("db_multi_az", choice("true", "false"), "run the database Multi-AZ", default="false"),
    Setting("db_backup_retention", integer(1, 35), "days of automated backups", default=7),
    Setting(
        "snapshot_copy",
        choice(*naming.SNAPSHOT_COPY_POLICIES),
        "copy the source snapshot under the tier key only when it comes from the other tier (across-tiers), "
        "or always",
        default=naming.COPY_ACROSS_TIERS,
    ),
    Setting("retain_previous", integer(0, 5), "previous databases kept after a flip", default=0),
    Setting("keep_final_snapshots", integer(1, 100), "newest final snapshots retention never deletes", default=3),
    Setting("keep_final_snapshot_days", integer(0, 3650), "final snapshots younger than this many days are kept",
            default=30),
    Setting("keep_source_snapshots", integer(1, 100), "newest snapshots of this namespace `reap` never deletes "
            "(the data other environments promote)", default=5),
    Setting("keep_source_snapshot_days", integer(0, 3650), "snapshots of this namespace younger than this many "
            "days are kept", default=14),
    Setting("keep_task_definitions", integer(2, 100), "newest task definition revisions kept ACTIVE; older "
            "replaced ones are deregistered", default=5),
    Setting("stable_timeout", integer(1, 86400), "seconds the stable gate waits for the service", default=1800),
    Setting(
        "bake_seconds",
        integer(0, 3600),
        "seconds the stable gate watches the 5xx and unhealthy-host alarms before the pointer flips "
        "(default 300 for prod, 0 elsewhere)",
        derive=lambda s: DEFAULT_PROD_BAKE_SECONDS if naming.parse_namespace(s["namespace"]).is_prod else 0,
    ),
    Setting("log_retention", log_retention, "days the service's and the databases' log groups are kept", default=90),
    Setting("alarm_5xx_percent", integer(1, 100), "alarm when this % of the requests the targets answer are 5xx",
            default=5),
    Setting("alarm_unhealthy_hosts", integer(1, 50), "alarm when this many targets are unhealthy", default=1),
    Setting("alarm_db_cpu_percent", integer(1, 100), "alarm when the database's CPU stays at or above this %",
            default=80),
    Setting("alarm_db_free_storage_mib", integer(1, 1048576), "alarm when the database's free storage falls "
            "below this many MiB", default=2048),
    Setting("alarm_db_connections", integer(1, 100000), "alarm when the database has this many connections or "
            "more (size it to the instance class's max_connections)", default=60),
)

SHARED_SETTINGS = (
    Setting("namespace", namespace_of_kind(naming.parse_shared_namespace), "common-nonprod or common-prod"),
    Setting("vpc_cidr", cidr, "the VPC's private IPv4 block (/16 to /20)"),
    Setting("az_count", integer(2, 3), "availability zones to spread subnets over", default=2),
    Setting("nat_gateways", choice("single", "per-az"), "one NAT gateway, or one per AZ", default="single"),
    Setting("certificate_arn", certificate_arn, "ACM certificate for the shared ALB's HTTPS listener"),
    Setting("flow_log_retention", log_retention, "days VPC flow logs are kept", default=90),
    Setting(
        "alarm_topic_arn",
        pattern(SNS_TOPIC_ARN_PATTERN, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), or empty"),
        "the SNS topic every alarm of the tier notifies (your paging); empty: the tier creates its own",
        default="",
    ),
    Setting("access_log_retention", integer(1, 3650), "days the ALB's and the files bucket's access logs are kept",
            default=90),
    Setting(
        "elb_log_delivery_account",
        pattern(r"^([0-9]{12})?$", "the 12-digit Elastic Load Balancing account of the region, or empty"),
        "only for regions opened before August 2022: the region's ELB account, which writes the ALB's access logs "
        "there (docs/operations.md, \"Access logs\")",
        default="",
    ),
)

# Each shared key's rule, for the blueprints that check the values they are given.
SHARED_RULES = {setting.key: setting.parse for setting in SHARED_SETTINGS}

CODEBUILD_IMAGE_PATTERN = r"^aws/codebuild/[a-z0-9._-]+:[0-9]+\.[0-9]+$"
CONNECTION_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$"
)
GITHUB_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
CODECOMMIT_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"
SOURCES = ("codestar-connection", "codecommit")
# Who makes the images the deploys run: the pipeline's Images stage, or whoever pins them in
# the tenant env files (docs/delivery.md, "Images").
IMAGE_SOURCES = ("build", "env-files")
# A directory of the repository, relative to its root, without '..' (the images' build context).
BUILD_CONTEXT_PATTERN = r"^(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

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
            "a CodeBuild curated image with Python 3.12 (the supported engine) and apt (the tests' "
            "Debian packages), e.g. aws/codebuild/standard:7.0",
        ),
        "CodeBuild image of every build project",
        default="aws/codebuild/standard:7.0",
    ),
    Setting("build_timeout", integer(5, 480), "minutes a build may run", default=120),
    Setting("build_log_retention", log_retention, "days build logs are kept", default=90),
    Setting("artifact_retention_days", integer(1, 3650), "days pipeline artifacts are kept", default=30),
    Setting("data_source", choice(*naming.DATA_SOURCES), "env-file: qa and prod deploy their env files' "
            "db_timestamp; snapshot: the pipeline snapshots dev after its deploy and qa and prod deploy that "
            "snapshot's timestamp", default="env-file"),
    Setting("images", choice(*IMAGE_SOURCES), "build: the Images stage builds the images every deploy runs; "
            "env-files: the tenant env files pin them", default="build"),
    Setting(
        "image_context",
        pattern(BUILD_CONTEXT_PATTERN, "a directory of the repository, relative to its root, without '..', "
                                       "such as app"),
        "the images' build context: <context>/nginx/Dockerfile and <context>/php/Dockerfile",
        default="app",
    ),
    Setting(
        "rds_ca_bundle_sha256",
        pattern(SHA256_PATTERN, "the SHA-256 of the RDS CA bundle: 64 lower-case hex digits"),
        "the php image's build argument RDS_CA_BUNDLE_SHA256 (docs/application.md); images build only",
        default="",
    ),
    Setting("image_builds_kept", integer(1, 1000), "images per repository kept that no deploy ran", default=30),
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
        spaced = sorted(key for key in raw if key.strip().lstrip(BOM) == "namespace")
        hint = ""
        if spaced and spaced[0].startswith(BOM):
            hint = "; %r starts with a UTF-8 byte order mark (BOM): save the env file without a BOM" % spaced[0]
        elif spaced:
            hint = "; %r has spaces or tabs around its name: write `namespace: value`" % spaced[0]
        raise SettingsError(["env key namespace is missing: every env file names its namespace%s" % hint], source)
    schema = schema_for(raw["namespace"])
    known = {setting.key for setting in schema}
    problems = [_unknown_key_problem(key, schema, known) for key in sorted(set(raw) - known)]
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
        problems = _cross_key_problems(parsed, given=set(raw))
    elif schema is PIPELINE_SETTINGS:
        problems = _pipeline_problems(parsed)
    if problems:
        raise SettingsError(problems, source)
    return parsed


def _unknown_key_problem(key, schema, known):
    if key.startswith(BOM):
        return ("env key %r starts with a UTF-8 byte order mark (BOM) that stacker reads as part of the key; save the "
                "env file as UTF-8 without a BOM" % key)
    if key.strip() != key:
        return ("env key %r has spaces or tabs around its name (stacker reads it as %r, which no rule knows); write "
                "`%s: value`" % (key, key, key.strip()))
    return "env key %s is not known for %s namespaces (known keys: %s)" % (
        key, schema_kind(schema), ", ".join(sorted(known)))


def _cross_key_problems(settings, given=()):
    namespace = naming.parse_namespace(settings["namespace"])
    size = fargate_size_problem(settings["task_cpu"], settings["task_memory"], {"task_cpu", "task_memory"} - set(given))
    problems = [size] if size else []
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
    if settings["db_timestamp"] == naming.LATEST_TIMESTAMP and namespace.is_prod:
        problems.append(
            "env key db_timestamp %r is invalid for %s: a prod namespace names its timestamp, the data qa tested "
            "(e.g. `tenantstack promote %s-qa %s` writes it)" % (
                naming.LATEST_TIMESTAMP, namespace.name, namespace.project_key, namespace.name)
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
    if settings["images"] == "build" and not settings["rds_ca_bundle_sha256"]:
        problems.append("env key rds_ca_bundle_sha256 is missing: images build needs the SHA-256 of the RDS CA "
                        "bundle the php image trusts (docs/application.md, \"TLS to the database\")")
    if settings["images"] == "env-files" and settings["rds_ca_bundle_sha256"]:
        problems.append("env key rds_ca_bundle_sha256 is invalid: images env-files builds no image; remove it")
    return problems
