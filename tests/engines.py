"""Which tests run on which engine: the one policy behind `make test`'s two pytest runs.

`make test` (scripts/run-tests) runs pytest twice over the same tests, each run with its own
local endpoint:

1. `.venv-cfngin`, runway's CFNgin on Python 3.12 (the supported path): every test except
   STACKER_ONLY;
2. `.venv`, stacker 1.7.2 on Python 3.9: only BOTH_ENGINES and STACKER_ONLY; the rest is
   deselected (reported as deselected, never skipped).

A test runs on both engines when what it exercises differs between them
(docs/engines.md, "What differs"):

- engine code in this process: blueprints (defined_variables, variable types), the
  offline renderer and the committed templates, config loading and lookups (`setting`,
  `output`, `xref`), env-file parsing, the hook wiring (context.environment vs
  .parameters), the engine child of `tenantstack deploy` and its error classification;
- end to end, by the real `stacker build` / `tenantstack-cfngin build`: a first deploy of
  both tiers and three tenants (hooks before and after the stacks, hook return values,
  every lookup), a replacement with retirement, failure and convergence (a failed stack
  skips the post hooks in both; a failing hook that holds the lock; bad input before any
  AWS call, which the template bucket setting decides), the lock, and `tenantstack diff` (it
  renders in its own process what the engine deployed).

tests/e2e/test_engines.py (the supported run) also deploys one promotion with each engine's
CLI against one endpoint and compares the end states, and runs runway's own `runway deploy`.

What is the same code whichever engine deploys runs once, on the supported path: the
security gates and the dependency audit (they read templates/ and requirements/, and the
templates are byte-identical between engines: tests/hooks/engine/test_engines_agree.py), the
step-boundary kills (our hooks' logging, not the engine's), the 12-tenant fleet, the
buildspecs, the reference application, the local endpoint and CodeBuild runner.

Entries are node-id prefixes; tests/test_engines_policy.py checks each names a test file
or test that exists, so a rename cannot silently drop a scenario from the stacker run.
"""
from hooks.engine import stacker_compat

ENGINE = stacker_compat.ENGINE

BOTH_ENGINES = (
    # engine code in this process (tests/hooks/engine: the engine switch itself)
    "tests/hooks/",
    "tests/blueprints/",
    "tests/test_environments.py",
    "tests/test_rendered_templates.py",
    # the wheel: on Python 3.9 it brings stacker, on 3.12 runway (its dependency markers)
    "tests/test_packaging.py",
    # end to end: what differs between engines
    "tests/e2e/test_build.py::test_every_stack_is_created_under_its_contract_name",
    "tests/e2e/test_build.py::test_service_runs_the_env_files_images_against_its_database",
    "tests/e2e/test_build.py::test_bad_env_file_fails_before_any_aws_call",
    "tests/e2e/test_build.py::test_bad_override_on_the_command_line_changes_nothing",
    "tests/e2e/test_promotion.py::test_one_snapshot_promoted_dev_to_qa_to_prod_and_a_rerun_changes_nothing",
    "tests/e2e/test_promotion.py::test_a_newer_snapshot_replaces_the_database_and_the_old_one_leaves_a_final_snapshot",
    "tests/e2e/test_promotion.py::test_a_missing_snapshot_fails_before_anything_changes",
    "tests/e2e/test_promotion.py::test_a_failed_database_stack_leaves_the_tenant_serving_and_the_next_run_converges",
    "tests/e2e/test_promotion.py::test_a_service_that_never_becomes_stable_is_reverted_and_the_pointer_stays",
    "tests/e2e/test_promotion.py::test_two_deploys_of_one_namespace_never_interleave",
    # input refused before any change, by the engine's command line and child (issue 18)
    "tests/e2e/test_input_rules.py",
    # the preview renders in this process with this engine what the engine deployed: "unchanged"
    # right after a deploy proves the two templates and parameter lists the same (issue 14)
    "tests/e2e/test_diff.py",
)

# bench/ measures the stacker CLI (bench/harness.py runs <venv>/bin/stacker): its tests run
# where stacker is.
STACKER_ONLY = (
    "tests/bench/",
)


def runs_here(nodeid, engine=ENGINE):
    """True when the test with this node id runs in this engine's pytest run."""
    if nodeid.startswith(STACKER_ONLY):
        return engine == "stacker"
    return engine == "cfngin" or nodeid.startswith(BOTH_ENGINES)


def select(config, items):
    """pytest_collection_modifyitems: deselect what this engine's run leaves to the other one."""
    kept, deselected = [], []
    for item in items:
        (kept if runs_here(item.nodeid) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
