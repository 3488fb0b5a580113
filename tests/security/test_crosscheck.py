"""The isolation proof's requests, answered by two independent IAM evaluators that must agree.

tests/security/crosscheck.py says how a proof request becomes a concrete one and what is
compared; `make gates` prints the summary (how many requests, how they came out).
"""
import json

import pytest

from tests.security import crosscheck, iam_eval, isolation, widening

SHOWN_IN_FULL = 10  # disagreements printed with their policies; the rest one line each


@pytest.fixture(scope="module")
def comparison(world):
    """Every case of the proof (the session's World, conftest.py), the Python answers for all, and
    both answers for those compared."""
    cases = crosscheck.concrete_cases(world)
    python_answers = [crosscheck.python_answer(case) for case in cases]
    selected = crosscheck.select(python_answers)
    compared = [cases[i] for i in selected]
    simulator, answers = crosscheck.run_simulator(compared)
    verdicts = crosscheck.verdicts(compared, [python_answers[i] for i in selected], answers)
    summary = crosscheck.summary(simulator, len(cases), len(compared), python_answers, verdicts)
    crosscheck.SUMMARY[:] = summary
    return {"cases": cases, "python": python_answers, "selected": selected, "compared": compared,
            "verdicts": verdicts, "summary": summary}


def test_both_evaluators_agree_on_the_isolation_proofs_requests(comparison):
    problems = crosscheck.disagreements(comparison["compared"], comparison["verdicts"])
    shown = problems[:SHOWN_IN_FULL] + [p.splitlines()[0] + " (policies as above)" for p in problems[SHOWN_IN_FULL:]]
    assert not problems, "\n".join(comparison["summary"] + ["%d disagreements:" % len(problems)] + shown)


def test_every_request_the_python_evaluator_allows_or_a_deny_hits_is_compared(comparison):
    interesting = {i for i, (decision, deny) in enumerate(comparison["python"]) if decision == iam_eval.ALLOWED or deny}
    assert interesting <= set(comparison["selected"])
    # not vacuous: both allow the promotion requests (a deploy role reading its source namespace's snapshots)
    agreed_allowed = [c for c, v in zip(comparison["compared"], comparison["verdicts"])
                      if v.agree and v.python == iam_eval.ALLOWED]
    assert any(c.ask.exempt for c in agreed_allowed), "\n".join(comparison["summary"])


def test_no_concrete_request_is_allowed_where_the_proof_says_denied(comparison, world):
    """The concrete request is one point of what the proof's ASSUME_ALLOW covers."""
    resource_policies = isolation.resource_policies(world)

    def proof_says(case):
        return iam_eval.evaluate(case.ask.request, case.ask.role.documents, resource_policies, iam_eval.ASSUME_ALLOW)

    escaped = [case.request for case, (decision, _) in zip(comparison["cases"], comparison["python"])
               if decision == iam_eval.ALLOWED and proof_says(case) != iam_eval.ALLOWED]
    assert not escaped, escaped


def test_concrete_requests_fix_open_keys_and_send_only_what_the_action_defines(comparison):
    by_request = {(c.ask.role.where, c.request.action, c.request.resource): c for c in comparison["cases"]}
    copy = [c for key, c in by_request.items() if key[0] == "xy-0146/qa-deploy.json#DeployRole"
            and key[1] == "rds:CopyDBSnapshot" and c.ask.exempt]
    assert copy and all(c.request.context.get("aws:RequestTag/Namespace") == "xy-0146-qa" for c in copy), copy
    listings = [c for c in comparison["cases"] if c.ask.target.resource_type == "bucket"]
    assert {c.request.action for c in listings if "s3:prefix" in c.request.context} == {
        "s3:ListBucket", "s3:ListBucketVersions"}
    assert all(c.request.context["aws:SecureTransport"] == "true" for c in comparison["cases"])


def test_a_widened_policy_is_allowed_by_both_evaluators(tmp_path):
    """The comparison is not vacuous: widen the task role of xy-0146-qa to the whole files
    bucket, and both evaluators allow it another tenant's file (and the proof reports it); over
    plain HTTP the bucket policy's Deny refuses it in both."""
    whole_bucket = "arn:${AWS::Partition}:s3:::${AppFilesBucketName}/*"
    world = widening.widened_world(tmp_path, "ManageNamespaceFiles", whole_bucket)
    (role,) = [r for r in isolation.roles(world).values() if r.where == widening.TASK_ROLE]
    asks = [a for a in isolation.asks(role, "ab-0212-qa", world)
            if a.request.action == "s3:GetObject" and a.target.resource_type == "object"
            and "/ab-0212-qa/uploads/" in a.target.arn]  # the other tenant's file (not a data set's, not a log)
    (case,) = crosscheck.concrete_cases(world, asks)
    plain_http = dict(case.request.context, **{"aws:SecureTransport": "false"})
    insecure = crosscheck.Case(case.ask, iam_eval.Request(
        case.request.action, case.request.resource, case.request.principal, plain_http), case.resource_policy)
    python_answers = [crosscheck.python_answer(c) for c in (case, insecure)]
    _, answers = crosscheck.run_simulator([case, insecure])
    verdicts = crosscheck.verdicts([case, insecure], python_answers, answers)
    assert [(v.python, v.simulator) for v in verdicts] == [
        (iam_eval.ALLOWED, iam_eval.ALLOWED), (iam_eval.EXPLICIT_DENY, iam_eval.EXPLICIT_DENY)], verdicts
    assert case.request.resource.endswith("/ab-0212-qa/uploads/report.pdf")
    assert any(leak.action == "s3:GetObject" for leak in isolation.leaks(
        role, "ab-0212-qa", world, isolation.resource_policies(world)))


def test_a_request_the_npm_evaluator_refuses_is_a_disagreement(comparison):
    case = comparison["cases"][0]
    unknown = crosscheck.Case(case.ask, iam_eval.Request("ssm:NoSuchAction", case.request.resource,
                                                         case.request.principal, case.request.context), None)
    _, answers = crosscheck.run_simulator([unknown])
    (verdict,) = crosscheck.verdicts([unknown], [crosscheck.python_answer(unknown)], answers)
    assert not verdict.agree and verdict.simulator.startswith("error: iam-simulate refused the request"), verdict


def test_a_disagreement_names_the_request_both_answers_and_the_policies(comparison):
    case = comparison["cases"][0]
    verdict = crosscheck.Verdict(iam_eval.IMPLICIT_DENY, False, iam_eval.ALLOWED, ("s3:prefix",))
    (text,) = crosscheck.disagreements([case], [verdict])
    assert text.startswith("%s asks %s on %s" % (case.ask.role.where, case.request.action, case.request.resource))
    assert "python iam_eval: implicitly denied; @cloud-copilot/iam-simulate: allowed" in text
    assert "dropped the context keys ['s3:prefix']" in text
    assert json.dumps(list(case.identity), sort_keys=True) in text and json.dumps(
        case.request.context, sort_keys=True) in text


def test_the_sample_keeps_every_interesting_request_and_is_reproducible():
    answers = [(iam_eval.IMPLICIT_DENY, False)] * 100
    answers[7] = answers[70] = (iam_eval.ALLOWED, False)
    answers[33] = (iam_eval.EXPLICIT_DENY, True)
    first = crosscheck.select(answers, budget=20, seed=5)
    assert len(first) == 20 and {7, 33, 70} <= set(first)
    assert crosscheck.select(answers, budget=20, seed=5) == first != crosscheck.select(answers, budget=20, seed=6)
    assert crosscheck.select(answers, budget=100) == list(range(100))


def test_the_npm_evaluator_is_pinned_exactly():
    package = json.loads((crosscheck.NODE_DIR / "package.json").read_text())
    lock = json.loads((crosscheck.NODE_DIR / "package-lock.json").read_text())
    pin = package["dependencies"][crosscheck.SIMULATOR]
    assert pin[0].isdigit(), "%s must be pinned to an exact version, not %r" % (crosscheck.SIMULATOR, pin)
    locked = lock["packages"]["node_modules/" + crosscheck.SIMULATOR]
    assert locked["version"] == pin and locked["integrity"].startswith("sha512-")


def test_a_sampled_run_says_how_much_it_compared_and_with_which_seed():
    answers = [(iam_eval.IMPLICIT_DENY, False)] * 98 + [(iam_eval.ALLOWED, False), (iam_eval.EXPLICIT_DENY, True)]
    selected = crosscheck.select(answers, budget=20, seed=1234)
    verdicts = [crosscheck.Verdict(answers[i][0], answers[i][1], answers[i][0], ()) for i in selected]
    first, second = crosscheck.summary({"name": "sim", "version": "1.2.3"}, len(answers), len(selected), answers,
                                       verdicts, budget=20, seed=1234)
    assert first == ("python iam_eval vs sim 1.2.3: compared 20 of 100 requests of the isolation proof "
                     "(seed 1234, keeping every one of the 2 allowed or hit by a Deny; budget 20)")
    assert second == ("agree 20 (allowed 1, explicitly denied 1, implicitly denied 18), disagree 0; always compared: "
                      "1 the Python evaluator allows, 1 on which a Deny statement matched")
