"""bin/migrate: idempotent migrations, a least-privilege application user, clear failures.

It runs as the master user against the session's MariaDB (TLS required, like RDS).
"""
import os
import re
import subprocess

import pytest

from tests.app import native
from tests.app.support import APP_PASSWORD, APP_USER, DB_NAME, OTHER_SCHEMA, assert_no_secret, db_env, health, migrate_env, run_migrate

EXIT_FAILED, EXIT_CONFIGURATION = 1, 2
MIGRATION_IDS = ["0001_create_greetings", "0002_add_greeting_locale"]


def applied(mariadb, database=DB_NAME):
    """schema_migrations as (version, name, checksum, applied_at) rows."""
    out = mariadb.master_sql("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version", database=database)
    return [tuple(line.split("\t")) for line in out.splitlines()]


def app_sql(mariadb, sql, password=APP_PASSWORD):
    return mariadb.client(sql, user=APP_USER, password=password, database=DB_NAME)


def test_first_run_prints_one_line_per_step_and_no_password(migrated, mariadb, pki):
    lines = migrated.stdout.splitlines()
    assert all(line.startswith("migrate: ") for line in lines), lines
    assert re.match(r"migrate: connected to 127\.0\.0\.1:\d+ as master \(TLS: \S+, server certificate verified against %s\)$" % re.escape(str(pki.ca)), lines[0])
    assert "migrate: database app created" in lines
    assert ["migrate: %s applied" % m for m in MIGRATION_IDS] == [line for line in lines if line.endswith(" applied")]
    assert lines[-2] == "migrate: application user 'tenant_app'@'%' created: SELECT, INSERT, UPDATE, DELETE on `app`.* only, REQUIRE SSL"
    assert lines[-1] == "migrate: done: database app at schema version 2 (2 applied now)"
    assert_no_secret(migrated.stdout + migrated.stderr, migrate_env(mariadb, pki))


def test_rerun_applies_nothing_and_changes_no_record(binaries, app_tree, mariadb, pki, migrated):
    before = applied(mariadb)
    result = run_migrate(binaries, app_tree, migrate_env(mariadb, pki))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ["migrate: %s already applied" % m for m in MIGRATION_IDS] == [l for l in result.stdout.splitlines() if "already applied" in l]
    assert "re-keyed" in result.stdout and result.stdout.endswith("(0 applied now)\n")
    assert applied(mariadb) == before
    assert [row[:2] for row in before] == [("1", "create_greetings"), ("2", "add_greeting_locale")]


def test_app_user_has_only_dml_on_its_schema_and_requires_ssl(mariadb, migrated):
    grants = mariadb.master_sql("SHOW GRANTS FOR '%s'@'%%'" % APP_USER).splitlines()
    assert len(grants) == 2, grants
    assert grants[0].startswith("GRANT USAGE ON *.* TO `tenant_app`@`%`") and grants[0].endswith("REQUIRE SSL"), grants[0]
    assert grants[1] == "GRANT SELECT, INSERT, UPDATE, DELETE ON `app`.* TO `tenant_app`@`%`"


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE probe (id INT)",
        "DROP TABLE greetings",
        "ALTER TABLE greetings ADD COLUMN probe INT",
        "TRUNCATE TABLE greetings",
        "CREATE DATABASE probe",
        "GRANT SELECT ON app.* TO 'someone'@'%'",
        "CREATE USER 'someone'@'%'",
        "SELECT * FROM %s.secrets" % OTHER_SCHEMA,
        "SELECT * FROM mysql.user",
        "SELECT * FROM schema_migrations INTO OUTFILE '/tmp/probe'",
    ],
    ids=[
        "create-table", "drop-table", "alter-table", "truncate", "create-database", "grant",
        "create-user", "read-other-schema", "read-mysql-user", "file-privilege",
    ],
)
def test_app_user_is_denied(mariadb, migrated, sql):
    result = app_sql(mariadb, sql)
    assert result.returncode != 0, "the application user could run: %s" % sql
    assert re.search(r"denied", result.stderr, re.I), result.stderr


def test_app_user_can_read_and_write_its_tables(mariadb, migrated):
    result = app_sql(
        mariadb,
        "INSERT INTO greetings (message) VALUES ('probe'); UPDATE greetings SET locale = 'de' WHERE message = 'probe'; "
        "SELECT locale FROM greetings WHERE message = 'probe'; DELETE FROM greetings WHERE message = 'probe';",
    )
    assert (result.returncode, result.stdout) == (0, "de\n"), result.stderr


def test_app_user_cannot_log_in_without_tls(binaries, mariadb, migrated):
    argv = [binaries["mariadb"], "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(mariadb.port),
            "-u", APP_USER, "--skip-ssl", "-e", "SELECT 1"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=dict(native.base_env(), MYSQL_PWD=APP_PASSWORD))
    assert result.returncode != 0 and re.search(r"denied|insecure transport", result.stderr, re.I), result.stderr


def test_rekey_replaces_the_app_password(binaries, app_tree, stacks, mariadb, pki, migrated):
    new_password = "n3w'pw\\%" + APP_PASSWORD
    try:
        result = run_migrate(binaries, app_tree, migrate_env(mariadb, pki, DB_PASSWORD=new_password))
        assert result.returncode == 0, result.stdout + result.stderr
        assert_no_secret(result.stdout + result.stderr, {"DB_PASSWORD": new_password})
        assert health(stacks.start(app_tree, db_env(mariadb, pki, DB_PASSWORD=new_password)))[0] == 200
        status, body = health(stacks.start(app_tree, db_env(mariadb, pki)))
        assert (status, body["reason"]) == (503, "access denied")
    finally:
        restored = run_migrate(binaries, app_tree, migrate_env(mariadb, pki))
    assert restored.returncode == 0, restored.stdout + restored.stderr


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DB_MASTER_PASSWORD": ""}, "configuration: DB_MASTER_PASSWORD is not set"),
        ({"DB_MASTER_USERNAME": ""}, "configuration: DB_MASTER_USERNAME is not set"),
        ({"DB_PASSWORD": ""}, "configuration: DB_PASSWORD is not set"),
        ({"DB_HOST": ""}, "configuration: DB_HOST is not set"),
        ({"DB_USERNAME": "master"}, "configuration: DB_USERNAME=master is the master user"),
        ({"DB_USERNAME": "root"}, "configuration: DB_USERNAME=root is a reserved account name"),
        ({"DB_USERNAME": "app';--"}, "configuration: DB_USERNAME=app';--: must be 1-32 characters"),
        ({"DB_NAME": "app`x"}, "configuration: DB_NAME=app`x: must be 1-64 characters"),
        ({"DB_PORT": "99999"}, "configuration: DB_PORT=99999: must be a TCP port number"),
        ({"DB_APP_USER_HOST": "a'b"}, "configuration: DB_APP_USER_HOST=a'b: must be a MySQL host pattern"),
    ],
    ids=[
        "master-password-unset", "master-user-unset", "app-password-unset", "host-unset", "app-user-is-master",
        "app-user-reserved", "app-user-injection", "db-name-invalid", "port-invalid", "app-host-invalid",
    ],
)
def test_bad_configuration_exits_2_naming_the_variable(binaries, app_tree, mariadb, pki, overrides, message):
    env = migrate_env(mariadb, pki, **overrides)
    result = run_migrate(binaries, app_tree, env)
    assert result.returncode == EXIT_CONFIGURATION, result.stdout + result.stderr
    assert result.stderr.startswith("migrate: FAILED: " + message), result.stderr
    assert_no_secret(result.stdout + result.stderr, env)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DB_MASTER_PASSWORD": "wrong'" + native.MariaDB.MASTER_PASSWORD}, r"access denied \(error 1045: Access denied for user 'master'"),
        ({"DB_SSL_CA": "OTHER_CA"}, r"TLS to the database failed \(error 2002"),
        ({"DB_HOST": native.MariaDB.OTHER_ADDRESS}, r"TLS to the database failed \(error 2002"),
        ({"DB_PORT": "FREE_PORT"}, r"database unreachable \(error 2002"),
    ],
    ids=["wrong-master-password", "server-cert-not-from-our-ca", "server-cert-for-another-host-name", "nothing-listening"],
)
def test_database_failure_exits_1_with_reason_and_no_password(binaries, app_tree, mariadb, pki, overrides, message):
    substitutes = {"OTHER_CA": str(pki.other_ca), "FREE_PORT": str(native.free_port())}
    env = migrate_env(mariadb, pki, **{k: substitutes.get(v, v) for k, v in overrides.items()})
    result = run_migrate(binaries, app_tree, env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert re.match("migrate: FAILED: " + message, result.stderr), result.stderr
    assert_no_secret(result.stdout + result.stderr, env)


def test_failing_migration_exits_1_and_is_not_recorded(binaries, mariadb, pki, tmp_path):
    tree = native.copy_app(tmp_path / "app")
    (tree / "migrations" / "0003_broken.sql").write_text("CREATE TABLE broken_probe (id INT);\nSELEC nonsense;\n")
    env = migrate_env(mariadb, pki, DB_NAME="broken", DB_USERNAME="broken_app")
    result = run_migrate(binaries, tree, env)
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert re.match(r"migrate: FAILED: 0003_broken failed \(error 1064: ", result.stderr), result.stderr
    assert [row[0] for row in applied(mariadb, "broken")] == ["1", "2"]


@pytest.mark.parametrize(
    "change, message",
    [
        ("edit-applied", "0001_create_greetings changed after it was applied"),
        ("drop-latest", "the database has migration 0002_add_greeting_locale, which this image does not ship"),
    ],
    ids=["applied-migration-edited", "database-newer-than-image"],
)
def test_database_history_that_disagrees_with_the_image_exits_1(binaries, mariadb, pki, migrated, tmp_path, change, message):
    tree = native.copy_app(tmp_path / "app")
    if change == "edit-applied":
        with open(tree / "migrations" / "0001_create_greetings.sql", "a") as sql:
            sql.write("-- edited\n")
    else:
        (tree / "migrations" / "0002_add_greeting_locale.sql").unlink()
    before = applied(mariadb)
    result = run_migrate(binaries, tree, migrate_env(mariadb, pki))
    assert result.returncode == EXIT_FAILED, result.stdout + result.stderr
    assert result.stderr.startswith("migrate: FAILED: " + message), result.stderr
    assert applied(mariadb) == before


@pytest.mark.parametrize(
    "files, message",
    [
        (["0001_a.sql", "0003_c.sql"], "expected version 0002 here"),
        (["0001_a.sql", "0001_b.sql"], "expected version 0002 here"),
        (["0001_a.sql", "2_b.sql"], "a migration file name must match NNNN_name.sql"),
        (["0001_A.sql"], "a migration file name must match NNNN_name.sql"),
    ],
    ids=["gap", "repeat", "short-number", "upper-case-name"],
)
def test_bad_migrations_directory_exits_2(binaries, mariadb, pki, tmp_path, files, message):
    tree = native.copy_app(tmp_path / "app", migrations=0)
    for name in files:
        (tree / "migrations" / name).write_text("SELECT 1;\n")
    result = run_migrate(binaries, tree, migrate_env(mariadb, pki, DB_NAME="never_created"))
    assert result.returncode == EXIT_CONFIGURATION, result.stdout + result.stderr
    assert message in result.stderr
    assert "never_created" not in mariadb.master_sql("SHOW DATABASES")


def test_app_user_with_extra_grants_loses_them(binaries, app_tree, mariadb, pki, migrated):
    mariadb.master_sql("GRANT CREATE, DROP ON app.* TO '%s'@'%%'; GRANT SELECT ON %s.* TO '%s'@'%%'" % (APP_USER, OTHER_SCHEMA, APP_USER))
    result = run_migrate(binaries, app_tree, migrate_env(mariadb, pki))
    assert result.returncode == 0, result.stdout + result.stderr
    assert mariadb.master_sql("SHOW GRANTS FOR '%s'@'%%'" % APP_USER).splitlines()[1:] == [
        "GRANT SELECT, INSERT, UPDATE, DELETE ON `app`.* TO `tenant_app`@`%`"
    ]


def test_copy_app_keeps_executable_bits(tmp_path):
    """The image runs bin/migrate and bin/fpm-ping directly; git must keep them executable."""
    tree = native.copy_app(tmp_path / "app")
    for script in ("migrate", "fpm-ping"):
        assert os.access(str(tree / "bin" / script), os.X_OK), script
        assert (native.PHP_DIR / "bin" / script).read_text().startswith("#!/usr/bin/env php\n")
