"""The local AWS endpoint (scripts/local_endpoint.py): a real moto server on loopback."""
import os
import socket
import subprocess
import sys
import textwrap
import time

import local_endpoint
import pytest
from botocore.exceptions import ClientError
from local_endpoint import EndpointError, LocalEndpoint, answers, client_env, free_port

SCRIPT = local_endpoint.__file__


def assert_process_gone(pid):
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def wait_gone(pid, timeout=5.0):
    """True once ``pid`` (not our child: it is not reaped here) has ended."""
    deadline = time.monotonic() + timeout
    while local_endpoint._pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def listening_addresses(port):
    """Local addresses of the sockets listening on ``port``, from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.append((table, address))
    return found


def write_fake_server(tmp_path, body):
    path = tmp_path / "moto_server"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def test_start_answers_and_stop_leaves_no_process():
    server = LocalEndpoint(ecs_running=0)
    server.start()
    pid = server.pid
    try:
        assert server.url == "http://127.0.0.1:%d" % server.port
        assert answers(server.url)
    finally:
        server.stop()
    assert_process_gone(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing left in its process group either
    assert not answers(server.url)
    server.stop()  # idempotent


def test_context_manager_stops_the_server():
    with LocalEndpoint(ecs_running=0) as server:
        pid = server.pid
        assert answers(server.url)
    assert_process_gone(pid)


def test_stop_terminates_the_whole_process_group(tmp_path):
    # A stand-in server that forks a child and answers the readiness probe like moto.
    (tmp_path / "docroot" / "moto-api").mkdir(parents=True)
    (tmp_path / "docroot" / "moto-api" / "config").write_text("{}")
    fake = write_fake_server(
        tmp_path,
        """\
        sleep 600 &
        echo $! > "{tmp}/child.pid"
        cd "{tmp}/docroot"
        exec "{python}" -m http.server --bind 127.0.0.1 "$4"
        """.format(tmp=tmp_path, python=sys.executable),
    )
    server = LocalEndpoint(moto_server=fake, log_path=tmp_path / "log")
    server.start()
    child = int((tmp_path / "child.pid").read_text())
    assert local_endpoint._pid_alive(child)
    server.stop()
    assert wait_gone(child)


def test_reset_clears_state(endpoint, aws):
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/xy-0146-dev/db/active", Value="20260115t103000z", Type="String")
    assert ssm.get_parameter(Name="/xy-0146-dev/db/active")["Parameter"]["Value"] == "20260115t103000z"

    endpoint.reset()

    with pytest.raises(ClientError) as error:
        ssm.get_parameter(Name="/xy-0146-dev/db/active")
    assert error.value.response["Error"]["Code"] == "ParameterNotFound"


def test_binds_loopback_127_0_0_1_only(endpoint):
    addresses = listening_addresses(endpoint.port)
    # 0100007F is 127.0.0.1 in /proc/net/tcp's little-endian hex.
    assert addresses == [("/proc/net/tcp", "0100007F")]
    # Another loopback address reaches a wildcard listener, never one bound to 127.0.0.1.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", endpoint.port), timeout=2).close()


def test_second_endpoint_on_a_busy_port_fails_clearly(endpoint):
    second = LocalEndpoint(port=endpoint.port)
    with pytest.raises(EndpointError, match=r"port %d on 127\.0\.0\.1 is already in use" % endpoint.port):
        second.start()
    assert second.pid is None
    assert answers(endpoint.url)  # the first one is untouched


def test_port_held_by_another_program_fails_clearly():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(EndpointError, match="port %d on 127.0.0.1 is already in use" % port):
            LocalEndpoint(port=port).start()


def test_a_server_that_exits_fails_with_its_log(tmp_path):
    fake = write_fake_server(tmp_path, 'echo "boom: cannot start" >&2\nexit 3\n')
    server = LocalEndpoint(moto_server=fake, log_path=tmp_path / "log")
    with pytest.raises(EndpointError, match=r"(?s)exited with code 3.*boom: cannot start"):
        server.start()
    assert server.pid is None


def test_a_server_that_never_answers_is_killed(tmp_path):
    fake = write_fake_server(tmp_path, 'echo $$ > "%s/pid"\nexec sleep 600\n' % tmp_path)
    server = LocalEndpoint(moto_server=fake, log_path=tmp_path / "log", start_timeout=0.5)
    with pytest.raises(EndpointError, match="did not answer within"):
        server.start()
    assert_process_gone(int((tmp_path / "pid").read_text()))


def test_missing_moto_server_names_the_fix(tmp_path):
    with pytest.raises(EndpointError, match="make setup"):
        LocalEndpoint(moto_server=tmp_path / "nothing").start()


def create_service(ecs, desired_count):
    ecs.create_cluster(clusterName="common-nonprod")
    task = ecs.register_task_definition(
        family="xy-0146-dev-app",
        containerDefinitions=[{"name": "nginx", "image": "nginx:1.27", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="common-nonprod", serviceName="xy-0146-dev-app", taskDefinition=task, desiredCount=desired_count
    )
    return ecs.describe_services(cluster="common-nonprod", services=["xy-0146-dev-app"])["services"][0]


def test_ecs_service_reaches_desired_running_count(endpoint, aws):
    # moto reports exactly MOTO_ECS_SERVICE_RUNNING tasks for every service, whatever its
    # desiredCount: a service is stable only when desiredCount equals that number.
    ecs = aws.client("ecs")
    desired = endpoint.ecs_running
    assert desired > 0
    service = create_service(ecs, desired_count=desired)
    assert service["runningCount"] == service["desiredCount"] == desired
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    ecs.get_waiter("services_stable").wait(
        cluster="common-nonprod", services=["xy-0146-dev-app"], WaiterConfig={"Delay": 0, "MaxAttempts": 1}
    )


def test_ecs_running_count_comes_from_the_endpoint_setting():
    with LocalEndpoint(ecs_running=0) as server:
        import boto3

        ecs = boto3.session.Session().client(
            "ecs", endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        service = create_service(ecs, desired_count=3)
    assert service["runningCount"] == 0
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"


def test_client_env_points_a_child_process_at_the_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
    monkeypatch.setenv("HOME", "/home/someone")
    env = client_env("http://127.0.0.1:5999", region="eu-west-1")
    assert "AWS_PROFILE" not in env
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["HOME"] == "/home/someone"  # a full copy of the environment
    assert os.environ["AWS_PROFILE"] == "production"  # os.environ itself is untouched


def test_boto3_in_a_child_process_follows_client_env(endpoint, aws):
    aws.client("ssm").put_parameter(Name="/xy-0146-dev/db/active", Value="t1", Type="String")
    code = (
        "import boto3; print(boto3.client('ssm').get_parameter("
        "Name='/xy-0146-dev/db/active')['Parameter']['Value'])"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        env=aws.env, capture_output=True, text=True, timeout=60, check=True,
    )
    assert result.stdout.strip() == "t1"


def test_command_line_start_and_stop(tmp_path):
    port = free_port()
    pidfile, log = tmp_path / "endpoint.pid", tmp_path / "endpoint.log"
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, SCRIPT] + list(args), capture_output=True, text=True, timeout=60
    )
    started = run("start", "--port", str(port), "--pidfile", str(pidfile), "--log", str(log))
    assert started.returncode == 0, started.stderr
    pid = int(pidfile.read_text())
    try:
        assert run("wait", "--url", "http://127.0.0.1:%d" % port).returncode == 0
    finally:
        stopped = run("stop", "--pidfile", str(pidfile))
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.exists()
    assert not local_endpoint._pid_alive(pid)
    assert "not running" in run("stop", "--pidfile", str(pidfile)).stdout
