"""Every golden file belongs to a blueprint case, and every case has its golden file.

The cases are the `GOLDEN_CASES` of the blueprint test modules (tests/blueprints/test_*.py),
found by discovery; a golden file whose case was renamed or removed is a stale review
artifact and fails here, naming the file.
"""
import importlib
from pathlib import Path

from tests.blueprints.golden import GOLDEN_DIR

TESTS = Path(__file__).parent


def declared_cases():
    """{case id: module} over every blueprint test module that declares GOLDEN_CASES."""
    cases = {}
    for path in sorted(TESTS.glob("test_*.py")):
        module = importlib.import_module("tests.blueprints.%s" % path.stem)
        for case_id in getattr(module, "GOLDEN_CASES", {}):
            assert case_id not in cases, "golden case %s is declared in %s and %s" % (case_id, cases[case_id], path.name)
            cases[case_id] = path.name
    return cases


def test_every_golden_file_has_a_case_and_every_case_a_file():
    cases = declared_cases()
    files = {path.stem for path in GOLDEN_DIR.glob("*.json")}
    assert sorted(files - set(cases)) == [], "golden files with no blueprint case: delete them (%s)" % GOLDEN_DIR
    assert sorted(set(cases) - files) == [], "blueprint cases with no golden file: run `make goldens` and review"
    assert len(cases) >= 15  # the discovery found the modules (a test that cannot fail is a defect)
