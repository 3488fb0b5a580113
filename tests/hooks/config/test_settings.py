import pytest

from hooks.config import envfile, settings

TENANT = {
    "namespace": "xy-0146-qa",
    "shared_namespace": "common-nonprod",
    "db_timestamp": "20261101t090000z",
    "hostname": "xy-0146-qa.apps-nonprod.example.com",
    "listener_priority": "1462",
    "nginx_image": "public.ecr.aws/nginx/nginx:1.27.3",
    "php_image": "public.ecr.aws/docker/library/php:8.3.14-fpm",
}
SHARED = {
    "namespace": "common-nonprod",
    "vpc_cidr": "10.10.0.0/16",
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
}


def with_(base, **changes):
    raw = dict(base)
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    return raw


def test_tenant_defaults_are_filled_in():
    values = settings.load_settings(TENANT)
    assert values["source_namespace"] == "xy-0146-dev"
    assert (values["retain_previous"], values["stable_timeout"], values["desired_count"]) == (0, 1800, 2)
    assert values["listener_priority"] == 1462


def test_shared_defaults_are_filled_in():
    values = settings.load_settings(SHARED)
    assert (values["az_count"], values["nat_gateways"]) == (2, "single")


@pytest.mark.parametrize(
    "changes, problem",
    [
        pytest.param(
            {"namespace": "XY-0146-qa"},
            "env key namespace 'XY-0146-qa' is invalid: expected <customer",
            id="bad-namespace",
        ),
        pytest.param(
            {"db_timestamp": "2026-11-01"},
            "env key db_timestamp '2026-11-01' is invalid: expected YYYYMMDDtHHMMSSz",
            id="malformed-timestamp",
        ),
        pytest.param(
            {"db_timestamp": None},
            "env key db_timestamp is missing: timestamp of the source snapshot",
            id="missing-timestamp",
        ),
        pytest.param(
            {"listener_priority": "0"},
            "env key listener_priority '0' is invalid: expected a whole number from 1 to 50000",
            id="priority-zero",
        ),
        pytest.param(
            {"desired_count": "two"},
            "env key desired_count 'two' is invalid: expected a whole number from 1 to 50",
            id="count-not-a-number",
        ),
        pytest.param(
            {"nginx_image": "nginx:latest"},
            "env key nginx_image 'nginx:latest' is invalid: expected an image pinned to a tag or digest",
            id="image-latest",
        ),
        pytest.param(
            {"php_image": "php"},
            "env key php_image 'php' is invalid: expected an image pinned to a tag or digest",
            id="image-untagged",
        ),
        pytest.param(
            {"hostname": "Not A Host"},
            "env key hostname 'Not A Host' is invalid: expected a lower-case DNS host name",
            id="bad-hostname",
        ),
        pytest.param(
            {"colour": "blue"},
            "env key colour is not known for tenant namespaces (known keys: ",
            id="unknown-key",
        ),
        pytest.param(
            {"shared_namespace": "common-prod"},
            "env key shared_namespace 'common-prod' is invalid: xy-0146-qa runs on common-nonprod",
            id="wrong-tier",
        ),
        pytest.param(
            {"source_namespace": "ab-0212-dev"},
            "env key source_namespace 'ab-0212-dev' is invalid: a tenant restores only from its own project's",
            id="foreign-project-data",
        ),
    ],
)
def test_tenant_problems_name_key_value_and_rule(changes, problem):
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(with_(TENANT, **changes), "environments/xy-0146-qa.env")
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith(problem), raised.value.problems[0]
    assert str(raised.value).startswith("invalid environment in environments/xy-0146-qa.env:\n  - ")


def test_every_problem_is_reported_at_once():
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(with_(TENANT, db_timestamp="x", listener_priority="x", hostname=None))
    assert [p.split(" ")[2] for p in raised.value.problems] == ["db_timestamp", "hostname", "listener_priority"]


def test_missing_namespace():
    with pytest.raises(settings.SettingsError, match="env key namespace is missing"):
        settings.load_settings({"db_timestamp": "20261101t090000z"})


@pytest.mark.parametrize(
    "changes, problem",
    [
        pytest.param({"vpc_cidr": "10.0.0.0/8"}, "env key vpc_cidr '10.0.0.0/8' is invalid", id="cidr-too-big"),
        pytest.param({"vpc_cidr": "8.8.0.0/16"}, "env key vpc_cidr '8.8.0.0/16' is invalid", id="public-cidr"),
        pytest.param({"az_count": "4"}, "env key az_count '4' is invalid: expected a whole number from 2 to 3", id="azs"),
        pytest.param({"nat_gateways": "none"}, "env key nat_gateways 'none' is invalid: expected one of single, per-az", id="nat"),
        pytest.param({"certificate_arn": "cert"}, "env key certificate_arn 'cert' is invalid: expected an ACM certificate ARN", id="cert"),
        pytest.param({"db_timestamp": "20261101t090000z"}, "env key db_timestamp is not known for shared namespaces", id="tenant-key"),
    ],
)
def test_shared_problems(changes, problem):
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(with_(SHARED, **changes))
    assert raised.value.problems[0].startswith(problem), raised.value.problems[0]


@pytest.mark.parametrize(
    "text, problem",
    [
        pytest.param("namespace xy-0146-qa\n", "line 1: expected 'key: value'", id="no-colon"),
        pytest.param("namespace: a\nnamespace: b\n", "line 2: env key namespace is set twice", id="duplicate"),
    ],
)
def test_env_file_format(text, problem):
    with pytest.raises(settings.SettingsError) as raised:
        envfile.parse(text, "x.env")
    assert raised.value.problems[0].startswith(problem)


def test_env_file_comments_and_blank_lines():
    assert envfile.parse("# c\n\nnamespace: xy-0146-qa  \n") == {"namespace": "xy-0146-qa"}


@pytest.mark.parametrize(
    "key", sorted({s.key for s in settings.TENANT_SETTINGS + settings.SHARED_SETTINGS})
)
def test_every_key_is_documented(key):
    assert "| `%s` |" % key in open("docs/configuration.md").read()


# --- Fargate task sizes: task_cpu and task_memory together ------------------------------------


def sized(cpu, memory):
    """TENANT with task_cpu and task_memory set (None: left to the default)."""
    return dict(TENANT, **{key: value for key, value in (("task_cpu", cpu), ("task_memory", memory)) if value})


@pytest.mark.parametrize(
    "cpu, memory",
    [
        pytest.param("256", "512", id="256-smallest"),
        pytest.param("256", "2048", id="256-largest"),
        pytest.param("512", "3072", id="512-step"),
        pytest.param("1024", "2048", id="1024-smallest"),
        pytest.param("2048", "16384", id="2048-largest"),
        pytest.param("4096", "30720", id="4096-largest"),
        pytest.param(None, None, id="defaults-512-1024"),
    ],
)
def test_fargate_task_sizes_are_accepted(cpu, memory):
    values = settings.load_settings(sized(cpu, memory))
    assert memory is None or (values["task_cpu"], values["task_memory"]) == (cpu, int(memory))


@pytest.mark.parametrize(
    "cpu, memory, problem",
    [
        pytest.param("4096", "512", "env keys task_cpu 4096 and task_memory 512 are not a Fargate task size: with "
                     "task_cpu 4096, task_memory must be 8192 to 30720 in steps of 1024 (AWS would fail the service "
                     "stack mid-deploy); set task_memory to one of those, or a task_cpu that takes 512 MiB (256)",
                     id="4096-with-512"),
        pytest.param("256", "4096", "env keys task_cpu 256 and task_memory 4096 are not a Fargate task size: with "
                     "task_cpu 256, task_memory must be 512, 1024 or 2048 (AWS would fail the service stack "
                     "mid-deploy); set task_memory to one of those, or a task_cpu that takes 4096 MiB "
                     "(512, 1024, 2048)",
                     id="256-with-4096"),
        pytest.param("512", "1500", "env keys task_cpu 512 and task_memory 1500 are not a Fargate task size: with "
                     "task_cpu 512, task_memory must be 1024 to 4096 in steps of 1024 (AWS would fail the service "
                     "stack mid-deploy); set task_memory to one of those (no task_cpu takes 1500 MiB)",
                     id="off-step"),
        pytest.param("4096", None, "env keys task_cpu 4096 and task_memory 1024 (the default) are not a Fargate task "
                     "size: with task_cpu 4096, task_memory must be 8192 to 30720 in steps of 1024",
                     id="default-memory"),
        pytest.param(None, "8192", "env keys task_cpu 512 (the default) and task_memory 8192 are not a Fargate task "
                     "size: with task_cpu 512, task_memory must be 1024 to 4096", id="default-cpu"),
    ],
)
def test_fargate_task_sizes_outside_the_table_are_refused_naming_both_values(cpu, memory, problem):
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(sized(cpu, memory))
    assert len(raised.value.problems) == 1 and raised.value.problems[0].startswith(problem), raised.value.problems


def test_the_fargate_table_is_the_documented_one():
    """https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size"""
    table = settings.FARGATE_MEMORY
    assert table["256"] == (512, 1024, 2048)
    assert table["512"] == (1024, 2048, 3072, 4096)
    assert (table["1024"][0], table["1024"][-1], len(table["1024"])) == (2048, 8192, 7)
    assert (table["2048"][0], table["2048"][-1], len(table["2048"])) == (4096, 16384, 13)
    assert (table["4096"][0], table["4096"][-1], len(table["4096"])) == (8192, 30720, 23)


def test_the_service_blueprint_offers_the_same_cpu_values_and_memory_range():
    from blueprints.service import TenantService

    variables = TenantService.VARIABLES
    assert variables["TaskCpu"]["allowed_values"] == list(settings.FARGATE_MEMORY)
    memory = [m for accepted in settings.FARGATE_MEMORY.values() for m in accepted]
    assert (variables["TaskMemory"]["min_value"], variables["TaskMemory"]["max_value"]) == (min(memory), max(memory))


# --- keys a stacker reading makes strange: a byte order mark, tabs ------------------------------


@pytest.mark.parametrize(
    "raw, problem",
    [
        pytest.param(with_(TENANT, hostname=None, **{"\ufeffhostname": "x.example.com"}),
                     "env key '\\ufeffhostname' starts with a UTF-8 byte order mark (BOM)", id="bom-on-a-key"),
        pytest.param(dict({"\ufeffnamespace": "xy-0146-qa"}, **with_(TENANT, namespace=None)),
                     "env key namespace is missing: every env file names its namespace; '\\ufeffnamespace' starts "
                     "with a UTF-8 byte order mark (BOM)", id="bom-on-namespace"),
        pytest.param(with_(TENANT, hostname=None, **{"hostname\t": "x.example.com"}),
                     "env key 'hostname\\t' has spaces or tabs around its name", id="tab-before-the-colon"),
    ],
)
def test_keys_stacker_reads_with_invisible_characters_are_named(raw, problem):
    with pytest.raises(settings.SettingsError) as raised:
        settings.load_settings(raw)
    assert raised.value.problems[0].startswith(problem), raised.value.problems


# --- issue 19: alarms, logs, the bake time ---------------------------------------------------------

@pytest.mark.parametrize("namespace, given, expected", [
    ("xy-0146-prod", {}, 300),
    ("xy-0146-qa", {}, 0),
    ("xy-0146-dev", {}, 0),
    ("xy-0146-qa", {"bake_seconds": "120"}, 120),
    ("xy-0146-prod", {"bake_seconds": "0"}, 0),
])
def test_bake_seconds_defaults_to_300_for_prod_and_0_elsewhere(namespace, given, expected):
    raw = dict(_tenant_raw(namespace), **given)
    assert settings.load_settings(raw)["bake_seconds"] == expected


def _tenant_raw(namespace):
    tier = "common-prod" if namespace.endswith("-prod") else "common-nonprod"
    image = "public.ecr.aws/nginx/nginx:1.27.3"
    return {"namespace": namespace, "db_timestamp": "20261101t090000z", "shared_namespace": tier,
            "hostname": "%s.example.com" % namespace, "listener_priority": "10", "nginx_image": image,
            "php_image": image}


def test_alarm_and_log_defaults_are_the_documented_ones():
    parsed = settings.load_settings(_tenant_raw("xy-0146-qa"))
    assert {key: parsed[key] for key in ("log_retention", "alarm_5xx_percent", "alarm_unhealthy_hosts",
                                          "alarm_db_cpu_percent", "alarm_db_free_storage_mib",
                                          "alarm_db_connections")} == {
        "log_retention": 90, "alarm_5xx_percent": 5, "alarm_unhealthy_hosts": 1, "alarm_db_cpu_percent": 80,
        "alarm_db_free_storage_mib": 2048, "alarm_db_connections": 60}


@pytest.mark.parametrize("key, value, rule", [
    ("bake_seconds", "3601", "expected a whole number from 0 to 3600"),
    ("alarm_5xx_percent", "0", "expected a whole number from 1 to 100"),
    ("log_retention", "45", "expected a retention CloudWatch Logs accepts"),
])
def test_a_bad_tenant_alarm_or_log_key_names_the_key_value_and_rule(key, value, rule):
    with pytest.raises(settings.SettingsError, match="env key %s '%s' is invalid: %s" % (key, value, rule)):
        settings.load_settings(dict(_tenant_raw("xy-0146-qa"), **{key: value}))


@pytest.mark.parametrize("key, value, ok", [
    ("alarm_topic_arn", "arn:aws:sns:eu-west-1:123456789012:paging", True),
    ("alarm_topic_arn", "", True),
    ("alarm_topic_arn", "arn:aws:sqs:eu-west-1:123456789012:paging", False),
    ("elb_log_delivery_account", "156460612806", True),
    ("elb_log_delivery_account", "15646061280", False),
    ("access_log_retention", "3650", True),
    ("access_log_retention", "0", False),
])
def test_shared_alarm_and_log_keys(key, value, ok):
    raw = {"namespace": "common-prod", "vpc_cidr": "10.20.0.0/16", "certificate_arn":
           "arn:aws:acm:us-east-1:123456789012:certificate/0c6b2f4e-6a51-4c7e-9d1a-000000000002", key: value}
    if ok:
        assert settings.load_settings(raw)[key] == (int(value) if value.isdigit() and key != "elb_log_delivery_account"
                                                    else value)
    else:
        with pytest.raises(settings.SettingsError, match="env key %s" % key):
            settings.load_settings(raw)
