"""What each container answers on its own: the ECS container health checks (nginx's
/nginx-health, php-fpm's ping via bin/fpm-ping), static files, the front controller,
and the log format.
"""
import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.app import native
from tests.app.support import db_env

FPM_PING_DEADLINE = 2.0
NOBODY = 65534


@pytest.fixture
def dbless_stack(stacks, app_tree, mariadb, pki):
    """A stack whose database host refuses connections: what must not need the database."""
    return stacks.start(app_tree, db_env(mariadb, pki, DB_PORT=str(native.free_port())))


@pytest.mark.parametrize(
    "source, status",
    [("127.0.0.1", 200), ("127.0.0.2", 403)],
    ids=["from-loopback-127.0.0.1", "from-any-other-address"],
)
def test_nginx_health_is_loopback_only_and_needs_no_database(dbless_stack, source, status):
    response = dbless_stack.get("/nginx-health", source_address=(source, 0))
    assert response.status == status, response
    if status == 200:
        assert response.body == "ok\n"
        assert dbless_stack.get("/healthz").status == 503


def test_fpm_ping_answers_pong_without_the_database(dbless_stack):
    result = dbless_stack.fpm_ping()
    assert (result.returncode, result.stdout) == (0, "pong\n"), result.stderr


@pytest.mark.parametrize("mode", ["nothing-listening", "silent"], ids=["php-fpm-down", "php-fpm-hangs"])
def test_fpm_ping_fails_within_its_deadline(binaries, app_tree, mode):
    started = time.monotonic()
    if mode == "silent":
        with native.Blackhole("silent") as hole:
            result = native.php_cli(binaries, app_tree / "bin" / "fpm-ping", {}, args=["127.0.0.1:%d" % hole.port])
    else:
        result = native.php_cli(binaries, app_tree / "bin" / "fpm-ping", {}, args=["127.0.0.1:%d" % native.free_port()])
    assert result.returncode == 1 and result.stderr.startswith("fpm-ping: 127.0.0.1:"), result
    assert time.monotonic() - started < FPM_PING_DEADLINE + 1.5


def test_fpm_ping_is_not_reachable_through_nginx(healthy_stack):
    response = healthy_stack.get("/fpm-ping")
    assert response.status == 404 and "pong" not in response.body, response


@pytest.mark.parametrize(
    "path, status, content_type, text",
    [
        ("/", 200, "text/html; charset=utf-8", "<p>Hello from tenantstack</p>"),
        ("/robots.txt", 200, "text/plain", "Disallow: /"),
        ("/no/such/page", 404, "text/html; charset=utf-8", "Not found"),
        ("/missing.php", 404, "text/html", "404 Not Found"),
        ("/.env", 403, "text/html", "403 Forbidden"),
        ("/healthz.php", 200, "application/json", '"status":"ok"'),
    ],
    ids=["front-controller-reads-a-row", "static-file", "unknown-path", "missing-php-script", "dot-file", "healthz-script"],
)
def test_nginx_routes(healthy_stack, path, status, content_type, text):
    response = healthy_stack.get(path)
    assert response.status == status, response
    assert response.headers.get("content-type") == content_type, response.headers
    assert text in response.body, response


def test_front_controller_503_without_the_database(dbless_stack):
    response = dbless_stack.get("/")
    assert response.status == 503 and "Service unavailable" in response.body, response
    assert "Connection refused" not in response.body


def test_nginx_access_log_is_json_lines(stacks, app_tree, mariadb, pki, migrated):
    stack = stacks.start(app_tree, db_env(mariadb, pki))
    for path in ("/healthz", "/robots.txt", "/nginx-health"):
        stack.get(path)
    stack.nginx.stop()
    entries = [json.loads(line) for line in stack.nginx.log_path.read_text().splitlines() if line.startswith("{")]
    # /nginx-health has access_log off: the ECS check every few seconds would drown the log.
    assert [(e["uri"], e["status"]) for e in entries] == [("/healthz", 200), ("/robots.txt", 200)], entries
    assert {"time", "remote_addr", "forwarded_for", "host", "method", "request_time", "upstream_time"} <= set(entries[0])


@pytest.fixture
def world_readable_dir():
    """A directory nobody can read (pytest's own tmp dirs are root-only)."""
    with tempfile.TemporaryDirectory(prefix="tenantstack-fpm-") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory)


def test_php_fpm_runs_unprivileged_with_the_project_config(binaries, app_tree, world_readable_dir):
    """As in the image (USER 33:33, no pool user): master and workers unprivileged, ping answers.

    As root the test drops to nobody with setpriv and hands it the log file, as runc hands
    PID 1's stdio to the container user (php-fpm reopens /proc/self/fd/2 for its error_log).
    """
    if not native.as_root():
        pytest.skip("not root: every php-fpm of these tests already runs unprivileged")
    setpriv = native.shutil.which("setpriv", path=native.SEARCH_PATH)
    assert setpriv, "setpriv is missing (Debian package util-linux)"
    port = native.free_port()
    conf = native.write_native_config(native.FPM_CONF, world_readable_dir / "php-fpm.conf", native.fpm_substitutions(port, root=False))
    log = world_readable_dir / "php-fpm.log"
    log.touch()
    os.chown(str(log), NOBODY, NOBODY)
    fpm = native.Process(
        "php-fpm (nobody)",
        [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
         binaries["php-fpm"], "--nodaemonize", "--fpm-config", conf, "-c", native.PHP_INI],
        native.base_env(), log,
    ).start()
    try:
        fpm.wait_for_port(port)
        result = native.php_cli(binaries, app_tree / "bin" / "fpm-ping", {}, args=["127.0.0.1:%d" % port])
        assert (result.returncode, result.stdout) == (0, "pong\n"), result.stderr
        uids = {line.split()[1] for line in open("/proc/%d/status" % fpm.popen.pid) if line.startswith("Uid:")}
        assert uids == {str(NOBODY)}, uids
    finally:
        fpm.stop()
    assert "ERROR" not in log.read_text(), log.read_text()
