"""scripts/pull_request_preview.py: which tenants a change touches, its allowances, its base (pure parts);
the whole build is run in tests/delivery/test_pull_request_preview.py."""
import pytest
from pull_request_preview import allowances, base_candidates, touched_tenants

EXISTING = {"xy-0146-qa", "xy-0146-prod", "ab-0212-qa"}


@pytest.mark.parametrize("lines, previewed, removed", [
    pytest.param(["M\tenvironments/xy-0146-qa.env"], ["xy-0146-qa"], [], id="env-file-changed"),
    pytest.param(["A\tenvironments/ab-0212-qa.env", "A\ttemplates/ab-0212-qa/base.json"], ["ab-0212-qa"], [],
                 id="a-new-tenant"),
    pytest.param(["M\ttemplates/xy-0146-prod/service.json", "M\ttemplates/xy-0146-qa/service.json"],
                 ["xy-0146-prod", "xy-0146-qa"], [], id="a-blueprint-change-seen-in-its-templates"),
    pytest.param(["D\tenvironments/xy-0146-uat.env", "D\ttemplates/xy-0146-uat/base.json"], [], ["xy-0146-uat"],
                 id="a-removed-tenant"),
    pytest.param(["M\tenvironments/common-nonprod.env", "M\ttemplates/common-nonprod/tier.json",
                  "M\tenvironments/pipelines/xy-0146.env", "M\ttemplates/xy-0146/pipeline.json"], [], [],
                 id="shared-and-pipeline-files-are-no-tenants"),
    pytest.param(["M\tREADME.md", "M\ttemplates/xy-0146-qa/notes.txt", "garbage"], [], [], id="anything-else"),
])
def test_the_tenants_a_change_touches(lines, previewed, removed):
    assert touched_tenants(lines, EXISTING.__contains__) == (previewed, removed)


def test_allow_replace_lines_of_the_commit_messages_once_each_in_order():
    messages = ("Move qa to priority 1463\n\nAllow-Replace: xy-0146-qa/service/ListenerRule\n"
                "not an allow-replace: x\n  allow-replace:   xy-0146-qa/base/ServiceSecurityGroup  \n\n"
                "Second commit\n\nAllow-Replace: xy-0146-qa/service/ListenerRule\nAllow-Replace:\n")
    assert allowances(messages) == ["xy-0146-qa/service/ListenerRule", "xy-0146-qa/base/ServiceSecurityGroup"]


@pytest.mark.parametrize("base, environ, candidates", [
    (None, {"CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main"}, ["origin/main", "main"]),
    (None, {"CODEBUILD_WEBHOOK_BASE_REF": "release/1"}, ["origin/release/1", "release/1"]),
    (None, {"PREVIEW_BASE": "abc123", "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main"}, ["abc123"]),
    ("v1", {}, ["v1"]),
    (None, {"CODEBUILD_INITIATOR": "codepipeline/xy-0146"}, []),  # the pipeline's Check stage: no preview
])
def test_the_base_of_the_change(base, environ, candidates):
    assert base_candidates(base, environ) == candidates
