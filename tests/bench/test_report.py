"""bench/report.py: the table, and rewriting only the generated block of docs/performance.md."""
import json

import pytest

from bench import report
from bench.results import Row, Section, Table

MACHINE = {"CPU": "test CPU, 2 logical CPUs", "load average at start (1/5/15 min)": "0.10 0.20 0.30"}


def sections(ok=True):
    first = Section("overhead", "1. Overhead", rows=[Row("overhead.ratio", "promotion / bare", "4.00x", "median")])
    second = Section("api_calls", "2. API calls", rows=[Row("api_calls.first", "calls", "48 / 48", "flat", ok=ok)],
                     tables=[Table("per operation", ("operation", "@0"), (("ssm.GetParameter", "11"),))],
                     notes=["counted with before-send"])
    return [first, second]


def test_markdown_table_pads_columns_and_escapes_pipes():
    assert report.markdown_table(("a", "bb"), [("x|y", "1")]) == (
        "| a    | bb |\n"
        "| ---- | -- |\n"
        "| x\\|y | 1  |"
    )


def test_summary_marks_met_and_missed_targets_and_leaves_the_rest_blank():
    table = report.summary_table(sections(ok=False)).splitlines()
    assert table[0].split("|")[1:-1] == [" measurement      ", " result  ", " details ", " target "]
    assert table[2].rstrip().endswith("|        |")
    assert table[3].rstrip().endswith("| FAIL   |")
    assert report.verdict(sections(ok=False)) == "FAIL: calls (flat)"
    assert report.verdict(sections(ok=True)) == "all targets met"


def test_block_holds_command_machine_detail_tables_and_notes_between_markers():
    text = report.block(sections(), MACHINE, "STACKER_STACK_POLL_TIME=0 .venv/bin/python -m bench", 123.4)
    lines = text.splitlines()
    assert lines[0] == report.BEGIN and lines[-1] == report.END
    assert "Reproduce: `STACKER_STACK_POLL_TIME=0 .venv/bin/python -m bench` (from a fresh clone: `make bench`). " \
           "The whole run took 123 s; all targets met." in lines
    assert "| load average at start (1/5/15 min) | 0.10 0.20 0.30           |" in lines
    assert "### 2. API calls" in lines and "- counted with before-send" in lines
    assert "| ssm.GetParameter | 11 |" in lines


@pytest.mark.parametrize(
    "before, after",
    [
        pytest.param(None, report.PREFACE + "NEW\n", id="missing-file-gets-the-preface"),
        pytest.param("# Mine\n\nprose\n", "# Mine\n\nprose\n\nNEW\n", id="no-markers-block-appended"),
        pytest.param("# Mine\n\n%s\nOLD\n%s\n\nafter\n" % (report.BEGIN, report.END),
                     "# Mine\n\nNEW\n\nafter\n", id="block-replaced-prose-kept"),
        pytest.param("# Mine\n<!-- bench:begin: older wording -->\nOLD\n<!-- bench:end -->\n",
                     "# Mine\nNEW\n", id="begin-marker-matched-by-its-start"),
    ],
)
def test_write_report_replaces_only_the_generated_block(tmp_path, before, after):
    path = tmp_path / "performance.md"
    if before is not None:
        path.write_text(before)
    report.write_report(path, "NEW\n")
    assert path.read_text() == after


def test_json_document_carries_every_row_with_its_key_and_target():
    document = json.loads(report.json_document(sections(ok=False), MACHINE, "cmd", 1.26))
    assert document["verdict"] == "FAIL: calls (flat)" and document["seconds"] == 1.3
    assert [(row["key"], row["ok"]) for s in document["sections"] for row in s["rows"]] == [
        ("overhead.ratio", None), ("api_calls.first", False)]
