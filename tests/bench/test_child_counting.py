"""bench/child/sitecustomize.py: a child process counts every AWS request it sends, from every session."""
import subprocess
import sys

from bench import calls
from bench.harness import child_env

CALLS = """
import boto3
ssm = boto3.session.Session().client("ssm")
ssm.put_parameter(Name="/bench/x", Value="1", Type="String")
ssm.get_parameter(Name="/bench/x")
try:
    ssm.get_parameter(Name="/bench/missing")
except ssm.exceptions.ParameterNotFound:
    pass
boto3.session.Session().client("ecs").list_clusters()  # a second session of the same process
"""


def run_child(env):
    return subprocess.run([sys.executable, "-c", CALLS], env=env, capture_output=True, text=True, timeout=120)


def test_every_request_of_the_child_is_counted_in_order(aws, tmp_path):
    result = run_child(child_env(aws.env, tmp_path))
    assert result.returncode == 0, result.stderr
    recorded = calls.read_calls(tmp_path)
    assert [call.name for call in recorded] == [
        "ssm.PutParameter", "ssm.GetParameter", "ssm.GetParameter",  # a failed call was still sent
        "ecs.ListClusters",
    ]
    assert calls.process_count(recorded) == 1


def test_without_the_variable_the_child_counts_nothing(aws, tmp_path):
    result = run_child(child_env(aws.env))
    assert result.returncode == 0, result.stderr
    assert calls.read_calls(tmp_path) == []
