"""The native harness itself: the one function that adapts the project's configs to a native
run and its tables, and the failure naming a missing package.

These run without any of the servers: they read app/nginx/nginx.conf and
app/php/conf/php-fpm.conf as the images have them.
"""
import re

import pytest

from tests.app import native

NGINX_ARGS = dict(port=18080, fpm_port=19000, public_dir="/t/tree/public", run_dir="/t/run", cache_dir="/t/cache")


def nginx_native(root):
    return native.native_config(native.NGINX_CONF.read_text(), native.nginx_substitutions(root=root, **NGINX_ARGS), "nginx.conf")


def fpm_native(root):
    return native.native_config(native.FPM_CONF.read_text(), native.fpm_substitutions(19000, root), "php-fpm.conf")


def test_native_config_replaces_every_occurrence():
    assert native.native_config("a x a", [("a", "b")], "f") == "b x b"


def test_native_config_fails_naming_file_and_string_that_is_gone():
    with pytest.raises(native.ConfigDrift, match=r"nginx\.conf: .*'listen 80 default_server;'"):
        native.native_config("listen 8080;", [("listen 80 default_server;", "x")], "nginx.conf")


@pytest.mark.parametrize("root", [True, False], ids=["as-root", "not-root"])
def test_nginx_native_listens_only_on_loopback_and_keeps_no_container_path(root):
    text = re.sub(r"#.*", "", nginx_native(root))  # directives only, not the comments
    assert re.findall(r"^\s*listen\s+(\S+)", text, re.M) == ["127.0.0.1:18080"]
    assert set(re.findall(r"fastcgi_pass\s+(\S+);", text)) == {"127.0.0.1:19000"}
    for container_path in ("/var/run", "/var/cache/nginx", "/app/public"):
        assert container_path not in text, container_path
    assert re.search(r"^pid /t/run/nginx\.pid;$", text, re.M)
    assert len(re.findall(r"_temp_path /t/cache/", text)) == 5


@pytest.mark.parametrize(
    "root, user_lines",
    [(True, ["user root;"]), (False, [])],
    ids=["as-root-workers-root", "not-root-no-user-line"],
)
def test_nginx_native_user(root, user_lines):
    assert re.findall(r"^user .*$", nginx_native(root), re.M) == user_lines


@pytest.mark.parametrize(
    "root, user_lines",
    [(True, ["user = root", "group = root"]), (False, [])],
    ids=["as-root-pool-user-root", "not-root-no-pool-user"],
)
def test_fpm_native_listen_and_user(root, user_lines):
    text = fpm_native(root)
    assert re.findall(r"^listen = (.*)$", text, re.M) == ["127.0.0.1:19000"]
    assert re.findall(r"^(?:user|group) = .*$", text, re.M) == user_lines


@pytest.mark.parametrize(
    "source, render, substitutions",
    [
        (native.NGINX_CONF, nginx_native, native.nginx_substitutions(root=True, **NGINX_ARGS)),
        (native.FPM_CONF, fpm_native, native.fpm_substitutions(19000, True)),
    ],
    ids=["nginx.conf", "php-fpm.conf"],
)
def test_only_lines_with_a_substitution_change(source, render, substitutions):
    """Everything else (timeouts, locations, pool settings) is tested as the image has it."""
    original = source.read_text().splitlines()
    rendered = render(True).splitlines()
    olds = [old.strip("\n") for old, _ in substitutions]
    unchanged = [line for line in original if not any(old and old in line for old in olds)]
    for line in unchanged:
        assert line in rendered, "line changed although no substitution matches it: %r" % line


def test_a_missing_binary_is_named_with_its_package_and_the_install_command(tmp_path):
    required = {"nginx": (("nginx",), "nginx"), "mariadbd": (("tenantstack-no-such-mariadbd",), "mariadb-server")}
    with pytest.raises(native.NativeError) as error:
        native.find_binaries(required, search_path="%s:/usr/sbin:/usr/bin" % tmp_path)
    assert str(error.value) == "missing: mariadbd (Debian package mariadb-server); %s" % native.INSTALL_HINT
    assert "scripts/install-system-packages" in native.INSTALL_HINT


def test_a_missing_php_extension_is_named_with_its_package(binaries):
    with pytest.raises(native.NativeError, match=r"PHP extensions missing: tenantstack_nope \(Debian package php8\.2-nope\)"):
        native.check_php_extensions(binaries["php"], {"mysqli": "php8.2-mysql", "tenantstack_nope": "php8.2-nope"})
