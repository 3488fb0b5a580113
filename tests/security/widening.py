"""A copy of the rendered templates with one policy statement changed: what a gate must catch.

Used by the tests that prove a gate can fail (test_isolation.py, test_crosscheck.py): widen
a statement's Resource, or give it a condition the evaluator does not implement, and the
proof must report (or refuse) it.
"""
import json
import shutil

from tests.security.world import TEMPLATES, World

TASK_ROLE_TEMPLATE = "xy-0146-qa/service.json"
TASK_ROLE = "xy-0146-qa/service.json#TaskRole"


def edited_world(tmp_path, sid, edit, template=TASK_ROLE_TEMPLATE, logical_id="TaskRole"):
    """A World over a copy of templates/ in which `edit(statement)` changed the statement `sid`
    of the (one) inline policy of the role `logical_id` in `template`."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    path = copy / template
    document = json.loads(path.read_text())
    (policy,) = document["Resources"][logical_id]["Properties"]["Policies"]
    (statement,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == sid]
    edit(statement)
    path.write_text(json.dumps(document))
    return World(copy)


def widened_world(tmp_path, sid, resource, **where):
    """The statement `sid` now names `resource` (a plain ARN pattern, or one with ${...} for Fn::Sub)."""
    def widen(statement):
        statement["Resource"] = [{"Fn::Sub": resource}] if "${" in resource else resource
    return edited_world(tmp_path, sid, widen, **where)
