"""Names, environments and checks the application tests share."""
import json

from tests.app import native

APP_USER = "tenant_app"
# Quotes, a backslash and % test the quoting of bin/migrate; the tests also look for this
# string in every response and output.
APP_PASSWORD = "App'pw\\\"s3cret%x"
DB_NAME = "app"
DB_TIMESTAMP = "20261115t120000z"
OTHER_SCHEMA = "other_tenant"

# The ALB health-check timeout every /healthz answer must beat (target group default, 5 s).
HEALTH_CHECK_TIMEOUT = 5.0


def db_env(mariadb, pki, **overrides):
    """The php container's environment for the test database; overrides win."""
    env = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(mariadb.port),
        "DB_NAME": DB_NAME,
        "DB_USERNAME": APP_USER,
        "DB_PASSWORD": APP_PASSWORD,
        "DB_SSL_CA": str(pki.ca),
        "DB_TIMESTAMP": DB_TIMESTAMP,
        "APP_NAMESPACE": "xy-0146-qa",
        "APP_FILES_BUCKET": "tenantstack-files-common-nonprod",
        "APP_FILES_PREFIX": "xy-0146-qa/files/%s/" % DB_TIMESTAMP,
    }
    env.update(overrides)
    return env


def migrate_env(mariadb, pki, **overrides):
    """The migration command's environment: the app's plus the master credentials."""
    env = db_env(mariadb, pki, DB_MASTER_USERNAME=mariadb.MASTER_USER, DB_MASTER_PASSWORD=mariadb.MASTER_PASSWORD)
    env.update(overrides)
    return env


def run_migrate(binaries, tree, env):
    return native.php_cli(binaries, tree / "bin" / "migrate", env)


def secrets_of(env):
    """The passwords of an environment: none may appear in any answer or output."""
    return [value for name, value in env.items() if name.endswith("PASSWORD") and value]


def assert_no_secret(text, env):
    for secret in secrets_of(env):
        assert secret not in text, "a password from the environment appears in the output"


def health(stack):
    """GET /healthz through nginx; checks what every answer must satisfy; (status, JSON body)."""
    response = stack.get("/healthz")
    assert response.elapsed < HEALTH_CHECK_TIMEOUT, "/healthz took %.2f s (limit %.0f s): %r" % (response.elapsed, HEALTH_CHECK_TIMEOUT, response)
    assert_no_secret(response.body, stack.env)
    assert response.headers.get("cache-control") == "no-store", response.headers
    assert response.headers.get("content-type") == "application/json", response.headers
    return response.status, json.loads(response.body)
