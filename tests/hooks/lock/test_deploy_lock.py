import dataclasses
import datetime
import os
import socket
import subprocess
import threading

import pytest
from botocore.stub import Stubber

from hooks import errors, naming
from hooks.lock import deploy_lock

NAMESPACE = "xy-0146-qa"
PARAMETER = "/xy-0146-qa/deploy/lock"
NOW = datetime.datetime(2026, 11, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)


def at(seconds):
    """NOW shifted by `seconds`."""
    return NOW + datetime.timedelta(seconds=seconds)


def record(holder="alice@ci-1:4242", host="ci-1", pid=4242, acquired=NOW, ttl=7200, **changes):
    base = deploy_lock.LockRecord(
        holder=holder,
        host=host,
        pid=pid,
        user=holder.split("@")[0] if "@" in holder else "root",
        build_id=None,
        acquired_at=deploy_lock.format_time(acquired),
        ttl_seconds=ttl,
        target_timestamp="20261101t090000z",
    )
    return dataclasses.replace(base, **changes)


def dead_pid():
    """A pid no process has: spawn a child and reap it."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def never(*args):
    raise AssertionError("the rule must not ask this here (args %r)" % (args,))


# --- pure: the recovery rule -------------------------------------------------------------

BUILD = "tenantstack-deploy:0b7d6c2e-1f2a-4c3b-9d8e-7f6a5b4c3d2e"

ASSESS_CASES = [
    pytest.param(
        record(host="ci-1"),
        lambda pid: False,
        never,
        True,
        "it was taken on this host (ci-1) by pid 4242, which is no longer running",
        id="same-host-dead-pid",
    ),
    pytest.param(
        record(host="ci-1", acquired=at(-252)),
        lambda pid: True,
        never,
        False,
        "pid 4242 on this host (ci-1) is still running, and it is within its ttl of 2 h 0 min "
        "(stale after 2026-11-01T11:55:48Z)",
        id="same-host-live-pid",
    ),
    pytest.param(
        record(host="ci-2", acquired=at(-252)),
        never,
        never,
        False,
        "it was taken on another host (ci-2), whose processes this host cannot see, and it is within "
        "its ttl of 2 h 0 min (stale after 2026-11-01T11:55:48Z)",
        id="other-host-young",
    ),
    pytest.param(
        record(host="ci-2", acquired=at(-7201)),
        never,
        never,
        True,
        "it is 2 h 0 min old, past its ttl of 2 h 0 min",
        id="expired-ttl",
    ),
    pytest.param(
        record(holder=BUILD, host="ip-10-0-1-5", build_id=BUILD),
        never,
        lambda build_id: True,
        True,
        "CodeBuild reports its build %s as finished" % BUILD,
        id="codebuild-finished",
    ),
    pytest.param(
        record(holder=BUILD, host="ip-10-0-1-5", build_id=BUILD, acquired=at(-60)),
        never,
        lambda build_id: False,
        False,
        "CodeBuild reports build %s in progress, and it is within its ttl of 2 h 0 min "
        "(stale after 2026-11-01T11:59:00Z)" % BUILD,
        id="codebuild-in-progress",
    ),
    pytest.param(
        record(holder=BUILD, host="ip-10-0-1-5", build_id=BUILD, acquired=at(-60)),
        never,
        lambda build_id: None,
        False,
        "CodeBuild does not know build %s, so it cannot be proven finished, and it is within its ttl "
        "of 2 h 0 min (stale after 2026-11-01T11:59:00Z)" % BUILD,
        id="codebuild-unknown",
    ),
    pytest.param(
        record(holder=BUILD, host="ip-10-0-1-5", build_id=BUILD, acquired=at(-7300)),
        never,
        lambda build_id: None,
        True,
        "it is 2 h 1 min old, past its ttl of 2 h 0 min",
        id="codebuild-unknown-expired-ttl",
    ),
]


@pytest.mark.parametrize("held, pid_alive, build_finished, stale, reason", ASSESS_CASES)
def test_assess(held, pid_alive, build_finished, stale, reason):
    verdict = deploy_lock.assess(held, NOW, "ci-1", pid_alive, build_finished)
    assert verdict == deploy_lock.Verdict(stale, reason)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0 s"), (59, "59 s"), (252, "4 min 12 s"), (3600, "1 h 0 min"), (7500, "2 h 5 min"), (97200, "1 d 3 h"), (-5, "0 s")],
)
def test_human_duration(seconds, text):
    assert deploy_lock.human_duration(seconds) == text


def test_holder_is_the_codebuild_build_when_there_is_one():
    assert deploy_lock.current_holder({}, "ci-1", "alice", 4242) == "alice@ci-1:4242"
    assert deploy_lock.current_holder({"CODEBUILD_BUILD_ID": BUILD}, "ci-1", "root", 7) == BUILD
    assert deploy_lock.current_holder({}) == "%s@%s:%d" % (deploy_lock.this_user(), socket.gethostname(), os.getpid())


def test_new_record_for_this_process():
    made = deploy_lock.new_record({"CODEBUILD_BUILD_ID": BUILD}, "ip-10-0-1-5", "root", 7, NOW, 7200, "20261101t090000z")
    assert made == deploy_lock.LockRecord(
        holder=BUILD,
        host="ip-10-0-1-5",
        pid=7,
        user="root",
        build_id=BUILD,
        acquired_at="2026-11-01T10:00:00Z",
        ttl_seconds=7200,
        target_timestamp="20261101t090000z",
        previous_task_definition=None,
    )
    assert deploy_lock.new_record({}, "ci-1", "alice", 4242, NOW, 60, "20261101t090000z").build_id is None


def test_default_ttl_is_twice_the_stable_gate_plus_the_bake_plus_an_hour():
    assert deploy_lock.default_ttl(1800) == 7200
    assert deploy_lock.default_ttl(1800, bake_seconds=300) == 7500


def test_record_json_is_compact_and_round_trips():
    held = record(previous_task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:7")
    text = held.to_json()
    assert text == (
        '{"acquired_at":"2026-11-01T10:00:00Z","build_id":null,"holder":"alice@ci-1:4242","host":"ci-1",'
        '"pid":4242,"previous_task_definition":"arn:aws:ecs:us-east-1:123456789012:task-definition/xy-0146-qa:7",'
        '"target_timestamp":"20261101t090000z","ttl_seconds":7200,"user":"alice"}'
    )
    assert deploy_lock.LockRecord.from_json(text) == held
    assert deploy_lock.LockRecord.from_json(text[:-1] + ',"added_later":1}') == held


def test_lock_held_message():
    held = record(holder="bob@ci-2:77", host="ci-2", pid=77, user="bob")
    reason = deploy_lock.assess(held, at(252), "ci-1", never, never).reason
    assert deploy_lock.lock_held_message(NAMESPACE, held, at(252), reason) == (
        "namespace xy-0146-qa is locked by another deploy: bob@ci-2:77 (user bob on host ci-2, pid 77) took "
        "the lock 4 min 12 s ago to deploy db_timestamp 20261101t090000z. The lock is live: it was taken on "
        "another host (ci-2), whose processes this host cannot see, and it is within its ttl of 2 h 0 min "
        "(stale after 2026-11-01T12:00:00Z). Wait for that deploy to finish; if you know it is dead, clear "
        "the lock with: tenantstack unlock xy-0146-qa --holder 'bob@ci-2:77'"
    )


def test_unlock_command_quotes_the_holder_for_a_shell():
    assert deploy_lock.unlock_command(NAMESPACE, "o'neil@h:1") == "tenantstack unlock xy-0146-qa --holder 'o'\\''neil@h:1'"


def test_process_alive():
    assert deploy_lock.process_alive(os.getpid())
    assert not deploy_lock.process_alive(dead_pid())
    assert not deploy_lock.process_alive(0)


# --- AWS: the lock in Parameter Store ----------------------------------------------------


@pytest.fixture
def ssm(aws):
    return aws.client("ssm")


def test_second_holder_gets_lock_held_naming_holder_and_command(ssm):
    first = record(holder="bob@ci-2:77", host="ci-2", pid=77, user="bob")
    assert deploy_lock.acquire(ssm, NAMESPACE, first, NOW).status == "acquired"
    with pytest.raises(errors.LockHeld) as raised:
        deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(252)), at(252))
    assert str(raised.value) == deploy_lock.lock_held_message(
        NAMESPACE, first, at(252), deploy_lock.assess(first, at(252), "ci-1", never, never).reason
    )
    assert "tenantstack unlock xy-0146-qa --holder 'bob@ci-2:77'" in str(raised.value)
    assert deploy_lock.read(ssm, NAMESPACE) == first


def test_lock_parameter_is_a_tagged_string(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(), NOW)
    parameter = ssm.get_parameter(Name=PARAMETER)["Parameter"]
    assert parameter["Type"] == "String"
    assert deploy_lock.LockRecord.from_json(parameter["Value"]) == record()
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=PARAMETER)["TagList"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == naming.tags(NAMESPACE)


def test_other_namespace_is_not_blocked(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2"), NOW)
    assert deploy_lock.acquire(ssm, "xy-0146-uat", record(), NOW).status == "acquired"
    assert deploy_lock.read(ssm, "xy-0146-uat").holder == "alice@ci-1:4242"


def test_same_holder_re_enters_and_keeps_previous_task_definition(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(), NOW)
    deploy_lock.update_record(ssm, NAMESPACE, "alice@ci-1:4242", previous_task_definition="xy-0146-qa:7")
    again = deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(30), target_timestamp="20261102t090000z"), at(30))
    assert again.status == "re-entered"
    stored = deploy_lock.read(ssm, NAMESPACE)
    assert stored == again.record
    assert (stored.acquired_at, stored.target_timestamp) == ("2026-11-01T10:00:30Z", "20261102t090000z")
    assert stored.previous_task_definition == "xy-0146-qa:7"


def test_lock_of_a_dead_process_on_this_host_is_taken_over(ssm):
    pid = dead_pid()
    gone = record(holder="alice@ci-1:%d" % pid, pid=pid)
    deploy_lock.acquire(ssm, NAMESPACE, gone, NOW)
    mine = record(holder="alice@ci-1:%d" % os.getpid(), pid=os.getpid(), acquired=at(5))
    taken = deploy_lock.acquire(ssm, NAMESPACE, mine, at(5))
    assert (taken.status, taken.detail) == (
        "took-over",
        "took over stale lock held by alice@ci-1:%d: it was taken on this host (ci-1) by pid %d, "
        "which is no longer running" % (pid, pid),
    )
    assert deploy_lock.read(ssm, NAMESPACE) == mine
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=PARAMETER)["TagList"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == naming.tags(NAMESPACE)


def test_live_process_on_this_host_keeps_its_lock(ssm):
    alive = record(holder="alice@ci-1:%d" % os.getpid(), pid=os.getpid())
    deploy_lock.acquire(ssm, NAMESPACE, alive, NOW)
    with pytest.raises(errors.LockHeld):
        deploy_lock.acquire(ssm, NAMESPACE, record(holder="alice@ci-1:1", pid=1, acquired=at(5)), at(5))


def test_expired_lock_is_taken_over(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", ttl=3600), NOW)
    with pytest.raises(errors.LockHeld):
        deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(3600)), at(3600))
    taken = deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(3601)), at(3601))
    assert taken.detail == "took over stale lock held by bob@ci-2:77: it is 1 h 0 min old, past its ttl of 1 h 0 min"
    assert deploy_lock.read(ssm, NAMESPACE).holder == "alice@ci-1:4242"


def test_takeover_leaves_alone_a_lock_a_racer_took_meanwhile(aws, ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", ttl=60), NOW)
    other, racer = aws.client("ssm"), aws.client("ssm")
    reads = []

    def carol_takes_over_right_after_our_first_read(**kwargs):
        reads.append(kwargs["model"].name)
        if len(reads) == 1:
            deploy_lock.acquire(other, NAMESPACE, record(holder="carol@ci-3:9", host="ci-3", acquired=at(61)), at(61))

    racer.meta.events.register("after-call.ssm.GetParameter", carol_takes_over_right_after_our_first_read)
    with pytest.raises(errors.LockHeld, match="--holder 'carol@ci-3:9'"):
        deploy_lock.acquire(racer, NAMESPACE, record(acquired=at(61)), at(61))
    assert deploy_lock.read(ssm, NAMESPACE).holder == "carol@ci-3:9"


def test_takeover_checks_it_still_holds_the_lock_it_created(aws, ssm):
    # The gap SSM cannot close: a racer that read the stale record deletes our new deploy_lock.
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", ttl=60), NOW)
    other, racer = aws.client("ssm"), aws.client("ssm")
    created = []

    def carol_replaces_our_new_lock(http_response, **kwargs):
        if http_response.status_code == 200 and not created:
            created.append(True)
            other.delete_parameter(Name=PARAMETER)
            deploy_lock.acquire(other, NAMESPACE, record(holder="carol@ci-3:9", host="ci-3", acquired=at(61)), at(61))

    racer.meta.events.register("after-call.ssm.PutParameter", carol_replaces_our_new_lock)
    with pytest.raises(errors.LockHeld, match="--holder 'carol@ci-3:9'"):
        deploy_lock.acquire(racer, NAMESPACE, record(acquired=at(61)), at(61))
    assert created and deploy_lock.read(ssm, NAMESPACE).holder == "carol@ci-3:9"


def test_ensure_held_after_a_takeover_raises_lock_lost(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", ttl=60), NOW)
    assert deploy_lock.ensure_held(ssm, NAMESPACE, "bob@ci-2:77").holder == "bob@ci-2:77"
    deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(61)), at(61))
    with pytest.raises(deploy_lock.LockLost) as raised:
        deploy_lock.ensure_held(ssm, NAMESPACE, "bob@ci-2:77")
    assert str(raised.value) == (
        "this run (bob@ci-2:77) no longer holds the deploy lock of xy-0146-qa: alice@ci-1:4242 took it over "
        "at 2026-11-01T10:01:01Z; stopping before changing anything else"
    )
    assert isinstance(raised.value, errors.DeployFailed)
    with pytest.raises(deploy_lock.LockLost):
        deploy_lock.update_record(ssm, NAMESPACE, "bob@ci-2:77", previous_task_definition="xy-0146-qa:1")
    assert deploy_lock.read(ssm, NAMESPACE).previous_task_definition is None


def test_ensure_held_when_nobody_holds_it(ssm):
    with pytest.raises(deploy_lock.LockLost, match="nobody holds it"):
        deploy_lock.ensure_held(ssm, NAMESPACE, "alice@ci-1:4242")


def test_update_record_refuses_unknown_fields(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(), NOW)
    with pytest.raises(ValueError) as raised:
        deploy_lock.update_record(ssm, NAMESPACE, "alice@ci-1:4242", task_definition="xy-0146-qa:7")
    assert str(raised.value) == (
        "update_record: cannot change task_definition; changeable: acquired_at, build_id, host, pid, "
        "previous_task_definition, target_timestamp, ttl_seconds, user"
    )
    assert deploy_lock.read(ssm, NAMESPACE) == record()


def test_release_by_a_non_holder_leaves_the_lock(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(), NOW)
    result = deploy_lock.release(ssm, NAMESPACE, "bob@ci-2:77")
    assert result == {
        "status": "not-held",
        "namespace": NAMESPACE,
        "holder": "bob@ci-2:77",
        "warning": "did not release the deploy lock of xy-0146-qa: it is held by alice@ci-1:4242, not by this "
        "run (bob@ci-2:77)",
    }
    assert deploy_lock.read(ssm, NAMESPACE) == record()
    assert deploy_lock.release(ssm, NAMESPACE, "alice@ci-1:4242")["status"] == "released"
    assert deploy_lock.read(ssm, NAMESPACE) is None
    assert deploy_lock.release(ssm, NAMESPACE, "alice@ci-1:4242")["status"] == "absent"


def test_force_unlock_needs_the_actual_holder(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(), NOW)
    with pytest.raises(errors.BadInput) as raised:
        deploy_lock.force_unlock(ssm, NAMESPACE, "bob@ci-2:77")
    assert str(raised.value) == (
        "the deploy lock of xy-0146-qa is held by 'alice@ci-1:4242', not by 'bob@ci-2:77'; nothing was changed. "
        "If that holder is dead too, run: tenantstack unlock xy-0146-qa --holder 'alice@ci-1:4242'"
    )
    assert deploy_lock.read(ssm, NAMESPACE) == record()
    assert deploy_lock.force_unlock(ssm, NAMESPACE, "alice@ci-1:4242") == {
        "status": "unlocked",
        "namespace": NAMESPACE,
        "record": record(),
    }
    assert deploy_lock.read(ssm, NAMESPACE) is None


def test_a_parameter_that_is_not_a_record_is_reported(ssm):
    ssm.put_parameter(Name=PARAMETER, Value="locked", Type="String")
    with pytest.raises(errors.DeployFailed, match="holds 'locked', which is not a lock record"):
        deploy_lock.acquire(ssm, NAMESPACE, record(), NOW)


def test_two_racers_for_a_free_lock_exactly_one_wins(aws):
    clients = {"a@host-a:1": aws.client("ssm"), "b@host-b:2": aws.client("ssm")}
    for round_number in range(8):
        barrier = threading.Barrier(2)
        outcomes = {}

        def race(name, host):
            ssm = clients[name]
            barrier.wait()
            try:
                outcomes[name] = deploy_lock.acquire(ssm, NAMESPACE, record(holder=name, host=host), NOW).status
            except errors.LockHeld:
                outcomes[name] = "held"

        threads = [threading.Thread(target=race, args=("a@host-a:1", "host-a")), threading.Thread(
            target=race, args=("b@host-b:2", "host-b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["acquired", "held"], "round %d: %r" % (round_number, outcomes)
        winner = next(name for name, outcome in outcomes.items() if outcome == "acquired")
        assert deploy_lock.read(clients[winner], NAMESPACE).holder == winner
        deploy_lock.release(clients[winner], NAMESPACE, winner)


# --- AWS: CodeBuild ----------------------------------------------------------------------


def _started_build(codebuild):
    codebuild.create_project(
        name="tenantstack-deploy",
        source={"type": "S3", "location": "tenantstack-artifacts/source.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole="arn:aws:iam::123456789012:role/codebuild",
    )
    return codebuild.start_build(projectName="tenantstack-deploy")["build"]["id"]


def test_build_finished_against_codebuild(aws):
    codebuild = aws.client("codebuild")
    build_id = _started_build(codebuild)
    # moto reports every build it is asked about as SUCCEEDED; IN_PROGRESS is covered below.
    assert deploy_lock.build_finished(codebuild, build_id) is True
    assert deploy_lock.build_finished(codebuild, "tenantstack-deploy:no-such-build") is None
    assert deploy_lock.build_finished(codebuild, "not-a-build-id") is None


def test_build_in_progress_is_not_finished(aws):
    # moto cannot produce IN_PROGRESS for batch_get_builds: Stubber for that one state.
    codebuild = aws.client("codebuild")
    with Stubber(codebuild) as stub:
        stub.add_response("batch_get_builds", {"builds": [{"id": BUILD, "buildStatus": "IN_PROGRESS"}]}, {"ids": [BUILD]})
        assert deploy_lock.build_finished(codebuild, BUILD) is False


def test_lock_of_a_finished_build_is_taken_over(aws, ssm):
    codebuild = aws.client("codebuild")
    build_id = _started_build(codebuild)
    deploy_lock.acquire(ssm, NAMESPACE, record(holder=build_id, host="ip-10-0-1-5", build_id=build_id), NOW)
    with pytest.raises(errors.LockHeld):  # without CodeBuild's word the build is not provably over
        deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(5)), at(5))
    taken = deploy_lock.acquire(
        ssm, NAMESPACE, record(acquired=at(5)), at(5), build_finished=lambda b: deploy_lock.build_finished(codebuild, b)
    )
    assert taken.detail == "took over stale lock held by %s: CodeBuild reports its build %s as finished" % (
        build_id,
        build_id,
    )


# --- AWS: the takeover claim -------------------------------------------------------------

CLAIM = "/xy-0146-qa/deploy/lock-takeover"


def test_four_racers_taking_over_one_stale_lock_exactly_one_wins(aws):
    holders = ["r%d@host-%d:%d" % (n, n, n) for n in range(4)]
    clients = {holder: aws.client("ssm") for holder in holders}
    for round_number in range(12):
        deploy_lock.acquire(clients[holders[0]], NAMESPACE, record(holder="dead@ci-9:9", host="ci-9", ttl=60), NOW)
        barrier = threading.Barrier(len(holders))
        outcomes = {}

        def race(holder):
            host = holder.split("@")[1].split(":")[0]
            barrier.wait()
            try:
                taken = deploy_lock.acquire(clients[holder], NAMESPACE, record(holder=holder, host=host, acquired=at(61)), at(61))
                outcomes[holder] = taken.status
            except errors.LockHeld:
                outcomes[holder] = "held"

        threads = [threading.Thread(target=race, args=(holder,)) for holder in holders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes.values()) == ["held", "held", "held", "took-over"], "round %d: %r" % (round_number, outcomes)
        winner = next(holder for holder, outcome in outcomes.items() if outcome == "took-over")
        assert deploy_lock.read(clients[winner], NAMESPACE).holder == winner
        assert deploy_lock.lock_store.get(clients[winner], NAMESPACE, name=CLAIM) is None
        deploy_lock.release(clients[winner], NAMESPACE, winner)


def test_a_live_takeover_claim_stops_the_run_without_a_change(ssm):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", ttl=60), NOW)
    stale = deploy_lock.read(ssm, NAMESPACE)
    deploy_lock.lock_store.create(ssm, NAMESPACE, record(holder="carol@ci-3:9", host="ci-3", acquired=at(60)), name=CLAIM)
    with pytest.raises(errors.LockHeld) as raised:
        deploy_lock.acquire(ssm, NAMESPACE, record(acquired=at(61)), at(61))
    assert str(raised.value).startswith(
        "namespace xy-0146-qa: another deploy, carol@ci-3:9, is taking over the stale deploy lock right now "
        "(it was taken on another host (ci-3)"
    )
    assert deploy_lock.read(ssm, NAMESPACE) == stale
    assert deploy_lock.lock_store.get(ssm, NAMESPACE, name=CLAIM)[0].holder == "carol@ci-3:9"


@pytest.mark.parametrize(
    "claimant",
    [
        pytest.param(dict(host=socket.gethostname(), pid=dead_pid(), acquired=at(60)), id="its-process-is-gone"),
        pytest.param(dict(host="ci-3", pid=9, acquired=at(61 - deploy_lock.CLAIM_TTL_SECONDS - 1)), id="older-than-its-ttl"),
    ],
)
def test_an_abandoned_takeover_claim_is_removed_and_the_takeover_proceeds(ssm, claimant):
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="bob@ci-2:77", host="ci-2", ttl=60), NOW)
    claim = record(holder="carol@x:9", ttl=deploy_lock.CLAIM_TTL_SECONDS, **claimant)
    deploy_lock.lock_store.create(ssm, NAMESPACE, claim, name=CLAIM)
    me = record(host=socket.gethostname(), pid=os.getpid(), acquired=at(61))
    assert deploy_lock.acquire(ssm, NAMESPACE, me, at(61)).status == "took-over"
    assert deploy_lock.read(ssm, NAMESPACE).holder == "alice@ci-1:4242"
    assert deploy_lock.lock_store.get(ssm, NAMESPACE, name=CLAIM) is None


def test_a_racer_paused_after_checking_the_stale_lock_cannot_replace_the_winner(aws, ssm):
    # The interleaving the claim exists for: the racer has read the stale lock twice (seen it,
    # checked it is unchanged) and is about to delete it when another run takes over.
    deploy_lock.acquire(ssm, NAMESPACE, record(holder="dead@ci-9:9", host="ci-9", ttl=60), NOW)
    paused, resume = threading.Event(), threading.Event()
    racer, other = aws.client("ssm"), aws.client("ssm")
    lock_reads = []

    def pause_after_second_read_of_the_lock(parsed, **kwargs):
        if parsed.get("Parameter", {}).get("Name") == PARAMETER:
            lock_reads.append(True)
            if len(lock_reads) == 2:
                paused.set()
                resume.wait(timeout=30)

    racer.meta.events.register("after-call.ssm.GetParameter", pause_after_second_read_of_the_lock)
    outcomes = {}

    def run(name, client, host):
        try:
            outcomes[name] = deploy_lock.acquire(client, NAMESPACE, record(holder=name, host=host, acquired=at(61)), at(61)).status
        except errors.LockHeld:
            outcomes[name] = "held"

    racing = threading.Thread(target=run, args=("racer@ci-1:1", racer, "ci-1"))
    racing.start()
    assert paused.wait(timeout=30)
    run("other@ci-2:2", other, "ci-2")
    resume.set()
    racing.join(timeout=30)
    assert sorted(outcomes.values()) == ["held", "took-over"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "took-over")
    assert deploy_lock.read(ssm, NAMESPACE).holder == winner
