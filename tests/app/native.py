"""Run the application natively for its tests: MariaDB, php-fpm and nginx on 127.0.0.1.

Nothing runs in a container. The processes are Debian's (scripts/install-system-packages
installs them) started with THE PROJECT'S OWN config files (app/nginx/nginx.conf,
app/php/conf/php-fpm.conf, app/php/conf/php.ini) and application tree (app/php), copied
to a temporary directory. `native_config` is the only place a config is changed, and it
changes only what must differ outside a container, each change an exact string that must
be found (see NGINX and FPM substitutions below):

- listen addresses and ports: 127.0.0.1 and free ports instead of port 80 / 127.0.0.1:9000;
- filesystem paths: the copied tree instead of /app, temporary directories instead of
  /var/run and /var/cache/nginx (the image's scratch volumes);
- the user: running as root, nginx workers and the php-fpm pool run as root (the image
  runs nginx workers as `nginx` and php-fpm as www-data, users a test machine may lack);
  not root, nginx's `user` line is dropped (it needs root) and php-fpm has none anyway.

Every process runs in its own process group and is stopped with its group (TERM, then
KILL); every wait has a deadline.
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "app"
PHP_DIR = APP_DIR / "php"
NGINX_CONF = APP_DIR / "nginx" / "nginx.conf"
FPM_CONF = PHP_DIR / "conf" / "php-fpm.conf"
PHP_INI = PHP_DIR / "conf" / "php.ini"
APP_PARTS = ("src", "public", "bin")

INSTALL_HINT = "run as root: scripts/install-system-packages (or: make setup)"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])

# What the tests run: name -> (executables to look for, the Debian package that has it).
REQUIRED_BINARIES = {
    "nginx": (("nginx",), "nginx"),
    "php-fpm": (("php-fpm8.2", "php-fpm"), "php8.2-fpm"),
    "php": (("php8.2", "php"), "php8.2-cli"),
    "mariadbd": (("mariadbd",), "mariadb-server"),
    "mariadb-install-db": (("mariadb-install-db",), "mariadb-server"),
    "mariadb": (("mariadb",), "mariadb-client"),
    "openssl": (("openssl",), "openssl"),
}
PHP_EXTENSIONS = {"mysqli": "php8.2-mysql", "openssl": "php8.2-common"}

START_DEADLINE = 30.0
STOP_DEADLINE = 15.0
HTTP_TIMEOUT = 15.0


class NativeError(RuntimeError):
    """A native process or tool could not be found, started or used."""


class ConfigDrift(NativeError):
    """A string the native substitution expects is no longer in the project's config."""


def as_root():
    return os.geteuid() == 0


# ---------------------------------------------------------------- binaries


def find_binaries(required=REQUIRED_BINARIES, search_path=SEARCH_PATH):
    """{name: absolute path} of every required binary; NativeError naming what is missing."""
    found, missing = {}, []
    for name, (candidates, package) in sorted(required.items()):
        path = next((shutil.which(c, path=search_path) for c in candidates if shutil.which(c, path=search_path)), None)
        if path is None:
            missing.append("%s (Debian package %s)" % (name, package))
        else:
            found[name] = path
    if missing:
        raise NativeError("missing: %s; %s" % (", ".join(missing), INSTALL_HINT))
    return found


def check_php_extensions(php, extensions=PHP_EXTENSIONS):
    """NativeError naming the package of each PHP extension the CLI does not load."""
    loaded = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30, check=True).stdout.lower().split()
    missing = ["%s (Debian package %s)" % (name, package) for name, package in sorted(extensions.items()) if name not in loaded]
    if missing:
        raise NativeError("PHP extensions missing: %s; %s" % (", ".join(missing), INSTALL_HINT))


# ---------------------------------------------------------------- ports and processes


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Process:
    """One child process in its own process group, its output in a log file."""

    def __init__(self, name, argv, env, log_path, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.env = env
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.popen = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines=30):
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_for_port(self, port, deadline=START_DEADLINE):
        """Return once 127.0.0.1:port accepts; NativeError if the process dies or time runs out."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if not self.running():
                raise NativeError("%s exited (%s) before listening on port %d:\n%s" % (self.name, self.popen.returncode, port, self.log_tail()))
            if port_open(port):
                return
            time.sleep(0.05)
        raise NativeError("%s did not listen on port %d within %.0f s:\n%s" % (self.name, port, deadline, self.log_tail()))

    def stop(self, deadline=STOP_DEADLINE):
        """TERM the process group, KILL it after `deadline` seconds; safe to call twice."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait(timeout=deadline)
        # Workers left behind by a master that died first.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum):
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass


def base_env():
    """The environment every child starts from: no variable of the test runner's own."""
    return {"PATH": SEARCH_PATH, "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp")}


# ---------------------------------------------------------------- config substitution


def native_config(text, substitutions, source):
    """`text` with each (old, new) of `substitutions` replaced, every occurrence.

    Each `old` must be in `text`: when the project's config changes so that one is not,
    the tests would silently run something else, so ConfigDrift names the file and string.
    """
    for old, new in substitutions:
        if old not in text:
            raise ConfigDrift("%s: the native substitution expects %r in it; update tests/app/native.py with the config" % (source, old))
        text = text.replace(old, new)
    return text


def nginx_substitutions(port, fpm_port, public_dir, run_dir, cache_dir, root):
    """What differs for nginx natively: port, php-fpm address, paths, the workers' user."""
    return [
        ("listen 80 default_server;", "listen 127.0.0.1:%d default_server;" % port),
        ("fastcgi_pass 127.0.0.1:9000;", "fastcgi_pass 127.0.0.1:%d;" % fpm_port),
        ("root /app/public;", "root %s;" % public_dir),
        ("/var/run/", "%s/" % run_dir),
        ("/var/cache/nginx/", "%s/" % cache_dir),
        ("\nuser nginx;\n", "\nuser root;\n" if root else "\n# user: not root natively, workers run as the invoking user\n"),
    ]


def fpm_substitutions(port, root):
    """What differs for php-fpm natively: the port, and a pool user when running as root."""
    substitutions = [("listen = 127.0.0.1:9000", "listen = 127.0.0.1:%d" % port)]
    if root:
        substitutions.append(("\n[app]\n", "\n[app]\nuser = root\ngroup = root\n"))
    return substitutions


def write_native_config(source, destination, substitutions):
    Path(destination).write_text(native_config(Path(source).read_text(), substitutions, source))
    return Path(destination)


# ---------------------------------------------------------------- the application tree


def copy_app(destination, migrations=None):
    """Copy app/php (code, public dir, bin) to `destination`, with all or the first N migrations."""
    destination = Path(destination)
    for part in APP_PARTS:
        shutil.copytree(PHP_DIR / part, destination / part)
    (destination / "migrations").mkdir(parents=True)
    for path in sorted((PHP_DIR / "migrations").glob("*.sql"))[:migrations]:
        shutil.copy2(path, destination / "migrations" / path.name)
    return destination


# ---------------------------------------------------------------- TLS


class Pki:
    """A CA and a server certificate for 127.0.0.1/localhost, made with openssl; plus a stranger CA."""

    def __init__(self, openssl, directory):
        self.openssl = openssl
        self.dir = Path(directory)
        self.ca, self.ca_key = self.dir / "ca.pem", self.dir / "ca.key"
        self.server_cert, self.server_key = self.dir / "server.pem", self.dir / "server.key"
        self.other_ca = self.dir / "other-ca.pem"

    def make(self):
        self._ca(self.ca, self.ca_key, "tenantstack test CA")
        self._ca(self.other_ca, self.dir / "other-ca.key", "some other CA")
        csr = self.dir / "server.csr"
        self._run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", self.server_key, "-out", csr, "-subj", "/CN=127.0.0.1")
        extensions = self.dir / "server.ext"
        extensions.write_text(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        )
        self._run("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-set_serial", "2",
                  "-days", "2", "-out", self.server_cert, "-extfile", extensions)
        return self

    def _ca(self, cert, key, name):
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % name,
                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _run(self, *args):
        result = subprocess.run([self.openssl] + [str(a) for a in args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise NativeError("openssl %s failed: %s" % (args[0], result.stderr.strip()))


# ---------------------------------------------------------------- MariaDB


class MariaDB:
    """A throwaway MariaDB that, like RDS with the tier's parameter group, requires TLS
    (require_secure_transport) and has a master user with every privilege.

    It listens on 127.0.0.1 and on 127.0.0.2 (loopback too): its certificate names only
    127.0.0.1 and localhost, so a client that reaches it as 127.0.0.2 must refuse it
    (the test that the server's host name is verified, not only its CA).
    """

    OTHER_ADDRESS = "127.0.0.2"

    MASTER_USER = "master"
    MASTER_PASSWORD = "M4ster'pw\\\"x%"

    def __init__(self, binaries, pki, directory):
        self.binaries = binaries
        self.pki = pki
        self.dir = Path(directory)
        self.datadir = self.dir / "data"
        self.port = free_port()
        self.process = None

    def install(self):
        argv = [self.binaries["mariadb-install-db"], "--no-defaults", "--datadir=%s" % self.datadir,
                "--skip-test-db", "--auth-root-authentication-method=socket", "--innodb-log-file-size=8M"]
        if as_root():
            argv.append("--user=root")
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=base_env())
        if result.returncode != 0:
            raise NativeError("mariadb-install-db failed (%d):\n%s%s" % (result.returncode, result.stdout[-2000:], result.stderr[-2000:]))
        init = self.dir / "init.sql"
        # Runs at every start, before connections: idempotent.
        init.write_text(
            "CREATE USER IF NOT EXISTS '{u}'@'%' IDENTIFIED BY '{p}';\n"
            "ALTER USER '{u}'@'%' IDENTIFIED BY '{p}' REQUIRE SSL;\n"
            "GRANT ALL PRIVILEGES ON *.* TO '{u}'@'%' WITH GRANT OPTION;\n".format(
                u=self.MASTER_USER, p=self.MASTER_PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
            )
        )
        return self

    def start(self):
        argv = [
            self.binaries["mariadbd"], "--no-defaults",
            "--datadir=%s" % self.datadir, "--socket=%s" % (self.dir / "mysqld.sock"),
            "--pid-file=%s" % (self.dir / "mysqld.pid"), "--tmpdir=%s" % self.dir,
            "--port=%d" % self.port, "--bind-address=127.0.0.1,%s" % self.OTHER_ADDRESS, "--skip-name-resolve",
            "--ssl-ca=%s" % self.pki.ca, "--ssl-cert=%s" % self.pki.server_cert, "--ssl-key=%s" % self.pki.server_key,
            "--require-secure-transport=ON", "--init-file=%s" % (self.dir / "init.sql"),
            "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--skip-log-bin",
            "--performance-schema=OFF",
        ]
        if as_root():
            argv.append("--user=root")
        self.process = Process("mariadbd", argv, base_env(), self.dir / "mariadbd.log").start()
        self.process.wait_for_port(self.port)
        return self

    def stop(self):
        if self.process is not None:
            self.process.stop(deadline=30)

    def client(self, sql, user=MASTER_USER, password=MASTER_PASSWORD, database=None):
        """Run `sql` with the mariadb CLI over verified TLS; the CompletedProcess."""
        argv = [self.binaries["mariadb"], "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(self.port),
                "-u", user, "--ssl-ca=%s" % self.pki.ca, "--ssl-verify-server-cert", "--batch", "--skip-column-names",
                "-e", sql]
        if database:
            argv.append(database)
        env = dict(base_env(), MYSQL_PWD=password)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)

    def master_sql(self, sql, database=None):
        """Run `sql` as master; NativeError when it fails; its output."""
        result = self.client(sql, database=database)
        if result.returncode != 0:
            raise NativeError("master SQL failed: %s: %s" % (sql, result.stderr.strip()))
        return result.stdout


# ---------------------------------------------------------------- php and nginx


def php_cli(binaries, script, env, args=(), timeout=60):
    """Run a PHP CLI script of an app tree with the project's php.ini; the CompletedProcess."""
    argv = [binaries["php"], "-c", str(PHP_INI), str(script)] + [str(a) for a in args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=dict(base_env(), **env))


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def __repr__(self):
        return "<%d %.2fs %r>" % (self.status, self.elapsed, self.body[:300])


def http_get(port, path, source_address=None, timeout=HTTP_TIMEOUT):
    """GET http://127.0.0.1:port/path; the Response with the time it took."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=source_address)
    try:
        connection.request("GET", path, headers={"Host": "tenant.example.com"})
        answer = connection.getresponse()
        body = answer.read().decode("utf-8", "replace")
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, body, time.monotonic() - started)
    finally:
        connection.close()


class AppStack:
    """php-fpm and nginx with the project's config for one app tree and one environment."""

    def __init__(self, binaries, tree, env, directory):
        self.binaries = binaries
        self.tree = Path(tree)
        self.env = env
        self.dir = Path(directory)
        self.fpm_port = free_port()
        self.port = free_port()
        self.fpm = None
        self.nginx = None

    def start(self):
        root = as_root()
        fpm_conf = write_native_config(FPM_CONF, self.dir / "php-fpm.conf", fpm_substitutions(self.fpm_port, root))
        fpm_argv = [self.binaries["php-fpm"], "--nodaemonize", "--fpm-config", fpm_conf, "-c", PHP_INI]
        if root:
            fpm_argv.append("-R")
        self.fpm = Process("php-fpm", fpm_argv, dict(base_env(), **self.env), self.dir / "php-fpm.log").start()
        run_dir, cache_dir = self.dir / "run", self.dir / "cache"
        run_dir.mkdir()
        cache_dir.mkdir()
        nginx_conf = write_native_config(
            NGINX_CONF,
            self.dir / "nginx.conf",
            nginx_substitutions(self.port, self.fpm_port, self.tree / "public", run_dir, cache_dir, root),
        )
        self.nginx = Process(
            "nginx",
            [self.binaries["nginx"], "-p", self.dir, "-e", "stderr", "-c", nginx_conf, "-g", "daemon off;"],
            base_env(),
            self.dir / "nginx.log",
        ).start()
        self.fpm.wait_for_port(self.fpm_port)
        self.nginx.wait_for_port(self.port)
        return self

    def stop(self):
        for process in (self.nginx, self.fpm):
            if process is not None:
                process.stop()

    def get(self, path, source_address=None):
        return http_get(self.port, path, source_address=source_address)

    def fpm_ping(self):
        """bin/fpm-ping against this stack's php-fpm: the php container's health check."""
        return php_cli(self.binaries, self.tree / "bin" / "fpm-ping", {}, args=["127.0.0.1:%d" % self.fpm_port], timeout=30)

    def logs(self):
        return "php-fpm:\n%s\nnginx:\n%s" % (self.fpm.log_tail(), self.nginx.log_tail())


# ---------------------------------------------------------------- unanswering database hosts


class Blackhole:
    """A 127.0.0.1 port that looks like a database host that never answers.

    mode "silent": connections complete (the kernel accepts them into the listen queue)
    but nothing is ever sent: the client waits for the server greeting (read timeout).
    mode "drop": the listen queue is full, so the kernel drops new SYNs: the client's TCP
    connect never completes (connect timeout), like a firewalled host, without sending
    anything off this machine.
    """

    def __init__(self, mode):
        if mode not in ("silent", "drop"):
            raise ValueError("Blackhole mode %r: must be 'silent' or 'drop'" % mode)
        self.mode = mode
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.fillers = []

    def __enter__(self):
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        if self.mode == "silent":
            self.listener.listen(64)
            return self
        self.listener.listen(0)
        # Linux queues backlog + 1 connections; fill the queue.
        for _ in range(2):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(filler)
        time.sleep(0.2)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", self.port))
        except socket.timeout:
            return self
        finally:
            probe.close()
        self.__exit__()
        raise NativeError("Blackhole(drop): port %d still completes connections; the kernel did not drop SYNs" % self.port)

    def __exit__(self, *exc_info):
        for filler in self.fillers:
            filler.close()
        self.listener.close()
