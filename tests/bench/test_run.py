"""bench/run.py: options, with exact messages for bad ones (argparse exits 2)."""
import pytest

from bench import run


@pytest.mark.parametrize(
    "argv, message",
    [
        pytest.param(["--sizes", "0,x"], "argument --sizes: '0,x' is not a comma-separated list of whole numbers, "
                     "e.g. 0,50,500", id="sizes-not-numbers"),
        pytest.param(["--sizes", "-5"], "argument --sizes: '-5': expected whole numbers >= 0, e.g. 0,50,500",
                     id="sizes-negative"),
        pytest.param(["--runs", "0"], "argument --runs: '0' is not a whole number >= 1", id="runs-zero"),
        pytest.param(["--api-budget", "fast"], "argument --api-budget: 'fast' is not a rate > 0 (calls per second), "
                     "e.g. 40", id="budget-not-a-number"),
        pytest.param(["--only", "overhead,speed"], "argument --only: 'overhead,speed': expected one or more of "
                     "overhead, api_calls, rendering, fleet, memory, latency, comma-separated", id="only-unknown-name"),
        pytest.param(["--latency-scale", "2"], "argument --latency-scale: '2' is not a scale in (0, 1], e.g. 0.01 "
                     "(1 bench second = 100 s on AWS)", id="scale-above-one"),
    ],
)
def test_bad_options_name_the_value_and_the_rule(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        run.options(argv)
    assert exited.value.code == run.EXIT_BAD_OPTIONS
    assert capsys.readouterr().err.strip().splitlines()[-1] == "python -m bench: error: %s" % message


def test_defaults_write_docs_performance_md():
    args = run.options([])
    assert (args.runs, args.sizes, args.tenants, args.fleet_size, args.memory_fleet, args.api_budget) == (
        5, [0, 50, 500], 100, 20, 50, run.DEFAULT_API_BUDGET)
    assert (args.latency_fleet, args.latency_runs, args.latency_scale) == (20, 1, 0.01)
    assert args.output == run.DEFAULT_OUTPUT


def test_only_prints_without_writing_unless_output_is_given(tmp_path):
    assert run.options(["--only", "rendering"]).output is None
    assert run.options(["--only", "rendering", "--output", str(tmp_path / "p.md")]).output == tmp_path / "p.md"


def test_smoke_overrides_every_size():
    args = run.options(["--smoke", "--sizes", "0,50,500", "--fleet-size", "20"])
    assert {key: getattr(args, key) for key in run.SMOKE} == run.SMOKE


def test_sizes_are_sorted_and_deduplicated():
    assert run.options(["--sizes", "500, 0,50,0"]).sizes == [0, 50, 500]


def test_command_line_is_reproducible_as_printed():
    assert run.command_line(["--sizes", "0,50", "--output", "/tmp/a b.md"]) == (
        "STACKER_STACK_POLL_TIME=0 .venv/bin/python -m bench --sizes 0,50 --output '/tmp/a b.md'")
