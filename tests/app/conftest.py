"""Fixtures of the application tests: one MariaDB for the session (TLS required, a master
user), the app migrated on it, and php-fpm + nginx stacks started per environment.

A missing Debian package fails the tests (it does not skip them): the message names the
package and the command that installs it.
"""
import pytest

from tests.app import native
from tests.app.support import OTHER_SCHEMA, db_env, migrate_env, run_migrate


@pytest.fixture(scope="session")
def binaries():
    try:
        found = native.find_binaries()
        native.check_php_extensions(found["php"])
    except native.NativeError as error:
        pytest.fail("tests/app need Debian packages: %s" % error, pytrace=False)
    return found


@pytest.fixture(scope="session")
def pki(binaries, tmp_path_factory):
    return native.Pki(binaries["openssl"], tmp_path_factory.mktemp("pki")).make()


@pytest.fixture(scope="session")
def mariadb(binaries, pki, tmp_path_factory):
    server = native.MariaDB(binaries, pki, tmp_path_factory.mktemp("mariadb")).install()
    try:
        server.start()
        # A schema of someone else's, which the application user must not read.
        server.master_sql(
            "CREATE DATABASE {o}; CREATE TABLE {o}.secrets (v VARCHAR(20)); INSERT INTO {o}.secrets VALUES ('theirs');".format(o=OTHER_SCHEMA)
        )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app_tree(tmp_path_factory):
    """The full application tree (every migration), as the php image has it."""
    return native.copy_app(tmp_path_factory.mktemp("app") / "app")


@pytest.fixture(scope="session")
def partial_tree(tmp_path_factory):
    """An older image: only the first migration."""
    return native.copy_app(tmp_path_factory.mktemp("app-v1") / "app", migrations=1)


@pytest.fixture(scope="session")
def migrated(binaries, mariadb, pki, app_tree):
    """The app database migrated and the application user created; the first run's output."""
    result = run_migrate(binaries, app_tree, migrate_env(mariadb, pki))
    assert result.returncode == 0, "bin/migrate failed:\n%s%s" % (result.stdout, result.stderr)
    return result


class Stacks:
    """Starts php-fpm + nginx stacks and stops every one it started."""

    def __init__(self, binaries, tmp_path_factory):
        self.binaries = binaries
        self.tmp_path_factory = tmp_path_factory
        self.started = []

    def start(self, tree, env):
        stack = native.AppStack(self.binaries, tree, env, self.tmp_path_factory.mktemp("stack"))
        self.started.append(stack)
        return stack.start()

    def stop_all(self):
        while self.started:
            self.started.pop().stop()


@pytest.fixture
def stacks(binaries, tmp_path_factory):
    starter = Stacks(binaries, tmp_path_factory)
    try:
        yield starter
    finally:
        starter.stop_all()


@pytest.fixture(scope="session")
def healthy_stack(binaries, tmp_path_factory, mariadb, pki, app_tree, migrated):
    """The stack as the task definition runs it: right credentials, migrated database."""
    starter = Stacks(binaries, tmp_path_factory)
    try:
        yield starter.start(app_tree, db_env(mariadb, pki))
    finally:
        starter.stop_all()
