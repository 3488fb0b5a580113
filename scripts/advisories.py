"""The vulnerability advisories the dependency audit reads, and a local OSV endpoint serving them.

    advisories.py refresh --from-osv [URL]          # the live OSV database (default https://api.osv.dev)
    advisories.py refresh --from-advisory-db DIR    # a checkout of github.com/pypa/advisory-database
    advisories.py show                              # what the snapshot holds, and when it was taken

pip-audit needs a vulnerability database: OSV's API or PyPI's JSON API. Where neither is
reachable (this project's build machines reach package registries only, and their PyPI
mirror serves no per-release JSON, so pip-audit's PyPI service would skip every package),
the audit runs against requirements/advisories.json: every OSV record (PyPI ecosystem)
of every package pinned in requirements/*.txt, taken on a stated date from a stated
source. `OsvEndpoint` serves it on 127.0.0.1 with OSV's `/v1/query` contract, so
pip-audit runs unchanged (`--vulnerability-service osv --osv-url ...`). A package the
snapshot does not cover is answered with HTTP 404, which makes pip-audit fail: a new pin
without a refreshed snapshot cannot pass silently.

Standard library and `packaging` only.
"""
import argparse
import datetime
import json
import re
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "requirements" / "advisories.json"
REQUIREMENTS = (REPO / "requirements" / "cfngin.txt", REPO / "requirements" / "project.txt")
OSV_API = "https://api.osv.dev"
HOST = "127.0.0.1"
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)")


class AdvisoryError(RuntimeError):
    """The snapshot cannot answer (missing, malformed, or a package it does not cover)."""


def canonical(name):
    """PyPI's normalised project name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path):
    """[(canonical name, version)] of every `name==version` line of a requirements file."""
    pins = []
    for line in Path(path).read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins.append((canonical(match.group(1)), match.group(3)))
    return pins


def _version(text):
    try:
        return Version(text)
    except InvalidVersion:
        return None


def in_range(events, version):
    """OSV's ECOSYSTEM range rule: `version` is affected after an `introduced` and before the
    next `fixed` (or up to and including a `last_affected`)."""
    ordered = []
    for event in events:
        for kind, value in event.items():
            at = Version("0") if value == "0" else _version(value)
            if at is not None:
                ordered.append((at, kind))
    affected = False
    for at, kind in sorted(ordered, key=lambda item: item[0]):
        if at > version:
            break
        if kind == "introduced":
            affected = True
        elif kind == "fixed":
            affected = False
        elif kind == "last_affected" and at < version:
            affected = False
    return affected


def affects(record, name, version):
    """True when the OSV record says `name` (canonical) at `version` is affected."""
    wanted = _version(version)
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonical(package.get("name", "")) != name:
            continue
        if version in affected.get("versions", []):
            return True
        if wanted is None:
            continue
        for ranges in affected.get("ranges", []):
            if ranges.get("type") == "ECOSYSTEM" and in_range(ranges.get("events", []), wanted):
                return True
    return False


def load(path=SNAPSHOT):
    """The snapshot: {"source", "taken", "packages": {canonical name: [OSV record, ...]}}."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise AdvisoryError("advisory snapshot %s is missing; run scripts/advisories.py refresh" % path) from None
    for key in ("source", "taken", "packages"):
        if key not in data:
            raise AdvisoryError("advisory snapshot %s has no %r; run scripts/advisories.py refresh" % (path, key))
    return data


def query(snapshot, name, version):
    """The OSV records affecting name==version; AdvisoryError when the snapshot does not cover `name`."""
    name = canonical(name)
    if name not in snapshot["packages"]:
        raise AdvisoryError("the advisory snapshot does not cover %s (taken %s); run scripts/advisories.py "
                            "refresh after changing requirements/*.txt" % (name, snapshot["taken"]))
    return [record for record in snapshot["packages"][name] if affects(record, name, version)]


# --- the local OSV endpoint -----------------------------------------------------------------


class OsvEndpoint:
    """OSV's POST /v1/query over a snapshot, on 127.0.0.1 and a free port: `with OsvEndpoint() as osv: osv.url`."""

    def __init__(self, snapshot=None):
        self.snapshot = snapshot if snapshot is not None else load()
        self.queries = []  # (name, version) asked, in order
        self.refused = []  # why each query the snapshot could not answer was refused
        self.server = ThreadingHTTPServer((HOST, 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://%s:%d/v1/query" % (HOST, self.server.server_address[1])

    def _handler(self):
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                name, version = body.get("package", {}).get("name", ""), body.get("version", "")
                endpoint.queries.append((canonical(name), version))
                try:
                    status, answer = 200, {"vulns": query(endpoint.snapshot, name, version)}
                except AdvisoryError as error:
                    status, answer = 404, {"code": 5, "message": str(error)}
                    endpoint.refused.append(str(error))
                data = json.dumps(answer if answer.get("vulns", True) else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# --- refreshing the snapshot ------------------------------------------------------------------


def names_to_cover(requirements=REQUIREMENTS):
    return sorted({name for path in requirements for name, _ in pinned(path)})


def from_advisory_db(directory, names):
    """({name: [records]}, source, taken) from a pypa/advisory-database checkout (vulns/<name>/*.yaml)."""
    import yaml

    directory = Path(directory)
    packages = {}
    for name in names:
        records = []
        for folder in (directory / "vulns").iterdir():
            if canonical(folder.name) == name:
                # BaseLoader: every scalar as written (OSV's RFC 3339 times stay text, as the API sends them)
                records += [yaml.load(path.read_text(), Loader=yaml.BaseLoader) for path in sorted(folder.glob("*.yaml"))]
        packages[name] = sorted(records, key=lambda record: record["id"])
    head = subprocess.run(["git", "-C", str(directory), "log", "-1", "--format=%H %cs"], capture_output=True,
                          text=True)
    commit, _, day = head.stdout.strip().partition(" ")
    source = "github.com/pypa/advisory-database" + ("@%s" % commit if commit else "")
    return packages, source, day or datetime.date.today().isoformat()


def from_osv(url, names):
    """({name: [records]}, source, taken) from OSV's API (every record of each package, all versions)."""
    packages = {}
    for name in names:
        records, token = [], None
        while True:
            body = {"package": {"name": name, "ecosystem": "PyPI"}}
            if token:
                body["page_token"] = token
            request = urllib.request.Request(url.rstrip("/") + "/v1/query", data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.load(response)
            records += answer.get("vulns", [])
            token = answer.get("next_page_token")
            if not token:
                break
        packages[name] = sorted(records, key=lambda record: record["id"])
    return packages, url, datetime.date.today().isoformat()


def write(packages, source, taken, path=SNAPSHOT):
    data = {"source": source, "taken": taken, "packages": packages}
    Path(path).write_text(json.dumps(data, sort_keys=True, indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="rewrite %s for every pinned package" % SNAPSHOT.name)
    source = refresh.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-osv", nargs="?", const=OSV_API, metavar="URL", help="OSV's API (needs network)")
    source.add_argument("--from-advisory-db", metavar="DIR", help="a pypa/advisory-database checkout")
    commands.add_parser("show", help="the snapshot's source, date and coverage")
    args = parser.parse_args(argv)
    names = names_to_cover()
    if args.command == "refresh":
        if args.from_osv:
            packages, source_name, taken = from_osv(args.from_osv, names)
        else:
            packages, source_name, taken = from_advisory_db(args.from_advisory_db, names)
        write(packages, source_name, taken)
        print("%s: %d packages, %d records, from %s as of %s" % (
            SNAPSHOT.relative_to(REPO), len(packages), sum(map(len, packages.values())), source_name, taken))
        return 0
    snapshot = load()
    missing = [name for name in names if name not in snapshot["packages"]]
    print("source %s, taken %s, %d packages, %d records; not covered: %s" % (
        snapshot["source"], snapshot["taken"], len(snapshot["packages"]),
        sum(map(len, snapshot["packages"].values())), ", ".join(missing) or "none"))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
