"""The application's PHP helpers on their own, through the PHP CLI (no server needed):
password redaction, error classification and the migrations-directory rules.
"""
import json
import subprocess

import pytest

from tests.app import native

BOOTSTRAP = native.PHP_DIR / "src" / "bootstrap.php"


def php(binaries, code, env=None):
    """Run `code` after the app's bootstrap; its stdout decoded as JSON."""
    script = "require %s; use Tenantstack\\App\\{Credentials, DatabaseError, Migrations, MigrationError}; %s" % (
        json.dumps(str(BOOTSTRAP)), code)
    result = subprocess.run([binaries["php"], "-c", str(native.PHP_INI), "-r", script], capture_output=True, text=True,
                                   timeout=60, env=dict(native.base_env(), **(env or {})))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_redact_removes_every_occurrence_of_the_password(binaries):
    env = {"U": "someone", "P": "pa'ss\\w%rd"}
    out = php(binaries, "$c = Credentials::fromEnvironment('U', 'P'); "
                        "echo json_encode([$c->redact('x' . getenv('P') . 'y' . getenv('P')), print_r($c, true)]);", env)
    assert out[0] == "x[redacted]y[redacted]"
    assert env["P"] not in out[1] and "[redacted]" in out[1]


@pytest.mark.parametrize(
    "errno, message, reason",
    [
        (1045, "Access denied for user 'a'@'b' (using password: YES)", "access denied"),
        (1044, "Access denied for user 'a'@'%' to database 'x'", "access denied"),
        (3159, "Connections using insecure transport are prohibited", "the database requires TLS"),
        (2002, "Cannot connect to MySQL using SSL", "TLS to the database failed"),
        (2026, "SSL connection error", "TLS to the database failed"),
        (2002, "Connection refused", "database unreachable"),
        (2002, "Connection timed out", "database unreachable"),
        (2006, "MySQL server has gone away", "database unreachable"),
        (1146, "Table 'app.x' doesn't exist", "database error"),
    ],
    ids=["access-denied", "database-access-denied", "insecure-transport", "tls-handshake", "ssl-connection-error",
         "refused", "connect-timeout", "read-timeout", "anything-else"],
)
def test_database_error_reasons(binaries, errno, message, reason):
    code = "echo json_encode(DatabaseError::reason(%d, json_decode(%s)));" % (errno, json.dumps(json.dumps(message)))
    assert php(binaries, code) == reason


@pytest.mark.parametrize(
    "files, latest",
    [([], 0), (["0001_a.sql"], 1), (["0002_b.sql", "0001_a.sql", ".keep"], 2)],
    ids=["none", "one", "unordered-with-dotfile"],
)
def test_migrations_latest_version(binaries, tmp_path, files, latest):
    for name in files:
        (tmp_path / name).write_text("SELECT 1;\n")
    assert php(binaries, "echo json_encode(Migrations::load(%s)->latest());" % json.dumps(str(tmp_path))) == latest
