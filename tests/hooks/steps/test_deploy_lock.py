"""The deploy lock's stacker hooks (hooks/steps/deploy_lock.py) and the wiring's `holds_lock`:
a hook that fails while the lock is held gives it back."""
import datetime
import logging
import os
import types

import pytest

from hooks import errors
from hooks.config import envfile
from hooks.errors import HookArgumentError
from hooks.lock import deploy_lock
from hooks.steps import deploy_lock as lock_hooks
from hooks.steps.wiring import stacker_hook
from tests.hooks.lock.test_deploy_lock import BUILD, NAMESPACE, NOW, record


@pytest.fixture
def ssm(aws):
    return aws.client("ssm")


@pytest.fixture
def hook_env(aws, monkeypatch):
    """The standard AWS environment pointed at the endpoint, as stacker's process has it."""
    for key in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, aws.env[key])
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "CODEBUILD_BUILD_ID", "TENANTSTACK_FAIL_CALLS"):
        monkeypatch.delenv(key, raising=False)
    environment = envfile.parse(open("environments/xy-0146-qa.env").read())
    return types.SimpleNamespace(environment=environment), types.SimpleNamespace(region=aws.region)


def test_acquire_and_release_hooks(hook_env, ssm):
    context, provider = hook_env
    result = lock_hooks.acquire_lock(context, provider)
    assert result == {"status": "acquired", "holder": deploy_lock.current_holder(), "namespace": NAMESPACE, "detail": "acquired"}
    stored = deploy_lock.read(ssm, NAMESPACE)
    assert (stored.holder, stored.pid, stored.ttl_seconds, stored.target_timestamp) == (
        deploy_lock.current_holder(),
        os.getpid(),
        7200,
        "20261101t090000z",
    )
    assert lock_hooks.acquire_lock(context, provider, ttl_seconds="900")["status"] == "re-entered"
    assert deploy_lock.read(ssm, NAMESPACE).ttl_seconds == 900
    assert lock_hooks.release_lock(context, provider)["status"] == "released"
    assert deploy_lock.read(ssm, NAMESPACE) is None


def test_acquire_hook_in_codebuild_holds_as_the_build(hook_env, ssm, monkeypatch):
    monkeypatch.setenv("CODEBUILD_BUILD_ID", BUILD)
    assert lock_hooks.acquire_lock(*hook_env)["holder"] == BUILD
    assert deploy_lock.read(ssm, NAMESPACE).build_id == BUILD


def test_acquire_hook_refuses_bad_arguments_before_any_change(hook_env, ssm):
    with pytest.raises(HookArgumentError) as raised:
        lock_hooks.acquire_lock(*hook_env, ttl_seconds="an hour")
    assert str(raised.value) == (
        "hook acquire_lock: argument ttl_seconds 'an hour' is invalid: expected a whole number of seconds "
        "from 60 to 604800 (default 2 x stable_timeout + bake_seconds + 3600)"
    )
    with pytest.raises(HookArgumentError, match="unknown argument"):
        lock_hooks.acquire_lock(*hook_env, timeout=5)
    with pytest.raises(HookArgumentError, match="unknown argument"):
        lock_hooks.release_lock(*hook_env, force=True)
    assert deploy_lock.read(ssm, NAMESPACE) is None


def test_acquire_hook_raises_lock_held_for_a_live_holder(hook_env, ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", acquired=datetime.datetime.now(datetime.timezone.utc)), NOW)
    with pytest.raises(errors.LockHeld, match="--holder 'bob@ci-2:77'"):
        lock_hooks.acquire_lock(*hook_env)


class Boom(RuntimeError):
    pass


def test_failing_wrapped_hook_releases_the_lock_and_re_raises(hook_env, ssm, caplog):
    context, provider = hook_env
    failure = Boom("service never became stable")

    @stacker_hook(holds_lock=True)
    def wait_stable(run):
        raise failure

    lock_hooks.acquire_lock(context, provider)
    with caplog.at_level(logging.WARNING, logger="hooks.steps.wiring"):
        with pytest.raises(Boom) as raised:
            wait_stable(context, provider)
    assert raised.value is failure
    assert deploy_lock.read(ssm, NAMESPACE) is None
    assert "wait_stable failed; released the deploy lock of xy-0146-qa" in caplog.text


def test_wrapped_hook_that_succeeds_keeps_the_lock(hook_env, ssm):
    context, provider = hook_env
    wrapped = stacker_hook(holds_lock=True)(lambda run: {"status": "stable"})
    lock_hooks.acquire_lock(context, provider)
    assert wrapped(context, provider) == {"status": "stable"}
    assert deploy_lock.read(ssm, NAMESPACE).holder == deploy_lock.current_holder()


def test_failing_wrapped_hook_leaves_a_lock_it_lost(hook_env, ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2"), NOW)

    @stacker_hook(holds_lock=True)
    def flip(run):
        raise deploy_lock.LockLost("lost it")

    with pytest.raises(deploy_lock.LockLost):
        flip(*hook_env)
    assert deploy_lock.read(ssm, NAMESPACE).holder == "bob@ci-2:77"


