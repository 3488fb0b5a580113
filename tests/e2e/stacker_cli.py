"""Run this venv's engine CLI against the local endpoint: `stacker` (stacker 1.7.2) or
`tenantstack-cfngin` (runway's CFNgin; stacker's arguments, hooks/engine/cfngin_cli.py).

Tests write stacker's commands and expect stacker's stack-status lines ("db: complete");
`engine_line` gives a line in the running engine's own form (CFNgin writes "db:complete").
"""
import re
import subprocess
import sys
from pathlib import Path

from hooks.engine import stacker_compat

REPO = Path(__file__).resolve().parents[2]
ENGINE = stacker_compat.ENGINE
CLI_OF = {"stacker": "stacker", "cfngin": "tenantstack-cfngin"}
STACKER = str(Path(sys.executable).parent / CLI_OF[ENGINE])
TIMEOUT = 300
POLL_NOW = {"STACKER_STACK_POLL_TIME": "0", "CFNGIN_STACK_POLL_TIME": "0"}
STACK_LINE = re.compile(r"^(vpc|tier|base|db|service|artifacts|[a-z]+-deploy|pipeline): (.*)$")


def engine_line(line, engine=ENGINE):
    """A stack-status line as `engine` writes it: "db: complete" (stacker), "db:complete" (CFNgin)."""
    match = STACK_LINE.match(line)
    if match and engine == "cfngin":
        return "%s:%s" % match.groups()
    return line


def stacker(aws_env, *args, check=True, cli=STACKER):
    """`<engine CLI> <args>` from the repo root; returns the CompletedProcess (text output)."""
    env = dict(aws_env, **POLL_NOW)
    result = subprocess.run(
        [cli, *args], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    if check and result.returncode != 0:
        raise AssertionError(
            "%s %s exited %d\n--- stderr ---\n%s" % (Path(cli).name, " ".join(args), result.returncode,
                                                    result.stderr[-6000:])
        )
    return result


def build(aws_env, env_file, config, *extra, check=True, cli=STACKER):
    return stacker(aws_env, "build", *extra, env_file, config, check=check, cli=cli)
