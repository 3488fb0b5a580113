"""hooks/config/envfile.py: finding tenant env files, and the one-line db_timestamp change."""
import pytest

from hooks.config import envfile
from hooks.engine import stacker_compat
from hooks.errors import BadInput, SettingsError
from tests.conftest import REPO_ROOT

NEW = "20261115t120000z"
QA = """\
# Tenant xy-0146-qa.
namespace: xy-0146-qa
shared_namespace: common-nonprod
# The data. Promotion changes this line.
db_timestamp: 20261101t090000z
hostname: xy-0146-qa.apps-nonprod.example.com
listener_priority: 1462
nginx_image: public.ecr.aws/nginx/nginx:1.27.3
php_image: public.ecr.aws/docker/library/php:8.3.14-fpm
"""


@pytest.mark.parametrize(
    "before, after",
    [
        pytest.param("db_timestamp: 20261101t090000z\n", "db_timestamp: %s\n" % NEW, id="plain"),
        pytest.param("a: 1\r\ndb_timestamp: 20261101t090000z\r\nb: 2\r\n", "a: 1\r\ndb_timestamp: %s\r\nb: 2\r\n" % NEW,
                     id="crlf-kept"),
        pytest.param("  db_timestamp :\t20261101t090000z  \n", "  db_timestamp :\t%s  \n" % NEW, id="spacing-kept"),
        pytest.param("db_timestamp:20261101t090000z", "db_timestamp:%s" % NEW, id="no-space-no-final-newline"),
        pytest.param("db_timestamp:\n", "db_timestamp:%s\n" % NEW, id="empty-value"),
        pytest.param("# db_timestamp: 20260101t000000z\ndb_timestamp: 20261101t090000z\n",
                     "# db_timestamp: 20260101t000000z\ndb_timestamp: %s\n" % NEW, id="comment-untouched"),
        pytest.param("db_timestamps_note: x\n", "db_timestamps_note: x\ndb_timestamp: %s\n" % NEW, id="other-key-untouched"),
        pytest.param("namespace: xy-0146-qa\n", "namespace: xy-0146-qa\ndb_timestamp: %s\n" % NEW, id="missing-appended"),
        pytest.param("namespace: xy-0146-qa", "namespace: xy-0146-qa\ndb_timestamp: %s\n" % NEW,
                     id="missing-no-final-newline"),
        pytest.param("", "db_timestamp: %s\n" % NEW, id="empty-file"),
    ],
)
def test_set_db_timestamp_changes_only_that_line(before, after):
    assert envfile.set_db_timestamp(before, NEW) == after


def test_set_db_timestamp_refuses_a_bad_timestamp():
    with pytest.raises(ValueError, match="db_timestamp '2026-11-15' is invalid: expected YYYYMMDDtHHMMSSz"):
        envfile.set_db_timestamp(QA, "2026-11-15")


def test_unified_diff_shows_the_one_line():
    assert envfile.unified_diff(QA, envfile.set_db_timestamp(QA, NEW), "environments/xy-0146-qa.env") == (
        "--- a/environments/xy-0146-qa.env\n"
        "+++ b/environments/xy-0146-qa.env\n"
        "@@ -2,7 +2,7 @@\n"
        " namespace: xy-0146-qa\n"
        " shared_namespace: common-nonprod\n"
        " # The data. Promotion changes this line.\n"
        "-db_timestamp: 20261101t090000z\n"
        "+db_timestamp: 20261115t120000z\n"
        " hostname: xy-0146-qa.apps-nonprod.example.com\n"
        " listener_priority: 1462\n"
        " nginx_image: public.ecr.aws/nginx/nginx:1.27.3\n"
    )
    assert envfile.unified_diff(QA, QA, "x.env") == ""
    assert envfile.unified_diff("a: 1", "a: 2", "x.env").endswith("+a: 2\n\\ No newline at end of file\n")


def write(directory, name, text):
    path = directory / name
    path.write_text(text)
    return path


def test_load_tenant_reads_the_namespaces_env_file(tmp_path):
    write(tmp_path, "xy-0146-qa.env", QA)
    path, values = envfile.load_tenant("xy-0146-qa", environments=tmp_path)
    assert path == tmp_path / "xy-0146-qa.env"
    assert (values["namespace"], values["retain_previous"], values["shared_namespace"]) == ("xy-0146-qa", 0, "common-nonprod")
    other = write(tmp_path, "elsewhere.env", QA)
    assert envfile.load_tenant("xy-0146-qa", env_file=other)[0] == other


@pytest.mark.parametrize(
    "namespace, files, env_file, message",
    [
        pytest.param("xy-0146-qa", {}, None,
                     "env file {dir}/xy-0146-qa.env of xy-0146-qa not found; run from the repository root, or name "
                     "the directory with --environments DIR (or the file with --env-file PATH)", id="missing"),
        pytest.param("xy-0146-uat", {"xy-0146-uat.env": QA}, None,
                     "env file {dir}/xy-0146-uat.env is for namespace xy-0146-qa, not xy-0146-uat; name the env file "
                     "of xy-0146-uat", id="other-namespace"),
        pytest.param("xy-0146-qa", {"xy-0146-qa.env": QA.replace("listener_priority: 1462", "listener_priority: 0")},
                     None,
                     "invalid environment in {dir}/xy-0146-qa.env:\n  - env key listener_priority '0' is invalid: "
                     "expected a whole number from 1 to 50000\nFix the env file, then run the command again.",
                     id="invalid"),
    ],
)
def test_load_tenant_refuses_with_the_file_and_the_fix(tmp_path, namespace, files, env_file, message):
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(BadInput) as raised:
        envfile.load_tenant(namespace, env_file=env_file, environments=tmp_path)
    assert str(raised.value) == message.format(dir=tmp_path)


def test_tenant_namespaces_are_the_tenant_env_files_of_a_directory(tmp_path):
    write(tmp_path, "xy-0146-qa.env", QA)
    write(tmp_path, "ab-0212-qa.env", QA.replace("xy-0146", "ab-0212"))
    write(tmp_path, "common-nonprod.env", "namespace: common-nonprod\n")
    write(tmp_path, "notes.txt", "namespace: zz-0001-qa\n")
    assert envfile.tenant_namespaces(tmp_path) == ["ab-0212-qa", "xy-0146-qa"]


def test_tenant_namespaces_refuses_a_malformed_env_file(tmp_path):
    write(tmp_path, "xy-0146-qa.env", QA + "no separator here\n")
    with pytest.raises(BadInput) as raised:
        envfile.tenant_namespaces(tmp_path)
    assert str(raised.value) == (
        "invalid environment in %s/xy-0146-qa.env:\n  - line 10: expected 'key: value', got 'no separator here'\n"
        "Fix the env file, then run the command again." % tmp_path
    )


def test_tenant_namespaces_names_the_directory_when_there_are_none(tmp_path):
    with pytest.raises(BadInput, match="^environments directory %s/nope not found; run from the repository root or "
                       "pass --environments DIR$" % tmp_path):
        envfile.tenant_namespaces(tmp_path / "nope")
    write(tmp_path, "common-prod.env", "namespace: common-prod\n")
    with pytest.raises(BadInput, match=r"^no tenant env file \(<namespace>.env\) in %s; pass --environments DIR$" % tmp_path):
        envfile.tenant_namespaces(tmp_path)


def test_the_repositorys_tenants_are_found_and_its_shared_tiers_left_out():
    namespaces = envfile.tenant_namespaces(REPO_ROOT / envfile.DEFAULT_ENVIRONMENTS)
    assert {"xy-0146-dev", "xy-0146-qa", "xy-0146-prod"} <= set(namespaces)
    assert not set(namespaces) & {"common-nonprod", "common-prod"}


# --- line endings, byte order mark, tabs: read as stacker reads them ------------------------------

QA_VALUES = envfile.parse(QA)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(QA, id="lf"),
        pytest.param(QA.replace("\n", "\r\n"), id="crlf"),
        pytest.param(QA.replace("\n", "\r"), id="cr-only"),
        pytest.param(QA.replace("\n", "\r\n", 3), id="mixed"),
        pytest.param(QA.replace("namespace: ", "namespace:\t").replace("hostname: ", "\thostname: \t"),
                     id="tabs-around-a-value-and-before-a-key"),
    ],
)
def test_line_endings_and_tabs_read_as_stacker_reads_the_file(tmp_path, text):
    """stacker opens the env file in text mode (universal newlines: stacker.commands.stacker.base.environment_file),
    then its parser strips each line and value."""
    path = tmp_path / "xy-0146-qa.env"
    path.write_bytes(text.encode())
    with open(path) as handle:
        as_stacker_reads_it = stacker_compat.parse_environment(handle.read())
    assert envfile.read(path) == as_stacker_reads_it == QA_VALUES


def test_a_byte_order_mark_is_refused_naming_it(tmp_path):
    path = tmp_path / "xy-0146-qa.env"
    path.write_bytes(("\ufeff" + QA).encode())
    with pytest.raises(SettingsError) as raised:
        envfile.read(path)
    assert raised.value.problems == [
        "line 1: the file starts with a UTF-8 byte order mark (BOM), which stacker reads as part of the first line "
        "('\\ufeff# Tenant xy-0146-qa.', not '# Tenant xy-0146-qa.'); save the file as UTF-8 without a BOM"]


def test_a_tab_before_the_colon_is_part_of_the_key_as_for_stacker():
    assert envfile.parse("namespace\t: xy-0146-qa\n") == {"namespace\t": "xy-0146-qa"}


def test_set_db_timestamp_keeps_cr_only_line_endings():
    text = QA.replace("\n", "\r")
    changed = envfile.set_db_timestamp(text, NEW)
    assert changed == text.replace("20261101t090000z", NEW)
    assert envfile.parse(changed)["db_timestamp"] == NEW


# --- the file name is the namespace ------------------------------------------------------------


@pytest.mark.parametrize(
    "path, namespace, problem",
    [
        pytest.param("environments/xy-0146-qa.env", "xy-0146-qa", None, id="tenant"),
        pytest.param("/elsewhere/common-nonprod.env", "common-nonprod", None, id="shared-anywhere"),
        pytest.param("environments/pipelines/xy-0146.env", "xy-0146", None, id="pipeline"),
        pytest.param("environments/ab-0212-uat.env", "xy-0146-qa",
                     "env file environments/ab-0212-uat.env sets namespace xy-0146-qa, but an env file must be named "
                     "after its namespace (environments/<namespace>.env); rename it to xy-0146-qa.env, or set "
                     "`namespace: ab-0212-uat` if it is ab-0212-uat's file", id="another-tenants-name"),
        pytest.param("/tmp/bad.env", "xy-0146-qa",
                     "env file /tmp/bad.env sets namespace xy-0146-qa, but an env file must be named after its "
                     "namespace (environments/<namespace>.env); rename it to xy-0146-qa.env", id="no-namespace-name"),
        pytest.param("environments/xy-0146-qa.env.bak", "xy-0146-qa",
                     "env file environments/xy-0146-qa.env.bak sets namespace xy-0146-qa, but an env file must be "
                     "named after its namespace (environments/<namespace>.env); rename it to xy-0146-qa.env",
                     id="suffix"),
    ],
)
def test_file_name_problem(path, namespace, problem):
    assert envfile.file_name_problem(path, namespace) == problem
