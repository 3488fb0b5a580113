import datetime

import pytest

from hooks import cli
from hooks.lock import deploy_lock

NAMESPACE = "xy-0146-qa"
NOW = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
HELD = deploy_lock.LockRecord(
    holder="alice@ci-1:4242",
    host="ci-1",
    pid=4242,
    user="alice",
    build_id=None,
    acquired_at="2026-11-01T10:00:00Z",
    ttl_seconds=7200,
    target_timestamp="20261101t090000z",
)


@pytest.fixture
def ssm(aws, monkeypatch):
    """The CLI's standard AWS environment, pointed at the endpoint; a lock is held."""
    for key in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TENANTSTACK_FAIL_CALLS"):
        monkeypatch.delenv(key, raising=False)
    client = aws.client("ssm")
    deploy_lock.acquire(client, NAMESPACE, HELD, NOW)
    return client


def test_unlock_with_the_right_holder(ssm, capsys):
    assert cli.main(["unlock", NAMESPACE, "--holder", "alice@ci-1:4242"]) == 0
    assert capsys.readouterr().out == (
        "unlocked xy-0146-qa: removed the deploy lock of alice@ci-1:4242 (user alice on host ci-1, pid 4242), "
        "taken at 2026-11-01T10:00:00Z to deploy 20261101t090000z\n"
    )
    assert deploy_lock.read(ssm, NAMESPACE) is None
    assert cli.main(["unlock", NAMESPACE, "--holder", "alice@ci-1:4242"]) == 0
    assert capsys.readouterr().out == "xy-0146-qa is not locked; nothing to do\n"


def test_unlock_with_another_holder_names_the_actual_one(ssm, capsys):
    assert cli.main(["unlock", NAMESPACE, "--holder", "bob@ci-2:77"]) == 2
    assert capsys.readouterr().err == (
        "tenantstack unlock: the deploy lock of xy-0146-qa is held by 'alice@ci-1:4242', not by 'bob@ci-2:77'; "
        "nothing was changed. If that holder is dead too, run: tenantstack unlock xy-0146-qa --holder "
        "'alice@ci-1:4242'\n"
    )
    assert deploy_lock.read(ssm, NAMESPACE) == HELD


def test_unlock_of_a_bad_namespace_is_bad_input(ssm, capsys):
    assert cli.main(["unlock", "common-prod", "--holder", "alice@ci-1:4242"]) == 2
    assert capsys.readouterr().err.startswith("tenantstack unlock: namespace 'common-prod' is invalid: it is a shared")
    assert deploy_lock.read(ssm, NAMESPACE) == HELD


def test_unlock_failing_unexpectedly_exits_1(ssm, capsys, monkeypatch):
    monkeypatch.setenv("TENANTSTACK_FAIL_CALLS", "ssm.GetParameter")
    assert cli.main(["unlock", NAMESPACE, "--holder", "alice@ci-1:4242"]) == 1
    assert capsys.readouterr().err.startswith("tenantstack unlock: unexpected error: ClientError: An error occurred (InjectedFault)")
    monkeypatch.delenv("TENANTSTACK_FAIL_CALLS")
    assert deploy_lock.read(ssm, NAMESPACE) == HELD


def test_unlock_needs_a_holder(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["unlock", NAMESPACE])
    assert exited.value.code == 2
    assert "the following arguments are required: --holder" in capsys.readouterr().err


def test_unlock_help_shows_an_example(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["unlock", "--help"])
    assert exited.value.code == 0
    assert "tenantstack unlock xy-0146-qa --holder 'alice@ci-1:4242'" in capsys.readouterr().out


def test_no_command_prints_help_and_version_still_works(capsys):
    assert cli.main([]) == 0
    assert "unlock" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("tenantstack ")
