"""Run the real `stacker` CLI (from this venv) against the local endpoint."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACKER = str(Path(sys.executable).parent / "stacker")
TIMEOUT = 300


def stacker(aws_env, *args, check=True):
    """`stacker <args>` from the repo root; returns the CompletedProcess (text output)."""
    env = dict(aws_env, STACKER_STACK_POLL_TIME="0")
    result = subprocess.run(
        [STACKER, *args], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    if check and result.returncode != 0:
        raise AssertionError(
            "stacker %s exited %d\n--- stderr ---\n%s" % (" ".join(args), result.returncode, result.stderr[-6000:])
        )
    return result


def build(aws_env, env_file, config, *extra, check=True):
    return stacker(aws_env, "build", *extra, env_file, config, check=check)
