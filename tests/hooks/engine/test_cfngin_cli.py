"""hooks/engine/cfngin_cli.py: stacker's command line for CFNgin (its runs: tests/e2e)."""
import pytest

from hooks.engine import cfngin_cli, stacker_compat


def test_env_file_values_are_read_and_overridden(tmp_path):
    env_file = tmp_path / "x.env"
    env_file.write_text("namespace: xy-0146-qa\ndb_timestamp: 20261101t090000z\n")
    assert cfngin_cli.parameters(str(env_file), ["db_timestamp=20261115t120000z", "extra=a=b"]) == {
        "namespace": "xy-0146-qa", "db_timestamp": "20261115t120000z", "extra": "a=b"}


@pytest.mark.parametrize("override", ["no-equals", "=value"])
def test_a_malformed_override_is_refused(tmp_path, override):
    env_file = tmp_path / "x.env"
    env_file.write_text("namespace: x\n")
    with pytest.raises(SystemExit, match="-e %r is invalid: expected KEY=VALUE" % override):
        cfngin_cli.parameters(str(env_file), [override])


@pytest.mark.parametrize("argv, options", [
    pytest.param(["build", "e.env", "c.yaml"], {"tail": False, "concurrency": 0, "outline": False, "dump": False},
                 id="build"),
    pytest.param(["build", "-t", "-j", "2", "--dump", "out", "e.env", "c.yaml"],
                 {"tail": True, "concurrency": 2, "outline": False, "dump": "out"}, id="build-dump"),
    pytest.param(["build", "-o", "e.env", "c.yaml"], {"tail": False, "concurrency": 0, "outline": True, "dump": False},
                 id="outline"),
    pytest.param(["diff", "e.env", "c.yaml"], {"tail": False, "concurrency": 0}, id="diff"),
    pytest.param(["destroy", "--force", "e.env", "c.yaml"], {"tail": False, "concurrency": 0, "force": True},
                 id="destroy"),
])
def test_stackers_arguments_map_to_the_cfngin_action(argv, options):
    args = cfngin_cli.parser().parse_args(argv)
    assert (args.command, args.environment, args.config) == (argv[0], "e.env", "c.yaml")
    assert cfngin_cli.options_of(args) == options


def test_it_runs_only_where_cfngin_is_the_engine(tmp_path, capsys):
    if stacker_compat.ENGINE == "cfngin":
        with pytest.raises(FileNotFoundError):  # it went on to read the env file
            cfngin_cli.main(["build", str(tmp_path / "missing.env"), "c.yaml"])
    else:
        assert cfngin_cli.main(["build", "e.env", "c.yaml"]) == 2
        assert "this environment runs stacker; use `stacker build`" in capsys.readouterr().err
