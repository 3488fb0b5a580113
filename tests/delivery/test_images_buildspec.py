"""The image flow through the buildspecs, run by the local CodeBuild runner (scripts/local_codebuild.py).

buildspecs/images.yml: there is no Docker daemon and no registry here, so `docker`, `aws` and
`make` on the build's PATH are fakes (FAKES) that record every call and answer as the real
ones would: `docker push` prints the digest it pushed, `aws ecr describe-images` answers from
what was pushed (ImageNotFoundException otherwise), `make` does nothing. hadolint is the
real one. So the tests prove the buildspec's own logic: lint, build both images, push them
tagged by the commit, read the digests back and export them as the variables the pipeline
hands to the deploy stages; a failing push fails the build; a commit's images are built once.

buildspecs/deploy.yml: NGINX_IMAGE / PHP_IMAGE, when the pipeline sets them, reach
`tenantstack deploy` as `-e nginx_image=... -e php_image=...`: with a recording fake
`tenantstack` in a copy of the repository (fast), and end to end against the local
endpoint: the task definition runs exactly the digests, which carry the deployed tag.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from seed import seed_images

from hooks import naming
from tests.delivery.test_buildspecs import RUNNER, TIMEOUT, container_environment, phases, run_buildspec
from tests.e2e.stacker_cli import REPO
from tests.e2e.tenants import TS1, Tenants

IMAGES, DEPLOY = REPO / naming.IMAGES_BUILDSPEC, REPO / naming.DEPLOY_BUILDSPEC
REGISTRY = naming.ecr_registry("123456789012", "eu-west-1")
CA_BUNDLE_SHA256 = "0123456789abcdef" * 4
QA = "xy-0146-qa"
FAKES = {
    # docker: login (a password on stdin), build (Dockerfile and context must exist), push (of what was built).
    "docker": r'''
import hashlib, json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as log:
    log.write(json.dumps({"tool": "docker", "args": args,
                          "RDS_CA_BUNDLE_SHA256": os.environ.get("RDS_CA_BUNDLE_SHA256")}) + "\n")
pushed = json.loads((state / "pushed.json").read_text()) if (state / "pushed.json").exists() else {}
built = state / "built"
if args[0] == "login":
    sys.exit(0 if sys.stdin.read().strip() else 1)
if args[0] == "build":
    dockerfile, tag = args[args.index("--file") + 1], args[args.index("--tag") + 1]
    if not Path(dockerfile).is_file() or not Path(args[-1]).is_dir():
        sys.exit("ERROR: failed to solve: %s: no such file" % dockerfile)
    with built.open("a") as out:
        out.write(tag + "\n")
    print("naming to %s done" % tag)
    sys.exit(0)
if args[0] == "push":
    reference = args[1]
    if reference not in (built.read_text().split() if built.exists() else []):
        sys.exit("An image does not exist locally with the tag: %s" % reference)
    if any(part and part in reference for part in os.environ.get("FAKE_PUSH_FAILS", "").split(",")):
        sys.exit("denied: User is not authorized to perform: ecr:InitiateLayerUpload")
    digest = "sha256:" + hashlib.sha256(reference.encode()).hexdigest()
    pushed[reference] = digest
    (state / "pushed.json").write_text(json.dumps(pushed))
    print("%s: digest: %s size: 1573" % (reference.rsplit(":", 1)[1], digest))
    sys.exit(0)
sys.exit("fake docker: %s is not faked" % args[0])
''',
    # aws: ecr get-login-password, ecr describe-images of one tag (from what docker pushed).
    "aws": r'''
import json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as log:
    log.write(json.dumps({"tool": "aws", "args": args}) + "\n")
pushed = json.loads((state / "pushed.json").read_text()) if (state / "pushed.json").exists() else {}
if args[:2] == ["ecr", "get-login-password"]:
    print("eyJwYXlsb2FkIjoiZmFrZSJ9")
    sys.exit(0)
if args[:2] == ["ecr", "describe-images"]:
    repository = args[args.index("--repository-name") + 1]
    tag = args[args.index("--image-ids") + 1].split("=", 1)[1]
    reference = "%s/%s:%s" % (os.environ["IMAGE_REGISTRY"], repository, tag)
    if reference in pushed:
        print(pushed[reference])
        sys.exit(0)
    sys.exit("\nAn error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with "
             "imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s'"
             % (tag, repository))
sys.exit("fake aws: %s is not faked" % " ".join(args[:2]))
''',
    "make": r'''
import json, os, sys
from pathlib import Path
with (Path(os.environ["FAKE_STATE"]) / "calls.jsonl").open("a") as log:
    log.write(json.dumps({"tool": "make", "args": sys.argv[1:]}) + "\n")
''',
}


def interpreter_for(buildspec):
    """A Python of the version the buildspec's runtime-versions asks for (this one, or a venv's)."""
    wanted = str(yaml.safe_load(buildspec.read_text())["phases"]["install"]["runtime-versions"]["python"])
    for candidate in (sys.executable, REPO / ".venv" / "bin" / "python", REPO / ".venv-cfngin" / "bin" / "python"):
        version = subprocess.run([str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True).stdout.strip()
        if version == wanted:
            return str(candidate)
    pytest.fail("no Python %s for %s's runtime-versions (looked at this one, .venv, .venv-cfngin)"
                % (wanted, buildspec))


@pytest.fixture
def fakes(tmp_path):
    """A build environment whose docker, aws and make are the recording fakes; their state directory."""
    bin_dir, state = tmp_path / "fake-bin", tmp_path / "fake-state"
    bin_dir.mkdir()
    state.mkdir()
    for name, code in FAKES.items():
        (bin_dir / name).write_text("#!%s\n%s" % (sys.executable, code))
        (bin_dir / name).chmod(0o755)
    env = dict(container_environment(), FAKE_STATE=str(state), PATH="%s:%s" % (bin_dir, os.environ["PATH"]))
    return env, state


def images_build(fakes, tmp_path, **variables):
    env, _ = fakes
    given = dict(IMAGE_REGISTRY=REGISTRY, NGINX_REPOSITORY="xy-0146/nginx", PHP_REPOSITORY="xy-0146/php",
                 IMAGE_CONTEXT="app", RDS_CA_BUNDLE_SHA256=CA_BUNDLE_SHA256)
    given.update(variables)
    arguments = [item for name, value in given.items() for item in ("--env", "%s=%s" % (name, value))]
    return run_buildspec(IMAGES, env, tmp_path, "--project", naming.images_project_name("xy-0146"),
                         "--python", interpreter_for(IMAGES), *arguments)


def calls(state, tool=None):
    found = [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
    return [call for call in found if tool is None or call["tool"] == tool]


def commit():
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=str(REPO), capture_output=True, text=True).stdout.strip()


def pushed(state):
    return json.loads((state / "pushed.json").read_text()) if (state / "pushed.json").exists() else {}


def test_both_images_are_linted_built_pushed_by_commit_and_exported_by_digest(fakes, tmp_path):
    _, state = fakes
    result, report = images_build(fakes, tmp_path)
    assert report["status"] == "SUCCEEDED", result.stdout[-4000:] + result.stderr[-2000:]
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "SUCCEEDED"), ("build", "SUCCEEDED")]
    tag = commit()
    nginx, php = ("%s/xy-0146/%s:%s" % (REGISTRY, container, tag) for container in ("nginx", "php"))
    assert [call["args"][:2] for call in calls(state, "docker")] == [
        ["login", "--username"], ["build", "--file"], ["push", nginx], ["build", "--file"], ["push", php]]
    builds = [call for call in calls(state, "docker") if call["args"][0] == "build"]
    assert builds[0]["args"] == ["build", "--file", "app/nginx/Dockerfile", "--tag", nginx, "app"]
    assert builds[1]["args"] == ["build", "--file", "app/php/Dockerfile", "--tag", php, "--build-arg",
                                 "RDS_CA_BUNDLE_SHA256", "app"]
    assert builds[1]["RDS_CA_BUNDLE_SHA256"] == CA_BUNDLE_SHA256  # the value docker takes the build arg from
    assert report["exported_variables"] == {
        "NGINX_IMAGE": naming.image_uri(REGISTRY, "xy-0146/nginx", pushed(state)[nginx]),
        "PHP_IMAGE": naming.image_uri(REGISTRY, "xy-0146/php", pushed(state)[php]),
        "IMAGE_TAG": tag,
    }
    assert [call["args"] for call in calls(state, "make")] == [["setup-cfngin"]]
    assert "[Container] Running command .venv-cfngin/bin/hadolint" in result.stdout  # the real linter ran


def test_a_failing_push_fails_the_build_and_exports_no_image_for_it(fakes, tmp_path):
    env, state = fakes
    env["FAKE_PUSH_FAILS"] = "xy-0146/php:"
    result, report = images_build(fakes, tmp_path)
    assert (report["status"], result.returncode) == ("FAILED", 1)
    assert report["phases"][-1]["phase"] == "build" and report["phases"][-1]["status"] == "FAILED"
    assert report["phases"][-1]["failed_command"].startswith('PHP_IMAGE="$(scripts/push-image "$PHP_REPOSITORY"')
    assert report["exported_variables"]["PHP_IMAGE"] == ""
    assert "denied: User is not authorized" in result.stderr + result.stdout


def test_the_images_of_a_commit_already_pushed_are_not_built_again(fakes, tmp_path):
    _, state = fakes
    tag = commit()
    earlier = {"%s/xy-0146/%s:%s" % (REGISTRY, c, tag): "sha256:%s" % (h * 64)
               for c, h in (("nginx", "a"), ("php", "b"))}
    (state / "pushed.json").write_text(json.dumps(earlier))  # a re-run of the stage for the same commit
    result, report = images_build(fakes, tmp_path)
    assert report["status"] == "SUCCEEDED", result.stdout[-4000:]
    assert [call["args"][0] for call in calls(state, "docker")] == ["login"]  # tags are immutable: no push
    assert report["exported_variables"]["NGINX_IMAGE"] == naming.image_uri(
        REGISTRY, "xy-0146/nginx", "sha256:" + "a" * 64)
    assert "is in the registry already (tags are immutable): not built again" in result.stderr


def test_a_hadolint_finding_stops_the_build_before_docker_runs(fakes, tmp_path):
    _, state = fakes
    context = tmp_path / "context"
    shutil.copytree(str(REPO / "app"), str(context))
    dockerfile = context / "nginx" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("ARG NGINX_IMAGE=nginx:1.28.0-alpine3.21\nFROM ${NGINX_IMAGE}",
                                                         "FROM nginx:latest"))
    result, report = images_build(fakes, tmp_path, IMAGE_CONTEXT=str(context))
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "FAILED")]
    assert report["phases"][1]["failed_command"].startswith(".venv-cfngin/bin/hadolint")
    assert "DL3007" in result.stdout + result.stderr  # "Using latest is prone to errors"
    assert calls(state, "docker") == []


@pytest.mark.parametrize("missing", ["IMAGE_REGISTRY", "PHP_REPOSITORY", "RDS_CA_BUNDLE_SHA256"])
def test_a_variable_the_project_sets_missing_stops_the_build_naming_it(fakes, tmp_path, missing):
    result, report = images_build(fakes, tmp_path, **{missing: ""})
    assert phases(report) == [("install", "SUCCEEDED"), ("pre_build", "FAILED")]
    assert report["phases"][1]["exit_code"] == 2
    assert "%s is not set: the images project (<project>-images, blueprints/pipeline.py) sets it" % missing in (
        result.stderr)


# --- deploy.yml: the digests reach `tenantstack deploy` ---------------------------------------------


def deploy_with_recording_cli(fakes, tmp_path, *variables):
    """deploy.yml in a copy of the buildspecs whose tenantstack (the one its build phase runs) records its
    arguments."""
    env, state = fakes
    source = tmp_path / "source"
    (source / "buildspecs").mkdir(parents=True)
    shutil.copy(str(DEPLOY), str(source / "buildspecs"))
    (command,) = yaml.safe_load(DEPLOY.read_text())["phases"]["build"]["commands"]
    cli = source / command.split()[0]
    cli.parent.mkdir(parents=True)
    cli.write_text("#!%s\nimport json, os, sys\nfrom pathlib import Path\nwith (Path(os.environ['FAKE_STATE']) / "
                   "'calls.jsonl').open('a') as log:\n    log.write(json.dumps({'tool': 'tenantstack', 'args': "
                   "sys.argv[1:]}) + '\\n')\nif sys.argv[1] == 'status':\n    print('{}')\n" % sys.executable)
    cli.chmod(0o755)
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(source / naming.DEPLOY_BUILDSPEC), "--source-dir", str(source),
         "--report", str(report), "--artifacts-dir", str(tmp_path / "artifacts"), "--python", interpreter_for(DEPLOY),
         "--env", "ENV_FILE=%s" % naming.env_file_path(QA), *[a for v in variables for a in ("--env", v)]],
        env={k: v for k, v in env.items() if k != "LOCAL_CODEBUILD_DEPTH"}, capture_output=True, text=True,
        timeout=TIMEOUT,
    )
    assert json.loads(report.read_text())["status"] == "SUCCEEDED", result.stdout[-3000:] + result.stderr[-2000:]
    (deploy,) = [call["args"] for call in calls(state, "tenantstack") if call["args"][0] == "deploy"]
    return deploy


NGINX = naming.image_uri(REGISTRY, "xy-0146/nginx", "sha256:" + "1" * 64)
PHP = naming.image_uri(REGISTRY, "xy-0146/php", "sha256:" + "2" * 64)


@pytest.mark.parametrize(
    "variables, overrides",
    [
        pytest.param(("NGINX_IMAGE=" + NGINX, "PHP_IMAGE=" + PHP),
                     ["-e", "nginx_image=" + NGINX, "-e", "php_image=" + PHP], id="both-from-the-images-stage"),
        pytest.param((), [], id="none-the-env-files-pins"),
        pytest.param(("PHP_IMAGE=" + PHP,), ["-e", "php_image=" + PHP], id="one"),
    ],
)
def test_the_deploy_buildspec_passes_the_images_it_is_given_to_the_deploy(fakes, tmp_path, variables, overrides):
    assert deploy_with_recording_cli(fakes, tmp_path, *variables) == ["deploy", naming.env_file_path(QA)] + overrides


@pytest.mark.e2e
def test_a_deploy_stage_runs_exactly_the_digests_the_images_stage_made_and_keeps_them(aws, tmp_path):
    tenants = Tenants(aws)
    tenants.tier("common-nonprod")
    tenants.snapshot("xy-0146-dev", TS1)
    registry = naming.ecr_registry("123456789012", aws.region)
    built = ["%s/xy-0146/%s@sha256:%s" % (registry, c, str(i) * 64) for i, c in enumerate(naming.IMAGE_CONTAINERS, 7)]
    seed_images(aws.client("ecr"), built)  # what the Images stage pushed for this commit
    result, report = run_buildspec(
        DEPLOY, tenants.env, tmp_path, "--python", interpreter_for(DEPLOY), "--env",
        "ENV_FILE=%s" % naming.env_file_path(QA), "--env",
        "NGINX_IMAGE=%s" % built[0], "--env", "PHP_IMAGE=%s" % built[1],
    )
    assert report["status"] == "SUCCEEDED", result.stdout[-4000:] + result.stderr[-4000:]
    service = aws.client("ecs").describe_services(cluster="common-nonprod", services=[QA])["services"][0]
    definition = aws.client("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    running = {c["name"]: c["image"] for c in definition["containerDefinitions"]}
    assert {name: running.get(name) for name in naming.IMAGE_CONTAINERS} == dict(zip(naming.IMAGE_CONTAINERS, built))
    assert set(running.values()) == set(built)  # any other container (a migration task, say) runs one of them
    ecr = aws.client("ecr")
    for image in built:
        reference = naming.parse_image_reference(image)
        tags = ecr.describe_images(repositoryName=reference.repository, imageIds=[{"imageDigest": reference.digest}])[
            "imageDetails"][0]["imageTags"]
        assert naming.deployed_tag(QA, reference.digest) in tags
