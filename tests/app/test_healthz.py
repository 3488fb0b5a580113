"""GET /healthz over the real chain: HTTP to nginx -> FastCGI to php-fpm -> TLS to MariaDB.

200 with the JSON body only when the application user can use a database at the schema
version the image ships; 503 with a reason otherwise; every answer within the ALB's 5 s
health-check timeout, with Cache-Control: no-store and never a password in it
(support.health checks those three on every call).
"""
import re
import subprocess

import pytest

from tests.app import native
from tests.app.support import APP_PASSWORD, DB_TIMESTAMP, db_env, health, migrate_env, run_migrate

UNMIGRATED_DB, UNMIGRATED_USER = "unmigrated", "unmigrated_app"
BEHIND_DB, BEHIND_USER = "behind", "behind_app"
OTHER_PASSWORD = "0ther'pw\\x"


@pytest.fixture(scope="module")
def unmigrated_schema(mariadb):
    """A database where the migrations never ran: it exists, its user may read it, no tables."""
    mariadb.master_sql(
        "CREATE DATABASE {db}; CREATE USER '{u}'@'%' IDENTIFIED BY '{p}' REQUIRE SSL; "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON {db}.* TO '{u}'@'%';".format(
            db=UNMIGRATED_DB, u=UNMIGRATED_USER, p=OTHER_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
        )
    )
    return {"DB_NAME": UNMIGRATED_DB, "DB_USERNAME": UNMIGRATED_USER, "DB_PASSWORD": OTHER_PASSWORD}


@pytest.fixture(scope="module")
def behind_schema(binaries, mariadb, pki, partial_tree):
    """A database migrated by an older image (version 1), with its own application user."""
    overrides = {"DB_NAME": BEHIND_DB, "DB_USERNAME": BEHIND_USER, "DB_PASSWORD": OTHER_PASSWORD}
    result = run_migrate(binaries, partial_tree, migrate_env(mariadb, pki, **overrides))
    assert result.returncode == 0, result.stdout + result.stderr
    return overrides


def test_healthz_200_with_json_body_through_nginx_php_fpm_and_mariadb(healthy_stack):
    status, body = health(healthy_stack)
    assert (status, body) == (200, {"status": "ok", "database": "reachable", "db_timestamp": DB_TIMESTAMP, "schema_version": 2})


@pytest.mark.parametrize(
    "overrides, reason, database",
    [
        ({"DB_PASSWORD": "wrong'" + APP_PASSWORD}, "access denied", "unreachable"),
        ({"DB_USERNAME": "nobody_here"}, "access denied", "unreachable"),
        ({"DB_NAME": "no_such_db"}, "access denied", "unreachable"),
        ({"DB_SSL_CA": "OTHER_CA"}, "TLS to the database failed", "unreachable"),
        ({"DB_HOST": native.MariaDB.OTHER_ADDRESS}, "TLS to the database failed", "unreachable"),
        ({"DB_TLS": "off"}, "access denied|the database requires TLS", "unreachable"),
        ({"DB_PORT": "FREE_PORT"}, "database unreachable", "unreachable"),
        ({"DB_HOST": ""}, "configuration: DB_HOST is not set", "unreachable"),
        ({"DB_SSL_CA": "/nonexistent/ca.pem"}, "configuration: DB_SSL_CA=/nonexistent/ca.pem is not a readable file", "unreachable"),
        ({"DB_TLS": "maybe"}, "configuration: DB_TLS=maybe: must be 'on'", "unreachable"),
    ],
    ids=[
        "wrong-password", "unknown-user", "database-missing", "server-cert-not-from-our-ca",
        "server-cert-for-another-host-name",
        "tls-switched-off-server-requires-it", "nothing-listening", "db-host-unset", "ca-bundle-missing",
        "tls-switch-invalid",
    ],
)
def test_healthz_503_when_the_app_cannot_use_the_database(stacks, app_tree, mariadb, pki, migrated, overrides, reason, database):
    substitutes = {"OTHER_CA": str(pki.other_ca), "FREE_PORT": str(native.free_port())}
    env = db_env(mariadb, pki, **{k: substitutes.get(v, v) for k, v in overrides.items()})
    status, body = health(stacks.start(app_tree, env))
    assert status == 503, body
    assert body["status"] == "error" and body["database"] == database and body["db_timestamp"] == DB_TIMESTAMP, body
    assert re.match(reason, body["reason"]), body


def test_healthz_503_on_a_database_where_migrations_never_ran(stacks, app_tree, mariadb, pki, unmigrated_schema):
    status, body = health(stacks.start(app_tree, db_env(mariadb, pki, **unmigrated_schema)))
    assert status == 503, body
    assert body["reason"] == "schema not migrated: no schema_migrations table in database %s" % UNMIGRATED_DB
    assert body["database"] == "reachable"


@pytest.mark.parametrize(
    "tree, schema, reason",
    [
        ("app_tree", "behind_schema", "schema not migrated: at version 1, this image expects 2"),
        ("partial_tree", None, "schema ahead of this image: at version 2, this image expects 1"),
    ],
    ids=["database-behind-the-image", "database-ahead-of-the-image"],
)
def test_healthz_503_when_schema_version_differs_from_the_image(request, stacks, mariadb, pki, migrated, tree, schema, reason):
    overrides = request.getfixturevalue(schema) if schema else {}
    status, body = health(stacks.start(request.getfixturevalue(tree), db_env(mariadb, pki, **overrides)))
    assert (status, body["reason"]) == (503, reason), body


@pytest.mark.parametrize("mode", ["silent", "drop"], ids=["host-accepts-never-answers", "host-drops-syn"])
def test_healthz_answers_503_before_the_alb_timeout_when_the_database_host_hangs(stacks, app_tree, mariadb, pki, mode):
    """The connect (drop) and read (silent) timeouts hold: 503 in about 2 s, not a hang."""
    with native.Blackhole(mode) as blackhole:
        status, body = health(stacks.start(app_tree, db_env(mariadb, pki, DB_PORT=str(blackhole.port))))
    assert (status, body["reason"]) == (503, "database unreachable"), body


def test_healthz_follows_the_database_going_down_and_coming_back(healthy_stack, mariadb):
    assert health(healthy_stack)[0] == 200
    mariadb.stop()
    try:
        status, body = health(healthy_stack)
        assert (status, body["reason"]) == (503, "database unreachable"), body
    finally:
        mariadb.start()
    assert health(healthy_stack)[0] == 200


def test_healthz_is_502_not_200_without_php_fpm(stacks, app_tree, mariadb, pki, migrated):
    """nginx cannot answer /healthz on its own: with php-fpm gone it is 502, liveness still 200."""
    stack = stacks.start(app_tree, db_env(mariadb, pki))
    assert health(stack)[0] == 200
    stack.fpm.stop()
    response = stack.get("/healthz")
    assert response.status == 502, response
    assert response.headers.get("cache-control") == "no-store"
    assert stack.get("/nginx-health").status == 200


def test_healthz_failure_is_logged_as_one_json_line_without_the_password(stacks, app_tree, mariadb, pki):
    env = db_env(mariadb, pki, DB_PASSWORD="wrong'" + APP_PASSWORD)
    stack = stacks.start(app_tree, env)
    assert health(stack)[0] == 503
    stack.fpm.stop()
    log = stack.fpm.log_path.read_text()
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert len(lines) == 1 and '"event":"healthz"' in lines[0] and '"error_code":1045' in lines[0], log
    assert "wrong'" not in log


def test_control_the_server_answers_on_the_other_address_when_the_host_name_is_not_checked(binaries, mariadb, pki):
    """So the server-cert-for-another-host-name case fails on the host name, not the network."""
    argv = [binaries["mariadb"], "--no-defaults", "--protocol=TCP", "-h", native.MariaDB.OTHER_ADDRESS, "-P", str(mariadb.port),
            "-u", mariadb.MASTER_USER, "--ssl-ca=%s" % pki.ca, "--skip-ssl-verify-server-cert", "-N", "-e", "SELECT 1"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=dict(native.base_env(), MYSQL_PWD=mariadb.MASTER_PASSWORD))
    assert (result.returncode, result.stdout) == (0, "1\n"), result.stderr
