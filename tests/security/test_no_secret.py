"""No secret anywhere: after the full demo, no database password appears in what people read.

The demo (`make demo`, scripts/demo.py) creates each namespace's master secret and runs
two promotions with the real stacker CLI. Its secret values are read from its endpoint
before it stops (tests/security/demo_with_secrets.py), then searched for in the rendered
templates, the env files, the demo's own output (stacker's included), the endpoint's
log and every log under .run/. A hit fails naming the file and the secret, never the value.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WRAPPER = Path(__file__).with_name("demo_with_secrets.py")
SEARCHED_DIRECTORIES = ("templates", "environments", "stacker", ".run")
DEMO_TIMEOUT = 600

pytestmark = pytest.mark.e2e


def masked(value):
    return "<%d characters, sha256 %s...>" % (len(value), hashlib.sha256(value.encode()).hexdigest()[:10])


def secret_strings(secrets):
    """{label: value}: each whole SecretString and each field in it long enough to be a credential."""
    found = {}
    for name, text in secrets.items():
        found["%s (whole value)" % name] = text
        for key, value in json.loads(text).items():
            if key != "username":  # the snapshot's master user name is not a secret
                found["%s:%s" % (name, key)] = value
    return found


def hits(sources, secrets):
    """(source, secret label) for every secret found in every source text."""
    return [(source, label) for source, text in sources.items() for label, value in secrets.items() if value in text]


def files_under(*directories):
    for directory in directories:
        for path in sorted((REPO / directory).rglob("*")):
            if path.is_file():
                yield path


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    evidence = tmp_path_factory.mktemp("demo") / "evidence.json"
    env = dict(os.environ, STACKER_STACK_POLL_TIME="0", CFNGIN_STACK_POLL_TIME="0")
    result = subprocess.run(
        [sys.executable, str(WRAPPER), str(evidence)], cwd=str(REPO), env=env,
        capture_output=True, text=True, timeout=DEMO_TIMEOUT,
    )
    assert result.returncode == 0, "the demo failed:\n%s" % (result.stdout[-3000:] + result.stderr[-3000:])
    return result, json.loads(evidence.read_text())


def test_the_demo_made_a_secret_to_look_for(demo):
    _, evidence = demo
    assert "xy-0146-qa/db/master" in evidence["secrets"]
    password = json.loads(evidence["secrets"]["xy-0146-qa/db/master"])["password"]
    assert len(password) >= 16


def test_no_secret_value_appears_in_templates_env_files_output_or_logs(demo):
    result, evidence = demo
    sources = {"demo stdout": result.stdout, "demo stderr (stacker's log)": result.stderr,
               "the demo endpoint's log": evidence["endpoint_log"]}
    for path in files_under(*SEARCHED_DIRECTORIES):
        sources[str(path.relative_to(REPO))] = path.read_text(errors="replace")
    secrets = secret_strings(evidence["secrets"])
    found = hits(sources, secrets)
    assert not found, "secret values found:\n  %s" % "\n  ".join(
        "%s contains %s %s" % (source, label, masked(secrets[label])) for source, label in found
    )


def test_the_search_finds_a_planted_secret_and_does_not_print_it():
    secrets = secret_strings({"ab-0212-qa/db/master": json.dumps({"username": "app", "password": "Zq8sWm2LcV7pR4tYx"})})
    found = hits({"templates/ab-0212-qa/db.json": '{"MasterUserPassword": "Zq8sWm2LcV7pR4tYx"}', "other": "app"}, secrets)
    assert found == [("templates/ab-0212-qa/db.json", "ab-0212-qa/db/master:password")]
    assert "Zq8sWm2LcV7pR4tYx" not in masked("Zq8sWm2LcV7pR4tYx")
