"""Golden templates: each blueprint case renders to a committed, sorted-key JSON file.

    make goldens      # UPDATE_GOLDENS=1: rewrite every golden file from the current blueprints

A case is (blueprint class, variables); its file is tests/blueprints/golden/<case id>.json.
"""
import os
from pathlib import Path

from hooks.engine.render import canonical_json, render_blueprint

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


def assert_matches_golden(case_id, blueprint_class, variables):
    """Render the case and compare with its golden file (or rewrite it when UPDATE_GOLDENS=1)."""
    rendered = canonical_json(render_blueprint(blueprint_class, variables, name=case_id))
    path = GOLDEN_DIR / ("%s.json" % case_id)
    if UPDATE:
        path.write_text(rendered)
        return
    assert path.exists(), "no golden file %s; run `make goldens` and review it" % path
    assert path.read_text() == rendered, (
        "%s differs from the blueprint's output; review the change and run `make goldens`" % path
    )
