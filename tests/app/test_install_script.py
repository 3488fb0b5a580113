"""scripts/install-system-packages with fake dpkg-query, apt-get and id on PATH.

Nothing is installed: the fakes record what the script would run, and say what a
policy-rc.d in force at install time answers.
"""
import os
import subprocess

import pytest

from tests.app import native

SCRIPT = native.REPO_ROOT / "scripts" / "install-system-packages"
PACKAGES = ["pkg-a", "pkg-b", "pkg-c"]

FAKES = {
    # dpkg-query -W -f='${Status}' PACKAGE: "installed" when PACKAGE is in $STATE.
    "dpkg-query": 'grep -qx -- "$3" "$STATE" && printf "install ok installed" || exit 1\n',
    # apt-get: logs its call; `install` records what a policy-rc.d would answer now, then
    # "installs" (or fails with $APT_FAIL).
    "apt-get": (
        'echo "apt-get $*" >>"$CALLS"\n'
        'case " $* " in *" install "*)\n'
        '  if [ -x "$POLICY_RC_D" ]; then "$POLICY_RC_D" nginx start; echo "policy-rc.d answered $?" >>"$CALLS"; '
        'else echo "no policy-rc.d" >>"$CALLS"; fi\n'
        '  [ -n "${APT_FAIL:-}" ] && exit 100\n'
        '  for a in "$@"; do case "$a" in -*|install) ;; *) echo "$a" >>"$STATE";; esac; done;;\n'
        'esac\n'
    ),
    "id": 'echo "$FAKE_UID"\n',
    "update-rc.d": 'echo "update-rc.d $*" >>"$CALLS"\n',
    "systemctl": 'echo "systemctl $*" >>"$CALLS"\n',
}


class Machine:
    """A fake machine: installed packages, a log of calls, a policy-rc.d path, a uid."""

    def __init__(self, directory, installed, uid=0, policy=None):
        self.dir = directory
        self.bin = directory / "bin"
        self.bin.mkdir()
        for name, body in FAKES.items():
            path = self.bin / name
            path.write_text("#!/bin/sh\n" + body)
            path.chmod(0o755)
        self.state = directory / "state"
        self.state.write_text("".join(p + "\n" for p in installed))
        self.calls = directory / "calls"
        self.calls.write_text("")
        self.policy = directory / "policy-rc.d"
        if policy is not None:
            self.policy.write_text(policy)
            self.policy.chmod(0o755)
        self.uid = uid

    def run(self, *args, **env):
        environment = {
            "PATH": "%s:/usr/bin:/bin" % self.bin, "STATE": str(self.state), "CALLS": str(self.calls),
            "POLICY_RC_D": str(self.policy), "FAKE_UID": str(self.uid), "SYSTEM_PACKAGES": " ".join(PACKAGES),
        }
        environment.update(env)
        return subprocess.run(["bash", str(SCRIPT)] + list(args), capture_output=True, text=True, timeout=60, env=environment)

    def call_log(self):
        return self.calls.read_text().splitlines()


def test_everything_installed_does_nothing(tmp_path):
    machine = Machine(tmp_path, PACKAGES, uid=1000)
    result = machine.run()
    assert (result.returncode, result.stdout) == (0, "install-system-packages: all installed (pkg-a pkg-b pkg-c)\n")
    assert machine.call_log() == []


def test_missing_as_root_updates_once_installs_only_what_is_missing_with_service_starts_forbidden(tmp_path):
    machine = Machine(tmp_path, ["pkg-b"])
    result = machine.run()
    assert result.returncode == 0, result.stderr
    calls = machine.call_log()
    assert calls[0] == "apt-get update -qq"
    assert calls[1] == "apt-get install -y -qq --no-install-recommends pkg-a pkg-c"
    assert calls[2] == "policy-rc.d answered 101"
    assert not machine.policy.exists(), "the policy-rc.d of the install must be removed afterwards"
    assert machine.run().stdout.startswith("install-system-packages: all installed")


def test_a_policy_rc_d_that_was_there_is_put_back(tmp_path):
    machine = Machine(tmp_path, [], policy="#!/bin/sh\nexit 0\n")
    assert machine.run().returncode == 0
    assert "policy-rc.d answered 101" in machine.call_log()
    assert machine.policy.read_text() == "#!/bin/sh\nexit 0\n"
    assert os.access(str(machine.policy), os.X_OK)


def test_failed_install_fails_and_still_removes_its_policy_rc_d(tmp_path):
    machine = Machine(tmp_path, [])
    result = machine.run(APT_FAIL="1")
    assert result.returncode != 0
    assert not machine.policy.exists()


@pytest.mark.parametrize(
    "args, uid, message",
    [
        ([], 1000, "install-system-packages: run as root: apt-get update && DEBIAN_FRONTEND=noninteractive "
                   "apt-get install -y --no-install-recommends pkg-a pkg-c"),
        (["--check"], 0, "install-system-packages: missing: pkg-a pkg-c; install with (as root): apt-get update && "
                         "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pkg-a pkg-c"),
    ],
    ids=["not-root", "check-only"],
)
def test_missing_without_installing_fails_with_the_exact_command(tmp_path, args, uid, message):
    machine = Machine(tmp_path, ["pkg-b"], uid=uid)
    result = machine.run(*args)
    assert result.returncode == 1
    assert message in result.stderr.splitlines(), result.stderr
    assert machine.call_log() == []
