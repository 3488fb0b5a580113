"""The isolation proof's requests, asked of a second, independent IAM evaluator.

The isolation proof (isolation.py) rests on one hand-written evaluator, iam_eval.py. So
the same requests also go to @cloud-copilot/iam-simulate, an independent, maintained
implementation of IAM's evaluation logic (npm; tests/security/node: pinned by its
package-lock.json, installed by `make setup`, run as one Node process per batch by
node/simulate.js), and every request on which the two disagree fails the gates
(test_crosscheck.py).

From a proof request to a concrete request. The proof fixes a few context keys
(isolation.CONTEXT: aws:SecureTransport "true" and aws:PrincipalAccount; a target's own,
such as a listing's s3:prefix) and leaves every other key open: under ASSUME_ALLOW the
caller may make any condition on an open key come out in its favour. iam-simulate has no
such mode, so each proof request becomes one concrete request, and both evaluators get
exactly that request:

1. the keys the proof fixes keep their values;
2. each open key a condition of these policies names takes its value from the first
   condition naming it, Allow statements first, in document order (any statement: the
   choice reads the policies as written, never through either evaluator, so it cannot
   hide a bug of one):
   - an Allow's positive operator or a Deny's negated one: the condition's first policy
     value made concrete (wildcards filled, `*` -> "x" and `?` -> "z"; an IP block's
     network address; a one-value list under ForAnyValue/ForAllValues), which the Allow's
     condition accepts and the Deny's negated one rejects;
   - Null: present ("x") or absent as an Allow's condition asks, the opposite for a Deny;
   - otherwise (an Allow's negated operator, a Deny's positive one): absent, which IAM
     reads as the Allow's condition holding and the Deny's failing (but for
     ForAnyValue/ForAllValues, whose absent key reads the other way).
   So the concrete request is one point of the space the proof covers, near its worst
   case (a deploy role's copy of its source snapshot carries aws:RequestTag/Namespace =
   its own namespace); the proof itself still covers every other point;
3. the request carries only the keys IAM sends for that action: the global aws:* keys
   and the keys parliament's iam_definition.json lists for the action, for the target's
   resource type and for the resource (s3:prefix only on listings, aws:RequestTag/* only
   where the action takes request tags). iam-simulate drops the keys it does not expect
   for the action and says which; a key it drops is reported as a disagreement about the
   request itself;
4. the policies are the role's identity policies and the one resource policy whose
   statements name the resource's bucket (S3) or the resource itself, read from their
   Resource entries as written (the tier bucket's policy for its objects and listings;
   iam-simulate takes one). The proof passes every resource policy of the world: the
   others name other resources and cannot apply;
5. the principal is the role's ARN and the resource is in the world's one account.

The Python evaluator answers with IAM's own reading of a missing key (iam_eval.ABSENT).

Coverage: every request of the proof is compared while there are at most BUDGET of them
(a full comparison of the proof's requests takes iam-simulate about 15 s on two cores);
beyond that a sample with the fixed SEED, which always keeps every request the Python
evaluator allows and every one on which a Deny statement matched. The summary says how
many were compared and how they came out; `make gates` prints it (tests/security/conftest.py).
"""
import fnmatch
import functools
import ipaddress
import json
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.security import iam_eval, isolation
from tests.security.world import ACCOUNT, RESOURCE

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "simulate.js"
SIMULATOR = "@cloud-copilot/iam-simulate"
BUDGET = 40000  # requests per run: iam-simulate answers about 2,300 a second here
SEED = 1234
TIMEOUT_SECONDS = 600
DECISIONS = {"Allowed": iam_eval.ALLOWED, "ExplicitlyDenied": iam_eval.EXPLICIT_DENY,
             "ImplicitlyDenied": iam_eval.IMPLICIT_DENY}
NOT_GLOBAL = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")  # aws:* keys an action must define
SUMMARY = []  # lines for the terminal summary (conftest.py)
ABSENT_KEY = object()  # a condition's key the caller leaves out of the request


class SimulatorUnavailable(RuntimeError):
    """The npm evaluator is not installed or did not run."""


@dataclass(frozen=True)
class Case:
    """One concrete request and the policies both evaluators get."""

    ask: isolation.Ask  # the proof's request it comes from
    request: iam_eval.Request  # the concrete request
    resource_policy: object  # world.Policy naming the resource, or None

    @property
    def identity(self):
        return self.ask.role.documents

    @property
    def resource_documents(self):
        return [self.resource_policy.document] if self.resource_policy else []


@dataclass(frozen=True)
class Verdict:
    """Both evaluators' answers on one case."""

    python: str
    deny_matched: bool  # a Deny statement applied (Python evaluator)
    simulator: str  # a decision (iam_eval's words), or "error: ..."
    ignored_keys: tuple  # context keys iam-simulate dropped; None when it did not say

    @property
    def agree(self):
        return self.python == self.simulator and not self.ignored_keys


# --- the concrete request -------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def key_patterns_sent(service, action_name, resource_type):
    """The condition keys (lowercase patterns, ${...} as *) IAM sends for one action on one resource type."""
    found = set()
    for definition in isolation.iam_definitions():
        if definition["prefix"] != service:
            continue
        for privilege in definition["privileges"]:
            if privilege["privilege"] == action_name:
                for entry in privilege["resource_types"]:
                    if entry["resource_type"].rstrip("*") in ("", resource_type):
                        found.update(entry["condition_keys"])
        for resource in definition["resources"]:
            if resource["resource"] == resource_type:
                found.update(resource["condition_keys"])
    return frozenset(re.sub(r"\$\{[^}]*\}", "*", key).lower() for key in found)


def is_sent(key, patterns):
    lowered = key.lower()
    if lowered.startswith("aws:") and not lowered.startswith(NOT_GLOBAL):
        return True
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in patterns)


def concrete_value(parsed, policy_values):
    """The condition's first policy value as a request value (see the module docstring, step 2)."""
    first = iam_eval.as_text(iam_eval.as_list(policy_values)[0])
    if parsed.name in ("IpAddress", "NotIpAddress"):
        value = str(ipaddress.ip_network(first, strict=False).network_address)
    else:
        value = first.replace("*", "x").replace("?", "z")
    return [value] if parsed.qualifier else value


def value_for_caller(effect, operator, policy_values):
    """What the caller sends for a key this condition names (docstring, step 2), or ABSENT_KEY."""
    parsed = iam_eval.parse_operator(operator)
    if parsed.name == "Null":  # Null "true" asks for the key's absence, "false" for its presence
        asks_absent = iam_eval.parse_bool(iam_eval.as_list(policy_values)[0], operator) == "true"
        return ABSENT_KEY if asks_absent == (effect == "Allow") else "x"
    negated = iam_eval.OPERATORS[parsed.name].negated
    if negated == (effect == "Deny"):  # an Allow's positive condition, a Deny's negated one
        return concrete_value(parsed, policy_values)
    return ABSENT_KEY


def choose_open_keys(documents, fixed):
    """{key: value} for the open keys the documents' conditions name (docstring, step 2)."""
    chosen, decided = {}, {key.lower() for key in fixed}
    every = [s for document in documents for s in iam_eval.statements(document)]
    for statement in sorted(every, key=lambda s: s["Effect"] != "Allow"):
        for operator, keys in statement.get("Condition", {}).items():
            for key, values in keys.items():
                if key.lower() not in decided:
                    decided.add(key.lower())
                    value = value_for_caller(statement["Effect"], operator, values)
                    if value is not ABSENT_KEY:
                        chosen[key] = value
    return chosen


S3_ARN = re.compile(r"^(arn:[^:]+:s3:::[^/]+)")


def attached_to(arn):
    """The ARN a resource policy for `arn` is attached to: an S3 object's or listing's bucket, else itself."""
    bucket = S3_ARN.match(arn)
    return bucket.group(1) if bucket else arn


def resource_policy_of(arn, resource_policies):
    """The one resource policy whose statements name `arn`'s bucket (S3) or `arn` itself (or None).
    Read from the Resource entries as written, not through either evaluator's matching."""
    owner = attached_to(arn)
    naming = [p for p in resource_policies if any(
        entry == owner or entry.startswith(owner + "/")
        for s in iam_eval.statements(p.document) for entry in iam_eval.as_list(s.get("Resource", [])))]
    if len(naming) > 1:
        raise ValueError("%s is named by several resource policies (%s); iam-simulate takes one"
                         % (arn, ", ".join(p.where for p in naming)))
    return naming[0] if naming else None


def concrete_case(ask, resource_policies):
    """The proof's request `ask` as one concrete request (the module docstring, steps 1-5)."""
    request, target = ask.request, ask.target
    resource_policy = resource_policy_of(request.resource, resource_policies)
    documents = list(ask.role.documents) + ([resource_policy.document] if resource_policy else [])
    context = dict(request.context, **choose_open_keys(documents, request.context))
    patterns = key_patterns_sent(target.service, request.action.split(":", 1)[1], target.resource_type)
    context = {key: value for key, value in context.items() if is_sent(key, patterns)}
    return Case(ask, iam_eval.Request(request.action, request.resource, request.principal, context), resource_policy)


def concrete_cases(world, asks=None):
    """Every request of the proof (or `asks`), made concrete. Raises iam_eval.Unsupported for a
    policy the Python evaluator cannot read, as the proof does."""
    asks = list(isolation.every_ask(world) if asks is None else asks)
    resource_policies = [p for p in world.policies() if p.kind == RESOURCE]
    for role in {ask.role.where: ask.role for ask in asks}.values():
        iam_eval.check_supported(role.documents, role.where)
    for policy in resource_policies:
        iam_eval.check_supported([policy.document], policy.where)
    return [concrete_case(ask, resource_policies) for ask in asks]


# --- the two evaluators ---------------------------------------------------------------


def python_answer(case):
    """(decision, whether a Deny statement applied) of iam_eval on the concrete case."""
    matched = iam_eval.applicable_statements(case.request, case.identity, case.resource_documents, iam_eval.ABSENT)
    return iam_eval.decide(matched), any(s["Effect"] == "Deny" for s in matched)


def simulator_batch(cases):
    """The JSON batch node/simulate.js reads: each distinct policy document once, named."""
    names, documents = {}, {}

    def name_of(document):
        key = json.dumps(document, sort_keys=True)
        if key not in names:
            names[key] = "policy-%d" % len(names)
            documents[names[key]] = document
        return names[key]

    return {"documents": documents, "cases": [{
        "identity": [name_of(d) for d in case.identity],
        "resource_policy": name_of(case.resource_policy.document) if case.resource_policy else None,
        "request": {"principal": case.request.principal, "action": case.request.action,
                    "resource": case.request.resource, "account": ACCOUNT, "context": case.request.context},
    } for case in cases]}


def pinned_version():
    return json.loads((NODE_DIR / "package.json").read_text())["dependencies"][SIMULATOR]


def run_simulator(cases):
    """({"name", "version"}, [answer per case]) from one Node process for the whole batch."""
    if not (NODE_DIR / "node_modules" / SIMULATOR).is_dir():
        raise SimulatorUnavailable("%s is not installed in %s; run `make setup` (npm ci there)" % (SIMULATOR, NODE_DIR))
    node = shutil.which("node")
    if not node:
        raise SimulatorUnavailable("no `node` on PATH; the second IAM evaluator needs Node.js 20 or later")
    done = subprocess.run([node, str(SCRIPT)], input=json.dumps(simulator_batch(cases)), capture_output=True,
                          text=True, timeout=TIMEOUT_SECONDS, check=False)
    if done.returncode != 0:
        raise SimulatorUnavailable("%s exited %d: %s" % (SCRIPT, done.returncode, done.stderr.strip()))
    output = json.loads(done.stdout)
    if output["simulator"]["version"] != pinned_version():
        raise SimulatorUnavailable("%s %s is installed, %s is pinned in %s; run `make setup`" % (
            SIMULATOR, output["simulator"]["version"], pinned_version(), NODE_DIR / "package.json"))
    if len(output["answers"]) != len(cases):
        raise SimulatorUnavailable("%s answered %d of %d requests" % (SCRIPT, len(output["answers"]), len(cases)))
    return output["simulator"], output["answers"]


def simulator_decision(answer):
    if "error" in answer:
        return "error: %s" % answer["error"]
    return DECISIONS[answer["decision"]]


def ignored_keys(answer):
    keys = answer.get("ignored_context_keys")
    return None if keys is None else tuple(keys)


def verdicts(cases, python_answers, simulator_answers):
    """A Verdict per case, from the Python answers and the simulator's (same order)."""
    return [Verdict(decision, deny_matched, simulator_decision(answer), ignored_keys(answer))
            for (decision, deny_matched), answer in zip(python_answers, simulator_answers)]


# --- sampling, comparing, reporting ---------------------------------------------------


def select(python_answers, budget=BUDGET, seed=SEED):
    """Indexes to compare: all when there are at most `budget`; else every interesting one
    (allowed, or a Deny matched) and a seeded sample of the rest, `budget` in all."""
    everything = range(len(python_answers))
    if len(python_answers) <= budget:
        return list(everything)
    interesting = [i for i in everything if python_answers[i][0] == iam_eval.ALLOWED or python_answers[i][1]]
    rest = sorted(set(everything) - set(interesting))
    sample = random.Random(seed).sample(rest, max(0, min(len(rest), budget - len(interesting))))
    return sorted(interesting + sample)


def describe(case, verdict):
    """A disagreement, in full: the request, both answers and the policies."""
    request, ask = case.request, case.ask
    dropped = "; it dropped the context keys %s" % list(verdict.ignored_keys) if verdict.ignored_keys else ""
    policy = case.resource_policy
    resource_policy = "%s (%s)" % (json.dumps(policy.document, sort_keys=True), policy.where) if policy else "none"
    return "\n".join([
        "%s asks %s on %s (tenant %s)" % (ask.role.where, request.action, request.resource, ask.other),
        "  request: principal %s, context %s" % (request.principal, json.dumps(request.context, sort_keys=True)),
        "  python iam_eval: %s; %s: %s%s" % (verdict.python, SIMULATOR, verdict.simulator, dropped),
        "  identity policies: %s" % json.dumps(list(case.identity), sort_keys=True),
        "  resource policy: %s" % resource_policy,
    ])


def disagreements(cases, verdict_list):
    return [describe(case, verdict) for case, verdict in zip(cases, verdict_list) if not verdict.agree]


def thousands(number):
    return "{:,}".format(number)


def summary(simulator, total, compared, python_answers, verdict_list, budget=BUDGET, seed=SEED):
    """Two lines for a person: how much was compared, and how it came out."""
    allowed = sum(1 for decision, _ in python_answers if decision == iam_eval.ALLOWED)
    denied_by_a_deny = sum(1 for _, deny in python_answers if deny)
    interesting = sum(1 for decision, deny in python_answers if decision == iam_eval.ALLOWED or deny)
    coverage = "all of them" if compared == total else (
        "seed %d, keeping every one of the %s allowed or hit by a Deny" % (seed, thousands(interesting)))
    agreeing = [v for v in verdict_list if v.agree]
    outcomes = ", ".join("%s %s" % (decision, thousands(sum(1 for v in agreeing if v.python == decision)))
                         for decision in (iam_eval.ALLOWED, iam_eval.EXPLICIT_DENY, iam_eval.IMPLICIT_DENY))
    return [
        "python iam_eval vs %s %s: compared %s of %s requests of the isolation proof (%s; budget %s)" % (
            simulator["name"], simulator["version"], thousands(compared), thousands(total), coverage,
            thousands(budget)),
        "agree %s (%s), disagree %s; always compared: %s the Python evaluator allows, %s on which a Deny statement "
        "matched" % (thousands(len(agreeing)), outcomes, thousands(len(verdict_list) - len(agreeing)),
                     thousands(allowed), thousands(denied_by_a_deny)),
    ]
